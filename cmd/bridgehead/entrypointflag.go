package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/bridgehead/bridgehead/internal/entrypoint"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// entryPointFlag collects the repeated --entrypoint NAME=[HOST]:PORT[/tcp|/udp|/tls]:
// Traefik's entry point address syntax (--entryPoints.NAME.address=:53/udp), for entry
// points besides web and websecure. A TCP one is plain (HTTP routes and IngressRouteTCP
// HostSNI(`*`) routes without tls, as on web); a UDP one serves IngressRouteUDPs; a TLS
// one (Bridgehead's own suffix) terminates TLS as websecure does (routes with tls,
// passthrough by SNI, Gateway API HTTPS and TLS listeners on its port).
type entryPointFlag []entrypoint.EntryPoint

func (f *entryPointFlag) String() string {
	var out []string
	for _, ep := range *f {
		out = append(out, ep.String())
	}
	return strings.Join(out, ",")
}

// Set parses one NAME=[HOST]:PORT[/tcp|/udp|/tls].
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
		out = append(out, proxy.EntryPoint{Name: ep.Name, Address: ep.Address, UDP: ep.UDP(), TLS: ep.TLS()})
	}
	return out
}

// protocols maps every entry point of the gateway (web, websecure and the user's) to its
// protocol ("tcp" plain, "tls" terminating, "udp"), for translate.Options.EntryPoints.
func (f entryPointFlag) protocols() map[string]string {
	out := map[string]string{"web": string(entrypoint.TCP), "websecure": string(entrypoint.TLS)}
	for _, ep := range f {
		out[ep.Name] = ep.Protocol()
	}
	return out
}

// listenerPorts are the ports a Gateway listener may name, and the entry point each is
// served on: an entry point's own port, and for web and websecure also the port the Helm
// chart's Service publishes them on (80, 443), which is what a Gateway's listeners name.
// A TLS user entry point is of kind translate.EntryPointTLS, as websecure: HTTPS and TLS
// listeners (Terminate and Passthrough) on its port are served there. In a cluster with
// --publish-service, the ports that Service publishes replace these
// (controllers.Config.EntryPointPorts).
func (p *proxyFlags) listenerPorts() map[int32]translate.ListenerEntryPoint {
	out := p.ownListenerPorts()
	addPort(out, ":80", webEntryPoint)
	addPort(out, ":443", websecureEntryPoint)
	return out
}

var (
	webEntryPoint       = translate.ListenerEntryPoint{Name: "web", Kind: translate.EntryPointHTTP}
	websecureEntryPoint = translate.ListenerEntryPoint{Name: "websecure", Kind: translate.EntryPointTLS}
)

// ownListenerPorts are the gateway's entry points by the port each listens on.
func (p *proxyFlags) ownListenerPorts() map[int32]translate.ListenerEntryPoint {
	out := map[int32]translate.ListenerEntryPoint{}
	addPort(out, p.Web, webEntryPoint)
	addPort(out, p.Websecure, websecureEntryPoint)
	for _, ep := range p.EntryPoints {
		kind := ep.Protocol() // "tcp" or "udp": TCP or UDP listeners
		if ep.TLS() {
			kind = translate.EntryPointTLS
		}
		addPort(out, ep.Address, translate.ListenerEntryPoint{Name: ep.Name, Kind: kind})
	}
	return out
}

// addPort maps the port of addr to e unless the port is taken or not a port.
func addPort(out map[int32]translate.ListenerEntryPoint, addr string, e translate.ListenerEntryPoint) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err == nil && n > 0 {
		if _, taken := out[int32(n)]; !taken {
			out[int32(n)] = e
		}
	}
}
