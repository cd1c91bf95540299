package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Down stops the node and removes everything Up made, then checks that nothing is left
// (Leftovers); the logs move to StateDir+".logs" for a look afterwards.
func (c *Cluster) Down(ctx context.Context) error {
	start := time.Now()
	c.stopWorkloads(ctx)
	for _, name := range []string{"kubelet", "kube-proxy"} {
		c.stop(name)
	}
	if _, err := os.Stat(c.path("kube-proxy.yaml")); err == nil {
		// Removes the rules kube-proxy leaves behind on purpose (they outlive restarts).
		out, err := exec.Command(filepath.Join(c.BinDir, "kube-proxy"), "--cleanup", "--config", c.path("kube-proxy.yaml")).CombinedOutput()
		if err != nil {
			c.logf("kube-proxy --cleanup: %v: %s", err, lastLines(string(out), 2))
		}
	}
	c.killTasks()
	c.stop("containerd")
	c.killShims()
	for i := len(c.st.Processes) - 1; i >= 0; i-- {
		c.stop(c.st.Processes[i].Name)
	}
	c.cleanHost()
	left := c.Leftovers()
	if len(left) > 0 {
		return fmt.Errorf("node down left behind:\n  %s", strings.Join(left, "\n  "))
	}
	logs := c.StateDir + ".logs"
	_ = os.RemoveAll(logs)
	_ = os.Rename(c.path("logs"), logs)
	if err := os.RemoveAll(c.StateDir); err != nil {
		return err
	}
	c.logf("down in %s; nothing left behind (logs in %s)", time.Since(start).Round(time.Second), logs)
	return nil
}

