package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
			continue
		}
		a := netip.MustParseAddr(s)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

func TestIPAllowList(t *testing.T) {
	lan := prefixes("10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1")
	tests := []struct {
		name     string
		cfg      snapshot.IPAllowList
		remote   string
		xff      []string
		wantCode int
	}{
		{"ipv4 in cidr", snapshot.IPAllowList{SourceRange: lan}, "10.1.2.3:5555", nil, 200},
		{"ipv4 plain ip", snapshot.IPAllowList{SourceRange: lan}, "192.168.1.7:5555", nil, 200},
		{"ipv4 next to plain ip", snapshot.IPAllowList{SourceRange: lan}, "192.168.1.8:5555", nil, 403},
		{"ipv4 outside", snapshot.IPAllowList{SourceRange: lan}, "11.0.0.1:5555", nil, 403},
		{"ipv6 in cidr", snapshot.IPAllowList{SourceRange: lan}, "[2001:db8:1::5]:443", nil, 200},
		{"ipv6 plain ip", snapshot.IPAllowList{SourceRange: lan}, "[::1]:443", nil, 200},
		{"ipv6 outside", snapshot.IPAllowList{SourceRange: lan}, "[2001:db9::1]:443", nil, 403},
		{"ipv4-mapped ipv6 is unmapped", snapshot.IPAllowList{SourceRange: lan}, "[::ffff:10.9.9.9]:443", nil, 200},
		{"ipv4-mapped range matches ipv4", snapshot.IPAllowList{SourceRange: prefixes("::ffff:10.0.0.0/104")}, "10.9.9.9:1", nil, 200},
		{"zone ignored", snapshot.IPAllowList{SourceRange: prefixes("fe80::/10")}, "[fe80::1%eth0]:443", nil, 200},
		{"remote without port", snapshot.IPAllowList{SourceRange: lan}, "10.0.0.1", nil, 200},
		{"unparsable remote", snapshot.IPAllowList{SourceRange: lan}, "@", nil, 403},
		{"xff ignored without depth", snapshot.IPAllowList{SourceRange: lan}, "11.0.0.1:1", []string{"10.0.0.1"}, 403},
		{"custom reject code", snapshot.IPAllowList{SourceRange: lan, RejectStatusCode: 404}, "11.0.0.1:1", nil, 404},
		{"depth 1", snapshot.IPAllowList{SourceRange: lan, Depth: 1}, "11.0.0.1:1", []string{"6.6.6.6, 10.0.0.9"}, 200},
		{"depth 2", snapshot.IPAllowList{SourceRange: lan, Depth: 2}, "11.0.0.1:1", []string{"10.0.0.9, 6.6.6.6, 11.1.1.1"}, 403},
		{"depth 2 allowed", snapshot.IPAllowList{SourceRange: lan, Depth: 2}, "11.0.0.1:1", []string{"6.6.6.6,10.0.0.9 ,11.1.1.1"}, 200},
		{"depth across header lines", snapshot.IPAllowList{SourceRange: lan, Depth: 2}, "11.0.0.1:1", []string{"6.6.6.6, 10.0.0.9", "11.1.1.1"}, 200},
		{"spoofed first line is not the hop", snapshot.IPAllowList{SourceRange: lan, Depth: 1}, "11.0.0.1:1", []string{"10.0.0.1", "6.6.6.6"}, 403},
		{"depth beyond the list", snapshot.IPAllowList{SourceRange: lan, Depth: 3}, "10.0.0.1:1", []string{"10.0.0.2, 10.0.0.3"}, 403},
		{"depth without xff", snapshot.IPAllowList{SourceRange: lan, Depth: 1}, "10.0.0.1:1", nil, 403},
		{"depth on garbage", snapshot.IPAllowList{SourceRange: lan, Depth: 1}, "10.0.0.1:1", []string{"unknown"}, 403},
		{"depth on empty entry", snapshot.IPAllowList{SourceRange: lan, Depth: 1}, "10.0.0.1:1", []string{"10.0.0.2, "}, 403},
		{"depth entry with port", snapshot.IPAllowList{SourceRange: lan, Depth: 1}, "11.0.0.1:1", []string{"[2001:db8::7]:443"}, 200},
		{"depth ipv6", snapshot.IPAllowList{SourceRange: lan, Depth: 1}, "11.0.0.1:1", []string{"2001:db8::7"}, 200},
		{"excluded skips our proxies", snapshot.IPAllowList{SourceRange: lan, ExcludedIPs: prefixes("172.16.0.0/12")}, "11.0.0.1:1",
			[]string{"6.6.6.6, 10.0.0.5, 172.16.0.2, 172.16.0.3"}, 200},
		{"excluded finds outsider", snapshot.IPAllowList{SourceRange: lan, ExcludedIPs: prefixes("172.16.0.0/12")}, "11.0.0.1:1",
			[]string{"10.0.0.5, 6.6.6.6, 172.16.0.3"}, 403},
		{"excluded skips empty entries", snapshot.IPAllowList{SourceRange: lan, ExcludedIPs: prefixes("172.16.0.0/12")}, "11.0.0.1:1",
			[]string{"10.0.0.5,, 172.16.0.3,"}, 200},
		{"all excluded", snapshot.IPAllowList{SourceRange: lan, ExcludedIPs: prefixes("10.0.0.0/8")}, "10.0.0.1:1",
			[]string{"10.0.0.5"}, 403},
		{"depth overrides excluded", snapshot.IPAllowList{SourceRange: lan, Depth: 1, ExcludedIPs: prefixes("10.0.0.0/8")}, "11.0.0.1:1",
			[]string{"6.6.6.6, 10.0.0.5"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{IPAllowList: &tt.cfg}}, next)
			r := newReq(http.MethodGet, "/", "example.com")
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode || next.called != (tt.wantCode == 200) {
				t.Fatalf("status %d next=%v, want %d", w.Code, next.called, tt.wantCode)
			}
			if tt.wantCode != 200 {
				if want := http.StatusText(tt.wantCode) + "\n"; w.Body.String() != want {
					t.Fatalf("body %q, want %q", w.Body, want)
				}
				if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Fatalf("Content-Type %q", ct)
				}
			}
		})
	}
}

func TestIPAllowListDefaultCode(t *testing.T) {
	h := Chain([]*snapshot.Middleware{{IPAllowList: &snapshot.IPAllowList{SourceRange: prefixes("10.0.0.0/8")}}}, &capture{})
	r := newReq(http.MethodGet, "/", "example.com")
	r.RemoteAddr = "11.0.0.1:1"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || w.Body.String() != "Forbidden\n" {
		t.Fatalf("status %d body %q, want 403 Forbidden", w.Code, w.Body)
	}
}
