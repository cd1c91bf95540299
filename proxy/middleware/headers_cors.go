package middleware

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// cors answers CORS as Traefik's headers middleware does: preflight requests by the
// gateway itself, and the allow/expose headers on every other answer.
type cors struct {
	c        *snapshot.CORS
	patterns []*regexp.Regexp
	// joined values, built once
	allowHeaders, allowMethods, exposeHeaders string
	// wildcardHeaders/Methods with credentials echo what the preflight asked for, since
	// browsers do not accept "*" with credentials.
	wildcardHeaders, wildcardMethods, exposeSent bool
}

func newCORS(c *snapshot.CORS) *cors {
	if c == nil {
		return nil
	}
	m := &cors{
		c:             c,
		allowHeaders:  strings.Join(c.AllowHeaders, ","),
		allowMethods:  strings.Join(c.AllowMethods, ","),
		exposeHeaders: strings.Join(c.ExposeHeaders, ","),
	}
	m.wildcardHeaders = c.AllowCredentials && slices.Contains(c.AllowHeaders, "*")
	m.wildcardMethods = c.AllowCredentials && slices.Contains(c.AllowMethods, "*")
	m.exposeSent = len(c.ExposeHeaders) > 0 && (!c.AllowCredentials || !slices.Contains(c.ExposeHeaders, "*"))
	for _, p := range c.AllowOriginPatterns {
		if re, err := regexp.Compile(p); err == nil { // translate refused the others
			m.patterns = append(m.patterns, re)
		}
	}
	return m
}

// preflight answers an OPTIONS request with Origin and Access-Control-Request-Method
// (200, empty), and says whether it did.
func (m *cors) preflight(w http.ResponseWriter, r *http.Request) bool {
	method := r.Header.Get("Access-Control-Request-Method")
	origin := r.Header.Get("Origin")
	if r.Method != http.MethodOptions || method == "" || origin == "" {
		return false
	}
	h := w.Header()
	if m.c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	switch {
	case m.wildcardHeaders:
		if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
			h.Set("Access-Control-Allow-Headers", asked)
		}
	case m.allowHeaders != "":
		h.Set("Access-Control-Allow-Headers", m.allowHeaders)
	}
	switch {
	case m.wildcardMethods:
		h.Set("Access-Control-Allow-Methods", method)
	case m.allowMethods != "":
		h.Set("Access-Control-Allow-Methods", m.allowMethods)
	}
	if allowed, ok := m.matchOrigin(origin); ok {
		h.Set("Access-Control-Allow-Origin", allowed)
	}
	if m.c.MaxAge != nil {
		h.Set("Access-Control-Max-Age", strconv.FormatInt(*m.c.MaxAge, 10))
	}
	if m.exposeSent {
		h.Set("Access-Control-Expose-Headers", m.exposeHeaders)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return true
}

// responseHeaders returns the changes made to the answer of a request that is not a
// preflight.
func (m *cors) responseHeaders(r *http.Request) func(http.Header) {
	origin := r.Header.Get("Origin")
	return func(h http.Header) {
		if allowed, ok := m.matchOrigin(origin); ok && allowed != "" {
			h.Set("Access-Control-Allow-Origin", allowed)
		}
		if m.c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if m.exposeSent {
			h.Set("Access-Control-Expose-Headers", m.exposeHeaders)
		}
		if m.c.AddVaryOrigin {
			switch vary := h.Get("Vary"); vary {
			case "Origin":
			case "":
				h.Set("Vary", "Origin")
			default:
				h.Set("Vary", vary+",Origin")
			}
		}
	}
}

// matchOrigin: a listed origin is echoed; "*" is sent as is, or as the request's origin
// with credentials (browsers refuse "*" with credentials); a pattern match is echoed.
func (m *cors) matchOrigin(origin string) (string, bool) {
	for _, o := range m.c.AllowOrigins {
		switch o {
		case origin:
			return o, true
		case "*":
			if m.c.AllowCredentials {
				return origin, true
			}
			return o, true
		}
	}
	for _, re := range m.patterns {
		if re.MatchString(origin) {
			return origin, true
		}
	}
	return "", false
}
