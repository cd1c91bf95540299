package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// demoBackend is an HTTPS-only service for the quickstart and examples: it answers with
// what it saw of the TLS connection, so a user can check the gateway re-encrypted.
type demoBackend struct {
	listen, cert, key, clientCA, name string
}

func (d *demoBackend) flags(fs *flag.FlagSet) {
	fs.StringVar(&d.listen, "listen", "127.0.0.1:9443", "address to serve HTTPS on")
	fs.StringVar(&d.cert, "cert", "", "PEM certificate")
	fs.StringVar(&d.key, "key", "", "PEM private key")
	fs.StringVar(&d.clientCA, "client-ca", "", "when set, require client certificates signed by this CA")
	fs.StringVar(&d.name, "name", "demo backend", "name to answer with")
}

// start listens and serves until ctx ends; it returns once the listener is open.
func (d *demoBackend) start(ctx context.Context) (net.Addr, <-chan error, error) {
	pair, err := tls.LoadX509KeyPair(d.cert, d.key)
	if err != nil {
		return nil, nil, fmt.Errorf("demo backend: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if d.clientCA != "" {
		pem, err := os.ReadFile(d.clientCA)
		if err != nil {
			return nil, nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("demo backend: %s holds no certificate", d.clientCA)
		}
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	ln, err := net.Listen("tcp", d.listen)
	if err != nil {
		return nil, nil, fmt.Errorf("demo backend: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(d.answer), TLSConfig: cfg, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.ServeTLS(ln, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), done, nil
}

func (d *demoBackend) answer(w http.ResponseWriter, r *http.Request) {
	client := "none"
	if len(r.TLS.PeerCertificates) > 0 {
		client = r.TLS.PeerCertificates[0].Subject.String()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Hello from the %s.\n", d.name)
	fmt.Fprintf(w, "  reached over %s, %s, SNI %q, as %s\n", tls.VersionName(r.TLS.Version), r.Proto, r.TLS.ServerName, r.Host)
	fmt.Fprintf(w, "  gateway client certificate: %s\n", client)
	fmt.Fprintf(w, "  X-Forwarded-For: %s, X-Forwarded-Proto: %s\n", r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"))
}

func demoBackendCommand(args []string, stdout, stderr io.Writer) int {
	d := &demoBackend{}
	fs := flag.NewFlagSet("demo-backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d.flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signalContext()
	defer stop()
	addr, done, err := d.start(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "demo backend serving HTTPS on %s\n", addr)
	if err := <-done; err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
