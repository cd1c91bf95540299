package snapshot

import (
	"strings"
	"sync"
	"testing"
)

func validSnapshot(priority int) *Snapshot {
	return &Snapshot{
		TLS: TLS{Policies: []*Policy{{ID: BuiltinPolicyID, MinVersion: 0x0303, MaxVersion: 0x0304}}, DefaultPolicy: BuiltinPolicyID},
		HTTPRoutes: []*HTTPRoute{{RouteHead: RouteHead{ID: "web/app/0", Match: "Host(`a.example`)", Priority: priority},
			Backends: []*Backend{{Service: Ref{Kind: "Service", Namespace: "web", Name: "app"}, Weight: 1}}}},
	}
}

func TestSwapRefusesAnInconsistentSnapshotAndKeepsTheLastGoodOne(t *testing.T) {
	var s Store
	good := validSnapshot(10)
	if err := s.Swap(good); err != nil {
		t.Fatalf("valid snapshot refused: %v", err)
	}
	bad := validSnapshot(10)
	bad.HTTPRoutes[0].TLS, bad.HTTPRoutes[0].Policy = true, "web/missing"
	err := s.Swap(bad)
	if err == nil || !strings.Contains(err.Error(), `unknown policy "web/missing"`) {
		t.Fatalf("want the unknown policy named, got %v", err)
	}
	if s.Load() != good || s.Generation() != 1 {
		t.Fatalf("the last good snapshot must keep serving (generation %d)", s.Generation())
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	snap := validSnapshot(1)
	snap.HTTPRoutes = append(snap.HTTPRoutes, &HTTPRoute{RouteHead: RouteHead{ID: "web/app/0", Priority: 5}})
	snap.TLS.Hosts = []*HostTLS{{Name: "b.example", Policy: BuiltinPolicyID}, {Name: "a.example", Policy: BuiltinPolicyID}, {Name: "C.example", Policy: BuiltinPolicyID}}
	snap.Transports = []*Transport{{ID: "ServersTransport/ns/a", Hash: "1"}, {ID: "ServersTransport/ns/c", Hash: "1"}, {ID: "ServersTransport/ns/c", Hash: "1"},
		{ID: "ServersTransport/ns/b", Hash: "1"}, {ID: "ServersTransport/ns/d"}}
	err := snap.Validate()
	if err == nil {
		t.Fatal("inconsistent snapshot accepted")
	}
	for _, want := range []string{`route "web/app/0" appears twice`, "not in priority order", "TLS hosts are not sorted", `"C.example" is not normalised`, "has no match rule",
		`transport "ServersTransport/ns/c" appears twice`, `transports are not sorted by ID ("ServersTransport/ns/c" before "ServersTransport/ns/b")`, `transport "ServersTransport/ns/d" has no hash`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// A backend or forwardAuth server names a transport the snapshot has, found in the
// transports' order of ID; one it does not have refuses the snapshot.
func TestValidateFindsTheTransportsRoutesName(t *testing.T) {
	snap := validSnapshot(1)
	for _, id := range []string{"BackendTLSPolicy/web/a", "BackendTLSPolicy/web/b", "BackendTLSPolicy/web/c", "ServersTransport/web/d"} {
		snap.Transports = append(snap.Transports, &Transport{ID: id, Hash: "1"})
	}
	backend := snap.HTTPRoutes[0].Backends[0]
	for _, tr := range snap.Transports {
		backend.Transport = tr.ID
		if err := snap.Validate(); err != nil {
			t.Errorf("a backend through %s: %v", tr.ID, err)
		}
	}
	for _, id := range []string{"BackendTLSPolicy/web/0", "BackendTLSPolicy/web/bb", "ServersTransport/web/e"} {
		backend.Transport = id
		if err := snap.Validate(); err == nil || !strings.Contains(err.Error(), "uses unknown transport \""+id+"\"") {
			t.Errorf("a backend through %s, which the snapshot does not have: %v", id, err)
		}
	}
	backend.Transport = ""
	auth := &Middleware{Source: Ref{Kind: "Middleware", Namespace: "web", Name: "auth"},
		ForwardAuth: &ForwardAuth{Server: &Backend{Service: Ref{Kind: "Service", Namespace: "web", Name: "auth"}, Transport: "ServersTransport/web/e"}}}
	snap.HTTPRoutes[0].Middlewares = []*Middleware{auth}
	if err := snap.Validate(); err == nil || !strings.Contains(err.Error(), `forwardAuth Middleware/web/auth uses unknown transport "ServersTransport/web/e"`) {
		t.Errorf("a forwardAuth server through a transport the snapshot does not have: %v", err)
	}
	auth.ForwardAuth.Server.Transport = "ServersTransport/web/d"
	if err := snap.Validate(); err != nil {
		t.Errorf("a forwardAuth server through a transport the snapshot has: %v", err)
	}
}

// Validate's set of route IDs is used again by the next validation: what one snapshot
// had must not make the next one's routes look like duplicates.
func TestValidateForgetsTheRoutesOfTheSnapshotBefore(t *testing.T) {
	for i := range 3 {
		if err := validSnapshot(10).Validate(); err != nil {
			t.Fatalf("validation %d: the same valid snapshot is refused: %v", i+1, err)
		}
	}
}

func TestLoadDuringSwapsSeesWholeSnapshots(t *testing.T) {
	var s Store
	if err := s.Swap(validSnapshot(0)); err != nil {
		t.Fatal(err)
	}
	var seen []int
	s.OnSwap(func(n *Snapshot) { seen = append(seen, n.HTTPRoutes[0].Priority) })
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if snap := s.Load(); snap == nil || len(snap.HTTPRoutes) != 1 {
					t.Error("a reader saw a partial snapshot")
					return
				}
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		if err := s.Swap(validSnapshot(i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(seen) != 200 || seen[199] != 200 || s.Generation() != 201 {
		t.Fatalf("listeners saw %d swaps (last %v), generation %d", len(seen), seen[len(seen)-1], s.Generation())
	}
}
