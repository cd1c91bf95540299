// Package memlimit gives the Go runtime a soft memory limit below the memory limit of the
// cgroup the gateway runs in (a pod's resources.limits.memory), when the environment sets
// none (GOMEMLIMIT).
//
// Without it the heap may grow to twice what is live before the collector runs (GOGC=100):
// a rebuild at 10,000 routes briefly holds the old and the new configuration, and peaks
// at about twice the steady heap, so a pod sized for its steady state is OOM-killed on a
// change. With the limit, the collector runs harder as the heap nears the pod's limit
// instead. The limit is soft: a heap that truly needs more still gets it (and the
// collector caps its own CPU), so a too-small pod is killed as before rather than stalled.
package memlimit

import (
	"bufio"
	"io/fs"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// Share is the part of the cgroup's limit given to the Go runtime; the rest is for what the
// runtime does not count (the binary's pages, the kernel's socket buffers).
const Share = 0.9

// unlimited: cgroup v1 reports "no limit" as a huge number (page-rounded 2^63-1).
const unlimited = 1 << 62

// Apply sets the runtime's soft memory limit to Share of the cgroup's memory limit, unless
// GOMEMLIMIT is set or no limit is found. It returns the limit set and the cgroup's (0, 0
// when it set none).
func Apply() (set, cgroup int64) { return apply(os.Getenv("GOMEMLIMIT"), os.DirFS("/")) }

func apply(gomemlimit string, root fs.FS) (set, cgroup int64) {
	if gomemlimit != "" {
		return 0, 0
	}
	cgroup = Limit(root)
	if cgroup == 0 {
		return 0, 0
	}
	set = int64(float64(cgroup) * Share)
	debug.SetMemoryLimit(set)
	return set, cgroup
}

// Limit is the memory limit of the process's cgroup, read from root (the file system's
// root: /proc/self/cgroup and /sys/fs/cgroup), 0 when there is none. Inside a container
// the cgroup's own files are at the root of the mounted hierarchy; a process on a host sees
// them under its cgroup's path. Both places are read, for cgroup v2 and v1, and every
// ancestor of the path, since a parent's limit binds its children too; the smallest wins.
func Limit(root fs.FS) int64 {
	v1, v2 := cgroupPaths(root)
	var limit int64
	consider := func(file string) {
		n, ok := readLimit(root, file)
		if ok && n > 0 && n < unlimited && (limit == 0 || n < limit) {
			limit = n
		}
	}
	for _, dir := range ancestors(v2) {
		consider(path.Join("sys/fs/cgroup", dir, "memory.max"))
	}
	for _, dir := range ancestors(v1) {
		consider(path.Join("sys/fs/cgroup/memory", dir, "memory.limit_in_bytes"))
	}
	return limit
}

// cgroupPaths reads the process's cgroup v2 path ("0::/path") and its v1 memory
// controller's ("N:memory:/path") from /proc/self/cgroup; "/" when absent.
func cgroupPaths(root fs.FS) (v1, v2 string) {
	v1, v2 = "/", "/"
	f, err := root.Open("proc/self/cgroup")
	if err != nil {
		return v1, v2
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case hasController(parts[1], "memory"):
			v1 = parts[2]
		}
	}
	return v1, v2
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// ancestors lists p's directories from the root down, p included, as relative paths
// ("." for the root).
func ancestors(p string) []string {
	p = path.Clean("/" + p)
	out := []string{"."}
	if p == "/" {
		return out
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := range parts {
		out = append(out, path.Join(parts[:i+1]...))
	}
	return out
}

// readLimit reads a limit file: a number of bytes, or "max" (v2: no limit).
func readLimit(root fs.FS, file string) (int64, bool) {
	data, err := fs.ReadFile(root, file)
	if err != nil {
		return 0, false
	}
	text := strings.TrimSpace(string(data))
	if text == "max" {
		return math.MaxInt64, true
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return n, err == nil
}
