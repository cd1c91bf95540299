package v1alpha1

// Chain runs other Middlewares in order, as if a route listed them itself (Traefik's
// chain). References are resolved as a route's are: the namespace defaults to the
// chain's, and another namespace needs cross-namespace references enabled. A chain may
// name other chains, but not itself, directly or through others.
type Chain struct {
	// Middlewares to run, the first listed first.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Middlewares []ObjectReference `json:"middlewares"`
}
