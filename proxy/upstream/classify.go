package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"time"
)

// Reason names why a request to a backend failed. It is the Bridgehead-Error header, the
// metric label and the condition reason, so its values never change once released.
type Reason string

// Every upstream failure maps to exactly one of these.
const (
	// UnknownAuthority: the backend's chain does not lead to a trusted root.
	UnknownAuthority Reason = "UnknownAuthority"
	// NameMismatch: the certificate is valid for none of the names checked, or lacks a
	// pinned SAN or URI.
	NameMismatch Reason = "NameMismatch"
	// CertificateExpired: a certificate in the chain is expired or not yet valid.
	CertificateExpired Reason = "CertificateExpired"
	// BackendNotTLS: we spoke TLS and the backend answered in plain text.
	BackendNotTLS Reason = "BackendNotTLS"
	// BackendExpectsTLS: we spoke plain HTTP (or h2c) and the backend answered in TLS.
	BackendExpectsTLS Reason = "BackendExpectsTLS"
	// ClientCertificateRequired: the backend wants a client certificate we do not have,
	// or rejected the one we sent.
	ClientCertificateRequired Reason = "ClientCertificateRequired"
	// TLSVersionOrCipherMismatch: no TLS version or cipher suite in common.
	TLSVersionOrCipherMismatch Reason = "TLSVersionOrCipherMismatch"
	// ConnectionRefused: nothing listens at the endpoint.
	ConnectionRefused Reason = "ConnectionRefused"
	// Timeout: dialling, the handshake or the response headers took too long.
	Timeout Reason = "Timeout"
	// ConnectionReset: the backend closed or reset the connection.
	ConnectionReset Reason = "ConnectionReset"
	// NoEndpoints: the backend has no ready endpoint to send to.
	NoEndpoints Reason = "NoEndpoints"
	// ClientCanceled: the client went away first; nothing is wrong with the backend.
	ClientCanceled Reason = "ClientCanceled"
	// Unknown: none of the above; Detail.Message carries the raw error.
	Unknown Reason = "Unknown"
)

// Reasons are all the reasons, for the test that each one a backend failure can carry
// to a condition is declared in the API (api/v1alpha1, which the data plane cannot import).
var Reasons = []Reason{UnknownAuthority, NameMismatch, CertificateExpired, BackendNotTLS, BackendExpectsTLS,
	ClientCertificateRequired, TLSVersionOrCipherMismatch, ConnectionRefused, Timeout, ConnectionReset,
	NoEndpoints, ClientCanceled, Unknown}

// StatusClientClosedRequest is the status logged for a client that went away (nginx's 499);
// the client never sees it.
const StatusClientClosedRequest = 499

// ErrNoEndpoints is what a balancer returns when a backend has no ready endpoint, so that
// Classify names it NoEndpoints (503) like every other failure.
var ErrNoEndpoints = errors.New("upstream: no ready endpoints")

// Detail is what we know about a failure, for the log line, the status page and the
// condition message. It never holds secret material.
type Detail struct {
	// Endpoint is the host:port dialled.
	Endpoint string
	// Subject and Issuer of the leaf the backend presented, when a handshake got that far.
	Subject string
	Issuer  string
	// SANs are the DNS, IP and URI SANs presented.
	SANs     []string
	NotAfter time.Time
	// NamesChecked are the names we accept (VerifyNames, or the server name).
	NamesChecked []string
	// Roots describe the trusted roots: "Secret ns/name: CN=..." or "system roots".
	Roots []string
	// Message is one sentence for humans, with the fix.
	Message string
}

// Error is an upstream failure carrying its Detail. The transports return it (dial and
// handshake errors, verification failures, a transport that fails closed) so that
// Classify can recover what the handshake saw with errors.As.
type Error struct {
	// Reason is set when the cause is already known (verification, fail-closed transport,
	// a recognised error page); empty means Classify derives it from Err.
	Reason Reason
	Detail Detail
	// Err is the underlying error, if any.
	Err error

	status        int    // overrides the status for Reason when non-zero
	scheme        string // backend scheme: tells an h2c framing error from a TLS one
	certRequested bool   // the backend sent a CertificateRequest during this handshake
	hasClientCert bool   // the transport has a client certificate to send
}

