package snapshot

import "net/netip"

// TCPRoute is one rule of an IngressRouteTCP.
type TCPRoute struct {
	RouteHead
	// Passthrough sends the client's TLS bytes untouched.
	Passthrough bool `json:"passthrough,omitempty"`
	// Terminate makes the gateway terminate TLS (with Policy) before forwarding.
	Terminate bool   `json:"terminate,omitempty"`
	Policy    string `json:"policy,omitempty"`
	// Hosts are the SNI names the rule requires (empty for HostSNI(`*`)).
	Hosts []string `json:"hosts,omitempty"`
	// Middlewares filter each connection in order, before a TLS handshake (when the
	// gateway terminates) and before a backend is dialled.
	Middlewares []*TCPMiddleware `json:"middlewares,omitempty"`
	Backends    []*TCPBackend    `json:"backends,omitempty"`
	Failure     *Failure         `json:"failure,omitempty"`
}

// TCPBackend is one weighted Service of a TCP route.
type TCPBackend struct {
	Service Ref    `json:"service"`
	Port    string `json:"port"`
	Weight  int    `json:"weight"`
	// TLS opens TLS to the backend with Transport's trust and ServerName.
	TLS           bool       `json:"tls,omitempty"`
	Transport     string     `json:"transport,omitempty"`
	ServerName    string     `json:"serverName,omitempty"`
	VerifyNames   []string   `json:"verifyNames,omitempty"`
	ProxyProtocol int        `json:"proxyProtocol,omitempty"`
	Endpoints     []Endpoint `json:"endpoints,omitempty"`
	Failure       *Failure   `json:"failure,omitempty"`
}

// TCPMiddleware is one compiled MiddlewareTCP; exactly one field besides Source is set.
type TCPMiddleware struct {
	Source       Ref              `json:"source"`
	IPAllowList  *TCPIPAllowList  `json:"ipAllowList,omitempty"`
	InFlightConn *TCPInFlightConn `json:"inFlightConn,omitempty"`
}

// TCPIPAllowList admits only connections whose client address is in SourceRange.
type TCPIPAllowList struct {
	SourceRange []netip.Prefix `json:"sourceRange"`
}

// TCPInFlightConn caps the simultaneous connections of one client IP on the route.
type TCPInFlightConn struct {
	Amount int64 `json:"amount"`
}
