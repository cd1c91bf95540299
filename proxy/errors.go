package proxy

import "errors"

var (
	errNotReady = errors.New("the gateway has no configuration yet")
	errDraining = errors.New("shutting down")
)
