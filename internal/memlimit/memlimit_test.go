package memlimit

import (
	"runtime/debug"
	"testing"
	"testing/fstest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// The limit is found where a container or a host process sees it, in cgroup v2 and v1, and
// "no limit" in either spelling is no limit.
func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want int64
	}{
		{"v2 container: the namespace's root holds the pod's limit", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("536870912\n"),
		}, 512 << 20},
		{"v2 without a limit", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("max\n"),
		}, 0},
		{"v2 host process: its own cgroup and a tighter parent", fstest.MapFS{
			"proc/self/cgroup":                           file("0::/kubepods/pod1/ctr\n"),
			"sys/fs/cgroup/kubepods/pod1/ctr/memory.max": file("max\n"),
			"sys/fs/cgroup/kubepods/pod1/memory.max":     file("268435456\n"),
			"sys/fs/cgroup/kubepods/memory.max":          file("1073741824\n"),
		}, 256 << 20},
		{"v1 container (hybrid, as on this project's real node)", fstest.MapFS{
			"proc/self/cgroup":                           file("9:name=systemd:/kubepods/podx/abc\n4:memory:/kubepods/podx/abc\n0::/\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("134217728\n"),
		}, 128 << 20},
		{"v1 host process under an unlimited cgroup", fstest.MapFS{
			"proc/self/cgroup":                                            file("4:memory:/process_api/0a08\n0::/\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes":                  file("9223372036854771712\n"),
			"sys/fs/cgroup/memory/process_api/0a08/memory.limit_in_bytes": file("9223372036854771712\n"),
		}, 0},
		{"v1 memory listed with other controllers", fstest.MapFS{
			"proc/self/cgroup": file("3:cpu,memory:/slice\n"),
			"sys/fs/cgroup/memory/slice/memory.limit_in_bytes": file("1000000000\n"),
		}, 1000000000},
		{"nothing readable", fstest.MapFS{}, 0},
		{"garbage", fstest.MapFS{
			"proc/self/cgroup":         file("garbage\n"),
			"sys/fs/cgroup/memory.max": file("lots\n"),
		}, 0},
	} {
		if got := Limit(tc.fs); got != tc.want {
			t.Errorf("%s: limit %d, want %d", tc.name, got, tc.want)
		}
	}
}

// Share of the cgroup's limit becomes the runtime's soft limit, unless the operator set
// GOMEMLIMIT, which is left as it is.
func TestApply(t *testing.T) {
	previous := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(previous) })
	pod := fstest.MapFS{
		"proc/self/cgroup":         file("0::/\n"),
		"sys/fs/cgroup/memory.max": file("536870912\n"),
	}
	if set, cgroup := apply("300MiB", pod); set != 0 || cgroup != 0 || debug.SetMemoryLimit(-1) != previous {
		t.Errorf("with GOMEMLIMIT set, apply set %d (cgroup %d)", set, cgroup)
	}
	set, cgroup := apply("", pod)
	limit := int64(512 << 20)
	if want := int64(float64(limit) * Share); set != want || cgroup != 512<<20 {
		t.Errorf("apply set %d from a cgroup limit of %d, want %d from %d", set, cgroup, want, 512<<20)
	}
	if got := debug.SetMemoryLimit(-1); got != set {
		t.Errorf("the runtime's limit is %d, want %d", got, set)
	}
	debug.SetMemoryLimit(previous)
	if set, _ := apply("", fstest.MapFS{}); set != 0 || debug.SetMemoryLimit(-1) != previous {
		t.Errorf("without a cgroup limit, apply set %d", set)
	}
}
