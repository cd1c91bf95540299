package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Mirroring, as Traefik does it: the main service answers the client; then each mirror
// whose turn it is gets a copy of the request, whose answer is discarded. Which requests
// a mirror gets is counted, not drawn: after n requests a mirror at p percent has had
// ceil(n*p/100) copies (Traefik's rule), so the share is exact at any count.
//
// The client never waits for a mirror: copies are sent on goroutines of their own after
// the main answer is complete, at most maxMirrorsInFlight at a time across the gateway;
// when that many are still pending (a slow or dead mirror), further copies are dropped
// and counted (bridgehead_mirror_requests_total{result="dropped"}), never queued behind
// the client.

// maxMirrorsInFlight bounds the copies pending at once across the gateway.
const maxMirrorsInFlight = 512

// mirrorTimeout bounds one copy, so a mirror that never answers frees its slot.
const mirrorTimeout = 30 * time.Second

// maxMirrors is the most mirrors one mirroring level may have (the schema allows 16), so
// the active ones fit a bit mask.
const maxMirrors = 64

type mirroringHandler struct {
	srv     *Server
	f       *forwarder
	main    *balanceNode
	mirrors []*mirrorTarget
	total   atomic.Uint64
	// body copies request bodies of at most maxBody bytes (no limit when negative).
	body    bool
	maxBody int64
}

type mirrorTarget struct {
	node *balanceNode
	// num out of every den requests (a percent is num out of 100).
	num, den uint64
}

func (s *Server) compileMirroring(f *forwarder, m *snapshot.MirroringBalance) *balanceNode {
	h := &mirroringHandler{srv: s, f: f, main: s.compileBalance(f, m.Main), body: m.MirrorBody, maxBody: m.MaxBodySize}
	for i, mr := range m.Mirrors {
		if i == maxMirrors {
			break
		}
		num, den := mr.Share()
		h.mirrors = append(h.mirrors, &mirrorTarget{node: s.compileBalance(f, mr.Balance), num: uint64(num), den: uint64(den)})
	}
	return &balanceNode{Handler: h, serves: h.main.serves, available: h.main.available, reason: h.main.reason, status: h.main.status}
}

// turns returns the mirrors whose turn this request is, as a bit mask. The request's
// ordinal n alone decides: a mirror taking num of every den requests takes request n
// when ceil(n*num/den) grows at n. For a percent (den 100) that is, serially, Traefik's
// rule (take while count*100 < n*p); decided from n, it stays exact when requests race
// (no count to fall behind).
func (h *mirroringHandler) turns() uint64 {
	if len(h.mirrors) == 0 {
		return 0
	}
	n := h.total.Add(1)
	var mask uint64
	for i, m := range h.mirrors {
		if takes(n, m.num, m.den) {
			mask |= 1 << i
		}
	}
	return mask
}

// takes reports whether ceil(n*num/den) > ceil((n-1)*num/den), without forming n*num
// (which a large den could overflow): with r = (n-1)*num mod den, the ceiling grows
// when r is 0 and num is not, or when r+num passes den.
func takes(n, num, den uint64) bool {
	if num == 0 || den == 0 {
		return false
	}
	r := ((n - 1) % den) * (num % den) % den
	if r == 0 {
		return true
	}
	return r+num > den
}

func (h *mirroringHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mask := h.turns()
	if mask == 0 {
		h.main.ServeHTTP(w, r)
		return
	}
	var body []byte
	if h.body && r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		read, complete, err := readUpTo(r.Body, h.maxBody)
		if err != nil {
			rec := findRecorder(w)
			if rec == nil || !h.srv.clientBodyFailed(w, r, rec) {
				status, reason := classifyBodyError(r.Context(), err, false)
				h.srv.fail(w, status, reason)
			}
			return
		}
		if !complete {
			// Larger than maxBodySize: the main service gets the whole body, the mirrors
			// nothing (as Traefik).
			r.Body = readCloser{io.MultiReader(bytes.NewReader(read), r.Body), r.Body}
			h.main.ServeHTTP(w, r)
			return
		}
		body = read
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	h.main.ServeHTTP(w, r)
	if r.Context().Err() != nil {
		// The client went away before the main service answered: no copies (as Traefik).
		return
	}
	ctx := context.WithoutCancel(r.Context())
	for i, m := range h.mirrors {
		if mask&(1<<i) != 0 {
			h.send(m, h.copyOf(ctx, r, body))
		}
	}
}

// copyOf is the request a mirror gets: the client's, with the body read for the main
// service, or none when mirrorBody is false.
func (h *mirroringHandler) copyOf(ctx context.Context, r *http.Request, body []byte) *http.Request {
	c := r.Clone(ctx)
	c.TransferEncoding = nil
	switch {
	case body != nil:
		c.Body, c.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	default:
		c.Body, c.ContentLength = http.NoBody, 0
	}
	return c
}

// send hands a copy to a goroutine of its own, or drops it when too many are pending.
func (h *mirroringHandler) send(m *mirrorTarget, req *http.Request) {
	route := h.f.route.snap.ID
	select {
	case h.srv.mirrorSlots <- struct{}{}:
	default:
		h.srv.metrics.Mirror(route, "dropped")
		h.srv.log.Debug("mirror copy dropped: too many in flight", "route", route, "inFlight", maxMirrorsInFlight)
		return
	}
	h.srv.metrics.Mirror(route, "sent")
	go func() {
		defer func() { <-h.srv.mirrorSlots }()
		defer func() {
			// ReverseProxy panics with ErrAbortHandler when the mirror's answer breaks off
			// (the request still carries the server's context); nothing is waiting for
			// it, so the copy just ends.
			if p := recover(); p != nil && p != http.ErrAbortHandler { //nolint:errorlint // a panic value, compared as net/http does
				h.srv.log.Error("mirror copy panicked", "route", route, "panic", p)
			}
		}()
		ctx, cancel := context.WithTimeout(req.Context(), mirrorTimeout)
		defer cancel()
		m.node.ServeHTTP(discardWriter{header: http.Header{}}, req.WithContext(ctx))
	}()
}

// readUpTo reads a body whole when it has at most max bytes (any size when max is
// negative): complete is false, with what was read, when it has more.
func readUpTo(body io.Reader, max int64) (data []byte, complete bool, err error) {
	if max < 0 {
		data, err = io.ReadAll(body)
		return data, err == nil, err
	}
	data, err = io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, false, err
	}
	return data, int64(len(data)) <= max, nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// discardWriter is the ResponseWriter of a mirror's copy: its answer goes nowhere.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}
