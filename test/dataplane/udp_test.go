package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// udpEcho is a DNS-style UDP backend on loopback: it answers each datagram with its own
// name and the datagram, from the address the gateway wrote to.
func udpEcho(t *testing.T, name string) (addr string, seen *sync.Map) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	seen = &sync.Map{} // peer address -> true: the gateway's session sockets
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			seen.Store(from.String(), true)
			_, _ = pc.WriteTo(append([]byte(name+" "), buf[:n]...), from)
		}
	}()
	return pc.LocalAddr().String(), seen
}

// udpService is a Service with one UDP port 53 named dns whose endpoint is addr.
func udpService(name, addr string) []client.Object {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
			}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports: []discoveryv1.EndpointPort{
				// The TCP port of the same name-less number points elsewhere: a UDP route
				// must pick the UDP one.
				{Name: ptr.To("dns-tcp"), Port: ptr.To(int32(1)), Protocol: ptr.To(corev1.ProtocolTCP)},
				{Name: ptr.To("dns"), Port: ptr.To(int32(p)), Protocol: ptr.To(corev1.ProtocolUDP)},
			},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{host}}},
		},
	}
}

func ingressRouteUDP(name string, entryPoints []string, services ...bhv1.ServiceUDP) *bhv1.IngressRouteUDP {
	return &bhv1.IngressRouteUDP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bhv1.IngressRouteUDPSpec{EntryPoints: entryPoints, Routes: []bhv1.RouteUDP{{Services: services}}}}
}

// withUDPEntryPoint adds a UDP entry point on 127.0.0.1 and sets the session timeout and
// table size.
func withUDPEntryPoint(name string, timeout time.Duration, maxSessions int) gatewayOption {
	return func(c *proxy.Config) {
		c.EntryPoints = append(c.EntryPoints, proxy.EntryPoint{Name: name, Address: "127.0.0.1:0", UDP: true})
		c.UDPTimeout, c.UDPMaxSessions = timeout, maxSessions
	}
}

// startUDPGateway runs a gateway with the UDP entry point "dns" and translates objs
// knowing its entry points, as `bridgehead serve --entrypoint dns=:PORT/udp` does.
func startUDPGateway(t *testing.T, timeout time.Duration, maxSessions int, objs ...client.Object) (*gateway, string, translate.Statuses) {
	g := startGateway(t, nil, withUDPEntryPoint("dns", timeout, maxSessions))
	g.opts.EntryPoints = map[string]string{"web": "tcp", "websecure": "tls", "dns": "udp"}
	st := g.apply(objs...)
	return g, g.srv.Addrs()["dns"], st
}

