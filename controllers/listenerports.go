package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// publishedListenerPorts are the ports a Gateway listener may name when the gateway is
// reached through its --publish-service Service: each port that Service publishes, served
// by the entry point its targetPort reaches. A Gateway's address is that Service's, so a
// listener on a port the Service does not publish could never be reached there, even when
// the pods listen on it (the chart's pods listen on 8443, its Service publishes 443).
// It returns nil (the flags' ports apply) when there is no Service to read.
func (g *Rebuilder) publishedListenerPorts(ctx context.Context) (map[int32]translate.ListenerEntryPoint, string) {
	own := g.cfg.EntryPointPorts
	if g.cfg.PublishService.Name == "" || own == nil {
		return nil, ""
	}
	svc := &corev1.Service{}
	if err := g.client.Get(ctx, g.cfg.PublishService, svc); err != nil {
		// The Gateways get no address either (Programmed=False AddressNotAssigned), and
		// ingressReport logs the error.
		return nil, ""
	}
	return servicePorts(svc, own), "Service " + g.cfg.PublishService.String()
}

// servicePorts maps each port of svc to the entry point (own: by the port each listens
// on in the pod) its targetPort reaches: by name (the chart names container ports after
// their entry points) or by number. A port that reaches no entry point, or one whose
// protocol the entry point does not speak, is left out.
func servicePorts(svc *corev1.Service, own map[int32]translate.ListenerEntryPoint) map[int32]translate.ListenerEntryPoint {
	byName := map[string]translate.ListenerEntryPoint{}
	for _, e := range own {
		byName[e.Name] = e
	}
	out := map[int32]translate.ListenerEntryPoint{}
	for _, sp := range svc.Spec.Ports {
		var e translate.ListenerEntryPoint
		var ok bool
		switch t := sp.TargetPort; {
		case t.Type == intstr.String && t.StrVal != "":
			e, ok = byName[t.StrVal]
		case t.Type == intstr.Int && t.IntVal != 0:
			e, ok = own[t.IntVal]
		default: // no targetPort: the Service's port itself
			e, ok = own[sp.Port]
		}
		udp := sp.Protocol == corev1.ProtocolUDP
		if ok && udp == (e.Kind == "udp") {
			out[sp.Port] = e
		}
	}
	return out
}
