package middleware

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const (
	schemeHTTP  = "http"
	schemeHTTPS = "https"
	// maxHostLen bounds the Host we look at: a 253-byte name, a trailing dot and a port.
	maxHostLen = 253 + 1 + 6
)

var badHostBody = []byte("Bad Request: invalid Host header\n")

type redirectScheme struct {
	next      http.Handler
	scheme    string
	port      string // "" when it is the scheme's default, so it is left out of Location
	permanent bool
	// code, when set, is the status of every redirect, whatever the method (the
	// ssl-redirect-code of the HAProxy controllers, ingress-nginx's 308).
	code int
}

func newRedirectScheme(c *snapshot.RedirectScheme, next http.Handler) http.Handler {
	scheme := strings.ToLower(c.Scheme)
	return &redirectScheme{next: next, scheme: scheme, port: explicitPort(scheme, c.Port), permanent: c.Permanent, code: c.StatusCode}
}

func (m *redirectScheme) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Only the scheme decides, not the port: the port a client used is often not the one
	// we listen on (load balancers map 443 to 8443), so comparing ports would loop.
	if requestScheme(r) == m.scheme {
		m.next.ServeHTTP(w, r)
		return
	}
	redirectWith(w, r, m.scheme, m.port, m.permanent, m.code)
}

// requestScheme is the scheme of our own connection. X-Forwarded-Proto is the client's
// word, never trusted: believing it would let any client skip the redirect to https.
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return schemeHTTPS
	}
	return schemeHTTP
}

// Redirect answers a redirect to scheme (and port, "" = the scheme's default) keeping
// host, path and query. permanent chooses 301 for GET/HEAD and 308 otherwise; otherwise
// it is 302 for GET/HEAD and 307 otherwise, so a redirected POST stays a POST. A Host
// that is not a plain hostname or IP literal (with optional port) gets 400, so a hostile
// Host can never make the Location point anywhere else.
func Redirect(w http.ResponseWriter, r *http.Request, scheme, port string, permanent bool) {
	scheme = strings.ToLower(scheme)
	redirect(w, r, scheme, explicitPort(scheme, port), permanent)
}

func redirect(w http.ResponseWriter, r *http.Request, scheme, port string, permanent bool) {
	redirectWith(w, r, scheme, port, permanent, 0)
}

// redirectWith is redirect with a fixed status code (0: chosen by method and permanence).
func redirectWith(w http.ResponseWriter, r *http.Request, scheme, port string, permanent bool, fixed int) {
	host, ok := splitHost(r.Host)
	if !ok {
		writeText(w, http.StatusBadRequest, badHostBody)
		return
	}
	code := redirectStatus(r.Method, permanent)
	if fixed != 0 {
		code = fixed
	}
	h := w.Header()
	h["Location"] = []string{location(scheme, host, port, r.URL)}
	h["Content-Type"] = textPlain
	w.WriteHeader(code)
	_, _ = w.Write(statusBody(code))
}

// redirectStatus keeps GET and HEAD on the classic codes browsers and crawlers know and
// gives every other method the code that forbids rewriting it to GET.
func redirectStatus(method string, permanent bool) int {
	safe := method == http.MethodGet || method == http.MethodHead
	switch {
	case permanent && safe:
		return http.StatusMovedPermanently
	case permanent:
		return http.StatusPermanentRedirect
	case safe:
		return http.StatusFound
	}
	return http.StatusTemporaryRedirect
}

var (
	body301 = []byte(http.StatusText(http.StatusMovedPermanently))
	body302 = []byte(http.StatusText(http.StatusFound))
	body307 = []byte(http.StatusText(http.StatusTemporaryRedirect))
	body308 = []byte(http.StatusText(http.StatusPermanentRedirect))
	body303 = []byte(http.StatusText(http.StatusSeeOther))
)

func statusBody(code int) []byte {
	switch code {
	case http.StatusMovedPermanently:
		return body301
	case http.StatusFound:
		return body302
	case http.StatusPermanentRedirect:
		return body308
	case http.StatusSeeOther:
		return body303
	}
	return body307
}

// explicitPort drops the scheme's default port so Location reads https://host/, not
// https://host:443/.
func explicitPort(scheme, port string) string {
	if (scheme == schemeHTTPS && port == "443") || (scheme == schemeHTTP && port == "80") {
		return ""
	}
	return port
}

// location builds scheme://host[:port]path[?query]. host is already validated, so the
// authority ends exactly where we say: a path of //evil.com stays a path on our host.
func location(scheme, host, port string, u *url.URL) string {
	path := u.EscapedPath()
	if path == "" || path[0] != '/' {
		// "" (HTTP/1.0 absolute form) and "*" (OPTIONS *) have no path to keep.
		path = "/"
	}
	var b strings.Builder
	b.Grow(len(scheme) + len("://") + len(host) + 1 + len(port) + len(path) + 1 + len(u.RawQuery))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(path)
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		writeQuery(&b, u.RawQuery)
	}
	return b.String()
}

// writeQuery copies the raw query as the client sent it, except that bytes which cannot
// stand in a URL or a header value (controls, spaces, non-ASCII) are percent-encoded. A
// request read by net/http never has them; a hand-built one might.
func writeQuery(b *strings.Builder, q string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c > ' ' && c < 0x7f {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
}

// splitHost validates a Host header and returns its host part without the port
// (brackets kept for IPv6). It accepts only a DNS-style name, a dotted-quad IPv4 or a
// bracketed IPv6 literal, each with an optional numeric port: no userinfo, path,
// backslash, percent, space or control byte can get through, so the host a client's URL
// parser finds in our Location is the host we validated.
func splitHost(hostport string) (string, bool) {
	if hostport == "" || len(hostport) > maxHostLen {
		return "", false
	}
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", false
		}
		// Zones ("%eth0") mean nothing to a remote client and bring a '%' into the URL.
		a, err := netip.ParseAddr(hostport[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		if rest := hostport[end+1:]; rest != "" && (rest[0] != ':' || !validPort(rest[1:])) {
			return "", false
		}
		return hostport[:end+1], true
	}
	host := hostport
	if i := strings.IndexByte(hostport, ':'); i >= 0 {
		// validPort refuses any further ':', so an unbracketed IPv6 literal fails here.
		if !validPort(hostport[i+1:]) {
			return "", false
		}
		host = hostport[:i]
	}
	if !validHostname(host) {
		return "", false
	}
	return host, true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// validHostname accepts dot-separated labels of letters, digits, '-' and '_' (which
// some internal names use), no label starting or ending with '-' (RFC 1123), with one
// optional trailing dot.
func validHostname(h string) bool {
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	label, lastStart := 0, 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if label == 0 || name[i-1] == '-' {
				return false
			}
			label, lastStart = 0, i+1
		case c == '-' && label == 0:
			return false
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			if label++; label > 63 {
				return false
			}
		default:
			return false
		}
	}
	if label == 0 || name[len(name)-1] == '-' {
		return false
	}
	// Browsers (WHATWG URL) read a host whose last label is a number as an IPv4 address,
	// including octal, hex and short forms: 0x7f.1 is 127.0.0.1. Accept such a host only
	// as a canonical dotted quad, so what we validated is what the client connects to.
	if last := name[lastStart:]; numericLabel(last) {
		a, err := netip.ParseAddr(name)
		return err == nil && a.Is4()
	}
	return true
}

// numericLabel reports whether the WHATWG URL parser would take s as a number.
func numericLabel(s string) bool {
	digits := s
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		digits = s[2:]
		for i := 0; i < len(digits); i++ {
			if _, ok := unhex(digits[i]); !ok {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}