// stopWorkloads lets the kubelet stop every pod the normal way (CNI DEL, sandbox teardown)
// while it still runs: the controllers stop first so nothing is recreated.
func (c *Cluster) stopWorkloads(ctx context.Context) {
	if !c.alive("kube-apiserver") || !c.alive("kubelet") {
		return
	}
	c.stop("kube-controller-manager")
	c.stop("kube-scheduler")
	cs, err := c.Client()
	if err != nil {
		return
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	zero := int64(0)
	for _, ns := range nss.Items {
		_ = cs.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && len(c.shims()) > 0 {
		time.Sleep(500 * time.Millisecond)
	}
}

// killTasks removes whatever containers the kubelet did not stop.
func (c *Cluster) killTasks() {
	if !c.alive("containerd") {
		return
	}
	ctr := func(args ...string) ([]byte, error) {
		return exec.Command("ctr", append([]string{"-a", c.ContainerdSocket(), "-n", "k8s.io"}, args...)...).CombinedOutput()
	}
	out, err := ctr("tasks", "ls", "-q")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(string(out)) {
		_, _ = ctr("tasks", "kill", "-s", "SIGKILL", id)
		_, _ = ctr("tasks", "delete", "-f", id)
	}
}

// shims lists the containerd shims of this node's containerd (their command line names
// its socket), which outlive containerd itself.
func (c *Cluster) shims() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	needle := []byte(c.ContainerdSocket())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "containerd-shim") || !bytes.Contains(cmdline, needle) {
			continue
		}
		if zombie(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func (c *Cluster) killShims() {
	for _, pid := range c.shims() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && len(c.shims()) > 0 {
		time.Sleep(200 * time.Millisecond)
	}
}

// stop ends the named process (SIGTERM, then SIGKILL after 15 s), if it is still the
// process Up started.
func (c *Cluster) stop(name string) {
	for _, p := range c.st.Processes {
		if p.Name != name || !alive(p) {
			continue
		}
		_ = syscall.Kill(p.PID, syscall.SIGTERM)
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) && alive(p) {
			time.Sleep(100 * time.Millisecond)
		}
		if alive(p) {
			c.logf("%s (pid %d) ignored SIGTERM for 15 s: SIGKILL", name, p.PID)
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
			for i := 0; i < 50 && alive(p); i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

func (c *Cluster) alive(name string) bool {
	for _, p := range c.st.Processes {
		if p.Name == name && alive(p) {
			return true
		}
	}
	return false
}

// cleanHost unmounts, and removes network namespaces, cgroups, nft tables, the bridge and
// the host paths that appeared since Up.
func (c *Cluster) cleanHost() {
	before := c.st.Before
	for _, ns := range newSince(before.Netns, netnsNames()) {
		_ = exec.Command("ip", "netns", "delete", ns).Run()
	}
	mounts := c.ourMounts()
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			c.logf("umount %s: %v", m, err)
		}
	}
	if out, err := exec.Command("ip", "-j", "link", "show", "master", Bridge).Output(); err == nil {
		for _, f := range strings.Split(string(out), `"ifname":"`)[1:] {
			name, _, _ := strings.Cut(f, `"`)
			_ = exec.Command("ip", "link", "delete", name).Run()
		}
	}
	if _, err := os.Stat("/sys/class/net/" + Bridge); err == nil {
		_ = exec.Command("ip", "link", "delete", Bridge).Run() // its routes go with it
	}
	if tables, err := nftTables(); err == nil {
		for _, t := range newSince(before.NFTables, tables) {
			if out, err := exec.Command("nft", append([]string{"delete", "table"}, strings.Fields(t)...)...).CombinedOutput(); err != nil {
				c.logf("nft delete table %s: %v: %s", t, err, out)
			}
		}
	}
	for attempt := 0; attempt < 20; attempt++ {
		left := newSince(before.Cgroups, topCgroups())
		if len(left) == 0 {
			break
		}
		for _, cg := range left {
			removeCgroup(filepath.Join("/sys/fs/cgroup", cg))
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, p := range hostPaths {
		if before.Paths[p] {
			continue
		}
		if len(mountsUnder(p)) > 0 {
			continue // reported by Leftovers; never delete through a mount
		}
		_ = os.RemoveAll(p)
	}
}

// removeCgroup removes a cgroup directory and its children, deepest first (rmdir is how
// cgroups are removed; their files go with them).
func removeCgroup(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeCgroup(filepath.Join(dir, e.Name()))
		}
	}
	_ = syscall.Rmdir(dir)
}

// ourMounts are the mounts Up's components made: under StateDir, the network namespaces
// and the host paths that were absent before.
func (c *Cluster) ourMounts() []string {
	prefixes := []string{c.StateDir}
	for _, p := range hostPaths {
		if !c.st.Before.Paths[p] {
			prefixes = append(prefixes, p)
		}
	}
	had := map[string]bool{}
	for _, m := range c.st.Before.Mounts {
		had[m] = true
	}
	var out []string
	for _, m := range mountPoints() {
		if had[m] {
			continue
		}
		for _, p := range prefixes {
			if m == p || strings.HasPrefix(m, p+"/") {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func mountsUnder(p string) []string {
	var out []string
	for _, m := range mountPoints() {
		if m == p || strings.HasPrefix(m, p+"/") {
			out = append(out, m)
		}
	}
	return out
}

// Leftovers lists what the node left on the machine: running processes, mounts, network
// namespaces, cgroups, nft tables, the bridge and host paths. Empty after a clean Down.
func (c *Cluster) Leftovers() []string {
	var left []string
	for _, p := range c.st.Processes {
		if alive(p) {
			left = append(left, fmt.Sprintf("process %s (pid %d)", p.Name, p.PID))
		}
	}
	for _, pid := range c.shims() {
		left = append(left, fmt.Sprintf("containerd shim (pid %d)", pid))
	}
	for _, m := range c.ourMounts() {
		left = append(left, "mount "+m)
	}
	for _, ns := range newSince(c.st.Before.Netns, netnsNames()) {
		left = append(left, "network namespace "+ns)
	}
	for _, cg := range newSince(c.st.Before.Cgroups, topCgroups()) {
		left = append(left, "cgroup /sys/fs/cgroup/"+cg)
	}
	if tables, err := nftTables(); err == nil {
		for _, t := range newSince(c.st.Before.NFTables, tables) {
			left = append(left, "nft table "+t)
		}
	}
	if _, err := os.Stat("/sys/class/net/" + Bridge); err == nil {
		left = append(left, "interface "+Bridge)
	}
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); err == nil && !c.st.Before.Paths[p] {
			left = append(left, "path "+p)
		}
	}
	return left
}

// alive reports whether p still runs as the process that was started (same start time),
// not as a zombie.
func alive(p process) bool {
	st, err := startTime(p.PID)
	if err != nil || st != p.Start {
		return false
	}
	return !zombie(p.PID)
}

// startTime reads a process's start time (clock ticks since boot, /proc/PID/stat field 22).
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it start past the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("unreadable stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, errors.New("short stat")
	}
	return strconv.ParseUint(f[19], 10, 64)
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}
