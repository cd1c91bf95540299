package health

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// checkedBackend is a loopback backend that answers health checks with a status the
// test sets, and remembers what the last check asked for.
type checkedBackend struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	last   *http.Request
}

func newCheckedBackend(t *testing.T, status int) *checkedBackend {
	b := &checkedBackend{}
	b.status.Store(int32(status))
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.last = r
		b.mu.Unlock()
		w.WriteHeader(int(b.status.Load()))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *checkedBackend) lastRequest() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

func (b *checkedBackend) address() string { return strings.TrimPrefix(b.URL, "http://") }

// An endpoint that fails its health check leaves the rotation and comes back when it
// answers again; its healthy neighbour is never marked. The check asks for what the
// backend's healthCheck says (path, Host, headers).
func TestCheckerFollowsEachEndpointsAnswer(t *testing.T) {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(10 * time.Second) // a busy machine, -race; a probe may take probeTimeout
	good, sick := newCheckedBackend(t, http.StatusOK), newCheckedBackend(t, http.StatusServiceUnavailable)
	backend := &snapshot.Backend{
		Service: snapshot.Ref{Kind: "Service", Namespace: "ns", Name: "app"}, Port: "80", Scheme: "http",
		HealthCheck: &snapshot.HealthCheck{
			Scheme: "http", Path: "/healthz", Method: http.MethodGet, Hostname: "app.internal",
			Headers:  map[string]string{"X-Check": "bridgehead"},
			Interval: 20 * time.Millisecond, UnhealthyInterval: 20 * time.Millisecond, Timeout: time.Second,
		},
	}
	var reg Registry
	endpoints := []*Endpoint{reg.Get("app", good.address()), reg.Get("app", sick.address())}
	rt := &http.Transport{}
	defer rt.CloseIdleConnections()
	checker := NewChecker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer checker.Stop()

	checker.Ensure(backend, rt, endpoints)
	g.Eventually(func() bool { return endpoints[1].Unhealthy.Load() }).Should(BeTrue(), "the endpoint answering 503 is still in rotation")
	g.Expect(endpoints[0].Unhealthy.Load()).To(BeFalse(), "the endpoint answering 200 was marked unhealthy")
	g.Expect(endpoints[1].Available(time.Now().UnixNano())).To(BeFalse())

	req := sick.lastRequest()
	g.Expect(req.URL.Path).To(Equal("/healthz"))
	g.Expect(req.Host).To(Equal("app.internal"))
	g.Expect(req.Header.Get("X-Check")).To(Equal("bridgehead"))

	sick.status.Store(http.StatusOK)
	g.Eventually(func() bool { return endpoints[1].Unhealthy.Load() }).Should(BeFalse(), "the endpoint answering 200 again did not come back")

	// A compile that no longer ensures the backend stops its checks; a stopped checker
	// starts none.
	checker.Sweep()
	checker.Sweep()
	checker.mu.Lock()
	g.Expect(checker.loops).To(BeEmpty(), "checks of a backend no compile ensured are still running")
	checker.mu.Unlock()
	checker.Stop()
	checker.Ensure(backend, rt, endpoints)
	checker.mu.Lock()
	g.Expect(checker.loops).To(BeEmpty(), "a stopped checker started checks")
	checker.mu.Unlock()
}
