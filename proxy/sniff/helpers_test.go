package sniff_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// captureHello returns the exact bytes a real crypto/tls client writes as its first
// flight: the ClientHello record(s). The client's Read fails at once, so nothing waits.
func captureHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	cc := &captureConn{}
	if err := tls.Client(cc, cfg).Handshake(); err == nil {
		t.Fatal("handshake against captureConn succeeded")
	}
	hello := firstFlight(cc.buf.Bytes())
	if len(hello) == 0 {
		t.Fatalf("client wrote no ClientHello: %x", cc.buf.Bytes())
	}
	return hello
}

// firstFlight keeps the leading handshake records that carry the first handshake
// message, dropping anything written after it (e.g. an alert).
func firstFlight(b []byte) []byte {
	var msg []byte
	end := 0
	for len(b)-end >= 5 && b[end] == 0x16 {
		n := int(binary.BigEndian.Uint16(b[end+3:]))
		if len(b)-end-5 < n {
			break
		}
		msg = append(msg, b[end+5:end+5+n]...)
		end += 5 + n
		if len(msg) >= 4 && len(msg) >= 4+int(msg[1])<<16|int(msg[2])<<8|int(msg[3]) {
			return b[:end]
		}
	}
	return nil
}

// captureConn records writes and fails reads.
type captureConn struct {
	fakeAddrs
	buf bytes.Buffer
}

func (c *captureConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (c *captureConn) Write(p []byte) (int, error) { return c.buf.Write(p) }
func (c *captureConn) Close() error                { return nil }

// refragment re-cuts the handshake data carried by hello's records into parts records
// of type 22 with correct headers and hello's record-layer version.
func refragment(t testing.TB, hello []byte, parts int) []byte {
	t.Helper()
	var msg []byte
	for b := hello; len(b) > 0; {
		if len(b) < 5 || b[0] != 0x16 {
			t.Fatalf("not a handshake record stream: %x", b)
		}
		n := int(binary.BigEndian.Uint16(b[3:]))
		msg = append(msg, b[5:5+n]...)
		b = b[5+n:]
	}
	if parts > len(msg) {
		t.Fatalf("cannot cut %d bytes into %d records", len(msg), parts)
	}
	var out []byte
	size := (len(msg) + parts - 1) / parts
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, 0x16, hello[1], hello[2], byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// helloSpec describes a hand-made ClientHello, for cases real clients never send.
type helloSpec struct {
	legacy     uint16   // ClientHello.legacy_version
	sni        string   // server_name, written verbatim; "" leaves it out
	alpn       []string // nil leaves it out
	versions   []uint16 // supported_versions; nil leaves it out
	noExtBlock bool     // omit the extensions block entirely (SSL 3.0 style)
}

// buildHello encodes s as one TLS record.
func buildHello(s helloSpec) []byte {
	var body []byte
	body = binary.BigEndian.AppendUint16(body, s.legacy)
	body = append(body, make([]byte, 32)...)       // random
	body = append(body, 0)                         // empty session id
	body = append(body, 0, 4, 0xc0, 0x2f, 0x13, 1) // ECDHE-RSA-AES128-GCM, TLS_AES_128_GCM
	body = append(body, 1, 0)                      // null compression
	if !s.noExtBlock {
		var ext []byte
		if s.sni != "" {
			name := append([]byte{0}, u16(len(s.sni))...)
			name = append(name, s.sni...)
			ext = appendExt(ext, 0, append(u16(len(name)), name...))
		}
		if s.alpn != nil {
			var list []byte
			for _, p := range s.alpn {
				list = append(append(list, byte(len(p))), p...)
			}
			ext = appendExt(ext, 16, append(u16(len(list)), list...))
		}
		if s.versions != nil {
			list := []byte{byte(2 * len(s.versions))}
			for _, v := range s.versions {
				list = binary.BigEndian.AppendUint16(list, v)
			}
			ext = appendExt(ext, 43, list)
		}
		body = append(append(body, u16(len(ext))...), ext...)
	}
	msg := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

func appendExt(b []byte, typ uint16, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(append(b, u16(len(data))...), data...)
}

func u16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

// byteConn is an in-memory net.Conn whose Read returns at most chunk bytes, to show
// that how the bytes arrive does not matter. It counts what was read.
type byteConn struct {
	fakeAddrs
	r     *bytes.Reader
	chunk int
	read  int
}

func (c *byteConn) Read(p []byte) (int, error) {
	if len(p) > c.chunk {
		p = p[:c.chunk]
	}
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}
func (c *byteConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *byteConn) Close() error                { return nil }

// fakeAddrs fills in the net.Conn methods that in-memory conns do not need.
type fakeAddrs struct{}

func (fakeAddrs) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (fakeAddrs) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (fakeAddrs) SetDeadline(time.Time) error      { return nil }
func (fakeAddrs) SetReadDeadline(time.Time) error  { return nil }
func (fakeAddrs) SetWriteDeadline(time.Time) error { return nil }

// recConn records what goes through a real conn in each direction and every read
// deadline set on it.
type recConn struct {
	net.Conn
	mu        sync.Mutex
	in, out   bytes.Buffer
	deadlines []time.Time
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadlines = append(c.deadlines, t)
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

// sent returns a copy of everything written so far.
func (c *recConn) sent() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

// received returns a copy of everything read so far.
func (c *recConn) received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.in.Bytes())
}
