package snapshot

// Chain runs Middlewares in order, first listed outermost, as a route's own list does.
// translate refuses cycles, so a chain never contains itself.
type Chain struct {
	Middlewares []*Middleware `json:"middlewares"`
}
