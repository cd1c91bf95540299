package proxy

import (
	"net"
	"net/http"
	"time"

	"github.com/bridgehead/bridgehead/proxy/accesslog"
	"github.com/bridgehead/bridgehead/proxy/middleware"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// upstreamError classifies a failed round trip, answers the client (502/504, never 500),
// ejects the endpoint for connect and TLS failures, and records the cause for metrics,
// the log and the route's status.
func (s *Server) upstreamError(w http.ResponseWriter, req *http.Request, r *route, b *backend, err error) {
	rec := findRecorder(w)
	if rec != nil && s.clientBodyFailed(w, req, rec) {
		return
	}
	reason, status, detail := upstream.Classify(err)
	if detail.Endpoint == "" && req.URL != nil {
		detail.Endpoint = req.URL.Host
	}
	header := string(reason)
	switch timeoutCause(req.Context()) {
	case requestDeadline:
		// The route's own budget ran out, perhaps in a middleware or an earlier
		// attempt: nothing to hold against this backend.
		s.log.Warn("request timed out", "route", r.snap.ID, "service", b.snap.Service.String(),
			"endpoint", detail.Endpoint, "timeout", r.snap.Timeouts.Request.String())
		if rec != nil {
			rec.reason = reasonRequestTimeout
		}
		s.fail(w, http.StatusGatewayTimeout, reasonRequestTimeout)
		return
	case backendDeadline:
		reason, status, header = upstream.Timeout, http.StatusGatewayTimeout, string(upstream.Timeout)+" "+backendTimeoutDetail
		detail.Message = "the backend sent no complete response within the route's timeouts.backendRequest (" +
			r.snap.Timeouts.BackendRequest.String() + "); make it answer faster or raise the timeout"
	}
	if reason == upstream.ClientCanceled {
		if rec != nil {
			rec.clientError = string(reason)
		}
		w.WriteHeader(status)
		return
	}
	if es := b.endpoint(detail.Endpoint); es != nil {
		es.OKReported.Store(false)
		if reason != upstream.Timeout && len(b.endpoints) > 1 {
			es.EjectedUntil.Store(time.Now().Add(ejectFor).UnixNano())
		}
	}
	s.metrics.UpstreamFailure(r.snap.ID, string(reason))
	s.observations.Record(upstream.Observation{RouteID: r.snap.ID, Backend: b.snap.Service, Endpoint: detail.Endpoint, Reason: reason, Detail: detail, At: time.Now()})
	// Under a retry Middleware, a failure before the request went out is answered by the
	// next attempt (most likely on another endpoint: this one is ejected above).
	retried := middleware.AttemptFrom(req.Context()).Unreached()
	s.log.Warn("upstream request failed", "retried", retried,
		"route", r.snap.ID, "service", b.snap.Service.String(), "endpoint", detail.Endpoint,
		"reason", string(reason), "status", status, "detail", detail.Message,
		"presentedSubject", detail.Subject, "presentedIssuer", detail.Issuer, "presentedSANs", detail.SANs,
		"namesChecked", detail.NamesChecked, "roots", detail.Roots)
	if retried {
		return
	}
	if rec != nil {
		rec.reason = header
	}
	s.fail(w, status, header)
}

func findRecorder(w http.ResponseWriter) *recorder {
	for {
		switch v := w.(type) {
		case *recorder:
			return v
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
}

// checkResponse detects a TLS backend reached with plain HTTP.
func (s *Server) checkResponse(resp *http.Response) error {
	if resp.StatusCode != http.StatusBadRequest {
		return nil
	}
	return upstream.CheckResponse(resp)
}

// observeSuccess records that a backend answered, once per endpoint after each failure
// (and once at first), so a status that said otherwise heals without a lock per request.
func (s *Server) observeSuccess(r *route, b *backend, endpoint string) {
	es := b.endpoint(endpoint)
	if es == nil || es.OKReported.Load() || es.OKReported.Swap(true) {
		return
	}
	s.observations.Record(upstream.Observation{RouteID: r.snap.ID, Backend: b.snap.Service, Endpoint: endpoint, OK: true, At: time.Now()})
}

func (s *Server) accessLogRequest(ep *entryPoint, r *http.Request, rte *route, rec *recorder, d time.Duration) {
	s.accessLog.Request(accesslog.Request{
		EntryPoint: ep.Name, Route: rte.snap.ID,
		Method: r.Method, Host: r.Host, Path: r.URL.Path, Proto: r.Proto, Status: rec.code(),
		Client: r.RemoteAddr, Upstream: rec.reason, ClientError: rec.clientError,
	}, d)
}

func (s *Server) accessLogConn(ep *entryPoint, r *tcpRoute, conn net.Conn, backend string, in, out int64, reason string, d time.Duration) {
	s.accessLog.Conn(accesslog.Conn{
		EntryPoint: ep.Name, Route: r.snap.ID,
		Client: conn.RemoteAddr().String(), Backend: backend, BytesIn: in, BytesOut: out, Error: reason,
	}, d)
}
