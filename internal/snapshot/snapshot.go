// Package snapshot is the immutable routing model the data plane serves from, and the
// Store that swaps it atomically. It imports the standard library only: it is the proxy's
// whole contract with the control plane.
//
// A Snapshot is built off the hot path (by internal/translate), validated, then stored; it
// is never modified afterwards. Slices are sorted so that the same inputs give the same
// snapshot, byte for byte when serialized (see Hash).
package snapshot

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Snapshot is everything the proxy needs to serve one generation of configuration.
type Snapshot struct {
	// HTTPRoutes in evaluation order: priority descending, then by ID.
	HTTPRoutes []*HTTPRoute `json:"httpRoutes,omitempty"`
	// TCPRoutes in evaluation order: priority descending, then by ID.
	TCPRoutes []*TCPRoute `json:"tcpRoutes,omitempty"`
	// UDPRoutes by ID.
	UDPRoutes []*UDPRoute `json:"udpRoutes,omitempty"`
	// TLS is the edge: certificates and policies per host name.
	TLS TLS `json:"tls"`
	// Transports are the upstream TLS/connection specs, by ID.
	Transports []*Transport `json:"transports,omitempty"`
}

// Ref names the Kubernetes object a snapshot element came from, so the data plane can
// attribute what it observes (e.g. an upstream TLS failure) to it.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String is Kind/namespace/name.
func (r Ref) String() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// Failure makes an element fail closed: the proxy answers with Status and Reason instead
// of serving it insecurely. Message is safe to show (it never holds secret material).
type Failure struct {
	// Reason is a short typed cause (e.g. "NotFound", "NoEndpoints"), sent in the
	// Bridgehead-Error header.
	Reason string `json:"reason"`
	// Status is the HTTP status the client gets: 502 for broken TLS/trust, 503 for no endpoints.
	Status int `json:"status"`
	// Message says what is wrong and how to fix it.
	Message string `json:"message"`
	// Detail, when set, follows Reason in the Bridgehead-Error header: the
	// namespace/name of the missing object the reason is about (CASecretNotFound).
	Detail string `json:"detail,omitempty"`
}

// Header is the Bridgehead-Error value of the failure: the reason, then the detail.
func (f *Failure) Header() string {
	if f.Detail == "" {
		return f.Reason
	}
	return f.Reason + " " + f.Detail
}

// RouteHead is what every kind of route has: where it comes from and what it matches.
// HTTPRoute and TCPRoute embed it (its fields are inline in the JSON).
type RouteHead struct {
	// ID is unique and stable: namespace/name/index of the route in its object.
	ID string `json:"id"`
	// Source is the object this came from (IngressRoute, IngressRouteTCP, Ingress).
	Source Ref `json:"source"`
	// RouteIndex is the position in spec.routes.
	RouteIndex int `json:"routeIndex"`
	// Match is the rule text, parsed again by the proxy's router.
	Match string `json:"match"`
	// Priority is explicit, or the rule's length.
	Priority int `json:"priority"`
	// EntryPoints narrows the listeners; empty means all of the route's kind (TLS or plain).
	EntryPoints []string `json:"entryPoints,omitempty"`
}

// HTTPRoute is one compiled-ready rule of an IngressRoute (or one path of an Ingress).
type HTTPRoute struct {
	RouteHead
	// TLS is true when the route serves on TLS entry points.
	TLS bool `json:"tls"`
	// Policy is the ID of the TLS policy a connection must have been negotiated under for
	// this route to serve it (421 otherwise). Empty for plain routes.
	Policy string `json:"policy,omitempty"`
	// Middlewares run in order before forwarding.
	Middlewares []*Middleware `json:"middlewares,omitempty"`
	// Backends receive the requests, by weight (unless Balance is set).
	Backends []*Backend `json:"backends,omitempty"`
	// Balance, when set, says how requests reach the Backends (mirroring, sticky
	// TraefikServices); each Backend's Weight is then its weight in its own parent.
	Balance *Balance `json:"balance,omitempty"`
	// Failure, when set, is answered for every request this route matches.
	Failure *Failure `json:"failure,omitempty"`
	// Parents are the IDs of the routes this one is a child of (IngressRoute
	// spec.parentRefs, Traefik's multi-layer routing); empty for a root route. A child is
	// never matched on its own: only among the children of a parent that matched the
	// request, after that parent's middlewares ran, so it sees the request as they left
	// it. It takes the parent's entry points and TLS policy.
	Parents []string `json:"parents,omitempty"`
	// Timeouts, when set, bound the route's requests (Gateway API HTTPRoute rule
	// timeouts).
	Timeouts *Timeouts `json:"timeouts,omitempty"`
}

// Timeouts are Gateway API HTTPRouteTimeouts. Zero disables a timeout, as "0s" does in
// the spec (and an unset one: the spec leaves that to the implementation, and Bridgehead
// has no default). The spec's CEL rule keeps BackendRequest at most Request when both
// are non-zero.
type Timeouts struct {
	// Request bounds the whole request at the gateway, from when its handling starts
	// (headers read) until the response is complete, middlewares and retries included:
	// a client not answered by then gets 504 with Bridgehead-Error RequestTimeout.
	Request time.Duration `json:"request,omitempty"`
	// BackendRequest bounds each single request to a backend, from sending it until the
	// full response is read; each retry gets its own (the spec: one request of the
	// several a transaction may make). Exceeding it is 504 with Bridgehead-Error
	// "Timeout timeouts.backendRequest".
	BackendRequest time.Duration `json:"backendRequest,omitempty"`
}

