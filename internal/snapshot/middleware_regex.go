package snapshot

// ReplacePathRegex is Traefik's replacePathRegex: Regex (RE2, compiled by translate) is
// matched against the escaped path; every match is replaced by Replacement ($1, ${name}).
type ReplacePathRegex struct {
	Regex       string `json:"regex"`
	Replacement string `json:"replacement"`
}

// StripPrefixRegex is Traefik's stripPrefixRegex: the first Regex whose leftmost match
// starts the decoded path strips that match.
type StripPrefixRegex struct {
	Regex []string `json:"regex"`
}

// RedirectRegex is Traefik's redirectRegex: when Regex matches scheme://host/uri and
// Replacement makes another URL of it, the client is redirected there.
type RedirectRegex struct {
	Regex       string `json:"regex"`
	Replacement string `json:"replacement"`
	Permanent   bool   `json:"permanent,omitempty"`
}
