// Package h2server serves HTTP/2 on client connections whose TLS handshake chose h2.
//
// Why: under the HTTP/2 bench, net/http's HTTP/2 server was most of the proxy's CPU per
// request that was not the backend exchange (docs/measurements/data-plane-cost.md). Every
// frame a handler writes goes to the connection's serve loop over a channel and back, every
// flush is written by a goroutine of its own, and every stream waits for the loop to start
// its handler. Here the connection's reader handles each frame as it comes and starts the
// stream's handler itself; a handler writes its own frames under the connection's write
// lock and flushes them. Frames are parsed and written by golang.org/x/net/http2's Framer
// and header blocks coded by its hpack package, as net/http's server does.
//
// What it keeps of net/http's server: the settings it announces and the windows it gives,
// the checks of requests (RFC 9113 section 8, net/http's 400 for connection-specific
// fields, 431 for a header list over the limit), the answers a ResponseWriter writes
// (Content-Length and Content-Type as net/http adds them, trailers, 1xx), the bound on
// handlers that run at once (rapid reset), and graceful shutdown with GOAWAY. h2spec
// checks the protocol (test/dataplane/h2spec_test.go); TestResponsesEqualNetHTTP, the
// answers.
package h2server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The windows the server gives: what a client may send on a stream, and on the connection,
// before the server reads it. They are net/http's (MaxUploadBufferPerStream,
// MaxUploadBufferPerConnection): a request body larger than one window then flows at the
// speed its handler reads it, and a connection's bodies buffer at most connWindow.
const (
	streamWindow = 1 << 20
	connWindow   = 1 << 20
	// defaultMaxStreams is net/http's limit when none is configured.
	defaultMaxStreams = 250
	// maxQueuedPerStream bounds the handlers that wait for a free slot, as a multiple of
	// the streams allowed: net/http's answer to rapid reset (CVE-2023-44487).
	maxQueuedPerStream = 4
	// goAwayLinger is how long a connection that was sent a GOAWAY for an error keeps
	// being read, so the client reads the GOAWAY before it sees the connection close.
	goAwayLinger = time.Second
	// writeChunk is the response body the writer keeps before it sends a DATA frame.
	writeChunk = 4 << 10
)

// Server serves the connections given to ServeConn.
type Server struct {
	Handler http.Handler
	// MaxConcurrentStreams is announced to clients (zero: 250).
	MaxConcurrentStreams uint32
	// MaxHeaderBytes bounds a request's header list (zero: http.DefaultMaxHeaderBytes).
	MaxHeaderBytes int
	// IdleTimeout closes a connection without streams for that long (zero: never);
	// PrefaceTimeout, one whose preface and first SETTINGS did not come in that long
	// (zero: 10s); ReadTimeout fails a request body's reads that long after its head
	// came, as net/http's ReadTimeout does (zero: never).
	IdleTimeout, PrefaceTimeout, ReadTimeout time.Duration
	ErrorLog                                 *log.Logger

	mu       sync.Mutex
	conns    map[*conn]struct{}
	workers  workerPool // the handlers' goroutines (worker.go)
	closing  atomic.Bool
	finished chan struct{} // closed when the last connection ends after Shutdown
}

func (s *Server) maxStreams() uint32 {
	if s.MaxConcurrentStreams == 0 {
		return defaultMaxStreams
	}
	return s.MaxConcurrentStreams
}

