package proxy

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// The causes of the deadlines a route's Timeouts put on its requests' contexts. The
// error handler reads them back with context.Cause to tell the gateway's own deadline
// from a client that went away or a transport timeout.
var (
	errRequestTimeout        = errors.New("the route's timeouts.request passed")
	errBackendRequestTimeout = errors.New("the route's timeouts.backendRequest passed")
)

// reasonRequestTimeout is the Bridgehead-Error of a request the route's timeouts.request
// cut off. It is the gateway's own budget, not a backend's fault, so it is not an
// upstream.Reason and puts nothing on the backend's status.
const reasonRequestTimeout = "RequestTimeout"

// backendTimeoutDetail follows upstream.Timeout in Bridgehead-Error when the route's
// timeouts.backendRequest (not the transport's dial or header timeout) ran out.
const backendTimeoutDetail = "timeouts.backendRequest"

// requestTimeout bounds a route's whole handling of a request (Gateway API
// timeouts.request): middlewares, every attempt to a backend, and the response body. A
// request still waiting for its backend when time is up gets 504 RequestTimeout; one
// whose response had begun is cut off (the client sees the stream end early, which is
// the only honest thing left to send).
type requestTimeout struct {
	next http.Handler
	d    time.Duration
}

func (h *requestTimeout) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeoutCause(r.Context(), h.d, errRequestTimeout)
	defer cancel()
	h.next.ServeHTTP(w, r.WithContext(ctx))
}

// withBackendTimeout bounds one request to a backend (Gateway API
// timeouts.backendRequest) from sending it until its response is read to the end. Each
// attempt of a retry gets a fresh one, as the spec counts each call to the backend.
func withBackendTimeout(r *http.Request, d time.Duration) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithTimeoutCause(r.Context(), d, errBackendRequestTimeout)
	return r.WithContext(ctx), cancel
}

// deadline names which of the route's deadlines ended a request.
type deadline int

const (
	noDeadline deadline = iota
	requestDeadline
	backendDeadline
)

// timeoutCause says which of the route's deadlines ended the request, if one did.
func timeoutCause(ctx context.Context) deadline {
	if ctx.Err() == nil {
		return noDeadline
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errRequestTimeout):
		return requestDeadline
	case errors.Is(cause, errBackendRequestTimeout):
		return backendDeadline
	}
	return noDeadline
}
