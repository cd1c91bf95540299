package snapshot

// ContentType is Traefik v3's contentType. The gateway detects no Content-Type by
// default; with AutoDetect a response that lacks one gets one derived from its first
// bytes. AutoDetect false (Traefik's deprecated autoDetect: false) does nothing.
type ContentType struct {
	AutoDetect bool `json:"autoDetect"`
}
