package middleware

import (
	"net/http"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// NoContentTypeDetection makes the server send a response without a Content-Type when
// the backend sent none, instead of one net/http derives from the body: Traefik v3's
// default, which the proxy applies to every request before its route's middlewares. A
// nil value under the key is net/http's way of saying "do not detect".
func NoContentTypeDetection(h http.Header) {
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil
	}
}

type contentType struct{ next http.Handler }

func newContentType(c *snapshot.ContentType, next http.Handler) http.Handler {
	if !c.AutoDetect {
		return next
	}
	return &contentType{next: next}
}

// ServeHTTP turns detection back on (Traefik v3's contentType): net/http then derives a
// Content-Type from the first bytes of a body the backend sent without one.
func (m *contentType) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if v, ok := h["Content-Type"]; ok && v == nil {
		delete(h, "Content-Type")
	}
	m.next.ServeHTTP(w, r)
}
