// Command gostdlib is the "gostdlib" peer of `make bench` (hack/bench/run.sh): the least a
// Go program needs to do the bench's work with the standard library alone. It terminates
// TLS for the edge name (HTTP/1.1 and HTTP/2 by ALPN), and forwards every request with
// net/http/httputil.ReverseProxy over net/http.Transport, re-encrypting to the origin and
// verifying its certificate against the bench's CA by the origin's name.
//
// It is a yardstick, not a gateway: what it costs in CPU is what the Go standard library's
// HTTP stack costs, and its peak RSS is the floor under any Go gateway that serves these
// requests (the runtime, crypto/tls, net/http and their buffers, with no routing, no
// configuration and no Kubernetes client). Nothing here is part of Bridgehead.
//
//	gostdlib -listen ADDR -cert FILE -key FILE -origin HOST:PORT -origin-ca FILE
//	         -origin-name NAME [-origin-h2] [-ready ADDR]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gostdlib:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	listen, certFile, keyFile    string
	origin, originCA, originName string
	originH2                     bool
	ready                        string
}

func run(args []string) error {
	var c config
	fs := flag.NewFlagSet("gostdlib", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "", "TLS address to serve, HOST:PORT")
	fs.StringVar(&c.certFile, "cert", "", "edge certificate (PEM)")
	fs.StringVar(&c.keyFile, "key", "", "edge key (PEM)")
	fs.StringVar(&c.origin, "origin", "", "origin address, HOST:PORT")
	fs.StringVar(&c.originCA, "origin-ca", "", "CA that signed the origin's certificate (PEM)")
	fs.StringVar(&c.originName, "origin-name", "", "name the origin's certificate must carry")
	fs.BoolVar(&c.originH2, "origin-h2", false, "speak HTTP/2 to the origin when it offers it (ALPN)")
	fs.StringVar(&c.ready, "ready", "", "plain HTTP address answering 200 once serving (the bench's readiness probe)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	server, err := newServer(c)
	if err != nil {
		return err
	}
	if c.ready != "" {
		go func() {
			err := http.ListenAndServe(c.ready, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			fmt.Fprintln(os.Stderr, "gostdlib: readiness port:", err)
		}()
	}
	return server.ListenAndServeTLS("", "")
}

// newServer builds the TLS server that proxies every request to the origin.
func newServer(c config) (*http.Server, error) {
	if c.listen == "" || c.certFile == "" || c.keyFile == "" || c.origin == "" || c.originCA == "" || c.originName == "" {
		return nil, errors.New("-listen, -cert, -key, -origin, -origin-ca and -origin-name are all required")
	}
	caPEM, err := os.ReadFile(c.originCA)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no PEM certificate", c.originCA)
	}
	edge, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: c.originName},
		// The bench's other proxies keep a connection per concurrent request to the
		// origin; the default of 2 idle connections a host would redial most requests.
		MaxIdleConnsPerHost: 1024,
		ForceAttemptHTTP2:   c.originH2,
	}
	if !c.originH2 {
		// A non-nil empty map turns HTTP/2 off for the origin.
		transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	origin := &url.URL{Scheme: "https", Host: c.origin}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(origin)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: transport,
	}
	return &http.Server{
		Addr:    c.listen,
		Handler: proxy,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{edge},
			// As every proxy in the bench: a full handshake per new connection.
			SessionTicketsDisabled: true,
		},
	}, nil
}
