package h1server

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// head is a request head this server serves itself: HTTP/1.1, GET or HEAD, no body, one
// Host field.
type head struct {
	method, target, host string
	url                  *url.URL
	header               http.Header
	// close: the client sent Connection: close.
	close bool
}

// maxFields bounds the fields of a head this server takes; the entry point's own limit
// (100 by default) then answers 431 for what net/http would have read.
const maxFields = 128

// headEnd returns the length of the request head at the start of b (its final blank line
// included), -1 when b does not hold a whole head yet, and -2 when a line of it ends in a
// bare LF (which net/http reads, and this server does not). from is how much of b was
// searched before, so that a head that arrives in pieces is not searched from its start
// each time.
func headEnd(b []byte, from int) int {
	for i := max(from-3, 0); i < len(b); i++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j
		switch {
		case i == 0 || b[i-1] != '\r':
			return -2
		case i >= 3 && b[i-3] == '\r' && b[i-2] == '\n':
			return i + 1
		}
	}
	return -1
}

// parseHead parses s, a whole request head, when it is one net/http would read the same
// way and that needs nothing but a handler: the strict subset below. It reports false for
// anything else, and net/http reads that head from its first byte: this parser never
// refuses a request, it only declines to read it. FuzzParseHead compares what it accepts
// with http.ReadRequest.
//
// Taken: "GET" or "HEAD", an origin-form target of visible ASCII, "HTTP/1.1", CRLF line
// ends, fields whose names are tokens and whose values are visible ASCII, spaces and tabs,
// exactly one valid Host, and a Connection field of "close" or "keep-alive" at most.
// Declined: a body or its framing (Content-Length, Transfer-Encoding, Trailer), Expect,
// Upgrade, Pragma (net/http rewrites it into Cache-Control), folded lines, bare LFs,
// anything non-ASCII.
func parseHead(s string, h *head) bool {
	line, rest, ok := strings.Cut(s, "\r\n")
	if !ok {
		return false
	}
	switch {
	case strings.HasPrefix(line, "GET "):
		h.method, line = "GET", line[4:]
	case strings.HasPrefix(line, "HEAD "):
		h.method, line = "HEAD", line[5:]
	default:
		return false
	}
	target, ok := strings.CutSuffix(line, " HTTP/1.1")
	if !ok || len(target) == 0 || target[0] != '/' {
		return false
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return false
	}
	h.url, h.target, h.host, h.close = u, target, "", false
	fields := strings.Count(rest, "\r\n") - 1 // the blank line ends the head
	if fields < 1 || fields > maxFields {
		return false
	}
	header := make(http.Header, fields)
	values := make([]string, fields)
	hosts := 0
	for {
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" {
			break
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return false
		}
		name, value := line[:colon], trimValue(line[colon+1:])
		if !validValue(value) {
			return false
		}
		key, ok := canonicalName(name)
		if !ok {
			return false
		}
		switch key {
		case "Host":
			hosts++
			if hosts > 1 || !httpguts.ValidHostHeader(value) {
				return false
			}
			h.host = value
			continue
		case "Connection":
			switch {
			case strings.EqualFold(value, "close"):
				h.close = true
			case strings.EqualFold(value, "keep-alive"):
			default:
				return false
			}
		case "Content-Length", "Transfer-Encoding", "Trailer", "Expect", "Upgrade", "Pragma":
			return false
		}
		if vv, ok := header[key]; ok {
			header[key] = append(vv, value)
			continue
		}
		vv := values[:1:1]
		values = values[1:]
		vv[0] = value
		header[key] = vv
	}
	if hosts != 1 {
		return false
	}
	h.header = header
	return true
}

// trimValue drops the spaces and tabs around a field value.
func trimValue(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// validValue reports whether v holds only visible ASCII, spaces and tabs.
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

// canonicalName returns the canonical form of a field name (textproto's), without
// allocating when the name already has it; false when it is not a token.
func canonicalName(name string) (string, bool) {
	upper := true
	canonical := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !httpguts.IsTokenRune(rune(c)) {
			return "", false
		}
		switch {
		case upper && 'a' <= c && c <= 'z', !upper && 'A' <= c && c <= 'Z':
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return name, true
	}
	return textproto.CanonicalMIMEHeaderKey(name), true
}
