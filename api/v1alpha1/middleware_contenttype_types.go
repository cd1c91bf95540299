package v1alpha1

// ContentType turns on Content-Type detection (Traefik v3's contentType): a response
// the backend sends without a Content-Type gets one derived from its first bytes.
// Without this Middleware the gateway, like Traefik v3, adds none.
type ContentType struct {
	// AutoDetect false makes the Middleware do nothing (Traefik v3 deprecates the field);
	// unset or true turns detection on.
	//
	// Deprecated: Traefik v3 deprecates it; list the Middleware where detection is wanted.
	// +optional
	AutoDetect *bool `json:"autoDetect,omitempty"`
}
