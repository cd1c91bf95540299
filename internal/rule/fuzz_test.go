package rule

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
)

// FuzzParse checks that Parse never panics, that String is a fixed point of Parse, that
// every failure is a *SyntaxError pointing inside the input, and that a parsed rule can
// be evaluated without panicking.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"Host(`example.com`)",
		"Host(`example.com`) && PathPrefix(`/api`)",
		"Host(`a`) || Host(`b`) && !Path(`/x`)",
		"(HostRegexp(`^.+\\.example\\.com$`) || Header(\"X-A\", \"b\\tc\")) && Method(`GET`)",
		"Query(`k`) && QueryRegexp(`id`, `^[0-9]+$`) && ClientIP(`10.0.0.0/8`)",
		"HostSNI(`*`) || HostSNI(`*.example.com`) && ALPN(`h2`)",
		"HostSNIRegexp(`^db`) && ClientIP(`2001:db8::/32`)",
		"Host(`a`",
		"Hostt(`a`)",
		"PathRegexp(`(`)",
		"!!((Host(`a`)))",
		"Path(\"/\\xff\\u00e9\")",
	}
	for i, s := range seeds {
		f.Add(s, i%2)
	}
	f.Fuzz(func(t *testing.T, expr string, kind int) {
		k := Kind(kind & 1)
		r, err := Parse(expr, k)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %v is %T, not *SyntaxError", expr, err, err)
			}
			if se.Pos < 1 || se.Pos > len(expr)+1 {
				t.Fatalf("Parse(%q): Pos %d outside 1..%d (%v)", expr, se.Pos, len(expr)+1, err)
			}
			if se.Expected == "" || se.Found == "" {
				t.Fatalf("Parse(%q): incomplete error %#v", expr, se)
			}
			return
		}
		canon := r.String()
		again, err := Parse(canon, k)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", expr, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("String not stable: %q -> %q -> %q", expr, canon, again.String())
		}
		h1, a1 := r.Hosts()
		h2, a2 := again.Hosts()
		if a1 != a2 || len(h1) != len(h2) {
			t.Fatalf("Hosts differ after round trip of %q: %q %v vs %q %v", expr, h1, a1, h2, a2)
		}
		req := &http.Request{
			Method: "GET",
			Host:   "A.Example.com:8080",
			URL:    &url.URL{Path: "/api/v1", RawQuery: "k=%41&id=42&x=%zz;&q=a+b"},
			Header: http.Header{"X-A": {"b\tc"}},
		}
		ip := netip.MustParseAddr("10.1.2.3")
		r.MatchHTTP(req, ip)
		r.MatchConn(ConnInfo{SNI: "A.example.com.", ALPN: []string{"h2"}, ClientIP: ip})
	})
}
