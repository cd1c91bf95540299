package v1alpha1

// StripPrefixRegex removes the start of the path that a regular expression matches
// (Traefik's stripPrefixRegex); the removed prefix goes to the backend in
// X-Forwarded-Prefix.
type StripPrefixRegex struct {
	// Regex lists Go regular expressions (RE2 syntax, as in Traefik) matched against the
	// decoded path, e.g. /api/v[0-9]+; the first whose leftmost match starts the path
	// strips it. Surrounding spaces are ignored.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1024
	Regex []string `json:"regex"`
}
