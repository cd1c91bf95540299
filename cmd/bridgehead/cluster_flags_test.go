package main

import (
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The API server rate is a production setting: client-go's default (5 a second) would
// take over half an hour to write the statuses of 10,000 routes, and a rate that is not
// positive is refused by name before anything starts.
func TestKubeAPIRateFlags(t *testing.T) {
	f, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.cluster.apiQPS != 50 || f.cluster.apiBurst != 100 {
		t.Errorf("defaults: --kube-api-qps %v, --kube-api-burst %d; want 50 and 100", f.cluster.apiQPS, f.cluster.apiBurst)
	}
	if _, err := f.gatewayConfig(&snapshot.Store{}); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
	for _, arg := range []string{"--kube-api-qps=0", "--kube-api-qps=-1", "--kube-api-burst=0"} {
		f, err := parseServeFlags([]string{arg}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		flagName, _, _ := strings.Cut(arg, "=")
		if _, err := f.gatewayConfig(&snapshot.Store{}); err == nil || !strings.Contains(err.Error(), flagName) {
			t.Errorf("%s: %v", arg, err)
		}
	}
}

// The gateway asks the API server for uncompressed answers (it runs next to it, where gzip
// costs CPU on both sides): Go's transport would otherwise ask for gzip on every request,
// watches included.
func TestAPIRequestsAskForNoCompression(t *testing.T) {
	encodings := make(chan string, 1)
	// Over TLS, as every API server is: for a plain-HTTP server client-go uses Go's
	// default transport, which ignores the setting.
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encodings <- r.Header.Get("Accept-Encoding")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"kind":"APIVersions","versions":["v1"]}`)
	}))
	defer api.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "+api.URL+
		"\n    certificate-authority-data: "+base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}))+
		"\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user: {}\ncurrent-context: c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := parseServeFlags([]string{"--kubeconfig", kubeconfig}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.apiConfig()
	if err != nil {
		t.Fatal(err)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Get(api.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	if got := <-encodings; strings.Contains(got, "gzip") {
		t.Errorf("a request to the API server says Accept-Encoding: %q; want no gzip", got)
	}
}
