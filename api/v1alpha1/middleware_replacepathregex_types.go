package v1alpha1

// ReplacePathRegex rewrites the request path with a regular expression (Traefik's
// replacePathRegex): when Regex matches the path (in its escaped form, as the client sent
// it), every match is replaced by Replacement, and the path the client asked for goes to
// the backend in X-Replaced-Path.
type ReplacePathRegex struct {
	// Regex is a Go regular expression (RE2 syntax, as in Traefik) matched against the
	// escaped path, e.g. ^/api/(.*). Surrounding spaces are ignored.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Regex string `json:"regex"`
	// Replacement is the new path; $1, ${1} or ${name} insert what a group of Regex
	// captured, e.g. /v2/$1. Surrounding spaces are ignored.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Replacement string `json:"replacement,omitempty"`
}
