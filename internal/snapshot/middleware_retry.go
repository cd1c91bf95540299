package snapshot

import "time"

// Retry is Traefik's retry on network errors: a request whose backend could not be
// reached (nothing of it was sent) is tried again, up to Attempts times in all, waiting
// an exponential backoff from InitialInterval (0: no wait) between attempts, while less
// than Timeout (0: no bound) has passed since the first began.
type Retry struct {
	Attempts        int           `json:"attempts"`
	InitialInterval time.Duration `json:"initialInterval,omitempty"`
	Timeout         time.Duration `json:"timeout,omitempty"`
}