func (s *Server) maxHeaderListSize() uint32 {
	n := s.MaxHeaderBytes
	if n <= 0 {
		n = http.DefaultMaxHeaderBytes
	}
	// net/http's allowance: HTTP/2 counts 32 bytes of overhead per field, so ten
	// typical fields' worth is added to the HTTP/1 limit.
	return uint32(n + 10*32) //nolint:gosec // a configured size, far below 4 GiB
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

// conn is one client connection. Its reader goroutine (ServeConn's) reads every frame and
// keeps the streams; handlers write their own frames under wmu.
type conn struct {
	srv    *Server
	rwc    net.Conn
	ctx    context.Context
	tls    *tls.ConnectionState
	remote string
	br     *bufio.Reader
	fr     *http2.Framer
	// canon caches the canonical forms of the field names the client sent.
	canon   map[string]string
	headers headerBlock

	// wmu guards the writing half: bw, the framer's writes, henc and hbuf.
	wmu      sync.Mutex
	bw       *bufio.Writer
	henc     *hpack.Encoder
	hbuf     bytes.Buffer
	writeErr error
	started  atomic.Bool // the server's SETTINGS went out: GOAWAY may follow (set under wmu)

	// mu guards the streams and both directions' flow control.
	mu          sync.Mutex
	sendCond    sync.Cond // a send window grew, or a stream or the connection closed
	streams     map[uint32]*stream
	maxClientID uint32
	// sendWindow is what the server may still send on the connection; peerWindow and
	// peerFrame are the client's SETTINGS_INITIAL_WINDOW_SIZE and SETTINGS_MAX_FRAME_SIZE.
	sendWindow int64
	peerWindow int64
	peerFrame  uint32
	// recvWindow is what the client may still send on the connection; recvCredit, what
	// was read since and not yet given back with a WINDOW_UPDATE.
	recvWindow int64
	recvCredit int64
	handlers   uint32    // handlers running
	queued     []*stream // streams waiting for a handler slot
	goingAway  bool      // GOAWAY sent: new streams are ignored
	closed     bool
	idle       *time.Timer
}

var errConnClosed = errors.New("h2server: connection closed")

// ServeConn serves c, whose TLS handshake chose h2 (state), until the client or the server
// closes it. ctx is the connection's context (as http.Server.ConnContext would make it).
func (s *Server) ServeConn(ctx context.Context, c net.Conn, state *tls.ConnectionState) {
	sc := &conn{
		srv: s, rwc: c, ctx: ctx, tls: state, remote: c.RemoteAddr().String(),
		streams:    make(map[uint32]*stream),
		sendWindow: 65535, peerWindow: 65535, peerFrame: 16384,
		recvWindow: connWindow,
	}
	sc.sendCond.L = &sc.mu
	sc.br = readers.Get().(*bufio.Reader)
	sc.br.Reset(c)
	sc.bw = writers.Get().(*bufio.Writer)
	sc.bw.Reset(c)
	sc.fr = http2.NewFramer(sc.bw, sc.br)
	sc.headers.init(s.maxHeaderListSize())
	sc.fr.SetReuseFrames()
	sc.fr.SetMaxReadFrameSize(16384) // the default: SETTINGS_MAX_FRAME_SIZE is not announced
	sc.henc = hpack.NewEncoder(&sc.hbuf)
	if !s.track(sc) {
		_ = c.Close()
		return
	}
	defer func() {
		// A bug of the reader's must cost its connection, not the process (net/http's
		// server recovers its connections' goroutines too).
		if v := recover(); v != nil {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			s.logf("http2: panic serving %v: %v\n%s", sc.remote, v, buf)
			_ = c.Close()
			// In a goroutine: a lock the reader held without a defer stays held.
			go sc.close(errConnClosed)
			s.untrack(sc)
		}
	}()
	err := sc.serve()
	sc.close(err)
	s.untrack(sc)
	sc.br.Reset(nil)
	readers.Put(sc.br)
}

// serve reads the preface and then every frame until the connection ends.
func (sc *conn) serve() error {
	s := sc.srv
	// The preface and the client's first SETTINGS come within the head timeout, as a
	// request head must over HTTP/1.1; a client that sends nothing is closed.
	if d := s.prefaceTimeout(); d > 0 {
		_ = sc.rwc.SetReadDeadline(time.Now().Add(d))
	}
	var preface [len(http2.ClientPreface)]byte
	if _, err := io.ReadFull(sc.br, preface[:]); err != nil {
		return err
	}
	if string(preface[:]) != http2.ClientPreface {
		// No GOAWAY: it may not come before the server's SETTINGS. net/http closes too.
		return errors.New("h2server: bogus client preface")
	}
	sc.wmu.Lock()
	sc.started.Store(true)
	_ = sc.fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: s.maxStreams()},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: s.maxHeaderListSize()},
	)
	_ = sc.fr.WriteWindowUpdate(0, connWindow-65535)
	// A Shutdown (or the idle timer) that came while the preface was awaited could not
	// send its GOAWAY before the SETTINGS: it goes now, so that the client knows its
	// requests were not taken and sends them elsewhere.
	sc.mu.Lock()
	goingAway, last := sc.goingAway, sc.maxClientID
	sc.mu.Unlock()
	if goingAway {
		_ = sc.fr.WriteGoAway(last, http2.ErrCodeNo, nil)
	}
	sc.writeErr = sc.bw.Flush()
	sc.wmu.Unlock()
	if s.IdleTimeout > 0 {
		sc.idle = time.AfterFunc(s.IdleTimeout, sc.idleTimeout)
	}

	first := true
	for {
		if sc.br.Buffered() == 0 {
			sc.flushControl() // before the reader waits
		}
		f, err := sc.fr.ReadFrame()
		if err == nil && first {
			if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
				err = http2.ConnectionError(http2.ErrCodeProtocol)
			}
			first = false
			_ = sc.rwc.SetReadDeadline(time.Time{})
		}
		if err == nil && sc.ignored(f) {
			continue
		}
		if err == nil {
			err = sc.process(f)
		}
		var se http2.StreamError
		var ce http2.ConnectionError
		switch {
		case err == nil:
		case errors.As(err, &se):
			sc.resetStream(se.StreamID, se.Code, err)
		case errors.As(err, &ce):
			sc.goAway(http2.ErrCode(ce))
			return err
		case sc.finishedGoingAway():
			sc.linger() // woken (wakeReader) after the last stream
			return nil
		default:
			return err
		}
		if sc.finishedGoingAway() {
			sc.linger()
			return nil
		}
	}
}

