package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/bridgehead/bridgehead/proxy"
)

// userEntryPoint is one --entrypoint NAME=[HOST]:PORT[/tcp|/udp]: Traefik's entry point
// address syntax (--entryPoints.NAME.address=:53/udp), for entry points besides web and
// websecure. A TCP one is plain (HTTP routes and IngressRouteTCP HostSNI(`*`) routes
// without tls, as on web); a UDP one serves IngressRouteUDPs.
type userEntryPoint struct {
	Name, Address string
	UDP           bool
}

// entryPointFlag collects the repeated --entrypoint flag.
type entryPointFlag []userEntryPoint

var entryPointName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

func (f *entryPointFlag) String() string {
	var out []string
	for _, ep := range *f {
		proto := "tcp"
		if ep.UDP {
			proto = "udp"
		}
		out = append(out, ep.Name+"="+ep.Address+"/"+proto)
	}
	return strings.Join(out, ",")
}

// Set parses one NAME=[HOST]:PORT[/tcp|/udp].
func (f *entryPointFlag) Set(v string) error {
	ep, err := parseEntryPoint(v)
	if err != nil {
		return err
	}
	for _, have := range *f {
		if have.Name == ep.Name {
			return fmt.Errorf("entry point %q is given twice", ep.Name)
		}
	}
	*f = append(*f, ep)
	return nil
}

func parseEntryPoint(v string) (userEntryPoint, error) {
	name, addr, ok := strings.Cut(v, "=")
	if !ok {
		return userEntryPoint{}, fmt.Errorf("%q: write NAME=[HOST]:PORT[/tcp|/udp], such as dns=:5353/udp", v)
	}
	if !entryPointName.MatchString(name) {
		return userEntryPoint{}, fmt.Errorf("%q: the name %q must be letters, digits, - and _ (at most 63)", v, name)
	}
	if name == "web" || name == "websecure" {
		return userEntryPoint{}, fmt.Errorf("%q: %s is the gateway's own entry point; set its address with --%s-address", v, name, name)
	}
	ep := userEntryPoint{Name: name}
	if i := strings.LastIndex(addr, "/"); i >= 0 {
		switch strings.ToLower(addr[i+1:]) {
		case "tcp":
		case "udp":
			ep.UDP = true
		default:
			return userEntryPoint{}, fmt.Errorf("%q: the protocol %q is neither tcp nor udp", v, addr[i+1:])
		}
		addr = addr[:i]
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return userEntryPoint{}, fmt.Errorf("%q: the address %q is not [HOST]:PORT: %w", v, addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return userEntryPoint{}, fmt.Errorf("%q: the port %q is not a number from 0 to 65535", v, port)
	}
	ep.Address = net.JoinHostPort(host, port)
	return ep, nil
}

// proxyEntryPoints are the user entry points as the proxy takes them.
func (f entryPointFlag) proxyEntryPoints() []proxy.EntryPoint {
	var out []proxy.EntryPoint
	for _, ep := range f {
		out = append(out, proxy.EntryPoint{Name: ep.Name, Address: ep.Address, UDP: ep.UDP})
	}
	return out
}

// protocols maps every entry point of the gateway (web, websecure and the user's) to its
// protocol, for translate.Options.EntryPoints.
func (f entryPointFlag) protocols() map[string]string {
	out := map[string]string{"web": "tcp", "websecure": "tcp"}
	for _, ep := range f {
		out[ep.Name] = "tcp"
		if ep.UDP {
			out[ep.Name] = "udp"
		}
	}
	return out
}
