package snapshot

// Buffering is Traefik's buffering: whole bodies are read before being sent on. Max* of
// 0 is no limit; beyond Mem* bytes a body is held in a temporary file.
type Buffering struct {
	MaxRequestBodyBytes  int64 `json:"maxRequestBodyBytes,omitempty"`
	MemRequestBodyBytes  int64 `json:"memRequestBodyBytes"`
	MaxResponseBodyBytes int64 `json:"maxResponseBodyBytes,omitempty"`
	MemResponseBodyBytes int64 `json:"memResponseBodyBytes"`
}
