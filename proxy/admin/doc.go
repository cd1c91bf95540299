// Package admin is the data plane's admin port: liveness (/healthz), readiness (/readyz),
// the metrics (/metrics), and the pages the command adds before serving (the status
// page, /status, /snapshot/hash, /leader).
//
// It takes readiness as a function and the metrics as a handler, so it imports nothing of
// proxy/...; the command's pages come in through Handle. Like all of proxy/..., it never
// imports Kubernetes packages. (proxy/imports_test.go checks both.)
package admin
