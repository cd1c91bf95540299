// Package entrypoint reads an entry point as Traefik writes its address
// (--entryPoints.NAME.address=[HOST]:PORT[/tcp|/udp]), as `bridgehead serve --entrypoint
// NAME=[HOST]:PORT[/tcp|/udp|/tls]` takes it. The /tls suffix is Bridgehead's own: Traefik
// decides TLS per router, while a Bridgehead entry point is plain or terminates TLS (as
// websecure does), and a Gateway API HTTPS or TLS listener needs one of the latter.
package entrypoint

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Protocol is what an entry point speaks.
type Protocol string

// Protocols of entry points.
const (
	// TCP is plain: HTTP routes without tls and IngressRouteTCP HostSNI(`*`) routes, as on web.
	TCP Protocol = "tcp"
	// UDP serves IngressRouteUDPs.
	UDP Protocol = "udp"
	// TLS terminates TLS as websecure does: per-SNI certificates and policies, passthrough
	// by SNI on the same port, HTTP routes with tls.
	TLS Protocol = "tls"
)

// EntryPoint is one entry point besides web and websecure.
type EntryPoint struct {
	Name, Address string
	// Proto is TCP, UDP or TLS (Parse never leaves it empty).
	Proto Protocol
}

var name = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// Parse reads NAME=[HOST]:PORT[/tcp|/udp|/tls]; an error names the value and the fix.
func Parse(v string) (EntryPoint, error) {
	n, addr, ok := strings.Cut(v, "=")
	if !ok {
		return EntryPoint{}, fmt.Errorf("%q: write NAME=[HOST]:PORT[/tcp|/udp|/tls], such as dns=:5353/udp or https2=:9443/tls", v)
	}
	if !name.MatchString(n) {
		return EntryPoint{}, fmt.Errorf("%q: the name %q must be letters, digits, - and _ (at most 63)", v, n)
	}
	if n == "web" || n == "websecure" {
		return EntryPoint{}, fmt.Errorf("%q: %s is the gateway's own entry point; set its address with --%s-address", v, n, n)
	}
	ep := EntryPoint{Name: n, Proto: TCP}
	if i := strings.LastIndex(addr, "/"); i >= 0 {
		switch p := Protocol(strings.ToLower(addr[i+1:])); p {
		case TCP, UDP, TLS:
			ep.Proto = p
		default:
			return EntryPoint{}, fmt.Errorf("%q: the protocol %q is not tcp, udp or tls", v, addr[i+1:])
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

// Protocol is "tcp", "udp" or "tls".
func (ep EntryPoint) Protocol() string {
	if ep.Proto == "" {
		return string(TCP)
	}
	return string(ep.Proto)
}

// UDP reports whether the entry point is a UDP socket.
func (ep EntryPoint) UDP() bool { return ep.Proto == UDP }

// TLS reports whether the entry point terminates TLS.
func (ep EntryPoint) TLS() bool { return ep.Proto == TLS }

// String is the entry point as Parse reads it.
func (ep EntryPoint) String() string { return ep.Name + "=" + ep.Address + "/" + ep.Protocol() }
