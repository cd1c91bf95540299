package v1alpha1

// CircuitBreaker stops sending requests to the backend while Expression holds over the
// recent requests (Traefik's circuitBreaker): it answers ResponseCode instead for
// FallbackDuration, then lets a growing share of requests through for RecoveryDuration,
// and serves normally again if the expression stays false.
type CircuitBreaker struct {
	// Expression is the condition that trips the breaker, over the last 10 seconds of
	// requests: NetworkErrorRatio(), ResponseCodeRatio(from, to, dividedByFrom,
	// dividedByTo), LatencyAtQuantileMS(quantile) and RequestThreshold() compared with
	// numbers, joined by && and ||, grouped with parentheses, e.g.
	// "NetworkErrorRatio() > 0.30 || LatencyAtQuantileMS(50.0) > 100".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Expression string `json:"expression"`
	// CheckPeriod is how often the expression is evaluated; default 100ms.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="checkPeriod must be a number of seconds or a duration such as 100ms, 1s or 1m30s"
	// +optional
	CheckPeriod *Duration `json:"checkPeriod,omitempty"`
	// FallbackDuration is how long the tripped breaker answers ResponseCode before it
	// starts to recover; default 10s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="fallbackDuration must be a number of seconds or a duration such as 100ms, 1s or 1m30s"
	// +optional
	FallbackDuration *Duration `json:"fallbackDuration,omitempty"`
	// RecoveryDuration is how long the breaker takes to let requests through again,
	// a growing share of them; default 10s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="recoveryDuration must be a number of seconds or a duration such as 100ms, 1s or 1m30s"
	// +optional
	RecoveryDuration *Duration `json:"recoveryDuration,omitempty"`
	// ResponseCode is the status answered while the breaker is open; default 503.
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	// +optional
	ResponseCode int `json:"responseCode,omitempty"`
}
