// Package entrypoint reads an entry point as Traefik writes its address
// (--entryPoints.NAME.address=[HOST]:PORT[/tcp|/udp]), as `bridgehead serve --entrypoint
// NAME=[HOST]:PORT[/tcp|/udp]` takes it.
package entrypoint

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// EntryPoint is one entry point besides web and websecure.
type EntryPoint struct {
	Name, Address string
	UDP           bool
}

var name = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// Parse reads NAME=[HOST]:PORT[/tcp|/udp]; an error names the value and the fix.
func Parse(v string) (EntryPoint, error) {
	n, addr, ok := strings.Cut(v, "=")
	if !ok {
		return EntryPoint{}, fmt.Errorf("%q: write NAME=[HOST]:PORT[/tcp|/udp], such as dns=:5353/udp", v)
	}
	if !name.MatchString(n) {
		return EntryPoint{}, fmt.Errorf("%q: the name %q must be letters, digits, - and _ (at most 63)", v, n)
	}
	if n == "web" || n == "websecure" {
		return EntryPoint{}, fmt.Errorf("%q: %s is the gateway's own entry point; set its address with --%s-address", v, n, n)
	}
	ep := EntryPoint{Name: n}
	if i := strings.LastIndex(addr, "/"); i >= 0 {
		switch strings.ToLower(addr[i+1:]) {
		case "tcp":
		case "udp":
			ep.UDP = true
		default:
			return EntryPoint{}, fmt.Errorf("%q: the protocol %q is neither tcp nor udp", v, addr[i+1:])
		}
		addr = addr[:i]
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return EntryPoint{}, fmt.Errorf("%q: the address %q is not [HOST]:PORT: %w", v, addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return EntryPoint{}, fmt.Errorf("%q: the port %q is not a number from 0 to 65535", v, port)
	}
	ep.Address = net.JoinHostPort(host, port)
	return ep, nil
}

// Protocol is "tcp" or "udp".
func (ep EntryPoint) Protocol() string {
	if ep.UDP {
		return "udp"
	}
	return "tcp"
}

// String is the entry point as Parse reads it.
func (ep EntryPoint) String() string { return ep.Name + "=" + ep.Address + "/" + ep.Protocol() }
