package v1alpha1

// Compress compresses response bodies for clients that accept it (Traefik's compress),
// with gzip, br (Brotli) or zstd (Zstandard). A response that already has a
// Content-Encoding, one smaller than MinResponseBodyBytes, one to a HEAD request and one
// of type application/grpc are sent as they are.
// +kubebuilder:validation:XValidation:rule="!has(self.excludedContentTypes) || !has(self.includedContentTypes) || size(self.excludedContentTypes) == 0 || size(self.includedContentTypes) == 0",message="excludedContentTypes and includedContentTypes are mutually exclusive: keep one"
type Compress struct {
	// ExcludedContentTypes are media types (e.g. text/event-stream) never compressed,
	// whether the request or the response carries them; application/grpc always is.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	ExcludedContentTypes []string `json:"excludedContentTypes,omitempty"`
	// IncludedContentTypes, when set, are the only response media types compressed.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	IncludedContentTypes []string `json:"includedContentTypes,omitempty"`
	// MinResponseBodyBytes is the smallest body compressed; default 1024.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinResponseBodyBytes *int64 `json:"minResponseBodyBytes,omitempty"`
	// Encodings lists the encodings offered, first preferred when the client weighs
	// several alike; default [gzip, br, zstd].
	// +kubebuilder:validation:MaxItems=3
	// +kubebuilder:validation:items:Enum=gzip;br;zstd
	// +optional
	Encodings []string `json:"encodings,omitempty"`
	// DefaultEncoding is used when the request has no Accept-Encoding, or accepts *;
	// it must be one of Encodings.
	// +kubebuilder:validation:Enum=gzip;br;zstd
	// +optional
	DefaultEncoding string `json:"defaultEncoding,omitempty"`
}
