package main

import (
	"fmt"
	"strings"

	"github.com/bridgehead/bridgehead/internal/entrypoint"
	"github.com/bridgehead/bridgehead/proxy"
)

// entryPointFlag collects the repeated --entrypoint NAME=[HOST]:PORT[/tcp|/udp]: Traefik's
// entry point address syntax (--entryPoints.NAME.address=:53/udp), for entry points
// besides web and websecure. A TCP one is plain (HTTP routes and IngressRouteTCP
// HostSNI(`*`) routes without tls, as on web); a UDP one serves IngressRouteUDPs.
type entryPointFlag []entrypoint.EntryPoint

func (f *entryPointFlag) String() string {
	var out []string
	for _, ep := range *f {
		out = append(out, ep.String())
	}
	return strings.Join(out, ",")
}

// Set parses one NAME=[HOST]:PORT[/tcp|/udp].
func (f *entryPointFlag) Set(v string) error {
	ep, err := entrypoint.Parse(v)
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
		out[ep.Name] = ep.Protocol()
	}
	return out
}
