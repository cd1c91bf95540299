package traefikcrds

import (
	"reflect"

	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// UDP entry points arrive with IngressRouteUDP (proxy.EntryPoint.UDP and
// translate.Options.EntryPoints). Until a build has them, the API server mode runs without
// a udp entry point, and a case's udp request fails naming it; the fields are looked up by
// name so that the runner builds either way.

// withUDPEntryPoint adds the entry point udp on an ephemeral loopback port when this
// build's data plane has UDP entry points.
func withUDPEntryPoint(eps []proxy.EntryPoint) []proxy.EntryPoint {
	ep := proxy.EntryPoint{Name: "udp", Address: "127.0.0.1:0"}
	f := reflect.ValueOf(&ep).Elem().FieldByName("UDP")
	if !f.IsValid() || f.Kind() != reflect.Bool {
		return eps
	}
	f.SetBool(true)
	return append(eps, ep)
}

// withEntryPointProtocols tells the translator the gateway's entry points and their
// protocols, when this build's translator checks routes against them.
func withEntryPointProtocols(opts *translate.Options, eps []proxy.EntryPoint) {
	f := reflect.ValueOf(opts).Elem().FieldByName("EntryPoints")
	if !f.IsValid() || f.Type() != reflect.TypeOf(map[string]string(nil)) {
		return
	}
	m := map[string]string{}
	for _, ep := range eps {
		proto := "tcp"
		if ep.TLS {
			proto = "tls" // websecure: routes with tls are served there, and only they
		}
		if u := reflect.ValueOf(ep).FieldByName("UDP"); u.IsValid() && u.Kind() == reflect.Bool && u.Bool() {
			proto = "udp"
		}
		m[ep.Name] = proto
	}
	f.Set(reflect.ValueOf(m))
}
