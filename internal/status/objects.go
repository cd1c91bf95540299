package status

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// newObject returns an empty object of one of our kinds (translate.Kinds).
func newObject(kind string) (client.Object, error) {
	if k, ok := translate.KindNamed(kind); ok && k.Ours() {
		return k.NewObject(), nil
	}
	return nil, fmt.Errorf("status: no object kind %q", kind)
}

// withStatus is every kind of ours (api/v1alpha1's CommonStatus methods).
type withStatus interface {
	CommonStatus() *bhv1.Status
}

// statusView gives uniform access to the status of every kind: the common part
// (withStatus), and an IngressRoute's hosts and certificate inventory.
type statusView struct {
	status bhv1.Status
	hosts  *[]string
	certs  *[]bhv1.CertificateInfo
	set    func(bhv1.Status, []string, []bhv1.CertificateInfo)
}

func statusOf(obj client.Object) statusView {
	w, ok := obj.(withStatus)
	if !ok {
		panic(fmt.Sprintf("status: unexpected object %T", obj))
	}
	if ir, ok := obj.(*bhv1.IngressRoute); ok {
		return statusView{status: ir.Status.Status, hosts: &ir.Status.Hosts, certs: &ir.Status.Certificates,
			set: func(s bhv1.Status, h []string, c []bhv1.CertificateInfo) {
				ir.Status.Status, ir.Status.Hosts, ir.Status.Certificates = s, h, c
			}}
	}
	return statusView{status: *w.CommonStatus(), set: func(s bhv1.Status, _ []string, _ []bhv1.CertificateInfo) { *w.CommonStatus() = s }}
}

// empty reports whether the status says nothing: no observed generation, no conditions,
// and for an IngressRoute no hosts and no certificates.
func (v statusView) empty() bool {
	return v.status.ObservedGeneration == 0 && len(v.status.Conditions) == 0 &&
		(v.hosts == nil || len(*v.hosts) == 0) && (v.certs == nil || len(*v.certs) == 0)
}
