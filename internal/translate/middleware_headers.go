package translate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// headers compiles Traefik's headers middleware. Traefik builds the security part with
// unrolled/secure; the headers it sends, and when, are the same here.
func headers(rep *report, k nsName, h *bhv1.Headers) *snapshot.Headers {
	out := &snapshot.Headers{Request: h.CustomRequestHeaders, Response: h.CustomResponseHeaders}
	out.CORS = cors(rep, k, h)
	out.Secure = secureHeaders(rep, k, h)
	if len(out.Request) == 0 && len(out.Response) == 0 && out.CORS == nil && out.Secure == nil {
		// Traefik refuses such a middleware ("headers configuration not valid"); here it
		// would do nothing, which a user who wrote one did not mean.
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.headers sets nothing; add customRequestHeaders, customResponseHeaders, a CORS field or a security header", k))
	}
	return out
}

func cors(rep *report, k nsName, h *bhv1.Headers) *snapshot.CORS {
	if !h.AccessControlAllowCredentials && len(h.AccessControlAllowHeaders) == 0 && len(h.AccessControlAllowMethods) == 0 &&
		len(h.AccessControlAllowOriginList) == 0 && len(h.AccessControlAllowOriginListRegex) == 0 &&
		len(h.AccessControlExposeHeaders) == 0 && h.AccessControlMaxAge == nil && !h.AddVaryHeader {
		return nil
	}
	for i, p := range h.AccessControlAllowOriginListRegex {
		if _, err := regexp.Compile(p); err != nil {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.headers.accessControlAllowOriginListRegex[%d] %q is not a Go regular expression (%v); fix it, e.g. ^https://([a-z0-9-]+\\.)?example\\.com$", k, i, p, err))
		}
	}
	return &snapshot.CORS{
		AllowCredentials:    h.AccessControlAllowCredentials,
		AllowHeaders:        h.AccessControlAllowHeaders,
		AllowMethods:        h.AccessControlAllowMethods,
		AllowOrigins:        h.AccessControlAllowOriginList,
		AllowOriginPatterns: h.AccessControlAllowOriginListRegex,
		ExposeHeaders:       h.AccessControlExposeHeaders,
		MaxAge:              h.AccessControlMaxAge,
		AddVaryOrigin:       h.AddVaryHeader,
	}
}

func secureHeaders(rep *report, k nsName, h *bhv1.Headers) *snapshot.SecureHeaders {
	out := &snapshot.SecureHeaders{Always: map[string]string{}}
	always := func(header, value string) {
		if value != "" {
			out.Always[header] = value
		}
	}
	switch {
	case h.CustomFrameOptionsValue != "":
		always("X-Frame-Options", h.CustomFrameOptionsValue)
	case h.FrameDeny:
		always("X-Frame-Options", "DENY")
	}
	if h.ContentTypeNosniff {
		always("X-Content-Type-Options", "nosniff")
	}
	switch {
	case h.CustomBrowserXSSValue != "":
		always("X-XSS-Protection", h.CustomBrowserXSSValue)
	case h.BrowserXSSFilter:
		always("X-XSS-Protection", "1; mode=block")
	}
	for _, f := range []struct{ field, value string }{
		{"contentSecurityPolicy", h.ContentSecurityPolicy},
		{"contentSecurityPolicyReportOnly", h.ContentSecurityPolicyReportOnly},
	} {
		if field := f.field; strings.Contains(f.value, "$NONCE") {
			// Traefik replaces $NONCE with a fresh random nonce per answer that the backend
			// never learns, so its pages' scripts would be blocked.
			rep.invalidf(bhv1.ReasonUnsupportedValue, fmt.Sprintf("Middleware %s: spec.headers.%s uses $NONCE, which only an application can fill in (the gateway cannot know which scripts the page carries); send the policy from the backend, or remove the nonce", k, field))
		}
	}
	always("Content-Security-Policy", h.ContentSecurityPolicy)
	always("Content-Security-Policy-Report-Only", h.ContentSecurityPolicyReportOnly)
	always("Referrer-Policy", h.ReferrerPolicy)
	always("Permissions-Policy", h.PermissionsPolicy)
	out.SSLProxyHeaders = h.SSLProxyHeaders
	out.HostsProxyHeaders = h.HostsProxyHeaders
	if !h.IsDevelopment {
		out.AllowedHosts = h.AllowedHosts
		out.PublicKey = h.PublicKey
		if h.STSSeconds != nil && *h.STSSeconds > 0 {
			sts := "max-age=" + strconv.FormatInt(*h.STSSeconds, 10)
			if h.STSIncludeSubdomains {
				sts += "; includeSubDomains"
			}
			if h.STSPreload {
				sts += "; preload"
			}
			out.STS, out.ForceSTS = sts, h.ForceSTSHeader
		}
	}
	if len(h.HostsProxyHeaders) > 0 && len(h.AllowedHosts) == 0 {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.headers.hostsProxyHeaders has no effect without allowedHosts; remove it, or list the allowed hosts", k))
	}
	if len(h.SSLProxyHeaders) > 0 && out.STS == "" && out.PublicKey == "" {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.headers.sslProxyHeaders has no effect without stsSeconds or publicKey; remove it", k))
	}
	if (h.STSIncludeSubdomains || h.STSPreload || h.ForceSTSHeader) && (h.STSSeconds == nil || *h.STSSeconds == 0) && !h.IsDevelopment {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.headers.stsIncludeSubdomains, stsPreload and forceSTSHeader have no effect without stsSeconds; set stsSeconds (e.g. 31536000)", k))
	}
	if h.IsDevelopment {
		msg := "spec.headers.isDevelopment turns off allowedHosts, stsSeconds and publicKey, as in Traefik; remove it outside development"
		if len(h.AllowedHosts) == 0 && (h.STSSeconds == nil || *h.STSSeconds == 0) && h.PublicKey == "" {
			msg = "spec.headers.isDevelopment has no effect: it turns off allowedHosts, stsSeconds and publicKey, and none is set; remove it"
		}
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: %s", k, msg))
	}
	if len(out.Always) == 0 {
		out.Always = nil
	}
	if out.Always == nil && len(out.AllowedHosts) == 0 && out.STS == "" && out.PublicKey == "" {
		return nil
	}
	return out
}
