package translate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// errorPage compiles Traefik's errors middleware. Its Service is resolved as a route's
// (endpoints, scheme, ServersTransport, cross-namespace rules): a Service, port or
// ServersTransport that cannot be used makes the Middleware not Ready, so its routes fail
// closed (503) rather than answering without the pages. A Service without ready
// endpoints is only a Warning: the caught statuses still reach the client, with a plain
// body, as in Traefik.
func (t *translator) errorPage(rep *report, k nsName, e *bhv1.ErrorPage) *snapshot.ErrorPage {
	out := &snapshot.ErrorPage{Query: e.Query, AllHeaders: e.ErrorRequestHeaders == nil, Headers: e.ErrorRequestHeaders}
	if len(e.Status) == 0 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.errors.status is empty, so no response would get an error page; list the statuses to replace, such as \"500-599\" or \"404\"", k))
	}
	for i, s := range e.Status {
		rs, err := ParseStatusRanges(s)
		if err != nil {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.errors.status[%d] %q: %v; write a status (404), a range (500-599) or both separated by commas (404,500-599)", k, i, s, err))
			continue
		}
		out.Status = append(out.Status, rs...)
	}
	// Traefik tries the rewrites in map order (random); in key order, the outcome is the
	// same on every replica and every reload.
	keys := make([]string, 0, len(e.StatusRewrites))
	for from := range e.StatusRewrites {
		keys = append(keys, from)
	}
	sort.Strings(keys)
	for _, from := range keys {
		to := e.StatusRewrites[from]
		rs, err := ParseStatusRanges(from)
		switch {
		case err != nil:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.errors.statusRewrites key %q: %v; write a status (418) or a range (500-503)", k, from, err))
			continue
		case to < 100 || to > 599:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.errors.statusRewrites[%q] is %d, not an HTTP status; write a status from 100 to 599, such as 404", k, from, to))
			continue
		}
		for _, r := range rs {
			out.Rewrites = append(out.Rewrites, snapshot.StatusRewrite{From: r, To: to})
		}
	}
	out.Service = t.errorPageService(rep, k, e.Service)
	return out
}

// errorPageService resolves spec.errors.service with the route code, then words what it
// found for a Middleware.
func (t *translator) errorPageService(rep *report, k nsName, s bhv1.ErrorPageService) *snapshot.Backend {
	const field = "spec.errors.service"
	scratch := &report{key: rep.key}
	b := t.httpBackend(scratch, "Middleware "+k.String(), field, k.namespace, bhv1.Service{
		Name: s.Name, Namespace: s.Namespace, Port: s.Port, Scheme: s.Scheme,
		ServersTransport: s.ServersTransport, PassHostHeader: s.PassHostHeader,
	})
	b.Failure = nil // a Middleware that cannot fetch its pages is not served at all
	reword := func(msg string) string {
		if i := strings.Index(msg, "; requests on this route get"); i >= 0 {
			msg = msg[:i]
		}
		return fmt.Sprintf("Middleware %s: %s; the routes that list it answer 503 until it is fixed", k, msg)
	}
	for _, f := range scratch.invalid {
		rep.invalidf(f.reason, reword(f.message))
	}
	for _, f := range scratch.refs {
		rep.refErrorDetail(f.reason, reword(f.message), f.detail)
	}
	for _, f := range scratch.notReady {
		msg, _, _ := strings.Cut(f.message, "; requests get")
		rep.warn(f.reason, fmt.Sprintf("Middleware %s: %s; until one is ready, the statuses it catches are answered with a plain body", k, msg))
	}
	for _, f := range scratch.warnings {
		rep.warn(f.reason, fmt.Sprintf("Middleware %s: %s", k, f.message))
	}
	return b
}

// ParseStatusRanges reads Traefik's status notation: a code ("404"), a range
// ("500-599"), or several of either separated by commas ("404,500-599").
func ParseStatusRanges(s string) ([]snapshot.StatusRange, error) {
	var out []snapshot.StatusRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(strings.TrimSpace(lo))
		h, err2 := strconv.Atoi(strings.TrimSpace(hi))
		switch {
		case err1 != nil || err2 != nil:
			return nil, fmt.Errorf("%q is neither a status nor a range of statuses", part)
		case l < 100 || h > 599:
			return nil, fmt.Errorf("%q is outside the HTTP statuses 100-599", part)
		case l > h:
			return nil, fmt.Errorf("the range %q ends before it starts", part)
		}
		out = append(out, snapshot.StatusRange{Low: l, High: h})
	}
	return out, nil
}
