package v1alpha1

// RateLimit admits requests from one source at Average per Period on average, with bursts of
// up to Burst (Traefik's rateLimit: a token bucket per source). A request that would have to
// wait longer than half the interval between two tokens (at most 500ms) gets 429 with
// Retry-After; a shorter wait is waited out.
type RateLimit struct {
	// Average is the number of requests per period a source may make; 0 (the default)
	// turns rate limiting off.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Average *int64 `json:"average,omitempty"`
	// Period is the span Average is counted over: a duration ("1m") or a number of
	// seconds; default 1s.
	// +optional
	Period *Duration `json:"period,omitempty"`
	// Burst is how many requests may arrive at once; default 1.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Burst *int64 `json:"burst,omitempty"`
	// SourceCriterion says what makes requests come from one source; default the
	// client's address.
	// +optional
	SourceCriterion *SourceCriterion `json:"sourceCriterion,omitempty"`
}

// SourceCriterion groups requests by source, for rateLimit and inFlightReq. At most one
// criterion may be set, as in Traefik.
// +kubebuilder:validation:XValidation:rule="[has(self.ipStrategy), has(self.requestHeaderName) && size(self.requestHeaderName) > 0, has(self.requestHost) && self.requestHost].filter(x, x).size() <= 1",message="set at most one of ipStrategy, requestHeaderName and requestHost"
type SourceCriterion struct {
	// IPStrategy groups by client address, optionally read from X-Forwarded-For.
	// +optional
	IPStrategy *IPStrategy `json:"ipStrategy,omitempty"`
	// RequestHeaderName groups by the value of this request header; a request without
	// it gets 500, as in Traefik.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[-A-Za-z0-9!#$%&*+.^_|~]*$`
	// +optional
	RequestHeaderName string `json:"requestHeaderName,omitempty"`
	// RequestHost groups by the request's Host.
	// +optional
	RequestHost bool `json:"requestHost,omitempty"`
}