// ignored reports a frame of a stream the client opened after the server's GOAWAY: such
// streams are not served, and their frames are dropped (DATA giving its window back),
// as RFC 9113 section 6.8 asks, instead of read as frames of idle streams.
func (sc *conn) ignored(f http2.Frame) bool {
	id := f.Header().StreamID
	switch f.(type) {
	case *http2.HeadersFrame, *http2.ContinuationFrame:
		// Decoded all the same (processHeaders ignores the stream): HPACK's table is
		// the connection's.
		return false
	}
	if id == 0 {
		return false
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if !sc.goingAway || id <= sc.maxClientID {
		return false
	}
	if d, ok := f.(*http2.DataFrame); ok {
		sc.recvCredit += int64(d.Length)
		sc.recvWindow -= int64(d.Length)
	}
	return true
}

func (s *Server) prefaceTimeout() time.Duration {
	if s.PrefaceTimeout > 0 {
		return s.PrefaceTimeout
	}
	return 10 * time.Second
}

// process handles one frame the client sent.
func (sc *conn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.HeadersFrame:
		sc.headers.start(f)
		return sc.headerBlockDone(sc.headers.add(f.HeaderBlockFragment(), f.HeadersEnded()))
	case *http2.ContinuationFrame:
		return sc.headerBlockDone(sc.headers.continues(f))
	case *http2.DataFrame:
		return sc.processData(f)
	case *http2.SettingsFrame:
		return sc.processSettings(f)
	case *http2.WindowUpdateFrame:
		return sc.processWindowUpdate(f)
	case *http2.RSTStreamFrame:
		return sc.processReset(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			data := f.Data
			sc.writeControl(func() error { return sc.fr.WritePing(true, data) })
		}
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeProtocol}
		}
	case *http2.GoAwayFrame:
		// The client goes away: finish its streams, then close, as net/http does.
		sc.goAway(http2.ErrCodeNo)
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // clients cannot push
	}
	return nil // unknown frame types are ignored (RFC 9113 section 5.5)
}

// headerBlockDone opens the stream of a header block that ended, or takes its trailers.
// A block malformed as a stream's (a bad field, bad pseudo-fields) uses up its stream's
// id all the same, so that the frames the client sends on it before it reads the reset
// are read as a closed stream's, not an idle one's.
func (sc *conn) headerBlockDone(mh *http2.MetaHeadersFrame, err error) error {
	if mh != nil {
		return sc.processHeaders(mh)
	}
	var se http2.StreamError
	if errors.As(err, &se) {
		sc.mu.Lock()
		if !sc.goingAway && se.StreamID > sc.maxClientID && se.StreamID%2 == 1 {
			sc.maxClientID = se.StreamID
		}
		sc.mu.Unlock()
	}
	return err
}

