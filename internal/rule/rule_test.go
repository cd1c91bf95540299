package rule

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// req builds a request for target with the given Host header and "Key: value" headers.
func req(method, target, host string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Add(k, v)
	}
	return r
}

func mustParse(t testing.TB, expr string, kind Kind) *Rule {
	t.Helper()
	r, err := Parse(expr, kind)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return r
}

func TestMatchHTTP(t *testing.T) {
	get := func(target, host string, headers ...string) *http.Request {
		return req(http.MethodGet, target, host, headers...)
	}
	tests := []struct {
		name string
		rule string
		req  *http.Request
		ip   string
		want bool
	}{
		{"host exact", "Host(`example.com`)", get("/", "example.com"), "", true},
		{"host other", "Host(`example.com`)", get("/", "example.org"), "", false},
		{"host request upper case", "Host(`example.com`)", get("/", "EXAMPLE.Com"), "", true},
		{"host rule upper case", "Host(`Example.COM`)", get("/", "example.com"), "", true},
		{"host port stripped", "Host(`example.com`)", get("/", "example.com:8443"), "", true},
		{"host trailing dot in request", "Host(`example.com`)", get("/", "example.com.:80"), "", true},
		{"host trailing dot in rule", "Host(`example.com.`)", get("/", "example.com"), "", true},
		{"host is not a suffix match", "Host(`example.com`)", get("/", "www.example.com"), "", false},
		{"host falls back to URL.Host", "Host(`u.example`)", &http.Request{Method: "GET", URL: mustURL("http://u.example:81/x")}, "", true},
		{"host empty request", "Host(`example.com`)", get("/", ""), "", false},
		{"host ipv6 literal", "Host(`::1`)", get("/", "[::1]:8080"), "", true},
		{"host ipv6 literal in brackets", "Host(`[::1]`)", get("/", "[::1]"), "", true},
		{"host ipv4 literal", "Host(`192.0.2.1`)", get("/", "192.0.2.1:80"), "", true},
		{"wildcard one label", "Host(`*.example.com`)", get("/", "a.example.com"), "", true},
		{"wildcard case", "Host(`*.Example.com`)", get("/", "A.EXAMPLE.COM:443"), "", true},
		{"wildcard two labels", "Host(`*.example.com`)", get("/", "a.b.example.com"), "", false},
		{"wildcard apex", "Host(`*.example.com`)", get("/", "example.com"), "", false},
		{"wildcard empty label", "Host(`*.example.com`)", get("/", ".example.com"), "", false},
		{"wildcard other suffix", "Host(`*.example.com`)", get("/", "a.xexample.com"), "", false},
		{"hostregexp", "HostRegexp(`^[a-z]+\\.example\\.com$`)", get("/", "API.example.com:80"), "", true},
		{"hostregexp no match", "HostRegexp(`^[a-z]+\\.example\\.com$`)", get("/", "a1.example.com"), "", false},
		{"path exact", "Path(`/exact`)", get("/exact", "h"), "", true},
		{"path exact is not prefix", "Path(`/exact`)", get("/exact/more", "h"), "", false},
		{"path ignores query", "Path(`/p`)", get("/p?x=1", "h"), "", true},
		{"path decoded", "Path(`/a b`)", get("/a%20b", "h"), "", true},
		{"pathprefix", "PathPrefix(`/api`)", get("/api/v1", "h"), "", true},
		{"pathprefix is byte prefix", "PathPrefix(`/api`)", get("/apix", "h"), "", true},
		{"pathprefix miss", "PathPrefix(`/api/`)", get("/api", "h"), "", false},
		{"pathregexp", "PathRegexp(`^/api/v[0-9]+`)", get("/api/v12/x", "h"), "", true},
		{"pathregexp miss", "PathRegexp(`^/api/v[0-9]+`)", get("/api/vx", "h"), "", false},
		{"header", "Header(`X-Env`, `prod`)", get("/", "h", "X-Env: prod"), "", true},
		{"header key case", "Header(`x-env`, `prod`)", get("/", "h", "X-Env: prod"), "", true},
		{"header value case matters", "Header(`X-Env`, `prod`)", get("/", "h", "X-Env: Prod"), "", false},
		{"header second value", "Header(`X-Env`, `prod`)", get("/", "h", "X-Env: dev", "X-Env: prod"), "", true},
		{"header not comma split", "Header(`X-Env`, `prod`)", get("/", "h", "X-Env: dev, prod"), "", false},
		{"header missing", "Header(`X-Env`, `prod`)", get("/", "h"), "", false},
		{"headerregexp", "HeaderRegexp(`User-Agent`, `(?i)curl`)", get("/", "h", "User-Agent: Curl/8"), "", true},
		{"headerregexp second value", "HeaderRegexp(`X-A`, `^b+$`)", get("/", "h", "X-A: a", "X-A: bbb"), "", true},
		{"headerregexp miss", "HeaderRegexp(`X-A`, `^b+$`)", get("/", "h", "X-A: a"), "", false},
		{"query value", "Query(`lang`, `en`)", get("/?lang=en", "h"), "", true},
		{"query second value", "Query(`lang`, `en`)", get("/?lang=fr&lang=en", "h"), "", true},
		{"query wrong value", "Query(`lang`, `en`)", get("/?lang=fr", "h"), "", false},
		{"query escaped key and value", "Query(`a b`, `c&d`)", get("/?a+b=c%26d", "h"), "", true},
		{"query percent-encoded letters", "Query(`key`, `v`)", get("/?%6Bey=%76", "h"), "", true},
		{"query bad escape ignored", "Query(`k`)", get("/?k=%zz", "h"), "", false},
		{"query semicolon pair ignored", "Query(`k`, `v`)", get("/?k=v;x=1", "h"), "", false},
		{"query present", "Query(`debug`)", get("/?debug", "h"), "", true},
		{"query present with value", "Query(`debug`)", get("/?a=1&debug=yes", "h"), "", true},
		{"query present empty value", "Query(`debug`)", get("/?debug=", "h"), "", true},
		{"query absent", "Query(`debug`)", get("/?debugx=1", "h"), "", false},
		{"query none", "Query(`debug`)", get("/", "h"), "", false},
		{"queryregexp", "QueryRegexp(`id`, `^[0-9]+$`)", get("/?id=x&id=42", "h"), "", true},
		{"queryregexp decoded", "QueryRegexp(`q`, `^a b$`)", get("/?q=a%20b", "h"), "", true},
		{"queryregexp miss", "QueryRegexp(`id`, `^[0-9]+$`)", get("/?id=x", "h"), "", false},
		{"queryregexp key only", "QueryRegexp(`id`)", get("/?id=x", "h"), "", true},
		{"method", "Method(`GET`)", get("/", "h"), "", true},
		{"method case-insensitive", "Method(`get`)", get("/", "h"), "", true},
		{"method other", "Method(`POST`)", get("/", "h"), "", false},
		{"clientip v4 cidr", "ClientIP(`10.0.0.0/8`)", get("/", "h"), "10.1.2.3", true},
		{"clientip v4 cidr miss", "ClientIP(`10.0.0.0/8`)", get("/", "h"), "11.1.2.3", false},
		{"clientip v4 single", "ClientIP(`192.0.2.7`)", get("/", "h"), "192.0.2.7", true},
		{"clientip v4 single miss", "ClientIP(`192.0.2.7`)", get("/", "h"), "192.0.2.8", false},
		{"clientip v4-mapped client", "ClientIP(`10.0.0.0/8`)", get("/", "h"), "::ffff:10.0.0.1", true},
		{"clientip v4-mapped rule", "ClientIP(`::ffff:10.0.0.0/104`)", get("/", "h"), "10.0.0.1", true},
		{"clientip non-canonical cidr", "ClientIP(`10.9.9.9/8`)", get("/", "h"), "10.0.0.1", true},
		{"clientip v6 cidr", "ClientIP(`2001:db8::/32`)", get("/", "h"), "2001:db8:1::5", true},
		{"clientip v6 cidr miss", "ClientIP(`2001:db8::/32`)", get("/", "h"), "2001:db9::5", false},
		{"clientip v6 single", "ClientIP(`2001:db8::1`)", get("/", "h"), "2001:db8::1", true},
		{"clientip v6 zone ignored", "ClientIP(`fe80::/10`)", get("/", "h"), "fe80::1%eth0", true},
		{"clientip v4 rule v6 client", "ClientIP(`0.0.0.0/0`)", get("/", "h"), "2001:db8::1", false},
		{"clientip invalid client", "ClientIP(`0.0.0.0/0`)", get("/", "h"), "", false},
		{"clientip ignores xff", "ClientIP(`10.0.0.0/8`)", get("/", "h", "X-Forwarded-For: 10.0.0.1"), "192.0.2.1", false},
		{"double-quoted with escapes", "Header(\"X-A\", \"a\\tb\\u00e9\")", get("/", "h", "X-A: a\tbé"), "", true},
		{"double-quoted hex escape", "Path(\"/\\x41\")", get("/A", "h"), "", true},
		{"raw string keeps backslash", "Path(`/a\\n`)", get("/a%5Cn", "h"), "", true},
		{"and both", "Host(`a.com`) && PathPrefix(`/api`)", get("/api", "a.com"), "", true},
		{"and one", "Host(`a.com`) && PathPrefix(`/api`)", get("/web", "a.com"), "", false},
		{"or", "Host(`a.com`) || Host(`b.com`)", get("/", "b.com"), "", true},
		{"not", "!Host(`a.com`)", get("/", "b.com"), "", true},
		{"not negates", "!Host(`a.com`)", get("/", "a.com"), "", false},
		{"double not", "!!Host(`a.com`)", get("/", "a.com"), "", true},
		{"not binds tighter than and", "!Host(`a.com`) && Path(`/x`)", get("/y", "b.com"), "", false},
		{"and binds tighter than or (left)", "Host(`a`) || Host(`b`) && Path(`/x`)", get("/y", "a"), "", true},
		{"and binds tighter than or (right)", "Host(`a`) || Host(`b`) && Path(`/x`)", get("/y", "b"), "", false},
		{"parentheses override", "(Host(`a`) || Host(`b`)) && Path(`/x`)", get("/y", "a"), "", false},
		{"not over parentheses", "!(Host(`a`) || Host(`b`))", get("/", "c"), "", true},
		{"whitespace free", " \tHost(`a`)\n&&\r\nPath ( `/` ) ", get("/", "a"), "", true},
		{"no whitespace", "Host(`a`)&&!Path(`/x`)||Method(`PUT`)", get("/", "a"), "", true},
		{"lower-case matcher name", "host(`a`) && pathprefix(`/`)", get("/", "a"), "", true},
		{"upper-case matcher name", "HOST(`a`)", get("/", "a"), "", true},
		{"capitalised matcher name", "Pathprefix(`/`)", get("/", "a"), "", true},
		{"method and path", "Method(`GET`) && Path(`/`)", get("/", "a"), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustParse(t, tc.rule, HTTP)
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			if got := r.MatchHTTP(tc.req, ip); got != tc.want {
				t.Errorf("%s on %s %s (host %q, ip %v) = %v, want %v",
					tc.rule, tc.req.Method, tc.req.URL, tc.req.Host, ip, got, tc.want)
			}
			if r.MatchConn(ConnInfo{SNI: tc.req.Host, ClientIP: ip}) {
				t.Errorf("HTTP rule %s matched a connection", tc.rule)
			}
		})
	}
}

