package crdvalidation

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// ctx bounds each API call so a hung server fails the spec instead of the whole run.
func ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	DeferCleanup(cancel)
	return c
}
