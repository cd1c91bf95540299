package dataplane

import (
	"encoding/json"
	"strings"
	"testing"
)

const smuggled = "GET /smuggled HTTP/1.1\r\nHost: app.example.com\r\n\r\n"

// TestContentLengthWithTransferEncodingClosesTheConnection: a request with both
// Content-Length and Transfer-Encoding is framed one way by one proxy and another way by
// the next; RFC 9112 section 6.1 says to close the connection after answering it. Before,
// the request written after the chunked body was served as the connection's next one.
func TestContentLengthWithTransferEncodingClosesTheConnection(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()))

	for name, req := range map[string]string{
		"CL then TE": "POST /upload HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"TE then CL": "POST /upload HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\nContent-Length: 48\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		// HTTP/1.0 knows no Transfer-Encoding; net/http ignores it and frames by
		// Content-Length, so the chunked body reads as the next request.
		"HTTP/1.0 keep-alive": "POST /upload HTTP/1.0\r\nHost: app.example.com\r\nConnection: keep-alive\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			resps, closed := exchange(t, g.web, req+smuggled, 2)
			if len(resps) != 1 || resps[0].status != 200 || !closed {
				t.Fatalf("got %d responses (closed: %v), want the upload's alone and the connection closed", len(resps), closed)
			}
			if b.sawPath("/smuggled") {
				t.Fatal("the request after the body reached the backend")
			}
		})
	}

	t.Run("keep-alive is kept for requests framed one way", func(t *testing.T) {
		cl := "POST /upload HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 3\r\n\r\nabc"
		resps, closed := exchange(t, g.web, cl+"GET /second HTTP/1.1\r\nHost: app.example.com\r\n\r\n", 2)
		if len(resps) != 2 || closed {
			t.Fatalf("got %d responses (closed: %v), want both on one connection", len(resps), closed)
		}
		var seen seenRequest
		if err := json.Unmarshal([]byte(resps[0].body), &seen); err != nil || seen.BodyLen != 3 {
			t.Fatalf("first answer %q", resps[0].body)
		}
	})
}

// A chunked body whose framing is broken is the client's fault: 400, and the backend is
// not held responsible (before: 502 ConnectionReset, and the route's backend not Ready).
func TestMalformedChunkedBodyIs400(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	log := &syncBuffer{}
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()), withAccessLog(log))

	for name, body := range map[string]string{
		"bad chunk size":         "zz\r\nabc\r\n0\r\n\r\n",
		"chunk longer than said": "3\r\nabcdef\r\n0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			req := "POST /upload HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n" + body
			resps, _ := exchange(t, g.web, req, 1)
			if len(resps) != 1 || resps[0].status != 400 || resps[0].header.Get("Bridgehead-Error") != "ClientBodyMalformed" {
				t.Fatalf("got %+v, want 400 ClientBodyMalformed", resps)
			}
		})
	}
	if f := g.upstreamFailures(t); len(f) > 0 {
		t.Fatalf("the client's broken body was held against the backend: %v", f)
	}
	eventually(t, "two access-log lines", func() bool { return len(log.lines()) == 2 })
	for _, l := range log.lines() {
		if l["status"] != float64(400) || l["clientError"] != "ClientBodyMalformed" || l["upstreamError"] != nil {
			t.Errorf("access log %v", l)
		}
	}
	if resps, _ := exchange(t, g.web, "GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n", 1); len(resps) != 1 || resps[0].status != 200 {
		t.Fatalf("the backend no longer serves: %+v", resps)
	}
}

func TestPipelinedRequestsAreServedInOrder(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()))
	reqs := strings.Repeat("GET /a HTTP/1.1\r\nHost: app.example.com\r\n\r\n", 3)
	if resps, closed := exchange(t, g.web, reqs, 3); len(resps) != 3 || closed {
		t.Fatalf("got %d responses, closed %v", len(resps), closed)
	}
}
