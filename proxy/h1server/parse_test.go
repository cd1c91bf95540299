package h1server

import (
	"bufio"
	"bytes"
	"net/http"
	"reflect"
	"testing"
)

// headSeeds are request heads of every kind: the ones the parser must take (browsers,
// curl, load generators) and the ones it must leave to net/http.
var headSeeds = []struct {
	head  string
	taken bool
}{
	{"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", true},
	{"GET /x?y=1 HTTP/1.1\r\nHost: a.example:8443\r\nUser-Agent: curl/8.14.1\r\nAccept: */*\r\n\r\n", true},
	{"HEAD /x HTTP/1.1\r\nhost: a.example\r\nconnection: close\r\n\r\n", true},
	{"GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive\r\nX-A: 1\r\nx-a:  2 \r\nX_B:\t\r\n\r\n", true},
	{"GET /%2e%2e/admin HTTP/1.1\r\nHost: [::1]:443\r\nCookie: a=b; c=d\r\n\r\n", true},
	{"GET //double HTTP/1.1\r\nHost: a\r\n\r\n", true},
	{"GET /#frag HTTP/1.1\r\nHost: a\r\n\r\n", true},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close, x-secret\r\n\r\n", false},
	{"GET / HTTP/1.0\r\nHost: a\r\n\r\n", false},
	{"GET / HTTP/1.1\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", false},
	{"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"GET * HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"GET / HTTP/1.1\nHost: a\n\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xc3\xa9\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n", false},
	{"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false},
	{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"get / HTTP/1.1\r\nHost: a\r\n\r\n", false},
}

func TestParseHeadTakesOnlyWhatItShould(t *testing.T) {
	for _, tt := range headSeeds {
		var h head
		if got := parseHead(tt.head, &h); got != tt.taken {
			t.Errorf("parseHead(%q) = %v, want %v", tt.head, got, tt.taken)
		}
	}
}

func TestHeadEnd(t *testing.T) {
	b := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next")
	for from := 0; from < 27; from++ { // from: the bytes searched before, short of the head
		if got := headEnd(b, from); got != 27 {
			t.Fatalf("headEnd(from %d) = %d, want 27", from, got)
		}
	}
	if got := headEnd(b[:26], 0); got != -1 {
		t.Fatalf("headEnd of an unfinished head = %d, want -1", got)
	}
	for _, bare := range []string{"GET / HTTP/1.1\nHost: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\n\n", "\n", "GET / HTTP/1.1\r\nHost: a\r\n\n"} {
		if got := headEnd([]byte(bare), 0); got != -2 {
			t.Errorf("headEnd(%q) = %d, want -2 (a bare LF)", bare, got)
		}
	}
}

// FuzzParseHead checks that whatever parseHead takes, net/http reads the same way: the
// same method, target, host, fields, Close and length, and no body.
func FuzzParseHead(f *testing.F) {
	for _, tt := range headSeeds {
		f.Add([]byte(tt.head))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		end := headEnd(b, 0)
		if end < 0 {
			if end == -1 && bytes.Contains(b, []byte("\r\n\r\n")) {
				t.Fatalf("%q: no head found", b)
			}
			return
		}
		var h head
		if !parseHead(string(b[:end]), &h) {
			return
		}
		br := bufio.NewReader(bytes.NewReader(b))
		want, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("parseHead took %q, http.ReadRequest refused it: %v", b[:end], err)
		}
		consumed := len(b) - br.Buffered()
		switch {
		case consumed != end:
			t.Fatalf("%q: head of %d bytes, net/http read %d", b, end, consumed)
		case want.Method != h.method || want.RequestURI != h.target || want.Host != h.host:
			t.Fatalf("%q: %s %s host %q, net/http %s %s host %q", b, h.method, h.target, h.host, want.Method, want.RequestURI, want.Host)
		case !reflect.DeepEqual(map[string][]string(want.Header), map[string][]string(h.header)):
			t.Fatalf("%q: fields %q, net/http %q", b, h.header, want.Header)
		case want.Close != h.close:
			t.Fatalf("%q: close %v, net/http %v", b, h.close, want.Close)
		case want.ContentLength != 0 || want.Body != http.NoBody || len(want.TransferEncoding) > 0:
			t.Fatalf("%q: net/http reads a body (length %d)", b, want.ContentLength)
		case *want.URL != *h.url:
			t.Fatalf("%q: URL %#v, net/http %#v", b, h.url, want.URL)
		case want.ProtoMajor != 1 || want.ProtoMinor != 1 || want.URL.Host != "":
			t.Fatalf("%q: net/http read %s, URL host %q", b, want.Proto, want.URL.Host)
		}
	})
}
