package diagnose

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// startGateway serves the setup with the real data plane on 127.0.0.1, as standalone mode
// does (folder -> manifests.Load -> translate -> Store -> proxy), and returns the address
// of its TLS entry point.
func startGateway(t *testing.T, s *setup) string {
	t.Helper()
	dir := t.TempDir()
	writeFolder(t, dir, "app.yaml", s.objects(s.startBackend(t))...)
	res, err := manifests.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := s.opts
	opts.Now = time.Now()
	snap, _ := translate.Translate(res.Inputs, opts)
	store := &snapshot.Store{}
	if err := store.Swap(snap); err != nil {
		t.Fatal(err)
	}
	srv, err := proxy.New(proxy.Config{
		EntryPoints: []proxy.EntryPoint{{Name: "websecure", Address: "127.0.0.1:0", TLS: true}},
		ErrorHeader: true,
		Grace:       time.Second,
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	})
	return srv.Addrs()["websecure"]
}

func writeCA(t *testing.T, pem []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(f, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func checkURL(t *testing.T, gateway, rawHost, path string, o diag.URLOptions) (*diag.Report, string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(gateway)
	o.Resolve = append(o.Resolve, rawHost+":"+port+":127.0.0.1")
	r, err := diag.URL(context.Background(), "https://"+rawHost+":"+port+path, o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	return r, buf.String()
}

// TestURL checks URLs as a client of a running gateway: the certificate it serves, and
// each failure reason it answers with, explained with its fix.
func TestURL(t *testing.T) {
	ca := writeCA(t, edgeCA.PEM)
	tests := []struct {
		name   string
		broken func(s *setup)
		host   string
		cacert string
		ok     bool
		says   []string
	}{
		{name: "working path", host: host, cacert: ca, ok: true, says: []string{
			`served: "CN=app.example.test" issued by "CN=Edge CA,O=Bridgehead tests", SANs [app.example.test]`,
			"covers app.example.test and is trusted by " + ca,
			"answered 200 OK over HTTP/2.0",
		}},
		{name: "backend certificate from an untrusted CA", host: host, cacert: ca,
			broken: func(s *setup) { s.secrets["backend-ca"] = caSecret("backend-ca", otherCA) },
			says: []string{
				"FAIL  Request GET /: UnknownAuthority",
				"the gateway answered 502 with Bridgehead-Error: UnknownAuthority: the backend's certificate is not signed by a CA the ServersTransport trusts",
				"fix:   add the backend's CA to spec.rootCAs of the route's ServersTransport",
				"bridgehead diagnose ingressroute/NAME",
			}},
		{name: "service port resolves to http", host: host, cacert: ca,
			broken: func(s *setup) { s.usePort("web", 8443) },
			says: []string{
				"Bridgehead-Error: BackendExpectsTLS",
				"set scheme: https on the route's service, or name the Service port https",
			}},
		{name: "no endpoints", host: host, cacert: ca,
			broken: func(s *setup) { s.slice.Ports[0].Name = ptr.To("other") },
			says: []string{
				"the gateway answered 503 with Bridgehead-Error: NoEndpoints",
				"check the Service's selector and that its pods are ready",
			}},
		{name: "gateway certificate not trusted by the client", host: host,
			says: []string{
				"FAIL  Certificate app.example.test: UnknownAuthority",
				`signed by "CN=Edge CA,O=Bridgehead tests", which is not trusted by the system roots`,
				"--cacert",
				"answered 200 OK",
			}},
		{name: "host no route serves", host: "other.example.test", cacert: ca,
			says: []string{
				"FAIL  Certificate other.example.test: CertificateHostMismatch",
				"Bridgehead-Error: NoRoute",
				"check the route's match",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup()
			if tt.broken != nil {
				tt.broken(s)
			}
			gw := startGateway(t, s)
			r, out := checkURL(t, gw, tt.host, "/", diag.URLOptions{CACert: tt.cacert, Timeout: 5 * time.Second})
			if testing.Verbose() {
				t.Log("\n" + out)
			}
			if r.Broken() == tt.ok {
				t.Errorf("broken = %v, want %v:\n%s", r.Broken(), !tt.ok, out)
			}
			for _, want := range tt.says {
				if !strings.Contains(out, want) {
					t.Errorf("the report does not say %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestURLArguments: a URL or a file that cannot be used is an error, not a diagnosis.
func TestURLArguments(t *testing.T) {
	for _, tc := range []struct {
		url string
		o   diag.URLOptions
	}{
		{"ftp://example.test/", diag.URLOptions{}},
		{"https:///path", diag.URLOptions{}},
		{"https://example.test/", diag.URLOptions{Resolve: []string{"example.test:443"}}},
		{"https://example.test/", diag.URLOptions{CACert: filepath.Join(t.TempDir(), "missing.crt")}},
		{"https://example.test/", diag.URLOptions{ClientCert: "only-the-cert.pem"}},
	} {
		if _, err := diag.URL(context.Background(), tc.url, tc.o); err == nil {
			t.Errorf("URL(%q, %+v): want an error", tc.url, tc.o)
		}
	}
}
