// Package pathnorm puts a request's path into one form that every server reads the same
// way, before the request is routed; that form is also what the backend receives.
//
// Routing on one reading of a path while the backend reads another is how a route that
// guards /admin (an allow list, mTLS) is walked around. Go's HTTP server leaves all of
// these in place, and a router matching PathPrefix(`/public`) or a catch-all sees them as
// something other than /admin:
//
//	//admin/x              most servers merge the slashes: /admin/x
//	/public/../admin       dot segments (RFC 3986 5.2.4): /admin (CVE-2025-32431 in Traefik)
//	/public/%2e%2e/admin   %2e is '.', an unreserved character: the same request
//	/public/..%2Fadmin     servers that decode %2F before splitting segments: /admin
//	/public\..\admin       IIS, Windows and WHATWG URL parsers treat '\' as '/': /admin
//	/public/..;/admin      Tomcat and Jetty drop ";params" from segments: /admin
//	/admin;x/secret        the same servers: /admin/secret, outside PathPrefix(`/admin/`)
//
// So the path is normalized (Normalize):
//
//   - percent-escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded, as
//     RFC 3986 2.3 says they are equivalent; the hex of every other escape is upper-cased
//     (6.2.2.1), and bytes a path may not hold unescaped (space, '"', '<', '{', non-ASCII,
//     ...) are escaped, so the backend gets one valid spelling;
//   - repeated slashes are merged, then dot segments resolved (never above the root):
//     /public//../admin is /admin, as nginx reads it (RFC 3986 alone would remove the
//     empty segment and give /public/admin); the backend receives the result, so it
//     cannot read the request the other way. A trailing slash stays: /a/ and /a are
//     different resources;
//   - what some servers read as structure and others as data is refused with 400 and a
//     typed reason (Reason), unless an Option allows it: an encoded slash (%2F), a
//     backslash ('\' or %5C) and path parameters (';' or %3B). An encoded NUL is always
//     refused: C backends end the path there.
//
// What is allowed keeps its meaning as data: an allowed %2F or %5C stays encoded (never a
// separator), an allowed ';' stays in its segment and is matched as part of it. Even
// then, a parameter on an empty or dot segment (/..;/, /.;x/, /;x/) is refused: Tomcat
// reads it as a traversal or an empty segment, and no application names a resource so.
// Other escapes (%25, %3F, %23 ...) are data to every server that follows RFC 3986 and
// stay as they are.
//
// The query is not part of the path and is never touched.
package pathnorm

import (
	"bytes"
	"net/url"
	"strings"
)

// Options allow what Normalize refuses by default.
type Options struct {
	// AllowEncodedSlash keeps %2F in the segment that holds it, encoded (so not a
	// separator), instead of refusing the request. Safe only when no backend decodes %2F
	// into '/' before it splits the path.
	AllowEncodedSlash bool
	// AllowBackslash forwards '\' and %5C as %5C, a character of the segment, instead of
	// refusing the request. Safe only when no backend reads '\' as '/'.
	AllowBackslash bool
	// AllowParameters keeps ';' (and %3B, encoded) as characters of the segment, matched
	// as such, instead of refusing the request. Tomcat and Jetty drop ";params" from each
	// segment, so /admin;x/secret is /admin/secret to them while PathPrefix(`/admin/`)
	// does not match it: guard such paths with PathPrefix(`/admin`).
	AllowParameters bool
}

// Reason says why a path was refused; it is the Bridgehead-Error value of the 400. The
// zero value means the path was accepted.
type Reason string

// The reasons a path is refused.
const (
	EncodedSlash        Reason = "EncodedSlashInPath"      // %2F without AllowEncodedSlash
	Backslash           Reason = "BackslashInPath"         // '\' or %5C without AllowBackslash
	Parameters          Reason = "ParametersInPath"        // ';' or %3B without AllowParameters
	AmbiguousParameters Reason = "AmbiguousPathParameters" // ";x" on an empty or dot segment
	Null                Reason = "NullInPath"              // %00
	InvalidEscape       Reason = "InvalidPathEscape"       // '%' not followed by two hex digits
	NotAPath            Reason = "InvalidRequestTarget"    // "http:admin": no path to route
)

