// Package sniff reads a client's TLS ClientHello without consuming it, so the TLS entry
// point can choose between passing the raw bytes through to a backend (SNI passthrough)
// and terminating TLS itself.
//
// The ClientHello is parsed by crypto/tls, not by a parser of our own: what we route on is
// then exactly what our own TLS server would have seen, and record reassembly, length checks
// and extension validation stay the standard library's problem. The flip side: a hello
// crypto/tls refuses (SSLv2-compatible, a trailing dot in SNI, a malformed ECH extension,
// a handshake message over 64 KiB, ...) cannot be passed through either, even to a backend
// that would have accepted it. With ECH, ServerName is the outer (public) name.
package sniff

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// Hello is what the ClientHello says.
type Hello struct {
	// ServerName is the SNI host name, ASCII lower-cased with any trailing dot removed;
	// "" when the client sent none (as clients do for IP literals).
	ServerName string
	// ALPN lists the protocols the client offers, in the client's order.
	ALPN []string
	// Versions is the supported_versions extension as sent (GREASE values included), or
	// the single legacy ClientHello.version when the extension is absent.
	Versions []uint16
}

// DefaultMaxBytes is the read budget Peek uses when maxBytes <= 0: one full 16 KiB
// record plus room for the headers of a hello fragmented into a few records and for
// crypto/tls reading a little ahead. Real ClientHellos are 0.2–2 KiB.
const DefaultMaxBytes = 16<<10 + 1<<10

var (
	// ErrNotTLS means the first bytes are not a TLS handshake record (plain HTTP, SSH,
	// SSLv2, ...). Peek still returns a conn replaying those bytes with it.
	ErrNotTLS = errors.New("sniff: not a TLS handshake")
	// ErrTooLarge means the ClientHello did not fit in the read budget.
	ErrTooLarge = errors.New("sniff: ClientHello exceeds read budget")
)

const (
	recordTypeHandshake        = 0x16 // first byte of every TLS handshake record
	recordHeaderLen            = 5
	extensionSupportedVersions = 43
	// initialBuf covers a typical ClientHello (post-quantum key shares included) in
	// one allocation.
	initialBuf = 2 << 10
	// maxEmptyReads bounds a conn that keeps returning (0, nil), as bufio does.
	maxEmptyReads = 100
)

// errStop aborts the crypto/tls handshake once the ClientHello has been parsed.
var errStop = errors.New("sniff: stop after ClientHello")

// stopConfig is shared by every Peek: crypto/tls only reads a Config, and the callback
// finds its per-call state through chi.Conn, so there is nothing to allocate per call.
var stopConfig = &tls.Config{
	GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		if rc, ok := chi.Conn.(*recordingConn); ok {
			rc.hello = helloFromInfo(chi, rc.buf)
		}
		return nil, errStop
	},
}

// Peek reads the ClientHello from conn, using crypto/tls itself to parse it, and returns
// it with a net.Conn (a *Conn) that yields every byte read so far followed by the rest
// of the stream, so a TLS server or a raw passthrough copy sees the untouched byte
// stream. Writes on the returned conn go to conn.
//
// A read deadline of timeout covers the whole peek and is cleared before Peek returns;
// timeout <= 0 leaves conn's deadlines alone. Peek never reads more than maxBytes in
// total (DefaultMaxBytes when maxBytes <= 0); what crypto/tls reads beyond the hello
// within that budget is part of the replayed prefix.
//
// Errors: ErrNotTLS when the first bytes are not a TLS handshake record (the returned
// conn is then still non-nil and replays them, so the caller can answer plain HTTP),
// ErrTooLarge, timeouts wrapping os.ErrDeadlineExceeded, read errors such as io.EOF,
// and crypto/tls's own error for a malformed ClientHello.
func Peek(conn net.Conn, timeout time.Duration, maxBytes int) (*Hello, net.Conn, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if timeout > 0 {
		if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return nil, nil, fmt.Errorf("sniff: setting read deadline: %w", err)
		}
	}
	hello, prefix, err := peek(conn, maxBytes)
	if timeout > 0 {
		// Cleared on every path: a caller answering plain HTTP after ErrNotTLS must not
		// inherit the peek's deadline either.
		if cerr := conn.SetReadDeadline(time.Time{}); cerr != nil && err == nil {
			return nil, nil, fmt.Errorf("sniff: clearing read deadline: %w", cerr)
		}
	}
	if err != nil {
		if errors.Is(err, ErrNotTLS) {
			return nil, &Conn{raw: conn, prefix: prefix}, err
		}
		return nil, nil, err
	}
	return hello, &Conn{raw: conn, prefix: prefix}, nil
}

