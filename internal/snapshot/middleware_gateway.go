package snapshot

// The middlewares in this file implement Gateway API HTTPRoute filters
// (sigs.k8s.io/gateway-api apis/v1 httproute_types.go, v1.6). Their semantics differ
// from Traefik's look-alikes (headers, redirectScheme, replacePath), so they are types of
// their own. Field names follow the Gateway API structs, so the translator fills them
// field by field; the comments quote the rule each field carries.

// HeaderModifier is the RequestHeaderModifier or ResponseHeaderModifier filter
// (HTTPHeaderFilter). Header names are case-insensitive. The three lists apply in the
// order set, add, remove, so a name both set and removed ends up removed.
type HeaderModifier struct {
	// Set replaces every value of the header with Value ("set overwrites").
	Set []HeaderValue `json:"set,omitempty"`
	// Add appends Value to the header's existing values ("appends to any existing
	// values"): it is sent as one more field line, which RFC 9110 makes equal to the
	// comma-joined form (and, unlike joining, keeps Set-Cookie correct).
	Add []HeaderValue `json:"add,omitempty"`
	// Remove deletes the named headers.
	Remove []string `json:"remove,omitempty"`
}

// HeaderValue is one header name and value (Gateway API HTTPHeader).
type HeaderValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PathModifierType is the Gateway API HTTPPathModifierType; the values are spelled as
// there, so the translator can convert one into the other.
type PathModifierType string

const (
	// PathReplaceFullPath replaces the whole path with ReplaceFullPath.
	PathReplaceFullPath PathModifierType = "ReplaceFullPath"
	// PathReplacePrefixMatch replaces the route's matched PathPrefix (MatchedPrefix)
	// with ReplacePrefixMatch, by whole path elements: a trailing '/' of either is
	// ignored, and a result that is empty becomes "/". "/foo/bar" with prefix "/foo"
	// and replacement "/xyz" or "/xyz/" is "/xyz/bar"; "/foo/" with "/xyz" is "/xyz/";
	// "/foo" with "" or "/" is "/".
	PathReplacePrefixMatch PathModifierType = "ReplacePrefixMatch"
)

// PathModifier is the path part of a RequestRedirect or URLRewrite (HTTPPathModifier).
type PathModifier struct {
	Type PathModifierType `json:"type"`
	// ReplaceFullPath is the new path, for PathReplaceFullPath.
	ReplaceFullPath string `json:"replaceFullPath,omitempty"`
	// ReplacePrefixMatch is what replaces the prefix, for PathReplacePrefixMatch ("" is
	// allowed and strips the prefix).
	ReplacePrefixMatch string `json:"replacePrefixMatch,omitempty"`
	// MatchedPrefix is the value of the rule match's PathPrefix, for
	// PathReplacePrefixMatch: the spec allows ReplacePrefixMatch only with a PathPrefix
	// match, and one snapshot route is one (rule, match) pair, so there is exactly one.
	MatchedPrefix string `json:"matchedPrefix,omitempty"`
}

// RequestRedirect is the Gateway API RequestRedirect filter (HTTPRequestRedirectFilter):
// the gateway answers with StatusCode and a Location built from the request and these
// fields. The query is kept.
type RequestRedirect struct {
	// Scheme is "http" or "https"; "" keeps the scheme of the request.
	Scheme string `json:"scheme,omitempty"`
	// Hostname replaces the host; "" keeps the Host header's host (without its port).
	Hostname string `json:"hostname,omitempty"`
	// Port, when non-zero, is the port of Location. When zero: with Scheme set, the
	// scheme's well-known port (80, 443); without, ListenerPort.
	// Either way port 80 with http and 443 with https are left out of Location.
	Port int `json:"port,omitempty"`
	// ListenerPort is the port of the Gateway listener the route is attached through
	// (the port clients use, not the pod's). Zero means the local port the request
	// arrived on.
	ListenerPort int `json:"listenerPort,omitempty"`
	// Path, when set, rewrites the path of Location; otherwise the request's is kept.
	Path *PathModifier `json:"path,omitempty"`
	// StatusCode is 301, 302, 303, 307 or 308; zero is the spec's default, 302.
	StatusCode int `json:"statusCode,omitempty"`
}

// URLRewrite is the Gateway API URLRewrite filter (HTTPURLRewriteFilter): the request
// is forwarded with another host and/or path.
type URLRewrite struct {
	// Hostname replaces the Host header sent to the backend ("" keeps it). For the
	// backend to receive it, its Backend must have PassHostHeader set (Gateway API
	// backends always should: the spec forwards the client's Host).
	Hostname string `json:"hostname,omitempty"`
	// Path, when set, rewrites the forwarded path; the query is kept.
	Path *PathModifier `json:"path,omitempty"`
}
