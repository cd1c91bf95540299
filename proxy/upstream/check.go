package upstream

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

// peekLimit bounds how much of a 400 body CheckResponse reads: every page it looks for
// says so in its first few hundred bytes.
const peekLimit = 512

// Pages servers send when TLS meets plain HTTP on their port.
var expectsTLSPages = [][]byte{
	[]byte("Client sent an HTTP request to an HTTPS server"),    // Go crypto/tls + net/http
	[]byte("The plain HTTP request was sent to HTTPS port"),     // nginx
	[]byte("speaking plain HTTP to an SSL-enabled server port"), // Apache httpd
}

// Pages servers send, after a successful handshake, when a client certificate is missing.
var clientCertPages = [][]byte{
	[]byte("No required SSL certificate was sent"), // nginx ssl_verify_client on
}

// CheckResponse detects a backend that speaks TLS on a port we reached with plain HTTP and
// answered with an HTTP 400 page, such as Go's "Client sent an HTTP request to an HTTPS
// server." or nginx's "The plain HTTP request was sent to HTTPS port": it returns an error
// Classify maps to BackendExpectsTLS. Over TLS it recognises nginx's "No required SSL
// certificate was sent" (ClientCertificateRequired), a backend that checks client
// certificates after the handshake. Otherwise it returns nil.
//
// It reads at most 512 bytes of a 400 response's body, and puts them back, so the client
// gets the body whole when the page is the backend's own.
func CheckResponse(resp *http.Response) error {
	if resp == nil || resp.StatusCode != http.StatusBadRequest || resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	body := resp.Body
	buf := make([]byte, peekLimit)
	n, err := io.ReadFull(body, buf)
	buf = buf[:n]
	var rest io.Reader = body
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		// Hand the client the same failure it would have met reading the body itself.
		rest = errReader{err}
	}
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(buf), rest), closer: body}

	pages, reason := expectsTLSPages, BackendExpectsTLS
	if resp.TLS != nil {
		pages, reason = clientCertPages, ClientCertificateRequired
	}
	for _, page := range pages {
		if bytes.Contains(buf, page) {
			e := &Error{Reason: reason, Err: errors.New("backend answered 400: " + string(page))}
			if resp.Request != nil && resp.Request.URL != nil {
				e.Detail.Endpoint = resp.Request.URL.Host
			}
			e.Detail.Message = explain(reason, e.Detail, e, e.Err)
			return e
		}
	}
	return nil
}

// peekedBody replays the peeked bytes, then the rest, and closes the original body.
type peekedBody struct {
	io.Reader
	closer io.Closer
}

func (b *peekedBody) Close() error { return b.closer.Close() }

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