// Backend is one weighted Service of a route, resolved to endpoints.
type Backend struct {
	// Service is the Kubernetes Service.
	Service Ref `json:"service"`
	// Port is the Service port as written (number or name).
	Port string `json:"port"`
	// Scheme is http, https or h2c.
	Scheme string `json:"scheme"`
	// Weight among the route's backends.
	Weight int `json:"weight"`
	// PassHostHeader forwards the client's Host.
	PassHostHeader bool `json:"passHostHeader"`
	// Transport is the ID of the upstream transport (for https and h2c); empty means the
	// default transport (system roots).
	Transport string `json:"transport,omitempty"`
	// ServerName is the SNI sent to the backend.
	ServerName string `json:"serverName,omitempty"`
	// VerifyNames are the names the backend's certificate may be valid for. The status
	// message lists them when verification fails.
	VerifyNames []string `json:"verifyNames,omitempty"`
	// Endpoints are ready addresses.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// Sticky, when set, pins clients to an endpoint with this cookie.
	Sticky *StickyCookie `json:"sticky,omitempty"`
	// HealthCheck, when set, probes endpoints actively.
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	// Failure, when set, is answered instead of forwarding to this backend.
	Failure *Failure `json:"failure,omitempty"`
	// RequestHeaderModifier, when set, edits the requests sent to this backend only
	// (Gateway API HTTPBackendRef filters: "executed if and only if the request is
	// being forwarded to the backend defined here"), after the route's middlewares.
	RequestHeaderModifier *HeaderModifier `json:"requestHeaderModifier,omitempty"`
}

// Endpoint is one address of a backend: an IP (from an EndpointSlice) or a host name
// (from an ExternalName Service).
type Endpoint struct {
	// Address is host:port, ready to dial.
	Address string `json:"address"`
	// Name is the pod or target name, for logs and status.
	Name string `json:"name,omitempty"`
}

// StickyCookie configures session affinity.
type StickyCookie struct {
	Name     string `json:"name"`
	Secure   bool   `json:"secure,omitempty"`
	HTTPOnly bool   `json:"httpOnly,omitempty"`
	SameSite string `json:"sameSite,omitempty"`
	MaxAge   int    `json:"maxAge,omitempty"`
	Path     string `json:"path"`
}

// HealthCheck probes endpoints with the backend's own transport.
type HealthCheck struct {
	Scheme            string            `json:"scheme"`
	Path              string            `json:"path"`
	Method            string            `json:"method"`
	Status            int               `json:"status,omitempty"`
	Port              int               `json:"port,omitempty"`
	Hostname          string            `json:"hostname,omitempty"`
	Interval          time.Duration     `json:"interval"`
	UnhealthyInterval time.Duration     `json:"unhealthyInterval"`
	Timeout           time.Duration     `json:"timeout"`
	Headers           map[string]string `json:"headers,omitempty"`
}

// Hash is the SHA-256 of the snapshot's canonical JSON: replicas that read the same
// inputs expose the same hash.
func (s *Snapshot) Hash() string {
	data, err := json.Marshal(s)
	if err != nil {
		// Every field is a plain value; a marshalling error is a programming error.
		panic("snapshot: cannot marshal: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Certificate is a parsed certificate chain with its key, plus what status may show of it.
type Certificate struct {
	// Source is the Secret it came from.
	Source Ref `json:"source"`
	// Subject is the leaf's subject.
	Subject string `json:"subject"`
	// DNSNames and IPAddresses are the leaf's SANs.
	DNSNames    []string `json:"dnsNames,omitempty"`
	IPAddresses []string `json:"ipAddresses,omitempty"`
	// NotAfter is the leaf's expiry.
	NotAfter time.Time `json:"notAfter"`
	// Fingerprint is the SHA-256 of the leaf's DER, hex.
	Fingerprint string `json:"fingerprint"`
	// Cert is the chain and key, ready for crypto/tls.
	Cert *tls.Certificate `json:"-"`
}

// CertPool is a set of trusted CA certificates and what status may show of them.
type CertPool struct {
	// Sources are the Secrets/ConfigMaps the roots came from.
	Sources []Ref `json:"sources"`
	// Subjects and Fingerprints of the roots, in the order read.
	Subjects     []string `json:"subjects"`
	Fingerprints []string `json:"fingerprints"`
	// NotAfters are the roots' expiry times, in the same order.
	NotAfters []time.Time `json:"notAfters"`
	// Pool is ready for crypto/tls.
	Pool *x509.CertPool `json:"-"`
}

// Describe lists the roots for a message, each with the object it came from when the
// pool can tell (one source, or one root per source); otherwise the sources, then the
// roots, without pretending to pair them.
func (p *CertPool) Describe() []string {
	src := func(r Ref) string { return r.Kind + " " + r.Namespace + "/" + r.Name }
	var out []string
	switch {
	case len(p.Sources) == len(p.Subjects):
		for i, s := range p.Subjects {
			out = append(out, src(p.Sources[i])+": "+s)
		}
	case len(p.Sources) == 1:
		for _, s := range p.Subjects {
			out = append(out, src(p.Sources[0])+": "+s)
		}
	default:
		for _, r := range p.Sources {
			out = append(out, src(r))
		}
		out = append(out, p.Subjects...)
	}
	return out
}
