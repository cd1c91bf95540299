package status

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

func newObject(kind string) (client.Object, error) {
	switch kind {
	case translate.KindIngressRoute:
		return &bhv1.IngressRoute{}, nil
	case translate.KindIngressRouteTCP:
		return &bhv1.IngressRouteTCP{}, nil
	case translate.KindTLSOption:
		return &bhv1.TLSOption{}, nil
	case translate.KindTLSStore:
		return &bhv1.TLSStore{}, nil
	case translate.KindServersTransport:
		return &bhv1.ServersTransport{}, nil
	case translate.KindServersTransportTCP:
		return &bhv1.ServersTransportTCP{}, nil
	case translate.KindMiddleware:
		return &bhv1.Middleware{}, nil
	case translate.KindMiddlewareTCP:
		return &bhv1.MiddlewareTCP{}, nil
	}
	return nil, fmt.Errorf("status: no object kind %q", kind)
}

// statusView gives uniform access to the status of every kind.
type statusView struct {
	status bhv1.Status
	hosts  *[]string
	certs  *[]bhv1.CertificateInfo
	set    func(bhv1.Status, []string, []bhv1.CertificateInfo)
}

func statusOf(obj client.Object) statusView {
	switch o := obj.(type) {
	case *bhv1.IngressRoute:
		return statusView{status: o.Status.Status, hosts: &o.Status.Hosts, certs: &o.Status.Certificates,
			set: func(s bhv1.Status, h []string, c []bhv1.CertificateInfo) {
				o.Status.Status, o.Status.Hosts, o.Status.Certificates = s, h, c
			}}
	case *bhv1.IngressRouteTCP:
		return statusView{status: o.Status, set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { o.Status = s }}
	case *bhv1.TLSOption:
		return statusView{status: o.Status, set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { o.Status = s }}
	case *bhv1.TLSStore:
		return statusView{status: o.Status, set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { o.Status = s }}
	case *bhv1.ServersTransport:
		return statusView{status: o.Status, set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { o.Status = s }}
	case *bhv1.ServersTransportTCP:
		return statusView{status: o.Status, set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { o.Status = s }}
	case *bhv1.Middleware:
		return statusView{status: o.Status, set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { o.Status = s }}
	case *bhv1.MiddlewareTCP:
		return statusView{status: o.Status, set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { o.Status = s }}
	}
	panic(fmt.Sprintf("status: unexpected object %T", obj))
}
