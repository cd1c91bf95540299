package rule

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const (
		matcherHTTP = "a matcher name such as Host or PathPrefix"
		matcherTCP  = "a matcher name such as HostSNI or ALPN"
		hostName    = "a host name such as example.com or *.example.com"
		cidr        = "an IP address or CIDR such as 10.0.0.0/8"
	)
	tests := []struct {
		rule     string
		kind     Kind
		pos      int
		expected string
		found    string
		msg      string // substring of Msg; "" means Msg must be empty
	}{
		{"", HTTP, 1, matcherHTTP, "end of rule", ""},
		{"   ", HTTP, 4, matcherHTTP, "end of rule", ""},
		{"Host(`a`", HTTP, 9, "`)`", "end of rule", ""},
		{"Query(`a`", HTTP, 10, "`,` or `)`", "end of rule", ""},
		{"Host(`a`) &&", HTTP, 13, matcherHTTP, "end of rule", ""},
		{"Host(`a`) || || Host(`b`)", HTTP, 14, matcherHTTP, "`||`", ""},
		{"&& Host(`a`)", HTTP, 1, matcherHTTP, "`&&`", ""},
		{"!", HTTP, 2, matcherHTTP, "end of rule", ""},
		{"Hostt(`a`)", HTTP, 1, matcherHTTP, "identifier Hostt", "did you mean Host?"},
		{"Host(`a`) && PathPrefx(`/`)", HTTP, 14, matcherHTTP, "identifier PathPrefx", "did you mean PathPrefix?"},
		{"pathPrefix(`/`)", HTTP, 1, matcherHTTP, "identifier pathPrefix", "did you mean PathPrefix?"},
		{"Frobnicate(`a`)", HTTP, 1, matcherHTTP, "identifier Frobnicate", "unknown matcher"},
		{"Headers(`X-A`, `b`)", HTTP, 1, matcherHTTP, "identifier Headers", "removed in Traefik v3; use Header"},
		{"HostSNI(`a`)", HTTP, 1, "an HTTP matcher", "TCP matcher HostSNI", "only applies to TCP routers; use Host"},
		{"ALPN(`h2`)", HTTP, 1, "an HTTP matcher", "TCP matcher ALPN", "only applies to TCP routers"},
		{"HostSNI(`a`) && Path(`/`)", TCP, 17, "a TCP matcher", "HTTP matcher Path", "only applies to HTTP routers"},
		{"Host(`a`)", TCP, 1, "a TCP matcher", "HTTP matcher Host", "use HostSNI"},
		{"HostSNII(`a`)", TCP, 1, matcherTCP, "identifier HostSNII", "did you mean HostSNI?"},
		{"Host `a`", HTTP, 6, "`(`", "string `a`", "called like Host(`example.com`)"},
		{"Host(a)", HTTP, 6, expectString, "identifier a", ""},
		{"Host('a')", HTTP, 6, expectString, "`'`", "single quotes"},
		{"Host(`a`,)", HTTP, 10, expectString, "`)`", ""},
		{"Host()", HTTP, 6, "1 argument", "no arguments", ""},
		{"Host(`a`, `b`)", HTTP, 11, "1 argument", "2 arguments", "combine several with ||"},
		{"Header(`X-A`)", HTTP, 13, "2 arguments", "1 argument", ""},
		{"Query(`a`, `b`, `c`)", HTTP, 17, "1 or 2 arguments", "3 arguments", ""},
		{"Host(`a`) Path(`/`)", HTTP, 11, expectOpOrEnd, "identifier Path", ""},
		{"Host(`a`) & Path(`/`)", HTTP, 11, expectOpOrEnd, "`&`", "written &&"},
		{"Host(`a`) | Path(`/`)", HTTP, 11, expectOpOrEnd, "`|`", "written ||"},
		{"Host(`a`) and Path(`/`)", HTTP, 11, expectOpOrEnd, "identifier and", ""},
		{"Host(`a`))", HTTP, 10, expectOpOrEnd, "`)`", ""},
		{"Host(`a`) ]", HTTP, 11, expectOpOrEnd, "`]`", ""},
		{"(Host(`a`)", HTTP, 11, expectOpOrRPar, "end of rule", ""},
		{"(Host(`a`) Path(`/`))", HTTP, 12, expectOpOrRPar, "identifier Path", ""},
		{"Host(`a", HTTP, 6, "a closing backtick for this string", "end of rule", ""},
		{"Host(\"a", HTTP, 6, "a closing `\"` for this string", "end of rule", ""},
		{"Host(\"a\nb\")", HTTP, 6, "a closing `\"` for this string", "a line break", ""},
		{`Host("a\qb")`, HTTP, 8, `a Go escape sequence such as \" or \\`, "`\\q`", ""},
		{"Host(`\xff`)", HTTP, 7, "UTF-8 text", "byte 0xff", ""},
		{"Host(``)", HTTP, 6, expectNonEmpty, "empty string", ""},
		{"Header(`X-A`, \"\")", HTTP, 15, expectNonEmpty, "empty string", ""},
		{"Host(`a:80`)", HTTP, 6, hostName, "string `a:80`", "without its port"},
		{"Host(`a.com/x`)", HTTP, 6, hostName, "string `a.com/x`", "PathPrefix"},
		{"Host(`a.*.com`)", HTTP, 6, hostName, "string `a.*.com`", "first label"},
		{"Host(`bücher.de`)", HTTP, 6, hostName, "string `bücher.de`", "punycode"},
		{"Host(`.`)", HTTP, 6, hostName, "string `.`", "empty"},
		{"HostSNI(`a_b.example`)", TCP, 9, hostName + ", or *", "string `a_b.example`", "letters, digits"},
		{"Path(`api`)", HTTP, 6, "a path starting with /", "string `api`", ""},
		{"PathPrefix(\"api\")", HTTP, 12, "a path starting with /", "string `api`", ""},
		{"PathRegexp(`(`)", HTTP, 12, "a valid regular expression", "string `(`", "missing closing )"},
		{"Host(`a`) && HeaderRegexp(`X`, `[`)", HTTP, 32, "a valid regular expression", "string `[`", "missing closing ]"},
		{"HostSNIRegexp(`a{2,1}`)", TCP, 15, "a valid regular expression", "string `a{2,1}`", "invalid repeat count"},
		{"ClientIP(`10.0.0.0/33`)", HTTP, 10, cidr, "string `10.0.0.0/33`", "prefix length out of range"},
		{"ClientIP(`10.0.0.256`)", HTTP, 10, cidr, "string `10.0.0.256`", "ParseAddr"},
		{"ClientIP(`fe80::1%eth0`)", TCP, 10, cidr, "string `fe80::1%eth0`", "zones"},
		{"Method(`GET POST`)", HTTP, 8, "an HTTP method such as GET", "string `GET POST`", ""},
		{"ALPN(`acme-tls/1`)", TCP, 6, "an ALPN protocol such as h2", "string `acme-tls/1`", "reserved"},
		{"Host(`a`)\x00", HTTP, 10, expectOpOrEnd, `character '\x00'`, ""},
		{strings.Repeat("!", maxDepth) + "(Host(`a`))", HTTP, maxDepth + 1, "at most 100 nested `!` and `(`", "`(`", ""},
		{"Host(`a`)", Kind(7), 1, "rule kind HTTP or TCP", "Kind(7)", ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.rule), func(t *testing.T) {
			r, err := Parse(tc.rule, tc.kind)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tc.rule, r)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
			}
			if se.Pos != tc.pos || se.Expected != tc.expected || se.Found != tc.found {
				t.Errorf("got Pos %d, Expected %q, Found %q\nwant Pos %d, Expected %q, Found %q",
					se.Pos, se.Expected, se.Found, tc.pos, tc.expected, tc.found)
			}
			if tc.msg == "" && se.Msg != "" || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Msg = %q, want it to contain %q", se.Msg, tc.msg)
			}
			if se.Pos < 1 || se.Pos > len(tc.rule)+1 {
				t.Errorf("Pos %d outside 1..%d", se.Pos, len(tc.rule)+1)
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := Parse("Host(`a`", HTTP)
	if got, want := err.Error(), "column 9: expected `)`, found end of rule"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err = Parse("Hostt(`a`)", HTTP)
	want := "column 1: expected a matcher name such as Host or PathPrefix, found identifier Hostt; unknown matcher; did you mean Host?"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("route default/web: %w", err)
	var se *SyntaxError
	if !errors.As(wrapped, &se) || se.Pos != 1 {
		t.Errorf("errors.As through a wrap failed: %v", wrapped)
	}
}

func TestFoundIsShortened(t *testing.T) {
	long := strings.Repeat("é", 100)
	_, err := Parse("Path(`"+long+"`)", HTTP)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("want a SyntaxError, got %v", err)
	}
	if len(se.Found) > 60 || !strings.HasSuffix(se.Found, "…`") {
		t.Errorf("Found not shortened cleanly: %q", se.Found)
	}
}
