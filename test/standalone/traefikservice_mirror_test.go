package standalone

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mirrorRoutes: mirror.example.test copies 25% of its requests to svc-copy; slow.example.test
// copies every request to a mirror that takes 500 ms and to one that is down;
// body.example.test copies bodies of at most 16 bytes to svc-bodies, and nobody.example.test
// copies requests without their body.
const mirrorRoutes = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: mirrors, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`mirror.example.test`" + `)
    services: [{name: quarter, kind: TraefikService}]
  - match: Host(` + "`slow.example.test`" + `)
    services: [{name: slow-mirrors, kind: TraefikService}]
  - match: Host(` + "`body.example.test`" + `)
    services: [{name: small-bodies, kind: TraefikService}]
  - match: Host(` + "`nobody.example.test`" + `)
    services: [{name: no-bodies, kind: TraefikService}]
  tls: {secretName: edge-tls}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: quarter, namespace: web}
spec:
  mirroring:
    name: svc-main
    port: https
    serversTransport: backends
    mirrors:
    - {name: svc-copy, port: https, serversTransport: backends, percent: 25}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: slow-mirrors, namespace: web}
spec:
  mirroring:
    name: svc-main
    port: https
    serversTransport: backends
    mirrors:
    - {name: svc-slow, port: https, serversTransport: backends, percent: 100}
    - {name: svc-dead, port: https, serversTransport: backends, percent: 100}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: small-bodies, namespace: web}
spec:
  mirroring:
    name: svc-main
    port: https
    serversTransport: backends
    maxBodySize: 16
    mirrors:
    - {name: svc-bodies, port: https, serversTransport: backends, percent: 100}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: no-bodies, namespace: web}
spec:
  mirroring:
    name: svc-main
    port: https
    serversTransport: backends
    mirrorBody: false
    mirrors:
    - {name: svc-bodies, port: https, serversTransport: backends, percent: 100}