// ask sends one query from conn and waits for its answer, retransmitting as a DNS
// resolver does (every read has a deadline); it returns the answer and the retransmits.
// An answer for which stale says true (a late answer to the caller's own earlier query,
// after a retransmit) is skipped, as a resolver skips an answer with an old ID.
func ask(conn net.Conn, query string, tries int, wait time.Duration, stale ...func(answer string) bool) (string, int, error) {
	buf := make([]byte, 2048)
	for try := range tries {
		if _, err := conn.Write([]byte(query)); err != nil {
			return "", try, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		for {
			n, err := conn.Read(buf)
			if err == nil {
				answer := string(buf[:n])
				if len(stale) > 0 && stale[0](answer) {
					continue
				}
				return answer, try, nil
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return "", try, err
			}
			break
		}
	}
	return "", tries, fmt.Errorf("no answer to %q after %d tries", query, tries)
}

func metricLines(t *testing.T, g *gateway, prefix string) []string {
	t.Helper()
	resp, err := http.Get("http://" + g.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// Issue 18's done-when: an IngressRouteUDP forwards DNS-style datagrams to UDP backends on
// loopback. Many clients at once, each from its own address: every answer reaches the
// client that asked (the gateway answers from the entry point's socket), a client's
// datagrams stay on one backend (its session), and new sessions split by weight.
func TestUDPRouteForwardsDatagramsPerClientSession(t *testing.T) {
	addrA, seenA := udpEcho(t, "a")
	addrB, _ := udpEcho(t, "b")
	objs := append(udpService("dns-a", addrA), udpService("dns-b", addrB)...)
	objs = append(objs, ingressRouteUDP("dns", []string{"dns"},
		bhv1.ServiceUDP{Name: "dns-a", Port: "53", Weight: ptr.To(3)},
		bhv1.ServiceUDP{Name: "dns-b", Port: "dns", Weight: ptr.To(1)}))
	g, entry, statuses := startUDPGateway(t, 3*time.Second, 0, objs...)
	if c := statuses[translate.Key{Kind: translate.KindIngressRouteUDP, Namespace: ns, Name: "dns"}].Condition(bhv1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("IngressRouteUDP not Ready: %+v", c)
	}

	const clients, queries = 200, 25
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		wg          sync.WaitGroup
		answered    atomic.Int64
		retransmits atomic.Int64
		mu          sync.Mutex
		byBackend   = map[string]int{} // client sessions per backend
		errs        []string
	)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("udp", entry)
			if err != nil {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
				return
			}
			defer func() { _ = conn.Close() }()
			backend := ""
			for q := range queries {
				if ctx.Err() != nil {
					return
				}
				query := fmt.Sprintf("client-%d query-%d %s", c, q, conn.LocalAddr())
				own := fmt.Sprintf(" client-%d query-", c)
				staleAnswer := func(answer string) bool {
					// A late answer to one of this client's earlier queries (it was
					// retransmitted): for the same client, never another's.
					return strings.Contains(answer, own) && !strings.HasSuffix(answer, " "+query)
				}
				answer, tries, err := ask(conn, query, 4, 2*time.Second, staleAnswer)
				retransmits.Add(int64(tries))
				name, echoed, _ := strings.Cut(answer, " ")
				switch {
				case err != nil:
				case echoed != query:
					err = fmt.Errorf("client %d got %q, which is not the answer to its query %q", c, answer, query)
				case backend != "" && name != backend:
					err = fmt.Errorf("client %d: query %d answered by %s, its session's backend is %s", c, q, name, backend)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
					return
				}
				backend = name
				answered.Add(1)
			}
			mu.Lock()
			byBackend[backend]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if len(errs) > 0 {
		t.Fatalf("%d clients failed, first: %s", len(errs), errs[0])
	}
	total := int64(clients * queries)
	t.Logf("UDP: %d clients x %d queries = %d datagrams answered (each to the client that asked) in %v (%.0f/s), %d retransmits; sessions per backend %v (weights a:3 b:1)",
		clients, queries, answered.Load(), took.Round(time.Millisecond), float64(answered.Load())/took.Seconds(), retransmits.Load(), byBackend)
	if answered.Load() != total {
		t.Fatalf("answered %d of %d", answered.Load(), total)
	}
	if byBackend["a"] != clients*3/4 || byBackend["b"] != clients/4 {
		t.Errorf("sessions per backend %v, want a:%d b:%d (weighted round robin 3:1)", byBackend, clients*3/4, clients/4)
	}
	peers := 0
	seenA.Range(func(any, any) bool { peers++; return true })
	if peers != clients*3/4 {
		t.Errorf("backend a saw %d gateway sockets, want one per session (%d)", peers, clients*3/4)
	}
	// Every query reached the gateway at least once; a retransmitted one may have been
	// lost before the gateway (a full socket buffer on a loaded machine) or after it.
	got := metricLines(t, g, `bridgehead_udp_datagrams_total{direction="in",route="web/dns/0"}`)
	var in int64 = -1
	if len(got) == 1 {
		f := strings.Fields(got[0])
		in, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
	}
	if in < total || in > total+retransmits.Load() {
		t.Errorf("datagram metric %v, want between %d and %d (the queries, plus at most the retransmits)", got, total, total+retransmits.Load())
	}
}

// A session ends after the idle timeout (--udp-timeout): the gateway's socket to the
// backend is closed, the gauge drops, and the client's next datagram opens a new session.
func TestUDPSessionEndsWhenIdle(t *testing.T) {
	addr, seen := udpEcho(t, "a")
	objs := append(udpService("dns-a", addr), ingressRouteUDP("dns", nil, bhv1.ServiceUDP{Name: "dns-a", Port: "53"}))
	g, entry, _ := startUDPGateway(t, 300*time.Millisecond, 0, objs...)
	conn, err := net.Dial("udp", entry)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, _, err := ask(conn, "one", 3, time.Second); err != nil {
		t.Fatal(err)
	}
	idleStart := time.Now() // the answer was the session's last datagram
	open := func() string {
		l := metricLines(t, g, `bridgehead_udp_sessions_open{entrypoint="dns"}`)
		if len(l) != 1 {
			return ""
		}
		return l[0][strings.LastIndex(l[0], " ")+1:]
	}
	if got := open(); got != "1" {
		t.Fatalf("open sessions %q after the first datagram, want 1", got)
	}
	eventually(t, "session ends after 300ms idle", func() bool { return open() == "0" })
	t.Logf("UDP session closed %v after its last datagram (timeout 300ms)", time.Since(idleStart).Round(10*time.Millisecond))
	if time.Since(idleStart) < 250*time.Millisecond {
		t.Errorf("session ended after %v, before the 300ms timeout", time.Since(idleStart))
	}
	if _, _, err := ask(conn, "two", 3, time.Second); err != nil {
		t.Fatal(err)
	}
	peers := 0
	seen.Range(func(any, any) bool { peers++; return true })
	if peers != 2 {
		t.Errorf("backend saw %d gateway sockets, want 2 (a new session after the idle one ended)", peers)
	}
}

// The session table is bounded (--udp-max-sessions): clients beyond it are dropped and
// counted, and the clients that have sessions keep being answered.
func TestUDPSessionLimit(t *testing.T) {
	addr, _ := udpEcho(t, "a")
	objs := append(udpService("dns-a", addr), ingressRouteUDP("dns", []string{"dns"}, bhv1.ServiceUDP{Name: "dns-a", Port: "53"}))
	g, entry, _ := startUDPGateway(t, 5*time.Second, 4, objs...)
	var conns []net.Conn
	for range 8 {
		c, err := net.Dial("udp", entry)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		conns = append(conns, c)
	}
	answered := 0
	for i, c := range conns {
		if _, _, err := ask(c, "q"+strconv.Itoa(i), 1, 300*time.Millisecond); err == nil {
			answered++
		}
	}
	if answered != 4 {
		t.Errorf("%d of 8 clients answered, want the 4 the table holds", answered)
	}
	for i, c := range conns[:4] {
		if _, _, err := ask(c, "again"+strconv.Itoa(i), 2, time.Second); err != nil {
			t.Errorf("client %d with a session: %v", i, err)
		}
	}
	dropped := metricLines(t, g, `bridgehead_udp_dropped_total{entrypoint="dns",reason="SessionLimit"}`)
	t.Logf("UDP session limit 4: %d of 8 clients answered; %v", answered, dropped)
	if len(dropped) != 1 || !strings.HasSuffix(dropped[0], " 4") {
		t.Errorf("dropped metric %v, want 4 SessionLimit drops", dropped)
	}
}

// A route naming an entry point the gateway does not have, or a TCP one, is not Ready and
// says which; it serves on the UDP entry points it names that exist. Two routes on one
// entry point: the older serves, the other is told.
func TestUDPRouteEntryPointsAndConflicts(t *testing.T) {
	addr, _ := udpEcho(t, "a")
	older := ingressRouteUDP("older", []string{"dns"}, bhv1.ServiceUDP{Name: "dns-a", Port: "53"})
	older.CreationTimestamp = metav1.NewTime(time.Now().Add(-time.Hour))
	newer := ingressRouteUDP("newer", []string{"dns"}, bhv1.ServiceUDP{Name: "dns-a", Port: "53"})
	newer.CreationTimestamp = metav1.NewTime(time.Now())
	objs := append(udpService("dns-a", addr),
		ingressRouteUDP("typo", []string{"dnz", "web"}, bhv1.ServiceUDP{Name: "dns-a", Port: "53"}),
		older, newer,
		ingressRouteUDP("tcp-port", []string{"dns"}, bhv1.ServiceUDP{Name: "dns-a", Port: "dns-tcp"}))
	_, entry, statuses := startUDPGateway(t, time.Second, 0, objs...)
	ready := func(name string) *metav1.Condition {
		return statuses[translate.Key{Kind: translate.KindIngressRouteUDP, Namespace: ns, Name: name}].Condition(bhv1.ConditionReady)
	}
	for name, want := range map[string][]string{
		"typo":     {"UnknownEntryPoint", `spec.entryPoints[0] "dnz" is not an entry point of the gateway`},
		"newer":    {"Conflicted", "web/older/0 wins"},
		"tcp-port": {"PortNotFound", "is a TCP port; an IngressRouteUDP needs a port of protocol UDP"},
	} {
		c := ready(name)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != want[0] || !strings.Contains(c.Message, want[1]) {
			t.Errorf("%s: Ready %+v, want False %s containing %q", name, c, want[0], want[1])
		}
	}
	if !strings.Contains(ready("typo").Message, `spec.entryPoints[1] "web" is a TCP entry point`) {
		t.Errorf("typo: %s", ready("typo").Message)
	}
	if c := ready("older"); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("older: %+v", c)
	}
	conn, err := net.Dial("udp", entry)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if answer, _, err := ask(conn, "hello", 3, time.Second); err != nil || answer != "a hello" {
		t.Errorf("answer %q, %v", answer, err)
	}
}
