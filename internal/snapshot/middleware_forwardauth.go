package snapshot

// ForwardAuth asks an authentication server whether to admit each request (Traefik's
// forwardAuth): a 2xx answer admits it, any other answer is returned to the client.
type ForwardAuth struct {
	// Address is the auth server's URL as written: its host is the Host header and TLS
	// server name of the auth requests, its path and query their request URI.
	Address string `json:"address"`
	// Server is where the auth requests go: Scheme (http or https), Endpoints (the ready
	// endpoints of the Service the address names, or the address's own host:port),
	// Transport (the ID of the verified TLS setup for https, Middleware/namespace/name;
	// empty means the system roots), ServerName and VerifyNames (the address's host).
	// Its Failure, when set, is answered instead (no endpoints).
	Server *Backend `json:"server"`
	// TrustForwardHeader: nil keeps Traefik's historical behaviour, true forwards the
	// request's X-Forwarded-* headers, false removes them before setting ours.
	TrustForwardHeader       *bool    `json:"trustForwardHeader,omitempty"`
	AuthResponseHeaders      []string `json:"authResponseHeaders,omitempty"`
	AuthResponseHeadersRegex string   `json:"authResponseHeadersRegex,omitempty"`
	AuthRequestHeaders       []string `json:"authRequestHeaders,omitempty"`
	AddAuthCookiesToResponse []string `json:"addAuthCookiesToResponse,omitempty"`
	// MaxResponseBodySize and MaxBodySize bound the auth answer's body and the request
	// body sent with ForwardBody; -1 is no limit.
	MaxResponseBodySize    int64  `json:"maxResponseBodySize"`
	ForwardBody            bool   `json:"forwardBody,omitempty"`
	MaxBodySize            int64  `json:"maxBodySize"`
	PreserveLocationHeader bool   `json:"preserveLocationHeader,omitempty"`
	PreserveRequestMethod  bool   `json:"preserveRequestMethod,omitempty"`
	AuthSigninURL          string `json:"authSigninURL,omitempty"`
}
