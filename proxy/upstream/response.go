package upstream

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// readResponse reads a response head from br as http.ReadResponse does. A plain answer
// whose whole head is already in br's buffer is parsed here, its fields into into when
// that is not nil (an empty map: the client's response header, see RoundTripDirect);
// everything else is left to http.ReadResponse, from the first byte, and into stays
// empty.
//
// Parsing the head into its header map was the largest piece of the fast path's CPU
// outside system calls (http.ReadResponse, a tenth of the samples with its reads): a
// textproto reader, a string per value and per uncommon key, a transfer reader, a body
// and a limited reader, about 15 allocations for nginx's eight fields. Here the whole
// head becomes one string that the values and keys point into.
func readResponse(br *bufio.Reader, req *http.Request, into http.Header) (*http.Response, error) {
	if br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			// What http.ReadResponse returns when the status line cannot be read.
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	buffered, _ := br.Peek(br.Buffered())
	if resp, n := parseSimpleResponse(buffered, req, into); resp != nil {
		_, _ = br.Discard(n)
		if resp.ContentLength > 0 {
			resp.Body = &lengthBody{r: br, n: resp.ContentLength}
		}
		return resp, nil
	}
	return http.ReadResponse(br, req)
}

// parseSimpleResponse parses the response head at the start of b when http.ReadResponse
// would read it to the same Response, and its framing is a plain Content-Length. It
// returns the response (its Body http.NoBody, for the caller to replace when
// ContentLength > 0; its Header into when that is not nil, else a new map) and the head's
// length, or nil for what it leaves to http.ReadResponse, with into emptied again
// (TestSimpleResponseEqualsReadResponse, FuzzSimpleResponse):
//   - a head not wholly in b, or with a line that does not end in CRLF;
//   - any version but HTTP/1.1, a status outside 200–599, 204, 304, a reply to HEAD;
//   - a status line or field with a byte http.ReadResponse refuses or treats specially:
//     control characters, a field name that is not a token, an obsolete line folding;
//   - Transfer-Encoding, Trailer, Pragma (ReadResponse may add Cache-Control for it),
//     Connection: close, and a Content-Length that is missing, repeated or not plain
//     digits.
func parseSimpleResponse(b []byte, req *http.Request, into http.Header) (resp *http.Response, n int) {
	if req != nil && req.Method == http.MethodHead {
		return nil, 0
	}
	end := bytes.Index(b, crlfcrlf)
	if end < 0 {
		return nil, 0
	}
	n = end + len(crlfcrlf)
	// One string for the whole head: keys and values are slices of it.
	head := string(b[:end+2]) // every line with its CRLF
	line, rest, _ := strings.Cut(head, "\r\n")
	const proto = "HTTP/1.1 "
	if len(line) < len(proto)+3 || line[:len(proto)] != proto {
		return nil, 0
	}
	status := line[len(proto):]
	code := 0
	for i := range 3 {
		c := status[i]
		if c < '0' || c > '9' {
			return nil, 0
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code > 599 || code == http.StatusNoContent || code == http.StatusNotModified ||
		(len(status) > 3 && status[3] != ' ') || !httpguts.ValidHeaderFieldValue(status) {
		return nil, 0
	}

	lines := strings.Count(rest, "\r\n")
	// As textproto does: one backing array of values, each field's first value capped at
	// one element so that a second value is appended elsewhere.
	values := make([]string, lines)
	h := into
	if h == nil {
		h = make(http.Header, lines)
	} else {
		defer func() {
			if resp == nil {
				clear(h) // what was parsed before the head turned out not to be simple
			}
		}()
	}
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			return nil, 0 // an obsolete line folding, or a stray CRLF
		}
		colon := 0
		for colon < len(line) && line[colon] != ':' {
			if !httpguts.IsTokenRune(rune(line[colon])) {
				return nil, 0
			}
			colon++
		}
		if colon == 0 || colon == len(line) || !httpguts.ValidHeaderFieldValue(line[colon+1:]) {
			return nil, 0
		}
		key := textproto.CanonicalMIMEHeaderKey(line[:colon])
		value := textproto.TrimString(line[colon+1:]) // no CR or LF left to trim: checked above
		if vv := h[key]; vv != nil {
			h[key] = append(vv, value)
		} else {
			values[0] = value
			h[key], values = values[:1:1], values[1:]
		}
	}
	cl := h["Content-Length"]
	if len(cl) != 1 {
		return nil, 0
	}
	length, err := strconv.ParseUint(cl[0], 10, 63) // as http.ReadResponse parses it
	if err != nil {
		return nil, 0
	}
	for _, k := range [...]string{"Transfer-Encoding", "Trailer", "Pragma"} {
		if _, ok := h[k]; ok {
			return nil, 0
		}
	}
	if httpguts.HeaderValuesContainsToken(h["Connection"], "close") {
		return nil, 0
	}
	return &http.Response{
		Status:        status,
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: int64(length),
		Request:       req,
	}, n
}

var crlfcrlf = []byte("\r\n\r\n")

// lengthBody is a body of a known length read from the connection's buffer, as
// ReadResponse's body over an io.LimitedReader reads it: io.EOF with the last byte,
// io.ErrUnexpectedEOF when the connection ends before.
type lengthBody struct {
	r *bufio.Reader
	n int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if b.n == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *lengthBody) Close() error { return nil }
