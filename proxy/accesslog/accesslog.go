package accesslog

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Request is one access-log record of an HTTP request.
type Request struct {
	Time       string  `json:"time"`
	EntryPoint string  `json:"entryPoint"`
	Route      string  `json:"route"`
	Method     string  `json:"method"`
	Host       string  `json:"host"`
	Path       string  `json:"path"`
	Proto      string  `json:"proto"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"durationMs"`
	Client     string  `json:"client"`
	Upstream   string  `json:"upstreamError,omitempty"`
	// ClientError names a request the client got wrong or abandoned (ClientBodyMalformed,
	// ClientBodyTimeout, ClientCanceled): not the backend's failure.
	ClientError string `json:"clientError,omitempty"`
}

// Conn is one access-log record of a TCP connection.
type Conn struct {
	Time       string  `json:"time"`
	EntryPoint string  `json:"entryPoint"`
	Route      string  `json:"route"`
	Client     string  `json:"client"`
	Backend    string  `json:"backend,omitempty"`
	BytesIn    int64   `json:"bytesIn"`
	BytesOut   int64   `json:"bytesOut"`
	DurationMS float64 `json:"durationMs"`
	Error      string  `json:"error,omitempty"`
}

// Log writes records to one writer, a whole line at a time.
type Log struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Log writing to w, or nil (no access log) when w is nil.
func New(w io.Writer) *Log {
	if w == nil {
		return nil
	}
	return &Log{w: w}
}

// Request writes the record of a request that took d; Time and DurationMS are set here.
func (l *Log) Request(line Request, d time.Duration) {
	line.Time, line.DurationMS = now(), millis(d)
	l.write(line)
}

// Conn writes the record of a TCP connection that lasted d; Time and DurationMS are set
// here.
func (l *Log) Conn(line Conn, d time.Duration) {
	line.Time, line.DurationMS = now(), millis(d)
	l.write(line)
}

func (l *Log) write(line any) {
	data, err := json.Marshal(line)
	if err != nil {
		return
	}
	l.mu.Lock()
	_, _ = l.w.Write(append(data, '\n'))
	l.mu.Unlock()
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
