package v1alpha1

// Buffering reads the whole request before sending it to the backend, and the whole
// response before sending it to the client (Traefik's buffering), so that sizes can be
// bounded: a larger request gets 413, a larger response 500. Bodies beyond the mem*
// thresholds are held in temporary files instead of memory.
type Buffering struct {
	// MaxRequestBodyBytes is the largest request body forwarded; 0 (default) is no limit.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxRequestBodyBytes *int64 `json:"maxRequestBodyBytes,omitempty"`
	// MemRequestBodyBytes is how much of a request body is held in memory before the rest
	// goes to a temporary file; default 1048576.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MemRequestBodyBytes *int64 `json:"memRequestBodyBytes,omitempty"`
	// MaxResponseBodyBytes is the largest response body sent on; 0 (default) is no limit.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxResponseBodyBytes *int64 `json:"maxResponseBodyBytes,omitempty"`
	// MemResponseBodyBytes is how much of a response body is held in memory before the
	// rest goes to a temporary file; default 1048576.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MemResponseBodyBytes *int64 `json:"memResponseBodyBytes,omitempty"`
	// RetryExpression (Traefik's retries of a buffered request) is not implemented: a
	// Middleware that sets it is not Ready.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	RetryExpression string `json:"retryExpression,omitempty"`
}
