package upstream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// checkResponse reads data as an answer to method with readResponse and with
// http.ReadResponse, and fails unless both give the same response, body and error, and
// leave the same bytes unread. It reports whether parseSimpleResponse read the head.
func checkResponse(t *testing.T, method string, data []byte) (simple bool) {
	t.Helper()
	req := &http.Request{Method: method}
	ours := bufio.NewReaderSize(bytes.NewReader(data), 4<<10)
	theirs := bufio.NewReaderSize(bytes.NewReader(data), 4<<10)
	if _, err := ours.Peek(1); err == nil {
		peeked, _ := ours.Peek(ours.Buffered())
		probe := http.Header{}
		if resp, _ := parseSimpleResponse(peeked, req, probe); resp != nil {
			simple = true
			_ = resp.Body.Close()
		} else if len(probe) > 0 {
			t.Fatalf("%q: not read as simple, yet the header given to parse into holds %v", data, probe)
		}
	}
	// The client's header, as the direct way gives it: the fields must land there when
	// the head is simple, and nothing otherwise.
	into := http.Header{}
	got, gotErr := readResponse(ours, req, into)
	if gotErr == nil && simple {
		into["X-Probe"] = []string{"1"}
		if got.Header.Get("X-Probe") != "1" {
			t.Fatalf("%q: a simple head's fields were not parsed into the header given", data)
		}
		delete(into, "X-Probe")
	} else if len(into) > 0 {
		t.Fatalf("%q: left to http.ReadResponse, yet the header given to parse into holds %v", data, into)
	}
	if gotErr == nil {
		defer func() { _ = got.Body.Close() }()
	}
	want, wantErr := http.ReadResponse(theirs, req)
	if wantErr == nil {
		defer func() { _ = want.Body.Close() }()
	}
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%q (simple %v): readResponse: %v, http.ReadResponse: %v", data, simple, gotErr, wantErr)
	}
	if gotErr != nil {
		return simple
	}
	type head struct {
		Status                string
		StatusCode            int
		Proto                 string
		ProtoMajor            int
		ProtoMinor            int
		Header, Trailer       http.Header
		ContentLength         int64
		TransferEncoding      []string
		Close, Uncompressed   bool
		Request               *http.Request
		NoBody                bool
		Body, Rest            string
		BodyErr, BodyErrShort bool
	}
	read := func(r *http.Response, br *bufio.Reader) head {
		body, err := io.ReadAll(r.Body)
		rest, _ := io.ReadAll(br)
		return head{r.Status, r.StatusCode, r.Proto, r.ProtoMajor, r.ProtoMinor, r.Header, r.Trailer,
			r.ContentLength, r.TransferEncoding, r.Close, r.Uncompressed, r.Request, r.Body == http.NoBody,
			string(body), string(rest), err != nil, errors.Is(err, io.ErrUnexpectedEOF)}
	}
	if g, w := read(got, ours), read(want, theirs); !reflect.DeepEqual(g, w) {
		t.Fatalf("%q (simple %v):\nreadResponse:      %+v\nhttp.ReadResponse: %+v", data, simple, g, w)
	}
	return simple
}

type responseSeed struct {
	method, data string
	simple       bool // an ordinary answer: parseSimpleResponse must read it
}

var responseSeeds = []responseSeed{
	{"GET", "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 05 Dec 2026 23:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n" +
		"Last-Modified: Sat, 05 Dec 2026 22:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"1-5\"\r\nAccept-Ranges: bytes\r\n\r\nhello", true},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n", true}, // bytes after the body stay unread
	{"GET", "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-multi: a\r\nX-Multi:  b \t\r\nX-Empty:\r\n\r\n", true},
	{"OPTIONS", "HTTP/1.1 503\r\nContent-Length: 007\r\nX-Obs: caf\xe9\r\n\r\nunavailable", true},
	{"GET", "HTTP/1.1 200 OK \r\nContent-Length: 3\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nabc", true},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true}, // cut off: io.ErrUnexpectedEOF both ways
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
	{"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, close\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nPragma: no-cache\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Folded: a\r\n b\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\nX-Bare-LF: a\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nX-Bad\x01: a\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nX-Ctl: a\x01\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nX-Space : a\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nNo colon\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\n\r\nclose-delimited", false},
	{"GET", "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n", false},
	{"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n", false},
	{"GET", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
	{"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", false},
	{"GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1  200 OK\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 O\x7fK\r\nContent-Length: 2\r\n\r\nok", false},
	{"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", false}, // the head is not whole yet
	{"GET", "", false},
	{"GET", "garbage\r\n\r\n", false},
}

func TestSimpleResponseEqualsReadResponse(t *testing.T) {
	for _, s := range responseSeeds {
		if simple := checkResponse(t, s.method, []byte(s.data)); simple != s.simple {
			t.Errorf("%q: read by parseSimpleResponse: %v, want %v", s.data, simple, s.simple)
		}
	}
	// A head of many fields, each with its own value array.
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	for i := range 60 {
		b.WriteString("X-Field-" + strings.Repeat("a", i) + ": v\r\n")
	}
	b.WriteString("Content-Length: 1\r\n\r\n!")
	if !checkResponse(t, "GET", []byte(b.String())) {
		t.Error("a head of 61 fields was left to http.ReadResponse")
	}
}

// A field's second value must not overwrite the first value of the next field, which
// shares its backing array.
func TestSimpleResponseSecondValueKeepsTheNextField(t *testing.T) {
	resp, _ := parseSimpleResponse([]byte("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nA: 3\r\nContent-Length: 0\r\n\r\n"), &http.Request{Method: "GET"}, nil)
	if resp == nil {
		t.Fatal("left to http.ReadResponse")
	}
	defer func() { _ = resp.Body.Close() }()
	resp.Header["A"] = append(resp.Header["A"], "4")
	if got := resp.Header["B"]; len(got) != 1 || got[0] != "2" {
		t.Errorf("B = %q after adding to A, want [2]", got)
	}
}

func FuzzSimpleResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add(s.method == "HEAD", []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, head bool, data []byte) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		checkResponse(t, method, data)
	})
}
