package sniff_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/proxy/sniff"
)

// peekRealClient runs a real crypto/tls client against Peek over net.Pipe. It returns
// what Peek saw, its prefix, and the bytes the client wrote.
func peekRealClient(t *testing.T, cfg *tls.Config) (*sniff.Hello, []byte, []byte) {
	t.Helper()
	client, server := net.Pipe()
	rc := &recConn{Conn: client}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tls.Client(rc, cfg).Handshake() // fails once server is closed
	}()
	hello, conn, err := sniff.Peek(server, 10*time.Second, 0)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	prefix := bytes.Clone(conn.(*sniff.Conn).Prefix())
	_ = server.Close()
	<-done
	_ = client.Close()
	return hello, prefix, rc.sent()
}

func TestPeekRealClient(t *testing.T) {
	tests := []struct {
		name     string
		cfg      *tls.Config
		wantSNI  string
		wantALPN []string
		wantVers []uint16
	}{
		{
			name:     "sni and alpn",
			cfg:      &tls.Config{ServerName: "api.example.com", NextProtos: []string{"h2", "http/1.1"}},
			wantSNI:  "api.example.com",
			wantALPN: []string{"h2", "http/1.1"},
			wantVers: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		},
		{
			name:     "no sni",
			cfg:      &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // no server answers; we only look at the hello
			wantVers: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		},
		{
			// Clients never put IP literals in SNI (RFC 6066).
			name:     "ip literal",
			cfg:      &tls.Config{ServerName: "127.0.0.1"},
			wantVers: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		},
		{
			// crypto/tls's client drops the trailing dot and keeps the case; Peek lowers it.
			name:     "upper case and trailing dot",
			cfg:      &tls.Config{ServerName: "API.Example.COM.", NextProtos: []string{"http/1.1"}},
			wantSNI:  "api.example.com",
			wantALPN: []string{"http/1.1"},
			wantVers: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		},
		{
			name:     "tls 1.2 only",
			cfg:      &tls.Config{ServerName: "old.example.com", MaxVersion: tls.VersionTLS12},
			wantSNI:  "old.example.com",
			wantVers: []uint16{tls.VersionTLS12},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hello, prefix, sent := peekRealClient(t, tt.cfg)
			if hello.ServerName != tt.wantSNI {
				t.Errorf("ServerName = %q, want %q", hello.ServerName, tt.wantSNI)
			}
			if !slices.Equal(hello.ALPN, tt.wantALPN) {
				t.Errorf("ALPN = %q, want %q", hello.ALPN, tt.wantALPN)
			}
			if !slices.Equal(hello.Versions, tt.wantVers) {
				t.Errorf("Versions = %#x, want %#x", hello.Versions, tt.wantVers)
			}
			// The client sends its hello and waits, so the prefix is exactly its bytes.
			if !bytes.Equal(prefix, sent) {
				t.Errorf("prefix (%d bytes) != client's bytes (%d bytes)", len(prefix), len(sent))
			}
		})
	}
}

func TestParseClientHello(t *testing.T) {
	tests := []struct {
		name     string
		spec     helloSpec
		wantSNI  string
		wantALPN []string
		wantVers []uint16
		wantErr  bool
	}{
		{name: "legacy version without supported_versions", spec: helloSpec{legacy: 0x0303, sni: "Example.COM"},
			wantSNI: "example.com", wantVers: []uint16{0x0303}},
		{name: "ssl 3.0 style, no extensions block", spec: helloSpec{legacy: 0x0300, noExtBlock: true},
			wantVers: []uint16{0x0300}},
		{name: "supported_versions as sent, grease included",
			spec:     helloSpec{legacy: 0x0303, sni: "a.example", versions: []uint16{0x7a7a, 0x0304, 0x0303}},
			wantSNI:  "a.example",
			wantVers: []uint16{0x7a7a, 0x0304, 0x0303}},
		{name: "alpn order kept", spec: helloSpec{legacy: 0x0303, alpn: []string{"http/1.1", "h2", "acme-tls/1"}},
			wantALPN: []string{"http/1.1", "h2", "acme-tls/1"}, wantVers: []uint16{0x0303}},
		{name: "only ascii is lowered", spec: helloSpec{legacy: 0x0303, sni: "CAF\xc3\x89.Example"},
			wantSNI: "caf\xc3\x89.example", wantVers: []uint16{0x0303}},
		// RFC 6066 forbids the trailing dot and crypto/tls rejects the whole hello.
		{name: "raw trailing dot", spec: helloSpec{legacy: 0x0303, sni: "example.com."}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hello, err := sniff.ParseClientHello(buildHello(tt.spec))
			if tt.wantErr {
				if err == nil || errors.Is(err, sniff.ErrNotTLS) || errors.Is(err, sniff.ErrTooLarge) {
					t.Fatalf("err = %v, want a malformed-hello error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseClientHello: %v", err)
			}
			if hello.ServerName != tt.wantSNI || !slices.Equal(hello.ALPN, tt.wantALPN) || !slices.Equal(hello.Versions, tt.wantVers) {
				t.Errorf("got %+v, want SNI %q ALPN %q Versions %#x", hello, tt.wantSNI, tt.wantALPN, tt.wantVers)
			}
		})
	}
}

