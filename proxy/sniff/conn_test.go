package sniff_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/proxy/sniff"
)

func TestPeekClearsDeadline(t *testing.T) {
	record := captureHello(t, &tls.Config{ServerName: "x.example"})
	for _, tt := range []struct {
		name    string
		input   []byte
		timeout time.Duration
		calls   int
	}{
		{"hello", record, time.Minute, 2},
		{"not tls", []byte("GET /"), time.Minute, 2},
		{"no timeout", record, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			closeOnCleanup(t, client, server)
			go func() { _, _ = client.Write(tt.input) }()
			rc := &recConn{Conn: server}
			_, _, _ = sniff.Peek(rc, tt.timeout, 0)
			if len(rc.deadlines) != tt.calls {
				t.Fatalf("SetReadDeadline called %d times (%v), want %d", len(rc.deadlines), rc.deadlines, tt.calls)
			}
			if tt.calls > 0 && (rc.deadlines[0].IsZero() || !rc.deadlines[1].IsZero()) {
				t.Errorf("deadlines = %v, want set then cleared", rc.deadlines)
			}
		})
	}
}

// TestConnReplay checks the returned conn yields the prefix exactly once and then the
// rest of the stream, through Read and through WriteTo, and writes to the client.
func TestConnReplay(t *testing.T) {
	record := captureHello(t, &tls.Config{ServerName: "x.example"})
	stream := append(bytes.Clone(record), "early bytes after the hello"...)
	const rest = "and the rest of the stream"
	for _, via := range []string{"Read", "WriteTo"} {
		t.Run(via, func(t *testing.T) {
			client, server := net.Pipe()
			closeOnCleanup(t, server)
			gotHi := make(chan string, 1)
			go func() {
				defer func() { _ = client.Close() }() // the server's EOF, once it has written to us
				_, _ = client.Write(stream)
				_, _ = client.Write([]byte(rest))
				buf := make([]byte, 2)
				_, _ = io.ReadFull(client, buf)
				gotHi <- string(buf)
			}()
			_, conn, err := sniff.Peek(server, 10*time.Second, 0)
			if err != nil {
				t.Fatalf("Peek: %v", err)
			}
			sc := conn.(*sniff.Conn)
			if p := sc.Prefix(); len(p) < len(record) || !bytes.HasPrefix(stream, p) {
				t.Fatalf("prefix is %d bytes, not a prefix of the stream", len(p))
			}
			// net.Pipe is unbuffered: write while the client is still writing.
			wrote := make(chan error, 1)
			go func() { _, err := conn.Write([]byte("hi")); wrote <- err }()
			var got []byte
			if via == "Read" {
				// One byte per Read: the prefix/stream boundary is crossed mid-way.
				for b := make([]byte, 1); ; {
					n, err := conn.Read(b)
					got = append(got, b[:n]...)
					if err != nil {
						break
					}
				}
			} else {
				var buf bytes.Buffer
				if _, err := io.Copy(&buf, conn); err != nil {
					t.Fatalf("io.Copy: %v", err)
				}
				got = buf.Bytes()
			}
			if want := string(stream) + rest; string(got) != want {
				t.Errorf("got %d bytes, want %d (prefix once, then the stream)", len(got), len(want))
			}
			if err := <-wrote; err != nil || <-gotHi != "hi" {
				t.Errorf("Write to the client: %v", err)
			}
			if len(sc.Prefix()) != 0 {
				t.Errorf("prefix not drained")
			}
			if err := sc.CloseWrite(); !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("CloseWrite on a pipe = %v, want ErrUnsupported", err)
			}
		})
	}
}
