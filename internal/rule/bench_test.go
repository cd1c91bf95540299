package rule

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

const typicalRule = "Host(`api.example.com`) && PathPrefix(`/v1`)"

func BenchmarkMatchHTTPHostPathPrefix(b *testing.B) {
	r := mustParse(b, typicalRule, HTTP)
	req := httptest.NewRequest("GET", "/v1/users?id=7", nil)
	req.Host = "api.example.com:443"
	ip := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		if !r.MatchHTTP(req, ip) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchHTTPRegexp(b *testing.B) {
	r := mustParse(b, "HostRegexp(`^[a-z0-9-]+\\.example\\.com$`) && PathRegexp(`^/api/v[0-9]+/`)", HTTP)
	req := httptest.NewRequest("GET", "/api/v2/users", nil)
	req.Host = "tenant-42.example.com"
	b.ReportAllocs()
	for b.Loop() {
		if !r.MatchHTTP(req, netip.Addr{}) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchHTTPComplex(b *testing.B) {
	r := mustParse(b, "(Host(`a.example.com`) || Host(`*.example.org`)) && !PathPrefix(`/admin`) && "+
		"(Query(`lang`, `en`) || Header(`X-Lang`, `en`)) && ClientIP(`10.0.0.0/8`)", HTTP)
	req := httptest.NewRequest("GET", "/docs?page=2&lang=en", nil)
	req.Host = "www.example.org"
	ip := netip.MustParseAddr("10.20.30.40")
	b.ReportAllocs()
	for b.Loop() {
		if !r.MatchHTTP(req, ip) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchConn(b *testing.B) {
	r := mustParse(b, "HostSNI(`db.example.com`) && ALPN(`postgresql`)", TCP)
	c := ConnInfo{SNI: "db.example.com", ALPN: []string{"postgresql"}}
	b.ReportAllocs()
	for b.Loop() {
		if !r.MatchConn(c) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkParse is the parser's own cost (a rule seen for the first time).
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(typicalRule, HTTP); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRemembered is Parse of a rule parsed before, as every build after the
// first does for unchanged routes.
func BenchmarkParseRemembered(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(typicalRule, HTTP); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMatchHTTPDoesNotAllocate pins the hot-path promise so that a regression fails the
// ordinary test run, not only a benchmark someone has to read.
func TestMatchHTTPDoesNotAllocate(t *testing.T) {
	r := mustParse(t, "(Host(`api.example.com`) || Host(`*.example.org`)) && PathPrefix(`/v1`) && "+
		"!Header(`X-Block`, `1`) && Query(`a b`, `c`) && Method(`GET`) && ClientIP(`192.0.2.0/24`)", HTTP)
	req := httptest.NewRequest("GET", "/v1/x?z=1&a+b=%63", nil)
	req.Host = "api.example.com:443"
	ip := netip.MustParseAddr("192.0.2.1")
	if !r.MatchHTTP(req, ip) {
		t.Fatal("no match")
	}
	if n := testing.AllocsPerRun(100, func() { r.MatchHTTP(req, ip) }); n != 0 {
		t.Errorf("MatchHTTP allocates %v times per call", n)
	}
	c := ConnInfo{SNI: "db.example.com", ALPN: []string{"h2"}}
	tr := mustParse(t, "HostSNI(`*.example.com`) && ALPN(`h2`)", TCP)
	if n := testing.AllocsPerRun(100, func() { tr.MatchConn(c) }); n != 0 {
		t.Errorf("MatchConn allocates %v times per call", n)
	}
}
