package snapshot

import (
	"fmt"
	"strings"
)

// checkGatewayFilters checks the Gateway API filters of mws (chains included): what the
// proxy would otherwise have to guess at, such as a redirect status it cannot send or a
// path that is not absolute.
func checkGatewayFilters(mws []*Middleware) []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	for _, m := range mws {
		switch {
		case m == nil:
		case m.Chain != nil:
			errs = append(errs, checkGatewayFilters(m.Chain.Middlewares)...)
		case m.RequestHeaderModifier != nil:
			for _, e := range m.RequestHeaderModifier.check() {
				add("requestHeaderModifier %s: %s", m.Source, e)
			}
		case m.ResponseHeaderModifier != nil:
			for _, e := range m.ResponseHeaderModifier.check() {
				add("responseHeaderModifier %s: %s", m.Source, e)
			}
		case m.RequestRedirect != nil:
			for _, e := range m.RequestRedirect.check() {
				add("requestRedirect %s: %s", m.Source, e)
			}
		case m.URLRewrite != nil:
			for _, e := range m.URLRewrite.check() {
				add("urlRewrite %s: %s", m.Source, e)
			}
		}
	}
	return errs
}

func (h *HeaderModifier) check() []string {
	var errs []string
	for _, list := range [][]HeaderValue{h.Set, h.Add} {
		for _, hv := range list {
			if !validHeaderName(hv.Name) {
				errs = append(errs, fmt.Sprintf("header name %q is not a token", hv.Name))
			}
			if strings.ContainsAny(hv.Value, "\r\n\x00") {
				errs = append(errs, fmt.Sprintf("header %q: value has a line break or NUL", hv.Name))
			}
		}
	}
	for _, name := range h.Remove {
		if !validHeaderName(name) {
			errs = append(errs, fmt.Sprintf("header name %q is not a token", name))
		}
	}
	return errs
}

func (r *RequestRedirect) check() []string {
	var errs []string
	switch r.Scheme {
	case "", "http", "https":
	default:
		errs = append(errs, fmt.Sprintf("scheme %q is neither http nor https", r.Scheme))
	}
	switch r.StatusCode {
	case 0, 301, 302, 303, 307, 308:
	default:
		errs = append(errs, fmt.Sprintf("statusCode %d is not one of 301, 302, 303, 307, 308", r.StatusCode))
	}
	if r.Port < 0 || r.Port > 65535 || r.ListenerPort < 0 || r.ListenerPort > 65535 {
		errs = append(errs, "port and listenerPort must be 0 to 65535")
	}
	if strings.ContainsAny(r.Hostname, ":/?#@[]\\ %") {
		errs = append(errs, fmt.Sprintf("hostname %q is not a host name", r.Hostname))
	}
	if r.Path != nil {
		errs = append(errs, r.Path.check()...)
	}
	return errs
}

func (u *URLRewrite) check() []string {
	var errs []string
	if strings.ContainsAny(u.Hostname, ":/?#@[]\\ %") {
		errs = append(errs, fmt.Sprintf("hostname %q is not a host name", u.Hostname))
	}
	if u.Path != nil {
		errs = append(errs, u.Path.check()...)
	}
	return errs
}

func (p *PathModifier) check() []string {
	switch p.Type {
	case PathReplaceFullPath:
		if !strings.HasPrefix(p.ReplaceFullPath, "/") {
			return []string{fmt.Sprintf("replaceFullPath %q does not start with /", p.ReplaceFullPath)}
		}
	case PathReplacePrefixMatch:
		if p.ReplacePrefixMatch != "" && !strings.HasPrefix(p.ReplacePrefixMatch, "/") {
			return []string{fmt.Sprintf("replacePrefixMatch %q does not start with /", p.ReplacePrefixMatch)}
		}
		if !strings.HasPrefix(p.MatchedPrefix, "/") {
			return []string{fmt.Sprintf("replacePrefixMatch needs the matched PathPrefix, got %q", p.MatchedPrefix)}
		}
	default:
		return []string{fmt.Sprintf("path type %q is neither ReplaceFullPath nor ReplacePrefixMatch", p.Type)}
	}
	return nil
}

// validHeaderName is RFC 9110's token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
