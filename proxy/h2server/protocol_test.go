package h2server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawClient is an HTTP/2 client driven frame by frame, for what client libraries do not
// send. Its reader keeps the send windows the server grants and passes the other frames
// on.
type rawClient struct {
	t      testing.TB
	conn   *tls.Conn
	fr     *http2.Framer
	wmu    sync.Mutex
	henc   *hpack.Encoder
	hbuf   bytes.Buffer
	frames chan http2.Frame
	// windows the server granted: the connection's and stream 1's.
	connWindow, streamWindow atomic.Int64
}

func dialRaw(t testing.TB, ts *testServer, settings ...http2.Setting) *rawClient {
	t.Helper()
	_, pool := testCert()
	conn, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &rawClient{t: t, conn: conn, fr: http2.NewFramer(conn, conn), frames: make(chan http2.Frame, 1024)}
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.connWindow.Store(65535)
	c.streamWindow.Store(65535)
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	go c.read()
	return c
}

func (c *rawClient) read() {
	defer close(c.frames)
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
					c.streamWindow.Add(int64(v) - 65535)
				}
				c.wmu.Lock()
				_ = c.fr.WriteSettingsAck()
				c.wmu.Unlock()
			}
			continue
		case *http2.WindowUpdateFrame:
			switch f.StreamID {
			case 0:
				c.connWindow.Add(int64(f.Increment))
			case 1:
				c.streamWindow.Add(int64(f.Increment))
			}
			continue
		}
		c.frames <- f
	}
}

// headers sends a request's HEADERS.
func (c *rawClient) headers(id uint32, method string, endStream bool, extra ...string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.hbuf.Reset()
	fields := []string{":method", method, ":scheme", "https", ":authority", "localhost", ":path", "/"}
	fields = append(fields, extra...)
	for i := 0; i < len(fields); i += 2 {
		_ = c.henc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndStream: endStream, EndHeaders: true}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) write(f func(*http2.Framer) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return f(c.fr)
}

// next returns the next frame that satisfies want, failing the test at the deadline.
func (c *rawClient) next(what string, want func(http2.Frame) bool) http2.Frame {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("the connection ended before %s", what)
			}
			if want(f) {
				return f
			}
		case <-timeout:
			c.t.Fatalf("no %s", what)
		}
	}
}

func isEndOf(id uint32) func(http2.Frame) bool {
	return func(f http2.Frame) bool {
		switch f := f.(type) {
		case *http2.DataFrame:
			return f.StreamID == id && f.StreamEnded()
		case *http2.MetaHeadersFrame:
			return f.StreamID == id && f.StreamEnded()
		}
		return false
	}
}

// TestAPaddedUploadDoesNotStall: the padding of DATA frames is given back to the stream's
// window at once; otherwise an upload of mostly padding stops when the window is used up.
func TestAPaddedUploadDoesNotStall(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, strings.Repeat("x", int(n%7)))
	}), true, nil)
	c := dialRaw(t, ts)
	c.headers(1, "POST", false)
	pad := make([]byte, 254)
	const frames = 6000 // 1.5 MB of windows: beyond the stream's 1 MiB
	for i := range frames {
		deadline := time.Now().Add(10 * time.Second)
		for c.connWindow.Load() < 255 || c.streamWindow.Load() < 255 {
			if time.Now().After(deadline) {
				t.Fatalf("the upload stalled after %d padded frames: stream window %d, connection window %d", i, c.streamWindow.Load(), c.connWindow.Load())
			}
			time.Sleep(time.Millisecond)
		}
		c.connWindow.Add(-255)
		c.streamWindow.Add(-255)
		if err := c.write(func(fr *http2.Framer) error { return fr.WriteDataPadded(1, false, []byte{'a'}, pad) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.write(func(fr *http2.Framer) error { return fr.WriteData(1, true, nil) }); err != nil {
		t.Fatal(err)
	}
	c.next("answer to the padded upload", isEndOf(1))
}

// TestABodyBufferHoldsWhatTheWindowsAllow: a handler slower than its client keeps at most
// about the stream's window buffered, however long the upload.
func TestABodyBufferHoldsWhatTheWindowsAllow(t *testing.T) {
	var largest atomic.Int64
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := r.Body.(*body)
		buf := make([]byte, 32<<10)
		for {
			_, err := r.Body.Read(buf)
			b.st.sc.mu.Lock()
			if c := int64(cap(b.buf)); c > largest.Load() {
				largest.Store(c)
			}
			b.st.sc.mu.Unlock()
			if err != nil {
				break
			}
			time.Sleep(200 * time.Microsecond) // a slow backend
		}
	}), true, nil)
	resp, err := ts.client.Post(ts.url("/"), "application/octet-stream", bytes.NewReader(make([]byte, 8<<20)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := largest.Load(); got > 2<<20 {
		t.Errorf("the body buffer grew to %d bytes for a 1 MiB window", got)
	}
}

// TestShutdownEndsAtItsContextWhenAClientDoesNotRead: a handler blocked writing to a
// client that stopped reading does not keep Shutdown past its context.
func TestShutdownEndsAtItsContextWhenAClientDoesNotRead(t *testing.T) {
	writing := make(chan struct{})
	var once sync.Once
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 16<<10)
		for i := 0; r.Context().Err() == nil; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if i == 64 {
				once.Do(func() { close(writing) })
			}
		}
	}), true, nil)
	c := dialRaw(t, ts, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
	_ = c.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1-65535) })
	c.headers(1, "GET", true)
	<-writing
	// From here the test reads nothing: the client's reader blocks on its full channel
	// (once 1024 frames are in), the socket buffers fill, and the handler's write blocks.
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown: %v, want the context's deadline", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return at its context's deadline")
	}
}