func TestPeekFragmented(t *testing.T) {
	cfg := &tls.Config{ServerName: "frag.example.com", NextProtos: []string{"h2"}}
	record := captureHello(t, cfg)
	frag := refragment(t, record, 3)
	if n := bytes.Count(frag, []byte{0x16, record[1], record[2]}); n < 3 || len(frag) != len(record)+10 {
		t.Fatalf("refragment produced %d bytes from %d (want 3 records)", len(frag), len(record))
	}
	want, err := sniff.ParseClientHello(record)
	if err != nil {
		t.Fatalf("ParseClientHello(one record): %v", err)
	}
	if want.ServerName != "frag.example.com" {
		t.Fatalf("ServerName = %q", want.ServerName)
	}
	for _, tt := range []struct {
		name  string
		chunk int
	}{{"three records at once", 1 << 16}, {"three records a byte per read", 1}} {
		t.Run(tt.name, func(t *testing.T) {
			conn := &byteConn{r: bytes.NewReader(frag), chunk: tt.chunk}
			hello, c, err := sniff.Peek(conn, time.Second, 0)
			if err != nil {
				t.Fatalf("Peek: %v", err)
			}
			if hello.ServerName != want.ServerName || !slices.Equal(hello.ALPN, want.ALPN) || !slices.Equal(hello.Versions, want.Versions) {
				t.Errorf("got %+v, want %+v", hello, want)
			}
			if !bytes.Equal(c.(*sniff.Conn).Prefix(), frag) {
				t.Errorf("prefix differs from the fragmented bytes")
			}
		})
	}
}

// TestPeekThenTerminate shows Peek consumed nothing: a real TLS server completes the
// handshake over the returned conn, and data flows both ways.
func TestPeekThenTerminate(t *testing.T) {
	leaf := testCA.MustIssue("backend.test", leafOptions("backend.test"))
	ln := listen(t)
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := &recConn{Conn: raw}
	closeOnCleanup(t, client)
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	clientErr := make(chan error, 1)
	go func() {
		tc := tls.Client(client, &tls.Config{ServerName: "Backend.Test", RootCAs: testCA.Pool(), NextProtos: []string{"h2", "http/1.1"}})
		clientErr <- pingPong(tc, "ping", "pong")
	}()

	accepted := accept(t, ln)
	hello, conn, err := sniff.Peek(accepted, 5*time.Second, 0)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	if hello.ServerName != "backend.test" || !slices.Equal(hello.ALPN, []string{"h2", "http/1.1"}) {
		t.Errorf("hello = %+v", hello)
	}
	sc := conn.(*sniff.Conn)
	if _, ok := sc.Underlying().(*net.TCPConn); !ok {
		t.Errorf("Underlying() is %T, want *net.TCPConn", sc.Underlying())
	}
	prefix := bytes.Clone(sc.Prefix())

	srv := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, NextProtos: []string{"h2"}})
	if err := pingPongServer(srv, "ping", "pong"); err != nil {
		t.Fatalf("server: %v", err)
	}
	if got := srv.ConnectionState().NegotiatedProtocol; got != "h2" {
		t.Errorf("negotiated %q, want h2", got)
	}
	if err := <-clientErr; err != nil {
		t.Fatalf("client: %v", err)
	}
	if sent := client.sent(); !bytes.HasPrefix(sent, prefix) || !bytes.Equal(prefix, firstFlight(sent)) {
		t.Errorf("prefix is not the client's first flight")
	}
}