// Error is the human sentence when there is one, so logs read like the status page.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("upstream")
	if e.Detail.Endpoint != "" {
		b.WriteString(" " + e.Detail.Endpoint)
	}
	if e.Reason != "" {
		b.WriteString(": " + string(e.Reason))
	}
	if e.Detail.Message != "" {
		b.WriteString(": " + e.Detail.Message)
	} else if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Err }

// Classify maps an error from a round trip (or from CheckResponse) to a reason, the HTTP
// status the client gets (502 for TLS and connect failures, 503 without endpoints, 504
// for timeouts, 499 for a client that went away; never 500) and the detail. A nil error
// is no failure: "", 200.
func Classify(err error) (Reason, int, Detail) {
	if err == nil {
		return "", http.StatusOK, Detail{}
	}
	e := &Error{}
	var ue *Error
	if errors.As(err, &ue) {
		*e = *ue
	}
	r := e.Reason
	if r == "" {
		r = cause(err, e)
	}
	status := e.status
	if status == 0 {
		status = statusFor(r)
	}
	d := e.Detail
	if d.Message == "" {
		d.Message = explain(r, d, e, err)
	}
	return r, status, d
}

func statusFor(r Reason) int {
	switch r {
	case ClientCanceled:
		return StatusClientClosedRequest
	case Timeout:
		return http.StatusGatewayTimeout
	case NoEndpoints:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadGateway
	}
}

// cause reads the error chain. Order matters: a client that left is not the backend's
// fault whatever else failed, and a typed TLS cause beats the generic EOF it leads to.
func cause(err error, e *Error) Reason {
	var (
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
		uaErr   x509.UnknownAuthorityError
		rhe     tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, ErrNoEndpoints):
		return NoEndpoints
	case errors.Is(err, context.Canceled):
		return ClientCanceled
	case errors.As(err, &hostErr):
		return NameMismatch
	case errors.As(err, &invErr):
		if invErr.Reason == x509.Expired {
			return CertificateExpired
		}
		return UnknownAuthority
	case errors.As(err, &uaErr):
		return UnknownAuthority
	case errors.As(err, &rhe):
		// Our ClientHello got an answer that is not a TLS record: usually
		// "HTTP/1.1 400 Bad Request" from a plain HTTP server.
		return BackendNotTLS
	}
	if code, ok := tlsAlert(err); ok {
		return alertReason(code, e)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "malformed HTTP response") &&
		(strings.Contains(msg, `"\x15\x03`) || strings.Contains(msg, "\x15\x03")):
		// We sent HTTP/1.1 and read a TLS alert record (content type 21, version 3.x).
		return BackendExpectsTLS
	case e.scheme == "h2c" && strings.Contains(msg, "frame too large"):
		// An h2c preface answered by a TLS alert: its first bytes read as a 1.3 MB frame.
		return BackendExpectsTLS
	case strings.Contains(msg, "no cipher suite supported"),
		strings.Contains(msg, "unsupported versions"),
		strings.Contains(msg, "server selected unsupported protocol version"),
		strings.Contains(msg, "no supported versions satisfy"),
		strings.Contains(msg, "protocol version not supported"):
		return TLSVersionOrCipherMismatch
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(msg, "connection reset"),
		strings.Contains(msg, "server closed idle connection"), notEstablished(err):
		return ConnectionReset
	}
	return Unknown
}

// TLS alert codes (RFC 8446 section 6) that name a cause.
const (
	alertHandshakeFailure      = 40
	alertBadCertificate        = 42
	alertUnsupportedCert       = 43
	alertCertificateUnknown    = 46
	alertUnknownCA             = 48
	alertAccessDenied          = 49
	alertProtocolVersion       = 70
	alertInsufficientSecurity  = 71
	alertCertificateRequired   = 116
	alertNoApplicationProtocol = 120
)

