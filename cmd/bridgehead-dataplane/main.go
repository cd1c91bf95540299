// Command bridgehead-dataplane is Bridgehead's proxy in a process of its own. `bridgehead
// serve` starts it (it looks for it beside itself) and feeds it snapshots; it imports no
// Kubernetes package, so it stays small. It is not meant to be run by hand.
package main

import (
	"os"
	"runtime"

	"github.com/bridgehead/bridgehead/internal/dataplane"
)

// Heap profiling is off unless --pprof turns it back on: its bucket table alone is 1.4 MiB
// of a process that otherwise needs little more than 20.
func init() { runtime.MemProfileRate = 0 }

func main() {
	os.Exit(dataplane.RunChild(os.Args[1:], os.Stdout, os.Stderr))
}
