package snapshot

import "time"

// CircuitBreaker is Traefik's circuitBreaker: Expression (internal/cbexpr, checked by
// translate) is evaluated every CheckPeriod over the last requests; when it holds, the
// breaker answers ResponseCode for FallbackDuration, then lets a growing share of
// requests through for RecoveryDuration.
type CircuitBreaker struct {
	Expression       string        `json:"expression"`
	CheckPeriod      time.Duration `json:"checkPeriod"`
	FallbackDuration time.Duration `json:"fallbackDuration"`
	RecoveryDuration time.Duration `json:"recoveryDuration"`
	ResponseCode     int           `json:"responseCode"`
}
