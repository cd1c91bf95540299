package dataplane

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// h2specKnownFailures lists the h2spec tests the gateway fails today, each with why.
const h2specKnownFailures = "testdata/h2spec-known-failures.txt"

// TestH2spec runs h2spec (bin/h2spec, `make bin/h2spec`) against the TLS entry point, with
// a route to an HTTPS backend, and compares its JUnit report with the known failures: a
// test that fails and is not listed fails this test, and so does a listed test that no
// longer fails (remove it from the list).
func TestH2spec(t *testing.T) {
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "h2spec"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI=true): run `make bin/h2spec`", bin)
		}
		t.Skipf("%s is missing: run `make bin/h2spec` (make test does)", bin)
	}
	known := readKnownFailures(t, h2specKnownFailures)

	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	// h2spec dials an IP address, so its ClientHello has no SNI (the default certificate
	// answers, hence -k) and its :authority is 127.0.0.1:PORT: PathPrefix takes that host
	// to the same backend as app.example.com.
	g := startGateway(t, e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`) || PathPrefix(`/`)", svc: "backend", transport: "backend", secret: "app-tls"}))
	host, port, err := net.SplitHostPort(g.secure)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("TLS entry point %q: want 127.0.0.1:PORT (%v)", g.secure, err)
	}
	requireH2specPath(t, g, p)

	report := filepath.Join(t.TempDir(), "h2spec.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// -o is how long h2spec waits for each expected frame or close: only tests that fail
	// wait that long, so a generous one costs nothing while the gateway conforms.
	// --strict adds the optional tests (one in h2spec 2.2.1, which net/http passes).
	cmd := exec.CommandContext(ctx, bin, "--strict", "--tls", "--insecure", "--host", host, "--port", port, "--timeout", "5", "--junit-report", report)
	out, runErr := cmd.CombinedOutput()
	// h2spec exits 1 when a test fails: the report says which.
	results, err := readH2specReport(report)
	if err != nil {
		t.Fatalf("h2spec (%v) wrote no usable report: %v\n%s", runErr, err, out)
	}
	if len(results) < 100 {
		t.Fatalf("h2spec reported only %d tests (%v)\n%s", len(results), runErr, out)
	}

	// A skipped test (h2spec skips some when the server's answers leave nothing to test)
	// counts as failed: none is skipped today, and a skip would hide a test silently.
	var unexpected, fixed []string
	for _, r := range results {
		_, listed := known[r.id]
		switch {
		case r.skipped && !listed:
			unexpected = append(unexpected, fmt.Sprintf("%s %s: skipped", r.id, r.desc))
		case r.failed && !listed:
			unexpected = append(unexpected, fmt.Sprintf("%s %s:\n%s", r.id, r.desc, strings.TrimSpace(r.detail)))
		case !r.failed && !r.skipped && listed:
			fixed = append(fixed, fmt.Sprintf("%s %s", r.id, r.desc))
		}
		delete(known, r.id)
	}
	for id := range known {
		fixed = append(fixed, id+" (h2spec ran no such test)")
	}
	slices.Sort(fixed)
	for _, f := range unexpected {
		t.Errorf("h2spec test did not pass and is not in %s: %s", h2specKnownFailures, f)
	}
	for _, f := range fixed {
		t.Errorf("h2spec test listed in %s passes now, remove its line: %s", h2specKnownFailures, f)
	}
	if t.Failed() {
		t.Logf("h2spec output:\n%s", out)
	}
}

// requireH2specPath checks that a request as h2spec sends it (no SNI, :authority
// 127.0.0.1:PORT) reaches the backend over HTTP/2, so h2spec tests the proxied path and
// not an error page.
func requireH2specPath(t *testing.T, g *gateway, p *testPKI) {
	t.Helper()
	c := g.httpsClient(p.edgeCA, func(c *tls.Config) {
		c.InsecureSkipVerify = true //nolint:gosec // as h2spec -k: no SNI, so the default certificate answers
		c.ServerName = ""
	})
	resp, err := c.Get("https://" + g.secure + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 || string(body) != "backend:backend.web.svc" {
		t.Fatalf("a request as h2spec sends it (no SNI, :authority %s): %d over %s, body %q (%v); want the backend's 200 over HTTP/2",
			g.secure, resp.StatusCode, resp.Proto, body, err)
	}
}

// readKnownFailures reads "ID # why" lines; '#' lines and blank lines are comments. Every
// entry must say why.
func readKnownFailures(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	known := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, why, _ := strings.Cut(line, "#")
		id, why = strings.TrimSpace(id), strings.TrimSpace(why)
		if strings.ContainsAny(id, " \t") || why == "" {
			t.Fatalf("%s:%d: want `SECTION-ID # why it fails`, got %q", path, n, line)
		}
		if _, dup := known[id]; dup {
			t.Fatalf("%s:%d: %s is listed twice", path, n, id)
		}
		known[id] = why
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return known
}

type h2specResult struct {
	id, desc        string // id as h2spec selects it: http2/6.9.1/2
	failed, skipped bool
	detail          string
}

// readH2specReport reads h2spec's JUnit report. A suite's package is the group's id
// (http2/6.9.1) and its test cases are in h2spec's order, so the n-th is PACKAGE/n, the id
// h2spec takes to run that test alone. h2spec 2.2.1 writes every failure as <error>.
func readH2specReport(path string) ([]h2specResult, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Suites []struct {
			Package string `xml:"package,attr"`
			Cases   []struct {
				Package   string  `xml:"package,attr"`
				ClassName string  `xml:"classname,attr"`
				Failure   *string `xml:"failure"`
				Error     *string `xml:"error"`
				Skipped   *string `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var results []h2specResult
	seen := map[string]bool{}
	for _, s := range doc.Suites {
		for i, c := range s.Cases {
			if c.Package != s.Package {
				return nil, fmt.Errorf("test case %q of suite %s has package %s", c.ClassName, s.Package, c.Package)
			}
			r := h2specResult{id: fmt.Sprintf("%s/%d", s.Package, i+1), desc: c.ClassName, skipped: c.Skipped != nil}
			switch {
			case c.Failure != nil:
				r.failed, r.detail = true, *c.Failure
			case c.Error != nil:
				r.failed, r.detail = true, *c.Error
			}
			if seen[r.id] {
				return nil, fmt.Errorf("test %s is reported twice", r.id)
			}
			seen[r.id] = true
			results = append(results, r)
		}
	}
	if len(results) == 0 {
		return nil, errors.New("no test cases")
	}
	return results, nil
}
