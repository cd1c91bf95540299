package v1alpha1

// RedirectRegex redirects requests whose URL matches a regular expression (Traefik's
// redirectRegex). The URL matched is scheme://host[:port]/path?query as the client asked
// for it; when Replacement makes it a different URL, the client is redirected there.
type RedirectRegex struct {
	// Regex is a Go regular expression (RE2 syntax, as in Traefik) matched against the
	// whole URL, e.g. ^https?://old\.example\.com/(.*).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Regex string `json:"regex"`
	// Replacement is the URL to redirect to; $1, ${1} or ${name} insert what a group of
	// Regex captured, e.g. https://new.example.com/${1}.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Replacement string `json:"replacement"`
	// Permanent answers 301 to GET and 308 to other methods; without it 302 and 307
	// (Traefik's codes).
	// +optional
	Permanent bool `json:"permanent,omitempty"`
}