func (sc *conn) processSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			sc.mu.Lock()
			defer sc.mu.Unlock()
			delta := int64(s.Val) - sc.peerWindow
			sc.peerWindow = int64(s.Val)
			for _, st := range sc.streams {
				st.sendWindow += delta
				if st.sendWindow > maxWindow {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
			sc.sendCond.Broadcast()
		case http2.SettingMaxFrameSize:
			sc.mu.Lock()
			sc.peerFrame = s.Val
			sc.mu.Unlock()
		case http2.SettingHeaderTableSize:
			sc.wmu.Lock()
			sc.henc.SetMaxDynamicTableSize(s.Val)
			sc.wmu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	sc.writeControl(sc.fr.WriteSettingsAck)
	return nil
}

// maxWindow is the largest flow-control window RFC 9113 allows.
const maxWindow = 1<<31 - 1

func (sc *conn) processWindowUpdate(f *http2.WindowUpdateFrame) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if f.StreamID == 0 {
		sc.sendWindow += int64(f.Increment)
		if sc.sendWindow > maxWindow {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		sc.sendCond.Broadcast()
		return nil
	}
	st := sc.streams[f.StreamID]
	if st == nil {
		if f.StreamID > sc.maxClientID {
			return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream
		}
		return nil // a closed one: the update may have crossed our end of it
	}
	st.sendWindow += int64(f.Increment)
	if st.sendWindow > maxWindow {
		return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeFlowControl}
	}
	sc.sendCond.Broadcast()
	return nil
}

func (sc *conn) processReset(f *http2.RSTStreamFrame) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	st := sc.streams[f.StreamID]
	if st == nil {
		if f.StreamID > sc.maxClientID {
			return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream
		}
		return nil
	}
	sc.closeStreamLocked(st, errClientReset)
	return nil
}

var errClientReset = errors.New("h2server: client reset the stream")

// resetStream sends RST_STREAM for a stream the server gives up, and closes it.
func (sc *conn) resetStream(id uint32, code http2.ErrCode, cause error) {
	sc.mu.Lock()
	if st := sc.streams[id]; st != nil {
		sc.closeStreamLocked(st, cause)
	}
	sc.mu.Unlock()
	sc.writeControl(func() error { return sc.fr.WriteRSTStream(id, code) })
}

// closeStreamLocked ends a stream on both sides: its handler's context is canceled, its
// body reads fail with cause, its writes fail, and the connection's window gets back what
// the handler did not read. Called with mu held.
func (sc *conn) closeStreamLocked(st *stream, cause error) {
	if st.closed {
		return
	}
	st.closed = true
	st.done.Store(true)
	delete(sc.streams, st.id)
	if st.ctx != nil {
		st.ctx.Cancel()
	}
	if st.body != nil {
		sc.recvCredit += int64(st.body.closeLocked(cause))
		if st.body.deadline != nil {
			st.body.deadline.Stop() // its function holds the stream
			st.body.deadline = nil
		}
	}
	sc.sendCond.Broadcast()
}

// writeControl writes a frame the reader answers with; it goes out with the next flush,
// at the latest before the reader waits for the client.
func (sc *conn) writeControl(write func() error) {
	sc.wmu.Lock()
	if sc.writeErr == nil {
		sc.writeErr = write()
	}
	sc.wmu.Unlock()
}

func (sc *conn) flushControl() {
	sc.mu.Lock()
	credit := sc.takeConnCreditLocked()
	sc.mu.Unlock()
	sc.wmu.Lock()
	if credit > 0 && sc.writeErr == nil {
		sc.writeErr = sc.fr.WriteWindowUpdate(0, credit)
	}
	if sc.writeErr == nil && sc.bw.Buffered() > 0 { // writeErr first: after close, bw serves another connection
		sc.writeErr = sc.bw.Flush()
	}
	sc.wmu.Unlock()
}

// takeConnCreditLocked returns the connection window to give back now: what was read,
// once it is a quarter of the window, so small bodies cost no WINDOW_UPDATE. Called with
// mu held.
func (sc *conn) takeConnCreditLocked() uint32 {
	if sc.recvCredit < connWindow/4 {
		return 0
	}
	c := sc.recvCredit
	sc.recvCredit = 0
	sc.recvWindow += c
	return uint32(c) //nolint:gosec // at most connWindow
}

// goAway sends GOAWAY with the last stream the server took; new streams are ignored
// from here on. An error code also makes the connection end: the reader stops. Only the
// reader sends an error code (it lingers, reading).
func (sc *conn) goAway(code http2.ErrCode) {
	sc.mu.Lock()
	already := sc.goingAway
	sc.goingAway = true
	last := sc.maxClientID
	sc.mu.Unlock()
	if already && code == http2.ErrCodeNo {
		return
	}
	sc.writeGoAway(last, code)
}

func (sc *conn) writeGoAway(last uint32, code http2.ErrCode) {
	if code != http2.ErrCodeNo {
		// A handler blocked writing to a client that does not read holds wmu: the
		// deadline ends its write, and this one's, instead of waiting for the client.
		_ = sc.rwc.SetWriteDeadline(time.Now().Add(goAwayLinger))
	}
	sc.wmu.Lock()
	if sc.writeErr == nil && sc.started.Load() {
		sc.writeErr = sc.fr.WriteGoAway(last, code, nil)
		if sc.writeErr == nil {
			sc.writeErr = sc.bw.Flush()
		}
	}
	sc.wmu.Unlock()
	if code != http2.ErrCodeNo {
		sc.linger()
	}
}

// linger reads what the client still sends, for goAwayLinger at most, so that closing a
// connection with unread data does not reset it before the client read the GOAWAY.
func (sc *conn) linger() {
	end := time.Now().Add(goAwayLinger)
	for {
		_ = sc.rwc.SetReadDeadline(end)
		_, err := io.Copy(io.Discard, sc.br)
		// A wake (wakeReader's deadline in the past, set by a goroutine that decided to
		// end the connection while the reader got there first) ends a read early: read
		// on until the linger's own end.
		if !errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(end) {
			return
		}
	}
}

// finishedGoingAway reports that a connection sent GOAWAY has no stream left.
func (sc *conn) finishedGoingAway() bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.goingAway && len(sc.streams) == 0 && sc.handlers == 0
}

// idleTimeout ends a connection that had no stream for IdleTimeout. The check and the
// GOAWAY's last stream are one decision: a stream that opens after it is ignored (the
// client retries it on a new connection), never cut off.
func (sc *conn) idleTimeout() {
	sc.mu.Lock()
	idle := len(sc.streams) == 0 && sc.handlers == 0 && !sc.goingAway && !sc.closed
	if idle {
		sc.goingAway = true
	}
	last := sc.maxClientID
	sc.mu.Unlock()
	if idle {
		sc.writeGoAway(last, http2.ErrCodeNo)
		sc.wakeReader()
	}
}

// close ends the connection: every stream fails, every waiting writer wakes.
func (sc *conn) close(err error) {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) {
		err = errConnClosed
	}
	sc.mu.Lock()
	sc.closed = true
	for _, st := range sc.streams {
		sc.closeStreamLocked(st, err)
	}
	sc.queued = nil
	sc.sendCond.Broadcast()
	if sc.idle != nil {
		sc.idle.Stop()
	}
	sc.mu.Unlock()
	// Closed before taking wmu: a handler blocked writing to a client that does not read
	// holds it, and the close is what ends its write.
	_ = sc.rwc.Close()
	sc.wmu.Lock()
	if sc.writeErr == nil {
		sc.writeErr = errConnClosed
	}
	// Every write checks writeErr under wmu first, so no late writer touches the
	// buffer once it serves another connection.
	sc.bw.Reset(nil)
	writers.Put(sc.bw)
	sc.wmu.Unlock()
}

func (s *Server) track(sc *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
	}
	s.conns[sc] = struct{}{}
	return true
}

func (s *Server) untrack(sc *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, sc)
	if len(s.conns) == 0 && s.finished != nil {
		close(s.finished)
		s.finished = nil
	}
}

// Shutdown sends every connection a GOAWAY, lets its streams finish and closes it; it
// returns when all are closed, or closes the rest when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing.Swap(true) {
		s.workers.close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	finished := s.finished
	if finished == nil && len(s.conns) > 0 {
		finished = make(chan struct{})
		s.finished = finished
	}
	s.mu.Unlock()
	for _, sc := range conns {
		// In a goroutine: the GOAWAY waits for wmu, which a write to a client that does
		// not read may hold until ctx ends and the connection is closed.
		go func() {
			sc.goAway(http2.ErrCodeNo)
			if sc.finishedGoingAway() {
				sc.wakeReader()
			}
		}()
	}
	if finished == nil {
		return nil
	}
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		for _, sc := range conns {
			_ = sc.rwc.Close()
		}
		return ctx.Err()
	}
}
