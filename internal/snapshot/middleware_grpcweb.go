package snapshot

// GrpcWeb is Traefik's grpcWeb: gRPC-Web requests become gRPC over HTTP/2 and back.
// AllowOrigins are the CORS origins allowed ("*": any).
type GrpcWeb struct {
	AllowOrigins []string `json:"allowOrigins,omitempty"`
}