func TestPeekTimeout(t *testing.T) {
	client, server := net.Pipe()
	closeOnCleanup(t, client, server)
	// A record header announcing 16 KiB, then silence.
	go func() { _, _ = client.Write([]byte{0x16, 3, 1, 0x40, 0x00}) }()
	const timeout = 200 * time.Millisecond
	start := time.Now()
	_, conn, err := sniff.Peek(server, timeout, 0)
	elapsed := time.Since(start)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want os.ErrDeadlineExceeded", err)
	}
	if conn != nil {
		t.Errorf("conn = %v, want nil on timeout", conn)
	}
	if elapsed < timeout || elapsed > timeout+2*time.Second {
		t.Errorf("Peek took %v with a %v timeout", elapsed, timeout)
	}
}

func TestPeekNotTLS(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"plain http", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"},
		// Fewer bytes than a record header: only the first-byte check can fail this
		// before the deadline.
		{"three bytes then waiting", "GET"},
		{"ssh banner", "SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n"},
		{"sslv2 hello", "\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10"},
		{"tls alert record", "\x15\x03\x01\x00\x02\x02\x28"},
		// Right first byte, but crypto/tls's record-header check says no.
		{"handshake type, nonsense version", "\x16GET / HTTP/1.1\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			closeOnCleanup(t, client, server)
			// The client writes and then waits, as a real one would: only failing on the
			// bytes themselves, not on the deadline or EOF, can end Peek quickly.
			go func() { _, _ = client.Write([]byte(tt.input)) }()
			start := time.Now()
			_, conn, err := sniff.Peek(server, 30*time.Second, 0)
			if !errors.Is(err, sniff.ErrNotTLS) {
				t.Fatalf("err = %v, want ErrNotTLS", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("ErrNotTLS took %v", d)
			}
			// The conn replays what was read, for an "HTTP request to an HTTPS port" reply.
			got := make([]byte, len(tt.input))
			if _, err := io.ReadFull(conn, got); err != nil || string(got) != tt.input {
				t.Errorf("replay = %q, %v; want %q", got, err, tt.input)
			}
		})
	}
	if _, err := sniff.ParseClientHello([]byte("GET / HTTP/1.0\r\n\r\n")); !errors.Is(err, sniff.ErrNotTLS) {
		t.Errorf("ParseClientHello(http) = %v, want ErrNotTLS", err)
	}
}

func TestPeekTooLarge(t *testing.T) {
	// A ClientHello announcing 60000 bytes (crypto/tls allows up to 64 KiB), sent as
	// full 16 KiB records.
	var stream []byte
	body := append([]byte{1, 0x00, 0xea, 0x60}, make([]byte, 60000)...)
	for len(body) > 0 {
		n := min(len(body), 16384)
		stream = append(stream, 0x16, 3, 1, byte(n>>8), byte(n))
		stream = append(stream, body[:n]...)
		body = body[n:]
	}
	const budget = 16<<10 + 512
	for _, chunk := range []int{1 << 20, 1000} {
		conn := &byteConn{r: bytes.NewReader(stream), chunk: chunk}
		_, _, err := sniff.Peek(conn, time.Second, budget)
		if !errors.Is(err, sniff.ErrTooLarge) {
			t.Fatalf("chunk %d: err = %v, want ErrTooLarge", chunk, err)
		}
		if conn.read > budget {
			t.Errorf("chunk %d: read %d bytes, budget %d", chunk, conn.read, budget)
		}
	}
}

func TestPeekReadAndParseErrors(t *testing.T) {
	record := captureHello(t, &tls.Config{ServerName: "x.example"})
	serverHello := bytes.Clone(record)
	serverHello[5] = 2 // handshake type ServerHello: valid framing, wrong message
	tests := []struct {
		name   string
		input  []byte
		target error // nil: any error that is neither ErrNotTLS nor ErrTooLarge
	}{
		{"empty", nil, io.EOF},
		{"truncated hello", record[:len(record)/2], io.EOF},
		{"header only", record[:5], io.EOF},
		{"wrong handshake message", serverHello, nil},
		{"empty handshake record", []byte{0x16, 3, 1, 0, 0}, nil},
		{"oversized record", []byte{0x16, 3, 1, 0xff, 0xff}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sniff.ParseClientHello(tt.input)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.target != nil && !errors.Is(err, tt.target):
				t.Fatalf("err = %v, want %v", err, tt.target)
			case tt.target == nil && (errors.Is(err, sniff.ErrNotTLS) || errors.Is(err, sniff.ErrTooLarge)):
				t.Fatalf("err = %v, want a malformed-hello error", err)
			}
		})
	}
}
