package upstream

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The HTTP/2 client reports a connection that dies before its first request as
// "http2: client conn could not be established", EOF or a broken pipe, and drops the read
// error that killed it. That is exactly how two common failures look over h2:
//   - TLS 1.3 client certificates: the backend checks ours (or its absence) after our
//     handshake has completed, so its certificate_required or bad_certificate alert
//     arrives on the first read, which only the HTTP/2 read loop sees;
//   - h2c to a TLS port: the backend's TLS alert is read as an HTTP/2 frame.
//
// So the dialer notes per endpoint what the last connection revealed (the backend asked
// for a client certificate; the first bytes were TLS), and RoundTrip uses the note only
// for an error that would otherwise read ConnectionReset. A note never touches a live
// connection, is cleared by the endpoint's next success, and expires quickly: the HTTP/2
// client gives up on an unused connection within seconds.
const hintTTL = 10 * time.Second

// maxHints bounds the notes per transport when endpoints churn.
const maxHints = 1024

type hint struct {
	reason  Reason
	message string
	at      time.Time
}

type hints struct {
	n  atomic.Int32 // len(m): lets the success path skip the lock when there is no note
	mu sync.Mutex
	m  map[string]hint
}

func (h *hints) set(endpoint string, v hint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]hint{}
	}
	if len(h.m) >= maxHints {
		for k, old := range h.m {
			if time.Since(old.at) > hintTTL {
				delete(h.m, k)
			}
		}
		h.n.Store(int32(len(h.m)))
		if len(h.m) >= maxHints {
			return // all fresh: losing a hint only costs a less precise reason
		}
	}
	h.m[endpoint] = v
	h.n.Store(int32(len(h.m)))
}

func (h *hints) clear(endpoint string) {
	if h.n.Load() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, endpoint)
	h.n.Store(int32(len(h.m)))
}

func (h *hints) get(endpoint string) (hint, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[endpoint]
	return v, ok && time.Since(v.at) <= hintTTL
}

// notEstablished recognises the HTTP/2 client's error for a connection that died before
// its first request; the value is unexported, so its text is what we can match.
func notEstablished(err error) bool {
	return strings.Contains(err.Error(), "client conn could not be established")
}

// noteHandshake records what a TLS 1.3 handshake implies for the first read. Before 1.3
// the backend judged our certificate inside the handshake and the error already says so.
func (u *upstream) noteHandshake(endpoint string, version uint16, certRequested bool) {
	if version < 0x0304 {
		return
	}
	if !certRequested {
		u.hints.clear(endpoint)
		return
	}
	v := hint{reason: ClientCertificateRequired, at: time.Now(),
		message: "the backend at " + endpoint + " asked for a client certificate, we have none to send, and it closed the connection right after the handshake; it requires one: set certificatesSecrets on the ServersTransport"}
	if u.hasClientCert {
		v.message = "the backend at " + endpoint + " closed the connection right after the handshake in which we presented our client certificate; it most likely rejected it: issue it from a CA the backend trusts"
	}
	u.hints.set(endpoint, v)
}

// sniffConn watches the first bytes of an h2c connection: a TLS record there means the
// port speaks TLS. Only the HTTP/2 read loop reads, so the flag needs no lock.
type sniffConn struct {
	net.Conn
	sniffed bool
	onTLS   func()
}

func (c *sniffConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if !c.sniffed && n > 0 {
		c.sniffed = true
		// Content type alert (21) or handshake (22), then major version 3.
		if n >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 {
			c.onTLS()
		}
	}
	return n, err
}