// peek does Peek's work without the deadline handling; prefix is every byte read.
func peek(conn net.Conn, maxBytes int) (hello *Hello, prefix []byte, err error) {
	rc := &recordingConn{Conn: conn, max: maxBytes, buf: make([]byte, 0, min(maxBytes, initialBuf))}
	// Look at the first byte ourselves: crypto/tls would first wait for a whole 5-byte
	// record header, so an HTTP client that sent "GET /" and waits would cost us the
	// whole timeout instead of failing at once.
	if _, err := rc.readMore(); err != nil && len(rc.buf) == 0 {
		return nil, nil, readError(err, maxBytes)
	}
	if rc.buf[0] != recordTypeHandshake {
		return nil, rc.buf, fmt.Errorf("%w: first byte %#02x", ErrNotTLS, rc.buf[0])
	}

	herr := tls.Server(rc, stopConfig).Handshake()
	switch {
	case rc.hello != nil && errors.Is(herr, errStop):
		return rc.hello, rc.buf, nil
	case rc.failed != nil:
		// Our read failed (budget, deadline, EOF): that is the cause, whatever
		// crypto/tls made of it.
		return nil, nil, readError(rc.failed, maxBytes)
	}
	// A RecordHeaderError carrying the conn is crypto/tls's "first record does not look
	// like a TLS handshake" (e.g. a record version >= 0x1000); the oversized-record
	// variant has no conn and is a malformed hello. Only its message is kept: its Conn
	// is our write-discarding recordingConn, useless to a caller wanting to reply.
	var rhe tls.RecordHeaderError
	if errors.As(herr, &rhe) && rhe.Conn != nil {
		return nil, rc.buf, fmt.Errorf("%w: tls: %s", ErrNotTLS, rhe.Msg)
	}
	return nil, nil, fmt.Errorf("sniff: malformed ClientHello: %w", herr)
}

// readError says which read failed while keeping the cause matchable with errors.Is.
func readError(err error, maxBytes int) error {
	if errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("%w (%d bytes)", ErrTooLarge, maxBytes)
	}
	return fmt.Errorf("sniff: reading ClientHello: %w", err)
}

// helloFromInfo copies what routing needs out of crypto/tls's view of the hello. The
// slices are fresh allocations of crypto/tls's parser, shared with nothing, so they are
// kept rather than cloned.
func helloFromInfo(chi *tls.ClientHelloInfo, prefix []byte) *Hello {
	h := &Hello{ServerName: normalizeName(chi.ServerName), ALPN: chi.SupportedProtos, Versions: chi.SupportedVersions}
	// Without supported_versions crypto/tls reports every version up to the legacy one;
	// callers asked for what the client actually said, so read it from the bytes.
	if !slices.Contains(chi.Extensions, extensionSupportedVersions) {
		if v, ok := legacyVersion(prefix); ok {
			h.Versions = []uint16{v}
		}
	}
	return h
}

// normalizeName lower-cases ASCII only (DNS names compare case-insensitively in ASCII,
// RFC 4343; strings.ToLower would rewrite invalid UTF-8) and drops trailing dots.
// crypto/tls already rejects a trailing dot (RFC 6066); dropping it again is defensive.
func normalizeName(name string) string {
	for len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return name // already lower-case: no allocation
}

// legacyVersion returns ClientHello.legacy_version, the 2 bytes after the 4-byte
// handshake header, reassembled from the handshake records at the start of prefix
// (a hello may be fragmented down to 1-byte records).
func legacyVersion(prefix []byte) (uint16, bool) {
	var hs [6]byte
	n := 0
	for len(prefix) >= recordHeaderLen && n < len(hs) {
		typ, size := prefix[0], int(prefix[3])<<8|int(prefix[4])
		prefix = prefix[recordHeaderLen:]
		size = min(size, len(prefix)) // crypto/tls accepted it, but never panic
		if typ == recordTypeHandshake {
			n += copy(hs[n:], prefix[:size])
		}
		prefix = prefix[size:]
	}
	if n < len(hs) {
		return 0, false
	}
	return uint16(hs[4])<<8 | uint16(hs[5]), true
}

// recordingConn is what crypto/tls reads from: it keeps every byte it reads from the
// client (the prefix to replay), enforces the read budget, and swallows writes so the
// alert crypto/tls sends when we abort never reaches the client.
type recordingConn struct {
	net.Conn
	max    int
	buf    []byte // every byte read from the client
	off    int    // how much of buf crypto/tls has consumed
	pend   error  // read error not yet returned (it came with data)
	failed error  // read error returned to crypto/tls
	hello  *Hello // set by stopConfig's callback
}

// readMore appends one read from the client to buf, within the budget.
func (rc *recordingConn) readMore() (int, error) {
	if rc.pend != nil {
		return 0, rc.pend
	}
	room := rc.max - len(rc.buf)
	if room <= 0 {
		return 0, ErrTooLarge
	}
	if len(rc.buf) == cap(rc.buf) {
		rc.buf = slices.Grow(rc.buf, min(room, max(len(rc.buf), 512)))
	}
	spare := rc.buf[len(rc.buf):min(cap(rc.buf), len(rc.buf)+room)]
	for range maxEmptyReads {
		n, err := rc.Conn.Read(spare)
		rc.buf = rc.buf[:len(rc.buf)+n]
		if err != nil {
			rc.pend = err
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	rc.pend = io.ErrNoProgress
	return 0, rc.pend
}

// Read serves crypto/tls from buf, reading from the client only when buf is drained.
func (rc *recordingConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if rc.off == len(rc.buf) {
		if n, err := rc.readMore(); n == 0 {
			rc.failed = err
			return 0, err
		}
	}
	n := copy(p, rc.buf[rc.off:])
	rc.off += n
	return n, nil
}

// Write discards: the client must not see the alert crypto/tls sends on errStop.
func (rc *recordingConn) Write(p []byte) (int, error) { return len(p), nil }

// Close is a no-op: the caller, not crypto/tls, owns conn.
func (rc *recordingConn) Close() error { return nil }

// ParseClientHello parses data, the client's first bytes (one or more TLS records
// carrying a ClientHello), along the same path as Peek. It exists for fuzzing and tests.
func ParseClientHello(data []byte) (*Hello, error) {
	// The budget is one byte more than data so running out of input reads as
	// io.ErrUnexpectedEOF/io.EOF rather than ErrTooLarge.
	h, _, err := Peek(&readerConn{r: bytes.NewReader(data)}, 0, len(data)+1)
	return h, err
}

// readerConn is a net.Conn over an in-memory reader, for ParseClientHello.
type readerConn struct {
	r io.Reader
}

func (c *readerConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *readerConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *readerConn) Close() error                     { return nil }
func (c *readerConn) LocalAddr() net.Addr              { return pipeAddr{} }
func (c *readerConn) RemoteAddr() net.Addr             { return pipeAddr{} }
func (c *readerConn) SetDeadline(time.Time) error      { return nil }
func (c *readerConn) SetReadDeadline(time.Time) error  { return nil }
func (c *readerConn) SetWriteDeadline(time.Time) error { return nil }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "memory" }
func (pipeAddr) String() string  { return "memory" }