`

// recordingBackend is an HTTPS backend that answers its name (and the body it got) after
// delay, and records what it received.
type recordingBackend struct {
	*httptest.Server
	count  atomic.Int64
	mu     sync.Mutex
	bodies []string
}

func newRecordingBackend(t *testing.T, p *testPKI, name string, delay time.Duration) *recordingBackend {
	t.Helper()
	rb := &recordingBackend{}
	rb.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if delay > 0 {
			// The slow mirror under test: its answer takes this long.
			time.Sleep(delay)
		}
		rb.mu.Lock()
		rb.bodies = append(rb.bodies, string(body))
		rb.mu.Unlock()
		rb.count.Add(1)
		_, _ = io.WriteString(w, name+" "+string(body))
	}))
	rb.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	rb.Config.ErrorLog = log.New(io.Discard, "", 0)
	rb.EnableHTTP2 = true
	rb.StartTLS()
	t.Cleanup(rb.Close)
	return rb
}

func (rb *recordingBackend) received() []string {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	return append([]string(nil), rb.bodies...)
}

// mirrorMetric reads bridgehead_mirror_requests_total{route, result} from the admin port.
func mirrorMetric(t *testing.T, gw *gatewayProc, route, result string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+gw.admin+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	want := fmt.Sprintf(`bridgehead_mirror_requests_total{result=%q,route=%q} `, result, route)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			var n int
			_, _ = fmt.Sscanf(v, "%d", &n)
			return n
		}
	}
	return 0
}

// load sends total GETs to url on workers clients (HTTP/2 and HTTP/1.1 alternately),
// bounded by limit, and returns each request's latency and the answers by body.
func load(t *testing.T, gw *gatewayProc, p *testPKI, url string, total, workers int, limit time.Duration) ([]time.Duration, map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	answers := map[string]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		c := gw.httpsClient(p.edgeCA, w%2 == 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && next.Add(1) <= int64(total) {
				start := time.Now()
				code, body, err := get(c, url)
				d := time.Since(start)
				key := body
				if err != nil || code != http.StatusOK {
					key = fmt.Sprintf("error %d %v", code, err)
				}
				mu.Lock()
				lat = append(lat, d)
				answers[key]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(lat) != total {
		t.Fatalf("%d of %d requests done within %s: %v", len(lat), total, limit, answers)
	}
	return lat, answers
}

func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

// TestTraefikServiceMirroring: through real TLS on loopback, a mirroring TraefikService
// copies exactly its percentage of 2,000 requests to the mirror; a mirror that takes
// 500 ms and one that is down do not delay the main answers (p99 measured); bodies up to
// maxBodySize are copied, larger ones are not (the main service gets them whole), and
// mirrorBody: false copies requests without their body; curl too.
func TestTraefikServiceMirroring(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	main := newRecordingBackend(t, p, "main", 0)
	copyTo := newRecordingBackend(t, p, "copy", 0)
	slow := newRecordingBackend(t, p, "slow", 500*time.Millisecond)
	bodies := newRecordingBackend(t, p, "bodies", 0)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml": p.secretsYAML(),
		"backends.yaml": serviceYAML(t, "svc-main", addrOf(main.Server)) + serviceYAML(t, "svc-copy", addrOf(copyTo.Server)) +
			serviceYAML(t, "svc-slow", addrOf(slow.Server)) + serviceYAML(t, "svc-dead", "127.0.0.1:"+freePort(t)) +
			serviceYAML(t, "svc-bodies", addrOf(bodies.Server)),
		"transport.yaml": transportYAML,
		"routes.yaml":    mirrorRoutes,
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, true)
	waitBody(t, client, "https://mirror.example.test/", http.StatusOK, "main ")
	wantCondition(t, gw, "TraefikService/web/quarter", "Ready", "True")
	const route = "web/mirrors/0"

	// 1. The percentage: 2,000 requests (plus the one above), at most 60 s.
	const total = 2000
	start := time.Now()
	lat, answers := load(t, gw, p, "https://mirror.example.test/", total, 4, 60*time.Second)
	took := time.Since(start)
	if answers["main "] != total {
		t.Fatalf("answers %v; want %d from main", answers, total)
	}
	// Copies are sent after each main answer: wait (bounded) for the last to arrive.
	want := int64(((total+1)*25 + 99) / 100)
	eventually(10*time.Second, func() bool { return copyTo.count.Load() >= want })
	got := copyTo.count.Load()
	share := 100 * float64(got) / (total + 1)
	t.Logf("mirroring 25%%: the mirror got %d copies of %d requests (%.2f%%; Traefik's count gives exactly %d); %d requests in %s, main p50 %s p99 %s",
		got, total+1, share, want, total, took.Round(time.Millisecond), percentile(lat, 0.5).Round(time.Microsecond), percentile(lat, 0.99).Round(time.Microsecond))
	if math.Abs(share-25) > 3 {
		t.Errorf("the mirror got %.2f%% of the requests, want 25%% ±3", share)
	}
	if sent := mirrorMetric(t, gw, route, "sent"); int64(sent) != got {
		t.Errorf("bridgehead_mirror_requests_total{result=sent} = %d, the mirror got %d", sent, got)
	}

	// 2. Slow and dead mirrors do not delay the client: every request is copied to a
	// mirror that answers after 500 ms and to one that refuses connections.
	lat, answers = load(t, gw, p, "https://slow.example.test/", total, 4, 60*time.Second)
	p50, p99, worst := percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 1)
	var sent, dropped int
	eventually(10*time.Second, func() bool {
		sent, dropped = mirrorMetric(t, gw, "web/mirrors/1", "sent"), mirrorMetric(t, gw, "web/mirrors/1", "dropped")
		return sent+dropped == 2*total && slow.count.Load() > 0
	})
	t.Logf("a 500 ms mirror and a dead one at 100%%: %d requests, main p50 %s p99 %s max %s; copies sent %d, dropped %d (at most 512 in flight), the slow mirror got %d",
		total, p50.Round(time.Microsecond), p99.Round(time.Microsecond), worst.Round(time.Microsecond), sent, dropped, slow.count.Load())
	if answers["main "] != total {
		t.Errorf("answers %v; want %d from main", answers, total)
	}
	// A client that waited for the mirror would take 500 ms or more on every request.
	// Alone on the machine p99 stays far below 100 ms (6-37 ms measured); the bounds
	// leave room for a machine shared with other tests (174 ms p99 seen then, while the
	// run without slow mirrors had 98 ms).
	if p50 >= 100*time.Millisecond || p99 >= 250*time.Millisecond {
		t.Errorf("main latency p50 %s p99 %s with a 500 ms mirror; want p50 below 100 ms and p99 below 250 ms", p50, p99)
	}
	if sent+dropped != 2*total || slow.count.Load() == 0 {
		t.Errorf("copies sent %d + dropped %d != %d, or the slow mirror got none (%d)", sent, dropped, 2*total, slow.count.Load())
	}

	// 3. Bodies: up to maxBodySize (16) they are copied; a larger one goes to the main
	// service whole and is not copied; mirrorBody: false copies without the body.
	post := func(host, body string) string {
		req, _ := http.NewRequest(http.MethodPost, "https://"+host+"/", strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", host, err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := post("body.example.test", "small body"); got != "main small body" {
		t.Errorf("main answered %q to a small body; want %q", got, "main small body")
	}
	large := strings.Repeat("x", 17)
	if got := post("body.example.test", large); got != "main "+large {
		t.Errorf("main answered %q to a 17-byte body; want it whole", got)
	}
	if got := post("nobody.example.test", "secret form"); got != "main secret form" {
		t.Errorf("main answered %q with mirrorBody false; want the body", got)
	}
	eventually(10*time.Second, func() bool { return bodies.count.Load() >= 2 })
	received := bodies.received()
	slices.Sort(received)
	if !slices.Equal(received, []string{"", "small body"}) {
		t.Errorf("the mirror received bodies %q; want the small body, then the copy without its body (the 17-byte one not at all)", received)
	}

	// 4. curl: four requests in one run; the 25% mirror's count goes up by exactly one.
	before := copyTo.count.Load()
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	url := "https://mirror.example.test:" + port + "/"
	args := []string{"-sS", "--cacert", ca, "--resolve", "mirror.example.test:" + port + ":127.0.0.1", "-w", "\n"}
	for range 4 {
		args = append(args, url)
	}
	out, code := runTool(t, dir, "curl", args...)
	if code != 0 || strings.Count(out, "main") != 4 {
		t.Fatalf("curl: exit %d: %q; want 4 answers from main", code, out)
	}
	eventually(10*time.Second, func() bool { return copyTo.count.Load() > before })
	t.Logf("curl, 4 requests: all answered by main; the mirror's count went %d -> %d", before, copyTo.count.Load())
	if copyTo.count.Load() != before+1 {
		t.Errorf("after 4 more requests the 25%% mirror got %d more copies; want 1", copyTo.count.Load()-before)
	}
}
