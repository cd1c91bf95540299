package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The real-backend tests cover what crypto/tls and net/http produce; this table pins the
// mapping of the causes they wrap, as the reverse proxy's ErrorHandler will see them.
func TestClassifyStatuses(t *testing.T) {
	opErr := func(op string, err error) error {
		return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, err)}
	}
	for _, tc := range []struct {
		err    error
		reason Reason
		status int
	}{
		{nil, "", http.StatusOK},
		{context.Canceled, ClientCanceled, 499},
		{&url.Error{Op: "Get", URL: "https://x", Err: context.Canceled}, ClientCanceled, 499},
		{fmt.Errorf("proxy: %w", context.DeadlineExceeded), Timeout, http.StatusGatewayTimeout},
		{ErrNoEndpoints, NoEndpoints, http.StatusServiceUnavailable},
		{opErr("dial", syscall.ECONNREFUSED), ConnectionRefused, http.StatusBadGateway},
		{opErr("read", syscall.ECONNRESET), ConnectionReset, http.StatusBadGateway},
		{opErr("write", syscall.EPIPE), ConnectionReset, http.StatusBadGateway},
		{io.ErrUnexpectedEOF, ConnectionReset, http.StatusBadGateway},
		{errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x15\x03\x01\x00\x02\x02F"`), BackendExpectsTLS, http.StatusBadGateway},
		{errors.New("tls: no cipher suite supported by both client and server"), TLSVersionOrCipherMismatch, http.StatusBadGateway},
		{errors.New("something new"), Unknown, http.StatusBadGateway},
	} {
		r, status, d := Classify(tc.err)
		if r != tc.reason || status != tc.status {
			t.Errorf("Classify(%v) = %s %d, want %s %d", tc.err, r, status, tc.reason, tc.status)
		}
		if tc.err != nil && d.Message == "" {
			t.Errorf("Classify(%v): no message", tc.err)
		}
	}
}

func TestNoReasonIsAnswered500(t *testing.T) {
	for _, r := range []Reason{UnknownAuthority, NameMismatch, CertificateExpired, BackendNotTLS, BackendExpectsTLS,
		ClientCertificateRequired, TLSVersionOrCipherMismatch, ConnectionRefused, Timeout, ConnectionReset,
		NoEndpoints, ClientCanceled, Unknown} {
		if string(r) == "" || statusFor(r) == http.StatusInternalServerError || statusFor(r) < 499 {
			t.Errorf("%q -> %d", r, statusFor(r))
		}
	}
}

func TestErrorReadsLikeTheStatusPage(t *testing.T) {
	err := error(&Error{Reason: NameMismatch, Detail: Detail{Endpoint: "10.0.0.1:8443", Message: "the backend's certificate is valid for [a]"}})
	if got := fmt.Errorf("proxy: %w", err).Error(); !strings.Contains(got, "10.0.0.1:8443: NameMismatch: the backend's certificate") {
		t.Fatalf("error text %q", got)
	}
}
