package snapshot

import (
	"strings"
	"testing"
)

func TestValidateGatewayFilters(t *testing.T) {
	src := Ref{Kind: "HTTPRoute", Namespace: "web", Name: "app"}
	for _, tc := range []struct {
		name string
		mw   *Middleware
		want string // "" = valid
	}{
		{"header modifier", &Middleware{Source: src, RequestHeaderModifier: &HeaderModifier{Set: []HeaderValue{{Name: "X-A", Value: "1"}}, Remove: []string{"x-b"}}}, ""},
		{"header name with space", &Middleware{Source: src, ResponseHeaderModifier: &HeaderModifier{Add: []HeaderValue{{Name: "X A", Value: "1"}}}}, `header name "X A" is not a token`},
		{"header value with newline", &Middleware{Source: src, RequestHeaderModifier: &HeaderModifier{Set: []HeaderValue{{Name: "X-A", Value: "1\r\nX-B: 2"}}}}, "line break"},
		{"redirect", &Middleware{Source: src, RequestRedirect: &RequestRedirect{Scheme: "https", Port: 8443, StatusCode: 308}}, ""},
		{"redirect scheme", &Middleware{Source: src, RequestRedirect: &RequestRedirect{Scheme: "ftp"}}, `scheme "ftp"`},
		{"redirect status", &Middleware{Source: src, RequestRedirect: &RequestRedirect{StatusCode: 200}}, "statusCode 200"},
		{"redirect port", &Middleware{Source: src, RequestRedirect: &RequestRedirect{Port: 70000}}, "port and listenerPort"},
		{"redirect hostname", &Middleware{Source: src, RequestRedirect: &RequestRedirect{Hostname: "a.example/evil"}}, "is not a host name"},
		{"prefix without matched prefix", &Middleware{Source: src, URLRewrite: &URLRewrite{Path: &PathModifier{Type: PathReplacePrefixMatch, ReplacePrefixMatch: "/x"}}}, "needs the matched PathPrefix"},
		{"relative full path", &Middleware{Source: src, URLRewrite: &URLRewrite{Path: &PathModifier{Type: PathReplaceFullPath, ReplaceFullPath: "x"}}}, "does not start with /"},
		{"unknown path type", &Middleware{Source: src, URLRewrite: &URLRewrite{Path: &PathModifier{Type: "Regex"}}}, `path type "Regex"`},
		{"strip prefix", &Middleware{Source: src, URLRewrite: &URLRewrite{Path: &PathModifier{Type: PathReplacePrefixMatch, MatchedPrefix: "/a"}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := validSnapshot(1)
			snap.HTTPRoutes[0].Middlewares = []*Middleware{tc.mw}
			err := snap.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// A route whose only job is a Gateway API redirect needs no backend.
func TestValidateRedirectOnlyRoute(t *testing.T) {
	snap := validSnapshot(1)
	snap.HTTPRoutes[0].Backends = nil
	snap.HTTPRoutes[0].Middlewares = []*Middleware{{RequestRedirect: &RequestRedirect{Scheme: "https"}}}
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	snap.HTTPRoutes[0].Timeouts = &Timeouts{Request: -1}
	if err := snap.Validate(); err == nil || !strings.Contains(err.Error(), "negative timeout") {
		t.Fatalf("negative timeout: %v", err)
	}
}