// TestFramesOfStreamsAfterAGoAwayAreDropped: after a graceful GOAWAY, a request that
// crossed it is ignored, its DATA included, and the stream the GOAWAY kept finishes.
func TestFramesOfStreamsAfterAGoAwayAreDropped(t *testing.T) {
	release := make(chan struct{})
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close") // net/http's way to ask for a GOAWAY
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "done")
	}), true, nil)
	c := dialRaw(t, ts)
	c.headers(1, "GET", true)
	c.next("GOAWAY", func(f http2.Frame) bool {
		g, ok := f.(*http2.GoAwayFrame)
		return ok && g.ErrCode == http2.ErrCodeNo
	})
	c.headers(3, "POST", false)
	_ = c.write(func(fr *http2.Framer) error { return fr.WriteData(3, true, []byte("crossed")) })
	_ = c.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{1}) })
	c.next("PING ack", func(f http2.Frame) bool {
		if g, ok := f.(*http2.GoAwayFrame); ok {
			t.Fatalf("a second GOAWAY (%v) for the frames of an ignored stream", g.ErrCode)
		}
		p, ok := f.(*http2.PingFrame)
		return ok && p.IsAck()
	})
	close(release)
	c.next("the end of stream 1", isEndOf(1))
}

// TestAClientThatSendsNoPrefaceIsClosed: a connection whose preface does not come within
// PrefaceTimeout is closed.
func TestAClientThatSendsNoPrefaceIsClosed(t *testing.T) {
	ts := startServer(t, http.NotFoundHandler(), true, func(s *Server) { s.PrefaceTimeout = 100 * time.Millisecond })
	_, pool := testCert()
	conn, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, _ = conn.Write([]byte(http2.ClientPreface[:10]))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Errorf("the connection was not closed: %v", err)
	}
}

// TestAnIdleCloseLingers: after the idle timer's GOAWAY, the server keeps reading what the
// client still sends (a request that crossed the GOAWAY) for a while before it closes.
// Closing at once, with such bytes unread, resets the connection, and a reset can take the
// GOAWAY (and the client's knowledge that the request was not served) with it.
func TestAnIdleCloseLingers(t *testing.T) {
	ts := startServer(t, http.NotFoundHandler(), true, func(s *Server) { s.IdleTimeout = 50 * time.Millisecond })
	c := dialRaw(t, ts)
	c.next("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	sent := time.Now()
	c.headers(1, "GET", true) // crossed the GOAWAY
	for f := range c.frames {
		t.Errorf("a frame after the GOAWAY: %v", f)
	}
	if d := time.Since(sent); d < goAwayLinger/2 {
		t.Errorf("the connection closed %v after the GOAWAY, want it read for about %v", d, goAwayLinger)
	}
}

// TestAStreamOpenedAsTheIdleTimerFiresIsLeftForTheClientToRetry: when the idle timer
// fires while the reader makes a new stream's request, the GOAWAY's last stream is below
// the new one and the stream is not served, so the client's retry elsewhere is the only
// time it runs.
func TestAStreamOpenedAsTheIdleTimerFiresIsLeftForTheClientToRetry(t *testing.T) {
	var served atomic.Int32
	ts := startServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }), true,
		func(s *Server) { s.IdleTimeout = time.Hour })
	testHookRequestMade = func(sc *conn) { sc.idleTimeout() }
	defer func() { testHookRequestMade = nil }()
	c := dialRaw(t, ts)
	c.headers(1, "GET", true)
	g := c.next("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }).(*http2.GoAwayFrame)
	if g.LastStreamID != 0 || g.ErrCode != http2.ErrCodeNo {
		t.Fatalf("GOAWAY last stream %d, %v; want 0, NO_ERROR", g.LastStreamID, g.ErrCode)
	}
	for f := range c.frames {
		if h, ok := f.(*http2.MetaHeadersFrame); ok {
			t.Errorf("stream %d was answered after a GOAWAY that left it out", h.StreamID)
		}
	}
	if served.Load() != 0 {
		t.Error("the handler ran for a stream the GOAWAY left out")
	}
}

