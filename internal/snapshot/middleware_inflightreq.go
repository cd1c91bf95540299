package snapshot

// InFlightReq is Traefik's inFlightReq: at most Amount requests per source in progress.
type InFlightReq struct {
	Amount int64  `json:"amount"`
	Source Source `json:"source"`
}
