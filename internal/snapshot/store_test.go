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
	err := snap.Validate()
	if err == nil {
		t.Fatal("inconsistent snapshot accepted")
	}
	for _, want := range []string{`route "web/app/0" appears twice`, "not in priority order", "TLS hosts are not sorted", `"C.example" is not normalised`, "has no match rule"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
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
