package sniff

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Conn is the net.Conn Peek returns: Read replays the bytes Peek read (the prefix)
// exactly once, then reads from the underlying conn; everything else goes straight to
// the underlying conn.
//
// A passthrough that wants zero-copy either calls io.Copy(dst, c) (WriteTo writes the
// prefix, then copies from the underlying conn, so *net.TCPConn to *net.TCPConn can
// splice) or writes Prefix() itself and then copies from Underlying(). Do not mix that
// with Read: Prefix does not consume, and Read and Prefix are not safe to call
// concurrently (like bufio.Reader). Every other method is as safe as the underlying conn's.
type Conn struct {
	raw    net.Conn
	prefix []byte // bytes Read has yet to return
}

// Underlying returns the conn Peek read from, with its concrete type (e.g.
// *net.TCPConn) for splice, CloseRead and socket options.
func (c *Conn) Underlying() net.Conn { return c.raw }

// Prefix returns the bytes read during Peek that Read has not yet returned: all of them
// until the first Read. It does not consume them; the slice must not be modified.
func (c *Conn) Prefix() []byte { return c.prefix }

// Read returns the prefix first, then reads from the underlying conn. It never mixes
// the two in one call, so a short prefix read is followed by an ordinary Read.
func (c *Conn) Read(p []byte) (int, error) {
	if len(c.prefix) == 0 {
		return c.raw.Read(p)
	}
	n := copy(p, c.prefix)
	c.prefix = c.prefix[n:]
	if len(c.prefix) == 0 {
		c.prefix = nil // let the buffer go once replayed
	}
	return n, nil
}

// WriteTo writes the prefix to w and then copies the underlying conn to w until EOF.
// It lets io.Copy(dst, c) use dst.ReadFrom(underlying), which splices between TCP
// conns on Linux, instead of copying through a buffer.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if len(c.prefix) > 0 {
		n, err := w.Write(c.prefix)
		total += int64(n)
		c.prefix = c.prefix[n:]
		if err != nil {
			return total, err
		}
		if len(c.prefix) > 0 {
			return total, io.ErrShortWrite
		}
		c.prefix = nil
	}
	n, err := io.Copy(w, c.raw)
	return total + n, err
}

// ReadFrom copies r to the underlying conn, so io.Copy(c, src) keeps the underlying
// conn's own ReadFrom (splice, sendfile).
func (c *Conn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.raw, r) }

// Write writes to the underlying conn.
func (c *Conn) Write(p []byte) (int, error) { return c.raw.Write(p) }

// CloseWrite half-closes the underlying conn, which a passthrough needs to forward a
// client's or backend's FIN; it fails with errors.ErrUnsupported when the underlying
// conn cannot half-close.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.raw.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("sniff: %T cannot half-close: %w", c.raw, errors.ErrUnsupported)
}

// Close closes the underlying conn.
func (c *Conn) Close() error { return c.raw.Close() }

// LocalAddr returns the underlying conn's local address.
func (c *Conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the underlying conn's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the underlying conn's deadlines; a Read served from the prefix does
// not block, so it never times out.
func (c *Conn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the underlying conn's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the underlying conn's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }
