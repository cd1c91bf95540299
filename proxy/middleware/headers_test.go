package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestHeadersRequest(t *testing.T) {
	next := &capture{}
	h := Chain([]*snapshot.Middleware{{Headers: &snapshot.Headers{Request: map[string]string{
		"x-set":           "new",
		"X-Replace":       "ours",
		"X-Remove":        "",
		"X-Forwarded-For": "",
		"Host":            "backend.internal",
	}}}}, next)
	r := newReq(http.MethodGet, "/", "example.com")
	r.Header.Add("X-Replace", "theirs")
	r.Header.Add("X-Replace", "theirs-again")
	r.Header.Set("X-Remove", "gone")
	r.Header.Set("X-Forwarded-For", "6.6.6.6")
	r.Header.Set("X-Kept", "kept")
	h.ServeHTTP(httptest.NewRecorder(), r)

	checks := map[string][]string{
		"X-Set":     {"new"},
		"X-Replace": {"ours"},
		"X-Remove":  nil,
		"X-Kept":    {"kept"},
	}
	for k, want := range checks {
		if got := next.header.Values(k); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Present and nil: httputil.ReverseProxy then adds no X-Forwarded-For.
	if v, ok := next.req.Header["X-Forwarded-For"]; !ok || v != nil {
		t.Errorf("X-Forwarded-For = %q (present %v), want present and nil", v, ok)
	}
	if next.host != "backend.internal" {
		t.Errorf("Host %q, want backend.internal", next.host)
	}
}

func TestHeadersResponse(t *testing.T) {
	mw := []*snapshot.Middleware{{Headers: &snapshot.Headers{Response: map[string]string{
		"X-Frame-Options": "DENY",
		"Server":          "",
		"x-backend":       "overridden",
	}}}}
	check := func(t *testing.T, h http.Header) {
		t.Helper()
		if got := h.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("X-Frame-Options %q", got)
		}
		if got := h.Values("Server"); got != nil {
			t.Errorf("Server %q, want deleted", got)
		}
		if got := h.Values("X-Backend"); len(got) != 1 || got[0] != "overridden" {
			t.Errorf("X-Backend %q, want [overridden]", got)
		}
		if got := h.Get("X-Untouched"); got != "yes" {
			t.Errorf("X-Untouched %q", got)
		}
	}
	backends := map[string]http.HandlerFunc{
		"WriteHeader": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "backend/1.0")
			w.Header().Set("X-Backend", "original")
			w.Header().Set("X-Untouched", "yes")
			w.WriteHeader(http.StatusCreated)
		},
		"implicit 200 on Write": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "backend/1.0")
			w.Header().Set("X-Backend", "original")
			w.Header().Set("X-Untouched", "yes")
			_, _ = io.WriteString(w, "body")
		},
		"interim 103 then final": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Server", "backend/1.0")
			w.Header().Set("X-Backend", "original")
			w.Header().Set("X-Untouched", "yes")
			w.WriteHeader(http.StatusOK)
		},
		"handler writes nothing": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "backend/1.0")
			w.Header().Set("X-Backend", "original")
			w.Header().Set("X-Untouched", "yes")
		},
		"Flush": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "backend/1.0")
			w.Header().Set("X-Backend", "original")
			w.Header().Set("X-Untouched", "yes")
			w.(http.Flusher).Flush()
			w.Header().Set("Server", "too-late") // after the header went out: not seen
		},
	}
	for name, backend := range backends {
		t.Run(name, func(t *testing.T) {
			// A real server, so we test what goes on the wire, not a recorder's map.
			srv := httptest.NewServer(Chain(mw, backend))
			defer srv.Close()
			res, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = res.Body.Close() }()
			check(t, res.Header)
		})
	}
}

func TestHeadersFlushStreams(t *testing.T) {
	release := make(chan struct{})
	backend := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through ResponseController: %v", err)
		}
		<-release // the client must get "first" before the handler returns
		_, _ = io.WriteString(w, "second\n")
	})
	srv := httptest.NewServer(Chain([]*snapshot.Middleware{{Headers: &snapshot.Headers{Response: map[string]string{"X-A": "1"}}}}, backend))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	if rest, _ := io.ReadAll(br); string(rest) != "second\n" {
		t.Fatalf("rest %q", rest)
	}
	if res.Header.Get("X-A") != "1" {
		t.Fatalf("X-A %q", res.Header.Get("X-A"))
	}
}

func TestHeadersHijack(t *testing.T) {
	backend := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("wrapper hides http.Hijacker")
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo: " + line)
		_ = brw.Flush()
	})
	srv := httptest.NewServer(Chain([]*snapshot.Middleware{{Headers: &snapshot.Headers{Response: map[string]string{"X-A": "1"}}}}, backend))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close() // a 101 has no body; the connection is ours from here
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", res.StatusCode)
	}
	_, _ = io.WriteString(conn, "hello\n")
	if line, _ := br.ReadString('\n'); line != "echo: hello\n" {
		t.Fatalf("echo %q", line)
	}
}

func TestHeaderWriterUnwrap(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &headerWriter{ResponseWriter: rec}
	if w.Unwrap() != rec {
		t.Fatal("Unwrap does not return the wrapped writer")
	}
	// A writer that cannot hijack reports it instead of panicking.
	if _, _, err := w.Hijack(); err == nil {
		t.Fatal("Hijack on a recorder succeeded")
	}
	w.Flush()
	if !rec.Flushed {
		t.Fatal("Flush did not reach the recorder")
	}
}

func TestHeadersNothingToDo(t *testing.T) {
	next := &capture{}
	if h := Chain([]*snapshot.Middleware{{Headers: &snapshot.Headers{}}}, next); h != http.Handler(next) {
		t.Fatalf("empty headers middleware wraps next: %T", h)
	}
}
