package v1alpha1

// InFlightReq limits how many requests from one source are in progress at once (Traefik's
// inFlightReq); one more gets 429.
type InFlightReq struct {
	// Amount is the number of simultaneous requests a source may have in progress.
	// Traefik also admits 0, which refuses every request; Bridgehead refuses it.
	// +kubebuilder:validation:Minimum=1
	Amount int64 `json:"amount"`
	// SourceCriterion says what makes requests come from one source; default the
	// request's Host (Traefik's default for inFlightReq).
	// +optional
	SourceCriterion *SourceCriterion `json:"sourceCriterion,omitempty"`
}