// Apply normalizes the path of a request's URL in place: Path and RawPath are set to the
// normalized path when it differs (RawPath then spells it exactly as the backend will
// receive it). A target that is not a path ("*", CONNECT's authority) is left alone; one
// that has no path but an opaque rest ("http:admin", which Go's server accepts and a
// backend may read as /admin) is refused. With nothing to normalize it does not allocate.
func (o Options) Apply(u *url.URL) Reason {
	if u.Opaque != "" {
		return NotAPath
	}
	// RawPath is the path as the client spelled it whenever that differs from Go's
	// escaping of Path. When it is empty, Go's escaping is that spelling, and it is in
	// normal form unless Path holds what normalization changes or refuses: checking
	// that on Path spares escaping it (an allocation when it holds a space or é).
	raw := u.RawPath
	if raw == "" {
		if strings.HasPrefix(u.Path, "/") && goEscapingIsNormal(u.Path, o) {
			return ""
		}
		raw = u.EscapedPath()
	}
	if !strings.HasPrefix(raw, "/") {
		return ""
	}
	norm, reason := Normalize(raw, o)
	if reason != "" {
		return reason
	}
	if norm != raw {
		p, err := url.PathUnescape(norm)
		if err != nil {
			return InvalidEscape // unreachable: Normalize spells valid escapes only
		}
		u.Path, u.RawPath = p, norm
	}
	return ""
}

// Normalize returns the normalized form of the escaped absolute path raw (see the package
// documentation), or why it is refused. It returns raw itself, without allocating, when
// raw is already normalized; a string that does not start with '/' is returned as is.
func Normalize(raw string, o Options) (string, Reason) {
	if !strings.HasPrefix(raw, "/") || normalized(raw, o) {
		return raw, ""
	}
	out, reason := normalize(raw, o)
	if reason != "" {
		return "", reason
	}
	if out == raw {
		return raw, "" // an allowed ';' sends such paths here
	}
	return out, ""
}

// Character classes of the bytes of a path.
const (
	unreserved = 1 << iota // ALPHA DIGIT - . _ ~ (RFC 3986 2.3)
	literal                // may stand unescaped in a segment: unreserved, sub-delims but ';', ':', '@'
)

var class = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = unreserved | literal
		t[c-'a'+'A'] = unreserved | literal
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = unreserved | literal
	}
	for _, c := range "-._~" {
		t[c] = unreserved | literal
	}
	for _, c := range "!$&'()*+,=:@" {
		t[c] = literal
	}
	return t
}()

// normalized reports whether p (absolute) is already in normal form, so Normalize would
// return it unchanged: the allocation-free fast path. Anything unusual answers false and
// is left to normalize, the one place that decides.
func normalized(p string, o Options) bool {
	start := 1 // of the current segment
	params := false
	for i := 1; i < len(p); i++ {
		c := p[i]
		switch {
		case class[c]&literal != 0:
		case c == '/':
			if !plainSegment(p[start:i]) {
				return false
			}
			start, params = i+1, false
		case c == '%':
			if i+2 >= len(p) {
				return false
			}
			v, ok := upperHexByte(p[i+1], p[i+2])
			if !ok || class[v]&unreserved != 0 || v == '/' || v == '\\' || v == ';' || v == 0 {
				return false
			}
			i += 2
		case c == ';' && o.AllowParameters:
			if !params && (start == i || isDots(p[start:i])) {
				return false
			}
			params = true
		default:
			return false // ';', '\\', or a byte to escape
		}
	}
	last := p[start:]
	return !isDots(last) // "" is the trailing slash, which stays
}

// plainSegment reports whether a segment followed by '/' stays as it is: it is neither
// empty (a repeated slash) nor a dot segment.
func plainSegment(s string) bool { return s != "" && !isDots(s) }

func isDots(s string) bool { return s == "." || s == ".." }