func TestMatchConn(t *testing.T) {
	ip := netip.MustParseAddr("10.1.2.3")
	tests := []struct {
		rule string
		conn ConnInfo
		want bool
	}{
		{"HostSNI(`a.example`)", ConnInfo{SNI: "a.example"}, true},
		{"HostSNI(`a.example`)", ConnInfo{SNI: "A.Example"}, true},
		{"HostSNI(`A.EXAMPLE`)", ConnInfo{SNI: "a.example"}, true},
		{"HostSNI(`a.example`)", ConnInfo{SNI: "a.example."}, true},
		{"HostSNI(`a.example.`)", ConnInfo{SNI: "a.example"}, true},
		{"HostSNI(`a.example`)", ConnInfo{SNI: "b.example"}, false},
		{"HostSNI(`a.example`)", ConnInfo{}, false},
		{"HostSNI(`*`)", ConnInfo{}, true},
		{"HostSNI(`*`)", ConnInfo{SNI: "anything"}, true},
		{"HostSNI(`*.example.com`)", ConnInfo{SNI: "x.example.com"}, true},
		{"HostSNI(`*.example.com`)", ConnInfo{SNI: "X.EXAMPLE.COM."}, true},
		{"HostSNI(`*.example.com`)", ConnInfo{SNI: "y.x.example.com"}, false},
		{"HostSNI(`*.example.com`)", ConnInfo{SNI: "example.com"}, false},
		{"HostSNIRegexp(`^db[0-9]\\.example$`)", ConnInfo{SNI: "DB1.example"}, true},
		{"HostSNIRegexp(`^db[0-9]\\.example$`)", ConnInfo{SNI: "dbx.example"}, false},
		{"ALPN(`h2`)", ConnInfo{ALPN: []string{"http/1.1", "h2"}}, true},
		{"ALPN(`h2`)", ConnInfo{ALPN: []string{"http/1.1"}}, false},
		{"ALPN(`h2`)", ConnInfo{}, false},
		{"ClientIP(`10.0.0.0/8`)", ConnInfo{ClientIP: ip}, true},
		{"ClientIP(`10.0.0.0/16`)", ConnInfo{ClientIP: ip}, false},
		{"ClientIP(`::/0`)", ConnInfo{ClientIP: netip.MustParseAddr("::1")}, true},
		{"HostSNI(`a`) && ALPN(`h2`)", ConnInfo{SNI: "a", ALPN: []string{"h2"}}, true},
		{"HostSNI(`a`) && !ALPN(`h2`)", ConnInfo{SNI: "a", ALPN: []string{"h2"}}, false},
		{"HostSNI(`a`) || HostSNI(`b`) && ClientIP(`192.0.2.0/24`)", ConnInfo{SNI: "b", ClientIP: ip}, false},
		{"hostsni(`a`)", ConnInfo{SNI: "a"}, true},
	}
	for _, tc := range tests {
		r := mustParse(t, tc.rule, TCP)
		if got := r.MatchConn(tc.conn); got != tc.want {
			t.Errorf("%s on %+v = %v, want %v", tc.rule, tc.conn, got, tc.want)
		}
		if r.MatchHTTP(req("GET", "/", tc.conn.SNI), tc.conn.ClientIP) {
			t.Errorf("TCP rule %s matched a request", tc.rule)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in, want string
		kind     Kind
	}{
		{"Host(`a`)", "Host(`a`)", HTTP},
		{"  host( \"a\" )", "Host(`a`)", HTTP},
		{"Host(`a`)&&Path(`/`)", "Host(`a`) && Path(`/`)", HTTP},
		{"(Host(`a`) && Path(`/`)) && Method(`GET`)", "Host(`a`) && Path(`/`) && Method(`GET`)", HTTP},
		{"Host(`a`) || (Host(`b`) || Host(`c`))", "Host(`a`) || Host(`b`) || Host(`c`)", HTTP},
		{"(Host(`a`) || Host(`b`)) && Path(`/`)", "(Host(`a`) || Host(`b`)) && Path(`/`)", HTTP},
		{"Host(`a`) || (Host(`b`) && Path(`/`))", "Host(`a`) || Host(`b`) && Path(`/`)", HTTP},
		{"!(Host(`a`))", "!Host(`a`)", HTTP},
		{"!(Host(`a`) && Path(`/`))", "!(Host(`a`) && Path(`/`))", HTTP},
		{"!!Host(`a`)", "!!Host(`a`)", HTTP},
		{"Query(`k`)", "Query(`k`)", HTTP},
		{"Header(\"X-A\", \"a`b\")", "Header(`X-A`, \"a`b\")", HTTP},
		{"Path(\"/a\\nb\")", "Path(\"/a\\nb\")", HTTP},
		{"Path(\"/\\xff\")", "Path(\"/\\xff\")", HTTP},
		{"Path(`/a\r\nb`)", "Path(\"/a\\nb\")", HTTP},
		{"Host(`Example.COM.`)", "Host(`Example.COM.`)", HTTP},
		{"HOSTSNI(`*`)||alpn(`h2`)", "HostSNI(`*`) || ALPN(`h2`)", TCP},
	}
	for _, tc := range tests {
		r := mustParse(t, tc.in, tc.kind)
		if got := r.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		if r.Len() != len(tc.in) {
			t.Errorf("Parse(%q).Len() = %d, want %d", tc.in, r.Len(), len(tc.in))
		}
		again := mustParse(t, r.String(), tc.kind)
		if again.String() != r.String() {
			t.Errorf("round trip of %q: %q then %q", tc.in, r.String(), again.String())
		}
	}
}

func TestHosts(t *testing.T) {
	tests := []struct {
		rule  string
		kind  Kind
		hosts []string
		any   bool
	}{
		{"Host(`B.example.`)", HTTP, []string{"b.example"}, false},
		{"Host(`a`) && PathPrefix(`/x`)", HTTP, []string{"a"}, false},
		{"Host(`b`) || Host(`a`) || Host(`b`)", HTTP, []string{"a", "b"}, false},
		{"Host(`a`) || PathPrefix(`/x`)", HTTP, []string{"a"}, true},
		{"PathPrefix(`/x`)", HTTP, nil, true},
		{"HostRegexp(`.*`)", HTTP, nil, true},
		{"Host(`a`) || HostRegexp(`^b$`)", HTTP, []string{"a"}, true},
		{"HostRegexp(`^b$`) && Host(`a`)", HTTP, []string{"a"}, false},
		{"!Host(`a`)", HTTP, nil, true},
		{"!Host(`a`) && Host(`b`)", HTTP, []string{"b"}, false},
		{"!!Host(`a`)", HTTP, []string{"a"}, false},
		{"!(!Host(`a`) || Path(`/`))", HTTP, []string{"a"}, false},
		{"!(Host(`a`) && Path(`/`))", HTTP, nil, true},
		{"(Host(`a`) || Host(`b`)) && (Host(`b`) || Host(`c`))", HTTP, []string{"b"}, false},
		{"(Host(`a`) || Path(`/`)) && Host(`b`)", HTTP, []string{"b"}, false},
		{"(Host(`a`) || Path(`/`)) && (Host(`b`) || Path(`/x`))", HTTP, []string{"a", "b"}, true},
		{"Host(`a`) && Host(`b`)", HTTP, nil, false},
		{"Host(`*.Example.com`) && Host(`x.example.com`)", HTTP, []string{"x.example.com"}, false},
		{"Host(`*.example.com`) || Host(`example.com`)", HTTP, []string{"*.example.com", "example.com"}, false},
		{"HostSNI(`a`)", TCP, []string{"a"}, false},
		{"HostSNI(`*`)", TCP, nil, true},
		{"HostSNI(`a`) || HostSNI(`*`)", TCP, []string{"a"}, true},
		{"HostSNI(`*.A.b`) && ALPN(`h2`)", TCP, []string{"*.a.b"}, false},
		{"HostSNIRegexp(`.*`)", TCP, nil, true},
		{"ClientIP(`10.0.0.0/8`)", TCP, nil, true},
	}
	for _, tc := range tests {
		r := mustParse(t, tc.rule, tc.kind)
		hosts, any := r.Hosts()
		if !slices.Equal(hosts, tc.hosts) || any != tc.any {
			t.Errorf("%s: Hosts() = %q, %v; want %q, %v", tc.rule, hosts, any, tc.hosts, tc.any)
		}
		if len(hosts) > 0 {
			hosts[0] = "mutated"
			if again, _ := r.Hosts(); again[0] == "mutated" {
				t.Errorf("%s: Hosts() shares its slice with the rule", tc.rule)
			}
		}
	}
}

func TestConcurrentMatch(t *testing.T) {
	r := mustParse(t, "Host(`a.com`) && (PathRegexp(`^/v[0-9]+`) || Query(`x`, `1`))", HTTP)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				target := "/v1"
				if (i+j)%2 == 1 {
					target = "/w?x=1"
				}
				if !r.MatchHTTP(req("GET", target, "A.com"), netip.Addr{}) {
					t.Errorf("no match for %s", target)
					return
				}
			}
		})
	}
	wg.Wait()
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
