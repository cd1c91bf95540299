package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// memory is one process's resident memory in KiB: RSS from /proc/PID/status and PSS from
// /proc/PID/smaps_rollup (PSS shares pages mapped by several processes among them, so the
// sum over the pod's processes does not count shared library pages twice). RSS splits into
// Anon (heap, stacks: what only the process's own work frees) and File (pages of the
// binary and libraries, which the kernel can drop and read again).
type memory struct {
	RSS, PSS, Anon, File int64
}

func readMemory(pid int) (memory, error) {
	var m memory
	var err error
	if m.RSS, err = kibField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:"); err != nil {
		return m, err
	}
	m.Anon, _ = kibField(fmt.Sprintf("/proc/%d/status", pid), "RssAnon:")
	m.File, _ = kibField(fmt.Sprintf("/proc/%d/status", pid), "RssFile:")
	// smaps_rollup exists since Linux 4.14; without it PSS stays 0 and the report says so.
	m.PSS, _ = kibField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
	return m, nil
}

// kibField reads "Name:   1234 kB" from a /proc file.
func kibField(path, name string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), name); found {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			return strconv.ParseInt(fields[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, name)
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// cpuSeconds is utime+stime of a process, in seconds.
func cpuSeconds(pid int) (float64, error) {
	f := statFields(pid)
	// After the command name: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	u, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, err
	}
	s, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, err
	}
	return float64(u+s) / clockTicks, nil
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
