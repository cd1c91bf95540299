// Package accesslog writes the data plane's access log: one JSON line per HTTP request
// and one per TCP route connection, whole lines only, from any number of goroutines.
//
// It knows nothing of routes or connections beyond the fields of a line; it uses the
// standard library only and imports nothing of proxy/... (proxy/imports_test.go checks
// it). Like all of proxy/..., it never imports Kubernetes packages.
package accesslog
