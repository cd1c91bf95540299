package v1alpha1

// IPWhiteList is Traefik v2's name for ipAllowList, which Traefik v3 still reads: the same
// sourceRange and ipStrategy, and no rejectStatusCode (other clients get 403).
type IPWhiteList struct {
	// SourceRange lists the allowed client addresses, as IPs or CIDRs.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(r, isIP(r) || isCIDR(r))",message="each sourceRange entry must be an IP address or a CIDR such as 10.0.0.0/8 or 2001:db8::/32"
	SourceRange []string `json:"sourceRange"`
	// IPStrategy says which address counts as the client's.
	// +optional
	IPStrategy *IPStrategy `json:"ipStrategy,omitempty"`
}
