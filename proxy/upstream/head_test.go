package upstream

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// headCase is a request as the fast path gets it, in fields a fuzzer can vary.
type headCase struct {
	method, host, urlHost, path, rawPath, rawQuery string
	forceQuery, close                              bool
	header                                         string // "Key: value" lines joined by "\n"
}

func (c headCase) request() *http.Request {
	h := http.Header{}
	for line := range strings.SplitSeq(c.header, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			if v == "<nil>" {
				h[k] = nil
				continue
			}
			h[k] = append(h[k], v)
		}
	}
	return &http.Request{Method: c.method, Host: c.host, Header: h, Close: c.close,
		URL: &url.URL{Scheme: "https", Host: c.urlHost, Path: c.path, RawPath: c.rawPath, RawQuery: c.rawQuery, ForceQuery: c.forceQuery}}
}

// checkHead compares writeHead with req.Write for a request the fast path would send
// (one whose header passes validHeader): the same bytes when writeHead takes it, nothing
// written when it leaves it to req.Write.
func checkHead(t *testing.T, c headCase) (handled bool) {
	t.Helper()
	req := c.request()
	if validHeader(req.Header) != nil {
		return false // refused before anything is written
	}
	var got bytes.Buffer
	bw := bufio.NewWriter(&got)
	handled = writeHead(bw, req)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	err := req.Write(&want)
	switch {
	case !handled && got.Len() > 0:
		t.Fatalf("%+v: left to req.Write after writing %q", c, got.String())
	case handled && err != nil:
		t.Fatalf("%+v: written as %q, but req.Write refuses it: %v", c, got.String(), err)
	case handled && got.String() != want.String():
		t.Fatalf("%+v:\nwriteHead: %q\nreq.Write: %q", c, got.String(), want.String())
	}
	return handled
}

var headSeeds = []headCase{
	{method: "GET", host: "app.example.com", urlHost: "10.0.0.1:8443", path: "/",
		header: "X-Forwarded-For:127.0.0.1\nX-Forwarded-Proto:https\nAccept:*/*\nUser-Agent:curl/8.0\nX-Real-Ip:127.0.0.1"},
	{method: "HEAD", urlHost: "127.0.0.1:80", path: "/a b/ü", rawQuery: "x=1&y=%41", header: "User-Agent:"},
	{method: "OPTIONS", host: "h", urlHost: "127.0.0.1:80", path: "*", header: "User-Agent:<nil>"},
	{method: "TRACE", host: "[::1]:443", urlHost: "[::1]:443", path: "/p", forceQuery: true, header: "A: padded \t\nA:second\nB:"},
	{method: "", host: "h:1", urlHost: "h:1", path: "/%2F", rawPath: "/%2F", header: "Host:ignored\nContent-Length:5\nTrailer:X\nTransfer-Encoding:chunked"},
	{method: "GET", host: "[fe80::1%25eth0]:80", urlHost: "x:1", path: "/"},
	{method: "GET", host: "bücher.example", urlHost: "x:1", path: "/"},
	{method: "GET", host: "bad host", urlHost: "x:1", path: "/"},
	{method: "GET", host: "h", urlHost: "x:1", path: "/\x01"},
	{method: "GET", host: "h", urlHost: "x:1", path: "/", rawQuery: "a=\x7f"},
	{method: "GET", host: "h", urlHost: "x:1", path: "/", close: true},
	{method: "GET", host: "h", urlHost: "x:1", path: "/", header: "X-Bad:a\r\nInjected: 1"},
	{method: "GET", host: "", urlHost: "", path: ""},
}

func TestWriteHeadEqualsRequestWrite(t *testing.T) {
	handled := 0
	for _, c := range headSeeds {
		if checkHead(t, c) {
			handled++
		}
	}
	// More fields than the sorted keys' stack array holds.
	var many []string
	for i := range 40 {
		many = append(many, fmt.Sprintf("X-Field-%02d:%d", 40-i, i))
	}
	if !checkHead(t, headCase{method: "GET", host: "h", urlHost: "x:1", path: "/", header: strings.Join(many, "\n")}) {
		t.Error("a request with 40 header fields was left to req.Write")
	}
	// The common requests are written by writeHead, not left to req.Write.
	if handled < 5 {
		t.Errorf("writeHead wrote %d of the seed requests, want the 5 ordinary ones at least", handled)
	}
}

func FuzzWriteHead(f *testing.F) {
	for _, c := range headSeeds {
		f.Add(c.method, c.host, c.urlHost, c.path, c.rawPath, c.rawQuery, c.forceQuery, c.close, c.header)
	}
	f.Fuzz(func(t *testing.T, method, host, urlHost, path, rawPath, rawQuery string, forceQuery, close bool, header string) {
		checkHead(t, headCase{method: method, host: host, urlHost: urlHost, path: path, rawPath: rawPath,
			rawQuery: rawQuery, forceQuery: forceQuery, close: close, header: header})
	})
}
