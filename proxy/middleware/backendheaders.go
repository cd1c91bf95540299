package middleware

import (
	"net/http"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// BackendRequestEdits is a Gateway API RequestHeaderModifier on one backend
// (HTTPBackendRef filters): the proxy applies it to the outgoing request of that
// backend only, once it has chosen the backend.
type BackendRequestEdits struct {
	edits *headerEdits
}

// CompileBackendRequestEdits compiles c; nil when c is nil or edits nothing.
func CompileBackendRequestEdits(c *snapshot.HeaderModifier) *BackendRequestEdits {
	if c == nil {
		return nil
	}
	e := compileHeaderEdits(c)
	if e.empty() {
		return nil
	}
	return &BackendRequestEdits{edits: e}
}

// Apply edits the outgoing request out. It runs after the proxy wrote the forwarded
// headers, so a removal of X-Forwarded-For is a plain delete.
func (b *BackendRequestEdits) Apply(out *http.Request) {
	if out.Header == nil {
		out.Header = make(http.Header)
	}
	b.edits.apply(out.Header, false)
	if b.edits.host != "" {
		out.Host = b.edits.host
		delete(out.Header, "Host")
	}
}
