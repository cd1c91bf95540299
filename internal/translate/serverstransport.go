package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Transport defaults, as in Traefik.
const (
	defaultDialTimeout      = 30 * time.Second
	defaultIdleConnTimeout  = 90 * time.Second
	defaultPingTimeout      = 15 * time.Second
	defaultMaxIdleConns     = 200
	defaultDialKeepAlive    = 15 * time.Second
	defaultTerminationDelay = 100 * time.Millisecond
)

func transportID(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// buildTransports compiles every ServersTransport and ServersTransportTCP, used or not, so
// each gets a status even before a route names it.
func (t *translator) buildTransports() {
	for _, st := range sortedByName(t.in.ServersTransports) {
		rep := t.reportFor(KindServersTransport, &st.ObjectMeta)
		if t.refuseUnsupported(rep, KindServersTransport+" "+st.Namespace+"/"+st.Name) {
			t.sealTransport(rep, refusedTransport(KindServersTransport, st.Namespace, st.Name))
			continue
		}
		tr := t.upstreamTLS(rep, objectTLSOrigin(KindServersTransport, st.Namespace, st.Name, "spec."), &st.Spec.UpstreamTLS)
		tr.MaxIdleConnsPerHost = defaultMaxIdleConns
		if st.Spec.MaxIdleConnsPerHost > 0 {
			tr.MaxIdleConnsPerHost = st.Spec.MaxIdleConnsPerHost
		}
		tr.DialTimeout, tr.IdleConnTimeout, tr.PingTimeout = defaultDialTimeout, defaultIdleConnTimeout, defaultPingTimeout
		if ft := st.Spec.ForwardingTimeouts; ft != nil {
			t.duration(rep, "spec.forwardingTimeouts.dialTimeout", ft.DialTimeout, &tr.DialTimeout)
			t.duration(rep, "spec.forwardingTimeouts.responseHeaderTimeout", ft.ResponseHeaderTimeout, &tr.ResponseHeaderTimeout)
			t.duration(rep, "spec.forwardingTimeouts.idleConnTimeout", ft.IdleConnTimeout, &tr.IdleConnTimeout)
			t.duration(rep, "spec.forwardingTimeouts.readIdleTimeout", ft.ReadIdleTimeout, &tr.ReadIdleTimeout)
			t.duration(rep, "spec.forwardingTimeouts.pingTimeout", ft.PingTimeout, &tr.PingTimeout)
		}
		tr.DisableHTTP2 = st.Spec.DisableHTTP2
		t.sealTransport(rep, tr)
	}
	for _, st := range sortedByName(t.in.ServersTransportTCPs) {
		rep := t.reportFor(KindServersTransportTCP, &st.ObjectMeta)
		if t.refuseUnsupported(rep, KindServersTransportTCP+" "+st.Namespace+"/"+st.Name) {
			t.sealTransport(rep, refusedTransport(KindServersTransportTCP, st.Namespace, st.Name))
			continue
		}
		spec := st.Spec.TLS
		if spec == nil {
			spec = &bhv1.UpstreamTLS{}
		}
		tr := t.upstreamTLS(rep, objectTLSOrigin(KindServersTransportTCP, st.Namespace, st.Name, "spec.tls."), spec)
		tr.DialTimeout, tr.DialKeepAlive, tr.TerminationDelay = defaultDialTimeout, defaultDialKeepAlive, defaultTerminationDelay
		t.duration(rep, "spec.dialTimeout", st.Spec.DialTimeout, &tr.DialTimeout)
		t.duration(rep, "spec.dialKeepAlive", st.Spec.DialKeepAlive, &tr.DialKeepAlive)
		t.duration(rep, "spec.terminationDelay", st.Spec.TerminationDelay, &tr.TerminationDelay)
		if pp := st.Spec.ProxyProtocol; pp != nil {
			tr.ProxyProtocol = pp.Version
			if tr.ProxyProtocol == 0 {
				tr.ProxyProtocol = 2
			}
		}
		t.sealTransport(rep, tr)
	}
}

// refusedTransport is the shell of a transport that is not built; sealTransport gives it
// the Failure every backend using it answers.
func refusedTransport(kind, namespace, name string) *snapshot.Transport {
	return &snapshot.Transport{ID: transportID(kind, namespace, name), Source: snapshot.Ref{Kind: kind, Namespace: namespace, Name: name}}
}

// tlsOrigin says where an UpstreamTLS spec comes from: an object (a ServersTransport)
// or an Ingress's annotations. It gives the transport its ID and names the spec's fields
// in messages, so that a problem is reported where the user wrote it.
type tlsOrigin struct {
	kind, namespace, name string
	// obj prefixes messages: "ServersTransport web/st", "Ingress web/app annotation ...".
	obj string
	// field names a spec field ("rootCAs[0]") as the user wrote it.
	field func(string) string
	// annotations: the insecureSkipVerify warning is the annotation finding's to give.
	annotations bool
}

func objectTLSOrigin(kind, namespace, name, prefix string) tlsOrigin {
	return tlsOrigin{kind: kind, namespace: namespace, name: name, obj: kind + " " + namespace + "/" + name,
		field: func(f string) string { return prefix + f }}
}

// upstreamTLS compiles the trust and identity fields shared by both transport kinds and
// the transports synthesized from Ingress annotations. Secrets are read in o.namespace.
func (t *translator) upstreamTLS(rep *report, o tlsOrigin, spec *bhv1.UpstreamTLS) *snapshot.Transport {
	namespace, obj := o.namespace, o.obj
	tr := &snapshot.Transport{
		ID:                 transportID(o.kind, o.namespace, o.name),
		Source:             snapshot.Ref{Kind: o.kind, Namespace: o.namespace, Name: o.name},
		InsecureSkipVerify: spec.InsecureSkipVerify,
		ServerName:         spec.ServerName,
		PeerCertURI:        spec.PeerCertURI,
	}
	t.peerCertSANs(rep, o, spec.PeerCertSANs, tr)
	if spec.MinVersion != "" || spec.MaxVersion != "" {
		tr.MinVersion, tr.MaxVersion = versionRange(spec.MinVersion, spec.MaxVersion)
	}
	var unknown []string
	tr.CipherSuites, unknown = cipherSuites(spec.CipherSuites)
	if len(unknown) > 0 {
		rep.invalidf(bhv1.ReasonUnsupportedValue, fmt.Sprintf("%s: %s %v are not supported by Go's crypto/tls; remove them", obj, o.field("cipherSuites"), unknown))
	}
	if spec.InsecureSkipVerify && !o.annotations {
		rep.warn(bhv1.ReasonInsecureSkipVerify, fmt.Sprintf(
			"%s: %s is true: backend certificates are not verified, so anyone on the path to the backend can impersonate it; set rootCAs to the backend's CA instead", obj, o.field("insecureSkipVerify")))
	}

	var bundles []caResult
	for i, ca := range spec.RootCAs {
		src, field := caSource{"Secret", namespace, "", ca.Key}, o.field(fmt.Sprintf("rootCAs[%d]", i))
		switch {
		case ca.Secret != nil:
			src.name = string(*ca.Secret)
		case ca.ConfigMap != nil:
			src.kind, src.name = "ConfigMap", *ca.ConfigMap
		}
		bundles = t.addRoots(rep, obj, field, src, bundles)
	}
	for i, s := range spec.RootCAsSecrets { //nolint:staticcheck // Traefik manifests still use the deprecated alias
		bundles = t.addRoots(rep, obj, o.field(fmt.Sprintf("rootCAsSecrets[%d]", i)), caSource{kind: "Secret", namespace: namespace, name: string(s)}, bundles)
	}
	if len(bundles) > 0 && len(rep.refs) == 0 {
		tr.RootCAs = mergePools(bundles)
		for i, na := range tr.RootCAs.NotAfters {
			t.checkExpiry(rep, o.field("rootCAs"), &snapshot.Certificate{Subject: tr.RootCAs.Subjects[i], NotAfter: na, Source: tr.RootCAs.Sources[min(i, len(tr.RootCAs.Sources)-1)]})
		}
	}
	for i, s := range spec.CertificatesSecrets {
		r := t.certificate(rep, namespace, string(s))
		if r.problem != nil {
			rep.refError(r.problem.reason, fmt.Sprintf("%s: %s: %s", obj, o.field(fmt.Sprintf("certificatesSecrets[%d]", i)), r.problem.message))
			continue
		}
		tr.ClientCertificates = append(tr.ClientCertificates, r.cert)
		t.checkExpiry(rep, o.field(fmt.Sprintf("certificatesSecrets[%d]", i)), r.cert)
	}
	return tr
}

func (t *translator) addRoots(rep *report, obj, field string, src caSource, bundles []caResult) []caResult {
	r := t.caBundle(rep, src, false)
	if r.problem != nil {
		rep.refErrorDetail(r.problem.reason, fmt.Sprintf("%s: %s: %s", obj, field, r.problem.message), r.problem.detail)
		return bundles
	}
	return append(bundles, r)
}

// sealTransport fails the transport closed when a reference is broken, hashes it and adds
// it to the snapshot.
func (t *translator) sealTransport(rep *report, tr *snapshot.Transport) {
	rep.total = 1
	if len(rep.refs) > 0 || len(rep.invalid) > 0 {
		first := append(append([]finding(nil), rep.invalid...), rep.refs...)[0]
		// Never fall back to system roots or to no verification: every backend using this
		// transport answers 502 with the cause.
		tr.Failure = &snapshot.Failure{Reason: string(first.reason), Status: http.StatusBadGateway, Message: first.message, Detail: first.detail}
		tr.RootCAs, tr.ClientCertificates = nil, nil
	} else {
		rep.served = 1
	}
	t.addTransport(tr)
}

// addTransport hashes a compiled transport and adds it to the snapshot.
func (t *translator) addTransport(tr *snapshot.Transport) {
	data, err := json.Marshal(tr)
	if err != nil {
		panic("translate: transport does not marshal: " + err.Error())
	}
	sum := sha256.Sum256(data)
	tr.Hash = hex.EncodeToString(sum[:8])
	t.built[tr.ID] = tr
	t.madeTransports = append(t.madeTransports, tr.ID)
}

// duration parses an optional duration field into dst, reporting a bad value.
func (t *translator) duration(rep *report, field string, d *bhv1.Duration, dst *time.Duration) {
	if d == nil {
		return
	}
	v, err := d.Parse()
	if err != nil {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("%s %s/%s: %s: %v", rep.key.Kind, rep.key.Namespace, rep.key.Name, field, err))
		return
	}
	*dst = v
}
