package node

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// hostPaths are the places outside StateDir that the kubelet, containerd, the CNI
// plugins and kube-controller-manager write to whatever they are configured with
// (notes/real-node.md, 9). Down removes those Up found absent.
var hostPaths = []string{
	"/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/run/containerd", "/var/lib/cni",
	"/usr/libexec/kubernetes", "/run/netns", "/opt/containerd", "/var/lib/containerd", "/etc/cni",
}

// hostSnapshot is the host state Down compares with: what existed before Up is kept.
type hostSnapshot struct {
	NFTables []string        `json:"nftTables"`
	Netns    []string        `json:"netns"`
	Cgroups  []string        `json:"cgroups"`
	Mounts   []string        `json:"mounts"`
	Paths    map[string]bool `json:"paths"`
}

func snapshotHost() (hostSnapshot, error) {
	var s hostSnapshot
	var err error
	if s.NFTables, err = nftTables(); err != nil {
		return s, err
	}
	s.Netns = netnsNames()
	s.Cgroups = topCgroups()
	s.Mounts = mountPoints()
	s.Paths = map[string]bool{}
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); err == nil {
			s.Paths[p] = true
		}
	}
	return s, nil
}

// checkRangesFree refuses to start when the pod or Service range is already in use on
// this machine: traffic for it might otherwise go somewhere real.
func checkRangesFree() error {
	out, err := exec.Command("ip", "-j", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		return fmt.Errorf("ip route: %w", err)
	}
	var routes []struct {
		Dst string `json:"dst"`
		Dev string `json:"dev"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return err
	}
	for _, r := range routes {
		if r.Dst == "default" || r.Dst == "" {
			continue
		}
		p, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			a, aerr := netip.ParseAddr(r.Dst)
			if aerr != nil {
				continue
			}
			p = netip.PrefixFrom(a, 32)
		}
		for _, ours := range []netip.Prefix{PodCIDR, ServiceCIDR} {
			if p.Overlaps(ours) {
				if r.Dev == Bridge {
					return fmt.Errorf("%s is still routed to %s from an earlier node: run `make cluster-down`", r.Dst, Bridge)
				}
				return fmt.Errorf("%s overlaps the node's range %s (route via %s): refusing to start, traffic for it could leave the machine", r.Dst, ours, r.Dev)
			}
		}
	}
	if _, err := os.Stat("/sys/class/net/" + Bridge); err == nil {
		return fmt.Errorf("interface %s exists from an earlier node: run `make cluster-down`", Bridge)
	}
	return nil
}

// setUpNetwork creates the pod bridge with the node's address, routes the Service range
// into it (so a Service address no rule answers goes nowhere), and installs the guard
// table: pods may talk to pods, Services and the node, nothing else.
func setUpNetwork() error {
	steps := [][]string{
		{"ip", "link", "add", Bridge, "type", "bridge"},
		{"ip", "addr", "add", netip.PrefixFrom(BridgeIP, PodCIDR.Bits()).String(), "dev", Bridge},
		{"ip", "link", "set", Bridge, "up"},
		{"ip", "route", "add", ServiceCIDR.String(), "dev", Bridge},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(s, " "), err, out)
		}
	}
	guard := fmt.Sprintf(`table inet %[1]s {
	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		ip saddr %[2]s ip daddr != { %[2]s, %[3]s } counter drop comment "pods reach only pods, Services and the node"
		iifname %[4]q oifname != %[4]q counter drop comment "nothing from the bridge leaves it"
		ip daddr %[3]s counter drop comment "a Service address no rule answered"
	}
	chain output {
		type filter hook output priority filter + 10; policy accept;
		ip daddr %[3]s counter drop comment "a Service address no rule answered"
	}
}
`, guardTable, PodCIDR, ServiceCIDR, Bridge)
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(guard)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft guard table: %w: %s", err, out)
	}
	return nil
}

// nftTables lists "family name" of every nft table.
func nftTables() ([]string, error) {
	out, err := exec.Command("nft", "list", "tables").Output()
	if err != nil {
		return nil, fmt.Errorf("nft list tables: %w", err)
	}
	var tables []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "table" {
			tables = append(tables, f[1]+" "+f[2])
		}
	}
	return tables, nil
}

func netnsNames() []string {
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// topCgroups lists the first-level cgroups of every hierarchy ("memory/kubepods").
func topCgroups() []string {
	var out []string
	hierarchies, _ := os.ReadDir("/sys/fs/cgroup")
	for _, h := range hierarchies {
		children, _ := os.ReadDir(filepath.Join("/sys/fs/cgroup", h.Name()))
		for _, c := range children {
			if c.IsDir() {
				out = append(out, h.Name()+"/"+c.Name())
			}
		}
	}
	return out
}

// mountPoints lists every mount point of this mount namespace, from mountinfo.
func mountPoints() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			out = append(out, unescapeMount(f[4]))
		}
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// newSince returns the elements of now that are not in before, sorted.
func newSince(before, now []string) []string {
	had := map[string]bool{}
	for _, b := range before {
		had[b] = true
	}
	var out []string
	for _, n := range now {
		if !had[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
