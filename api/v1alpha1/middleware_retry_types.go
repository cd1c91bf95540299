package v1alpha1

// Retry sends a request again, up to Attempts times in all, when the backend could not be
// reached: the connection or its TLS handshake failed before the request was sent (Traefik's
// retry on network errors). A backend that answers, whatever the status, is not asked again.
// Between attempts it waits as Traefik does: an exponential backoff starting at
// InitialInterval and growing to twice it by the last attempt, each wait varied by ±50%.
type Retry struct {
	// Attempts is how many times the request is tried in all (1: never again); at least 1.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Attempts int `json:"attempts,omitempty"`
	// InitialInterval is the first wait between two attempts; unset, the next attempt
	// starts at once. A duration ("100ms") or a number of seconds.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="initialInterval must be a number of seconds or a duration such as 100ms, 1s or 1m30s"
	// +optional
	InitialInterval *Duration `json:"initialInterval,omitempty"`
	// Timeout bounds how long the middleware keeps retrying: once it has passed since the
	// first attempt began, the next failure is answered. A duration or a number of
	// seconds; unset or 0 is no bound.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="timeout must be a number of seconds or a duration such as 100ms, 1s or 1m30s"
	// +optional
	Timeout *Duration `json:"timeout,omitempty"`
	// Status (Traefik v3.7: retry when the backend answers one of these statuses) is not
	// implemented: a Middleware that sets it is not Ready.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	// +optional
	Status []string `json:"status,omitempty"`
	// MaxRequestBodyBytes bounds the request bodies kept for retries on a status, which
	// are not implemented; retries on network errors never resend a body that was sent.
	// +kubebuilder:validation:Minimum=-1
	// +optional
	MaxRequestBodyBytes *int64 `json:"maxRequestBodyBytes,omitempty"`
	// DisableRetryOnNetworkError turns off the retries on network errors, leaving only the
	// retries on a status, which are not implemented: true makes the Middleware not Ready.
	// +optional
	DisableRetryOnNetworkError bool `json:"disableRetryOnNetworkError,omitempty"`
	// RetryNonIdempotentMethod extends retries on a status to POST, PATCH and LOCK. Retries
	// on network errors apply to every method (nothing was sent), as in Traefik.
	// +optional
	RetryNonIdempotentMethod bool `json:"retryNonIdempotentMethod,omitempty"`
}
