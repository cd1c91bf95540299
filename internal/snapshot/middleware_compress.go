package snapshot

// Compress is Traefik's compress. Media types are lower-case without parameters;
// Encodings are in order of preference (gzip, br, zstd).
type Compress struct {
	ExcludedContentTypes []string `json:"excludedContentTypes,omitempty"`
	IncludedContentTypes []string `json:"includedContentTypes,omitempty"`
	MinResponseBodyBytes int64    `json:"minResponseBodyBytes"`
	Encodings            []string `json:"encodings"`
	DefaultEncoding      string   `json:"defaultEncoding,omitempty"`
}
