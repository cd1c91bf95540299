package snapshot

// ErrorPage is Traefik's errors middleware: a response whose status is in Status is
// replaced by the page Service answers to Query ({status}, {originalStatus} and {url}
// filled in), sent with the backend's status, or the To of the first Rewrites entry
// that holds it.
type ErrorPage struct {
	Status   []StatusRange   `json:"status"`
	Rewrites []StatusRewrite `json:"rewrites,omitempty"`
	Query    string          `json:"query,omitempty"`
	// AllHeaders sends every request header to Service; otherwise only Headers.
	AllHeaders bool     `json:"allHeaders,omitempty"`
	Headers    []string `json:"headers,omitempty"`
	// Service serves the pages, resolved like a route's backend.
	Service *Backend `json:"service"`
}

// StatusRange is the statuses from Low to High, both included.
type StatusRange struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

// Contains says whether code is in one of the ranges.
func Contains(ranges []StatusRange, code int) bool {
	for _, r := range ranges {
		if code >= r.Low && code <= r.High {
			return true
		}
	}
	return false
}

// StatusRewrite sends To instead of the statuses in From.
type StatusRewrite struct {
	From StatusRange `json:"from"`
	To   int         `json:"to"`
}

// MiddlewareBackends are the backends middlewares call besides the route's own (the
// Services of errors pages, forwardAuth's auth servers), chains included: the proxy keeps
// their transports warm.
func MiddlewareBackends(mws []*Middleware) []*Backend {
	var out []*Backend
	for _, m := range mws {
		switch {
		case m == nil:
		case m.Errors != nil && m.Errors.Service != nil:
			out = append(out, m.Errors.Service)
		case m.ForwardAuth != nil && m.ForwardAuth.Server != nil:
			out = append(out, m.ForwardAuth.Server)
		case m.Chain != nil:
			out = append(out, MiddlewareBackends(m.Chain.Middlewares)...)
		}
	}
	return out
}