// alertReason names an alert the backend sent us.
func alertReason(code uint8, e *Error) Reason {
	switch code {
	case alertCertificateRequired:
		return ClientCertificateRequired
	case alertBadCertificate, alertUnsupportedCert, alertCertificateUnknown, alertUnknownCA, alertAccessDenied:
		// Only our certificate can be bad from the backend's side: either we sent none or
		// it rejected ours. The message tells which.
		return ClientCertificateRequired
	case alertHandshakeFailure:
		// TLS 1.2 servers send handshake_failure both for "no certificate" and for "no
		// cipher in common"; the CertificateRequest we saw tells them apart.
		if e.certRequested && !e.hasClientCert {
			return ClientCertificateRequired
		}
		return TLSVersionOrCipherMismatch
	case alertProtocolVersion, alertInsufficientSecurity, alertNoApplicationProtocol:
		return TLSVersionOrCipherMismatch
	}
	return Unknown
}

// tlsAlert finds a TLS alert in the chain. crypto/tls reports a received alert as a
// *net.OpError{Op: "remote error"} around an unexported uint8 type, so the code is read
// by kind rather than parsed out of the text.
func tlsAlert(err error) (uint8, bool) {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return uint8(ae), true
	}
	var code uint8
	found := false
	walk(err, func(err error) bool {
		op, ok := err.(*net.OpError) //nolint:errorlint // walk visits every link itself
		if !ok || op.Op != "remote error" || op.Err == nil {
			return false
		}
		if v := reflect.ValueOf(op.Err); v.Kind() == reflect.Uint8 {
			code, found = uint8(v.Uint()), true
		}
		return found
	})
	return code, found
}

// walk visits err and everything it wraps, depth first, until visit returns true.
func walk(err error, visit func(error) bool) bool {
	for err != nil {
		if visit(err) {
			return true
		}
		switch u := err.(type) { //nolint:errorlint // unwrapping by hand
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if walk(inner, visit) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return false
		}
	}
	return false
}

// explain writes the one sentence a user reads on the IngressRoute: what is wrong and what
// to change. Verification errors arrive with their own message.
func explain(r Reason, d Detail, e *Error, err error) string {
	at := "the backend"
	if d.Endpoint != "" {
		at = "the backend at " + d.Endpoint
	}
	switch r {
	case BackendNotTLS:
		return at + " answered in plain text to our TLS handshake; use scheme http for this port, or enable TLS on the backend"
	case BackendExpectsTLS:
		return at + " speaks TLS but was reached without it; set scheme https for this service port"
	case ClientCertificateRequired:
		if e.hasClientCert {
			return fmt.Sprintf("%s rejected the client certificate we presented (%v); issue it from a CA the backend trusts", at, rootText(err))
		}
		return at + " requires a client certificate; set certificatesSecrets on the ServersTransport"
	case TLSVersionOrCipherMismatch:
		return fmt.Sprintf("%s shares no TLS version or cipher suite with us (%v); align the ServersTransport's minVersion, maxVersion and cipherSuites with the backend", at, rootText(err))
	case ConnectionRefused:
		return at + " refused the connection; check the Service's port and that the pod listens on it"
	case Timeout:
		return at + " did not answer in time; check the backend's health, or raise the ServersTransport's timeouts"
	case ConnectionReset:
		return at + " closed the connection before answering; check the backend's logs (it may expect another protocol or reject our address)"
	case NoEndpoints:
		return "the Service has no ready endpoints; check its selector and the pods' readiness"
	case ClientCanceled:
		return "the client went away before the backend answered"
	case UnknownAuthority, NameMismatch, CertificateExpired:
		return fmt.Sprintf("%s presented a certificate we could not verify: %v", at, err)
	}
	return fmt.Sprintf("the request to %s failed: %v", strings.TrimPrefix(at, "the "), err)
}

// rootText is what the TLS stack said, without our wrapping: the alert as received
// ("remote error: tls: bad certificate") or the innermost error.
func rootText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
