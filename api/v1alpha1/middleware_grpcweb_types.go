package v1alpha1

// GrpcWeb lets browsers speak gRPC through the gateway (Traefik's grpcWeb): a gRPC-Web
// request (application/grpc-web, +proto, and the base64 application/grpc-web-text) is
// sent to the backend as gRPC over HTTP/2, and its answer, trailers included, comes back
// as gRPC-Web. The route's service must speak HTTP/2 (scheme h2c, or https). Other
// requests pass untouched.
type GrpcWeb struct {
	// AllowOrigins lists the browser origins (https://app.example.com) allowed to call,
	// answered with CORS headers; "*" allows any. Empty allows none.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	AllowOrigins []string `json:"allowOrigins,omitempty"`
}