// lockedLog collects a server's log lines.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAStrayContinuationIsAConnectionError: a CONTINUATION the Framer lets through after
// a HEADERS it refused itself (a pad length beyond the payload), or one of another stream,
// ends the connection with PROTOCOL_ERROR; it is never decoded as part of another block
// (which once dereferenced a block that was never started and took the process down).
func TestAStrayContinuationIsAConnectionError(t *testing.T) {
	for _, openFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("a stream open before: %v", openFirst), func(t *testing.T) {
			logs := &lockedLog{}
			ts := startServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }),
				true, func(s *Server) { s.ErrorLog = log.New(logs, "", 0) })
			c := dialRaw(t, ts)
			id := uint32(1)
			if openFirst {
				c.headers(1, "POST", false)
				id = 3
			}
			_ = c.write(func(fr *http2.Framer) error {
				return fr.WriteRawFrame(http2.FrameHeaders, http2.FlagHeadersPadded, id, []byte{10, 0x82})
			})
			_ = c.write(func(fr *http2.Framer) error { return fr.WriteContinuation(id, true, []byte{0x82}) })
			g := c.next("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }).(*http2.GoAwayFrame)
			if g.ErrCode != http2.ErrCodeProtocol {
				t.Errorf("GOAWAY %v, want PROTOCOL_ERROR", g.ErrCode)
			}
			if strings.Contains(logs.String(), "panic") {
				t.Errorf("the reader panicked:\n%s", logs)
			}
		})
	}
}

// TestShutdownBeforeThePrefaceStillSendsAGoAway: a connection that had not sent its
// preface when Shutdown began gets the SETTINGS and then a GOAWAY that takes no stream,
// so its client sends its requests elsewhere instead of losing them.
func TestShutdownBeforeThePrefaceStillSendsAGoAway(t *testing.T) {
	var served atomic.Int32
	ts := startServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }), true, nil)
	_, pool := testCert()
	conn, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// Shutdown while the server waits for the preface, once it serves the connection (the
	// client's handshake ends before the server's: a connection it takes after Shutdown
	// began is closed at once, as net/http's are).
	for tracked := 0; tracked == 0; {
		ts.srv.mu.Lock()
		tracked = len(ts.srv.conns)
		ts.srv.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- ts.srv.Shutdown(ctx)
	}()
	for !ts.srv.closing.Load() {
		time.Sleep(time.Millisecond)
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	_, _ = conn.Write([]byte(http2.ClientPreface))
	_ = fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", "/"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	var goAway *http2.GoAwayFrame
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			break
		}
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			goAway = f
		case *http2.MetaHeadersFrame:
			t.Errorf("stream %d was answered during the shutdown", f.StreamID)
		}
	}
	if goAway == nil || goAway.LastStreamID != 0 || goAway.ErrCode != http2.ErrCodeNo {
		t.Errorf("GOAWAY %+v, want one that takes no stream, NO_ERROR", goAway)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if served.Load() != 0 {
		t.Error("the handler ran during the shutdown")
	}
}

// TestTheReadTimeoutTimerEndsWithItsStream: the timer that bounds a request body's reads
// (ReadTimeout) is stopped when its stream ends, instead of holding it until it fires.
func TestTheReadTimeoutTimerEndsWithItsStream(t *testing.T) {
	bodies := make(chan *body, 1)
	ts := startServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		bodies <- r.Body.(*body)
	}), true, func(s *Server) { s.ReadTimeout = time.Hour })
	resp, err := ts.client.Post(ts.url("/"), "text/plain", io.MultiReader(strings.NewReader("a"), strings.NewReader("b")))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	b := <-bodies
	sc := b.st.sc
	for end := time.Now().Add(5 * time.Second); ; {
		sc.mu.Lock()
		pending, closed := b.deadline != nil, b.st.closed
		sc.mu.Unlock()
		if closed && !pending {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("stream closed %v, its ReadTimeout timer pending %v", closed, pending)
		}
		time.Sleep(time.Millisecond)
	}
}