// goEscapingIsNormal reports whether Go's escaping of the decoded absolute path p (what
// url.URL.EscapedPath gives without RawPath) is in normal form. That escaping already
// upper-cases its escapes and never escapes an unreserved character, and every byte it
// escapes stays escaped in normal form; so only the segments, and the bytes that are
// refused or are parameters, decide.
func goEscapingIsNormal(p string, o Options) bool {
	start := 1
	params := false
	for i := 1; i < len(p); i++ {
		switch c := p[i]; c {
		case '/':
			if !plainSegment(p[start:i]) {
				return false
			}
			start, params = i+1, false
		case '\\', 0:
			return false
		case ';':
			if !o.AllowParameters || (!params && (start == i || isDots(p[start:i]))) {
				return false
			}
			params = true
		}
	}
	return !isDots(p[start:])
}

// normalize builds the normal form of the absolute path p segment by segment. out holds
// "/" and every segment kept so far, each followed by '/'; starts[i] is where the i-th
// kept segment begins, so ".." can remove the last one.
func normalize(p string, o Options) (string, Reason) {
	out := make([]byte, 1, len(p)+8)
	out[0] = '/'
	var startsBuf [16]int
	starts := startsBuf[:0]
	trailing := false
	rest := p[1:]
	for {
		seg, after, more := strings.Cut(rest, "/")
		mark := len(out)
		var reason Reason
		if out, reason = appendSegment(out, seg, o); reason != "" {
			return "", reason
		}
		name := out[mark:] // in normal form: %2e is '.' by now
		if i := bytes.IndexByte(name, ';'); i >= 0 && (i == 0 || isDots(string(name[:i]))) {
			return "", AmbiguousParameters
		}
		dropped := len(name) == 0 || isDots(string(name))
		switch {
		case len(name) == 2 && dropped: // ".."
			out = out[:mark]
			if n := len(starts); n > 0 {
				out, starts = out[:starts[n-1]], starts[:n-1]
			}
		case dropped: // "" (a repeated slash) or "."
			out = out[:mark]
		default:
			starts = append(starts, mark)
			out = append(out, '/')
		}
		// A dropped last segment leaves a trailing slash: /a/. and /a/b/.. are /a/.
		trailing = !more && dropped
		if !more {
			break
		}
		rest = after
	}
	if !trailing {
		out = out[:len(out)-1] // the last kept segment's '/'
	}
	return string(out), ""
}

const upperHex = "0123456789ABCDEF"

// appendSegment appends the normal form of one escaped segment (without '/') to out.
func appendSegment(out []byte, seg string, o Options) ([]byte, Reason) {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case class[c]&literal != 0:
			out = append(out, c)
		case c == '%':
			if i+2 >= len(seg) {
				return out, InvalidEscape
			}
			v, ok := hexByte(seg[i+1], seg[i+2])
			if !ok {
				return out, InvalidEscape
			}
			i += 2
			if class[v]&unreserved != 0 {
				out = append(out, v) // %2e is '.', %7E is '~'
				continue
			}
			if reason := refused(v, o); reason != "" {
				return out, reason
			}
			out = append(out, '%', upperHex[v>>4], upperHex[v&15])
		case c == ';':
			if !o.AllowParameters {
				return out, Parameters
			}
			out = append(out, c)
		default:
			if reason := refused(c, o); reason != "" {
				return out, reason
			}
			// '\' (when allowed), '"', '<', '{', '[', a space, a non-ASCII byte ...:
			// escaped, which is how every server reads them anyway.
			out = append(out, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return out, ""
}

// refused is the reason a byte, escaped or not, may not be in a segment under o.
func refused(v byte, o Options) Reason {
	switch {
	case v == 0:
		return Null
	case v == '/' && !o.AllowEncodedSlash:
		return EncodedSlash
	case v == '\\' && !o.AllowBackslash:
		return Backslash
	case v == ';' && !o.AllowParameters:
		return Parameters
	}
	return ""
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := unhex(hi)
	l, ok2 := unhex(lo)
	return h<<4 | l, ok1 && ok2
}

// upperHexByte is hexByte for escapes already in normal form (upper-case hex digits).
func upperHexByte(hi, lo byte) (byte, bool) {
	if (hi >= 'a' && hi <= 'f') || (lo >= 'a' && lo <= 'f') {
		return 0, false
	}
	return hexByte(hi, lo)
}
