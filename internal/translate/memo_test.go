package translate

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// TestMemoTranslatesAsWithout runs every golden case through a series of random changes
// (a route edited, moved, removed, or copied unchanged; a Service, EndpointSlice or Secret
// changed; a field marked unsupported; an option; the clock across certificate dates), and
// after each one translates with the memo of the previous steps and without any: the
// snapshots and the statuses must be the same. It also checks that a build never changes
// the snapshot of an earlier one, which shares the routes it replays.
func TestMemoTranslatesAsWithout(t *testing.T) {
	cases, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	replayed, replayedIngresses := 0, 0
	for i, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			in, opts := loadCase(t, path)
			versions := 0
			version := func(o metav1.Object) {
				versions++
				o.SetResourceVersion(fmt.Sprintf("v%d", versions))
			}
			in.Visit(func(_ Key, o metav1.Object) metav1.Object { version(o); return nil })
			memo := &Memo{}
			r := rand.New(rand.NewPCG(uint64(i), 7))
			var earlier [][]byte // the earlier builds' snapshots, as built
			var earlierSnaps []any
			for step := 0; step < 12; step++ {
				what := "unchanged"
				if step > 0 {
					what = mutate(r, in, &opts, version)
				}
				want, wantStatuses := Translate(in, opts)
				memoOpts := opts
				memoOpts.Memo = memo
				before, beforeIngresses := len(memo.routes), len(memo.ingresses)
				got, gotStatuses := Translate(in, memoOpts)
				if step > 0 && before > 0 {
					replayed++
				}
				if step > 0 && beforeIngresses > 0 {
					replayedIngresses++
				}
				w, g := marshal(t, want), marshal(t, got)
				if !bytes.Equal(w, g) {
					t.Fatalf("step %d (%s): the snapshot differs with the memo:\n%s", step, what, diffLines(w, g))
				}
				checkMemoHoldsOnlyThisBuild(t, memo)
				if !equality.Semantic.DeepEqual(wantStatuses, gotStatuses) {
					ws, gs := marshal(t, byName(wantStatuses)), marshal(t, byName(gotStatuses))
					t.Fatalf("step %d (%s): the statuses differ with the memo:\n%s", step, what, diffLines(ws, gs))
				}
				for j, snap := range earlierSnaps {
					if now := marshal(t, snap); !bytes.Equal(now, earlier[j]) {
						t.Fatalf("step %d (%s): the snapshot of step %d changed after it was built:\n%s", step, what, j, diffLines(earlier[j], now))
					}
				}
				earlier, earlierSnaps = append(earlier, g), append(earlierSnaps, got)
			}
		})
	}
	if replayed == 0 || replayedIngresses == 0 {
		t.Errorf("steps with IngressRoutes remembered: %d, with Ingresses: %d; the test exercises nothing for a kind with none", replayed, replayedIngresses)
	}
}

// checkMemoHoldsOnlyThisBuild fails unless every record of the memo is one the last call
// used, found under its key and under the object it translated: what keep leaves when it
// skips its sweep must be what a sweep would have left.
func checkMemoHoldsOnlyThisBuild(t *testing.T, memo *Memo) {
	t.Helper()
	for k, r := range memo.routes {
		if r.call != memo.calls || memo.routeOf[r.obj.(*bhv1.IngressRoute)] != r {
			t.Fatalf("the memo holds a record of %v from call %d (now %d), or not under its object", k, r.call, memo.calls)
		}
	}
	for k, r := range memo.ingresses {
		if r.call != memo.calls || memo.ingressOf[r.obj.(*networkingv1.Ingress)] != r {
			t.Fatalf("the memo holds a record of %v from call %d (now %d), or not under its object", k, r.call, memo.calls)
		}
	}
	if len(memo.routeOf) != len(memo.routes) || len(memo.ingressOf) != len(memo.ingresses) {
		t.Fatalf("records by object: %d and %d, by key: %d and %d", len(memo.routeOf), len(memo.ingressOf), len(memo.routes), len(memo.ingresses))
	}
}

// TestMemoReplaysUnchangedRoutes checks that the memo is used at all: a second build of
// the same IngressRoutes, each copied to a new address and moved in time, replays them.
func TestMemoReplaysUnchangedRoutes(t *testing.T) {
	in, opts := loadCase(t, "testdata/e2e-tls-traefik-example.in.yaml")
	in.Visit(func(k Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	memo := &Memo{}
	opts.Memo = memo
	first, _ := Translate(in, opts)
	if len(memo.routes) == 0 {
		t.Fatal("nothing was remembered")
	}
	for i, ir := range in.IngressRoutes {
		moved := ir.DeepCopy()
		moved.CreationTimestamp = metav1.NewTime(moved.CreationTimestamp.Add(time.Hour))
		in.IngressRoutes[i] = moved
	}
	remembered := map[Key]*routeMemo{}
	for k, m := range memo.routes {
		remembered[k] = m
		// A record outlives its build: it must not keep the build's report (cut from a
		// slab of many) or certificates alive.
		for _, c := range m.claims {
			if c.claim.rep != nil || c.claim.cert != nil {
				t.Errorf("%s: the record of host %s holds its build's report or certificate", k, c.name)
			}
		}
	}
	second, _ := Translate(in, opts)
	for k, m := range memo.routes {
		if remembered[k] != m {
			t.Errorf("%s was translated again; want its remembered translation replayed", k)
		}
	}
	// The replayed host claims carry this build's certificates, not the last one's.
	old := map[*snapshot.Certificate]bool{}
	for _, h := range first.TLS.Hosts {
		old[h.Certificate] = h.Certificate != nil
	}
	for _, h := range second.TLS.Hosts {
		if old[h.Certificate] {
			t.Errorf("host %s serves the certificate object of the previous build", h.Name)
		}
	}
	if len(second.TLS.Hosts) == 0 {
		t.Error("the case serves no TLS host: it checks nothing about certificates")
	}
	// A new version is translated again.
	edited := in.IngressRoutes[0].DeepCopy()
	edited.ResourceVersion = "2"
	in.IngressRoutes[0] = edited
	Translate(in, opts)
	k := Key{Kind: KindIngressRoute, Namespace: edited.Namespace, Name: edited.Name}
	if memo.routes[k] == remembered[k] {
		t.Errorf("%s changed but its old translation was replayed", k)
	}
}

// mutate makes one random change to the inputs and says what it was.
func mutate(r *rand.Rand, in *Inputs, opts *Options, version func(metav1.Object)) string {
	switch r.IntN(13) {
	case 0, 1, 2:
		if len(in.IngressRoutes) == 0 {
			return "nothing (no IngressRoute to edit)"
		}
		i := r.IntN(len(in.IngressRoutes))
		ir := in.IngressRoutes[i].DeepCopy()
		switch {
		case r.IntN(4) == 0:
			// A child IngressRoute (spec.parentRefs) may not name entry points: it is
			// refused, and its parents lose a child.
			ir.Spec.EntryPoints = append(ir.Spec.EntryPoints, "web")
		case len(ir.Spec.Routes) > 0 && r.IntN(2) == 0:
			// The match of another route: the two may now conflict, and the other one,
			// unchanged and replayed, gain or lose.
			other := in.IngressRoutes[r.IntN(len(in.IngressRoutes))]
			if len(other.Spec.Routes) > 0 {
				ir.Spec.EntryPoints = other.Spec.EntryPoints
				ir.Spec.Routes[0].Match, ir.Spec.Routes[0].Priority = other.Spec.Routes[0].Match, other.Spec.Routes[0].Priority
			}
		case len(ir.Spec.Routes) > 0 && r.IntN(2) == 0:
			ir.Spec.Routes[0].Priority++
		case len(ir.Spec.Routes) > 0 && r.IntN(2) == 0:
			ir.Spec.Routes[0].Match = "Host(`memo-" + ir.Name + ".example`)"
		default:
			ir.Spec.TLS = nil
		}
		version(ir)
		in.IngressRoutes[i] = ir
		return "IngressRoute " + ir.Name + " edited"
	case 3:
		if len(in.IngressRoutes) == 0 {
			return "nothing (no IngressRoute to move)"
		}
		// The same version, at a new address and created at another time, as a folder
		// gives it when a file is added before it.
		// Just before or after another route's, so that a conflict between them can turn.
		i := r.IntN(len(in.IngressRoutes))
		ir := in.IngressRoutes[i].DeepCopy()
		other := in.IngressRoutes[r.IntN(len(in.IngressRoutes))].CreationTimestamp
		ir.CreationTimestamp = metav1.NewTime(other.Add(time.Duration(r.IntN(3)-1) * time.Second))
		in.IngressRoutes[i] = ir
		return "IngressRoute " + ir.Name + " moved in time"
	case 4:
		if len(in.IngressRoutes) == 0 {
			return "nothing (no IngressRoute to remove)"
		}
		i := r.IntN(len(in.IngressRoutes))
		name := in.IngressRoutes[i].Name
		in.IngressRoutes = slices.Delete(slices.Clone(in.IngressRoutes), i, i+1)
		return "IngressRoute " + name + " removed"
	case 5:
		return mutateReferenced(r, in, version)
	case 6:
		if len(in.IngressRoutes) == 0 {
			return "nothing (no IngressRoute to mark)"
		}
		ir := in.IngressRoutes[r.IntN(len(in.IngressRoutes))]
		if r.IntN(2) == 0 {
			// As lastgood does when the newest version of the route was refused.
			rep := map[Key]Refusal{}
			for k, v := range in.Replaced {
				rep[k] = v
			}
			rep[Key{Kind: KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name}] = Refusal{Generation: 9, ServingGeneration: 8, Reason: bhv1.ReasonInvalid, Message: "refused by the memo test"}
			in.Replaced = rep
			return "IngressRoute " + ir.Name + " replaced by its last good version"
		}
		u := map[Key][]UnsupportedField{}
		for k, v := range in.Unsupported {
			u[k] = v
		}
		u[Key{Kind: KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name}] = []UnsupportedField{{Path: "spec.memo", Hint: "set by the memo test"}}
		in.Unsupported = u
		return "IngressRoute " + ir.Name + " marked unsupported"
	case 7:
		opts.AllowCrossNamespace = !opts.AllowCrossNamespace
		return "allowCrossNamespace toggled"
	case 10, 11, 12:
		return mutateIngress(r, in, version)
	default:
		// Around expiring.crt's dates (it expires 2026-01-10, warned from 2025-12-27).
		opts.Now = goldenNow.Add(time.Duration(r.IntN(40*24)-20*24) * time.Hour)
		return "clock set to " + opts.Now.Format(time.RFC3339)
	}
}

// mutateIngress edits, moves or removes an Ingress, in the ways that change what the
// other Ingresses' translations would say: a conflict over a path, a host's redirect.
func mutateIngress(r *rand.Rand, in *Inputs, version func(metav1.Object)) string {
	if len(in.Ingresses) == 0 {
		return "nothing (no Ingress)"
	}
	i := r.IntN(len(in.Ingresses))
	ing := in.Ingresses[i].DeepCopy()
	other := in.Ingresses[r.IntN(len(in.Ingresses))]
	in.Ingresses = slices.Clone(in.Ingresses)
	what := "Ingress " + ing.Name
	switch r.IntN(6) {
	case 0:
		in.Ingresses = slices.Delete(in.Ingresses, i, i+1)
		return what + " removed"
	case 1:
		// The same version, created at another time: a conflict between two can turn.
		ing.CreationTimestamp = metav1.NewTime(other.CreationTimestamp.Add(time.Duration(r.IntN(3)-1) * time.Second))
		in.Ingresses[i] = ing
		return what + " moved in time"
	case 2:
		// Another Ingress's rules and TLS: their paths conflict, their hosts' redirect is
		// made by the first of the two by name.
		ing.Spec.Rules, ing.Spec.TLS = other.DeepCopy().Spec.Rules, other.DeepCopy().Spec.TLS
		what += " given the rules of " + other.Name
	case 3:
		ing.Spec.TLS = nil
		what += " without TLS"
	case 4:
		if ing.Annotations == nil {
			ing.Annotations = map[string]string{}
		}
		if _, ok := ing.Annotations[AnnotationSSLRedirect]; ok {
			delete(ing.Annotations, AnnotationSSLRedirect)
		} else {
			ing.Annotations[AnnotationSSLRedirect] = "true"
		}
		what += " with its redirect toggled"
	default:
		for j := range ing.Spec.Rules {
			ing.Spec.Rules[j].Host = "memo-" + ing.Spec.Rules[j].Host
		}
		what += " moved to other hosts"
	}
	version(ing)
	in.Ingresses[i] = ing
	return what + " edited"
}

// mutateReferenced changes an object that routes read.
func mutateReferenced(r *rand.Rand, in *Inputs, version func(metav1.Object)) string {
	switch r.IntN(3) {
	case 0:
		if len(in.EndpointSlices) == 0 {
			return "nothing (no EndpointSlice)"
		}
		i := r.IntN(len(in.EndpointSlices))
		es := in.EndpointSlices[i].DeepCopy()
		es.Endpoints = nil
		version(es)
		in.EndpointSlices = slices.Clone(in.EndpointSlices)
		in.EndpointSlices[i] = es
		return "EndpointSlice " + es.Name + " emptied"
	case 1:
		if len(in.Services) == 0 {
			return "nothing (no Service)"
		}
		i := r.IntN(len(in.Services))
		svc := in.Services[i].DeepCopy()
		for j := range svc.Spec.Ports {
			svc.Spec.Ports[j].Name += "-renamed"
		}
		version(svc)
		in.Services = slices.Clone(in.Services)
		in.Services[i] = svc
		return "Service " + svc.Name + " ports renamed"
	default:
		if len(in.Secrets) == 0 {
			return "nothing (no Secret)"
		}
		i := r.IntN(len(in.Secrets))
		s := in.Secrets[i].DeepCopy()
		delete(s.Data, "tls.crt")
		version(s)
		in.Secrets = slices.Clone(in.Secrets)
		in.Secrets[i] = s
		return "Secret " + s.Name + " lost tls.crt"
	}
}

func byName(s Statuses) map[string]*ObjectStatus {
	out := make(map[string]*ObjectStatus, len(s))
	for k, st := range s {
		out[k.String()] = st
	}
	return out
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestMemoComparesEveryOption fails when Options gains a field that sameOptions does not
// compare: a memo would then replay translations made under another value of it.
// TestMemoReplaysARouteWhoseStatusWasWritten: writing a route's status gives it a new
// resourceVersion at the same generation, which changes nothing its translation reads; a
// new generation, a new label or annotation, or the same name for another object (UID)
// does, and so does any new version without a UID (a folder's document).
func TestMemoReplaysARouteWhoseStatusWasWritten(t *testing.T) {
	in, opts := loadCase(t, "testdata/e2e-tls-traefik-example.in.yaml")
	in.Visit(func(k Key, o metav1.Object) metav1.Object {
		o.SetResourceVersion("1")
		o.SetUID("uid-" + types.UID(k.Name))
		o.SetGeneration(3)
		return nil
	})
	memo := &Memo{}
	opts.Memo = memo
	Translate(in, opts)
	ir := in.IngressRoutes[0]
	k := Key{Kind: KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name}
	for _, tc := range []struct {
		name   string
		change func(*bhv1.IngressRoute)
		replay bool
	}{
		{"status written", func(*bhv1.IngressRoute) {}, true},
		{"new generation", func(o *bhv1.IngressRoute) { o.Generation++ }, false},
		{"label added", func(o *bhv1.IngressRoute) { o.Labels = map[string]string{"team": "a"} }, false},
		{"annotation added", func(o *bhv1.IngressRoute) { o.Annotations = map[string]string{"note": "x"} }, false},
		{"created again", func(o *bhv1.IngressRoute) { o.UID = "another" }, false},
		{"no UID", func(o *bhv1.IngressRoute) { o.UID = "" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := in.IngressRoutes[0].DeepCopy()
			next.ResourceVersion += "1"
			next.Status.Hosts = []string{"written.example"}
			tc.change(next)
			before := memo.routes[k]
			in.IngressRoutes[0] = next
			Translate(in, opts)
			if replayed := memo.routes[k] == before; replayed != tc.replay {
				t.Errorf("replayed: %v, want %v", replayed, tc.replay)
			}
		})
	}
}

// TestMemoOutlivesAStatusWrittenOnACustomResource: a Middleware whose status was written
// (a new resourceVersion at its generation) leaves the memo usable; a new generation of it
// does not, and neither does a new version of a Service, whose generation says nothing.
func TestMemoOutlivesAStatusWrittenOnACustomResource(t *testing.T) {
	in, opts := loadCase(t, "testdata/middleware-add-prefix.in.yaml")
	in.Visit(func(k Key, o metav1.Object) metav1.Object {
		o.SetResourceVersion("1")
		o.SetUID("uid-" + types.UID(k.Kind+k.Name))
		o.SetGeneration(1)
		return nil
	})
	if len(in.Middlewares) == 0 || len(in.Services) == 0 || len(in.IngressRoutes) == 0 {
		t.Fatal("the case has no Middleware, Service or IngressRoute: it checks nothing")
	}
	memo := &Memo{}
	opts.Memo = memo
	Translate(in, opts)
	for _, tc := range []struct {
		name   string
		change func()
		usable bool
	}{
		{"Middleware status written", func() {
			mw := in.Middlewares[0].DeepCopy()
			mw.ResourceVersion += "1"
			in.Middlewares[0] = mw
		}, true},
		{"Middleware edited", func() {
			mw := in.Middlewares[0].DeepCopy()
			mw.ResourceVersion += "1"
			mw.Generation++
			in.Middlewares[0] = mw
		}, false},
		{"Service changed", func() {
			svc := in.Services[0].DeepCopy()
			svc.ResourceVersion += "1"
			in.Services[0] = svc
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Translate(in, opts) // the memo's basis is the inputs before the change
			before := maps.Clone(memo.routes)
			tc.change()
			Translate(in, opts)
			for k, m := range memo.routes {
				if replayed := before[k] == m; replayed != tc.usable {
					t.Errorf("%s replayed: %v, want %v", k, replayed, tc.usable)
				}
			}
		})
	}
}

func TestMemoComparesEveryOption(t *testing.T) {
	compared := []string{"GatewayNamespace", "AllowCrossNamespace", "AllowExternalNameServices", "ClusterDomain",
		"Now", "ExpiryWarning", "IngressClass", "IngressWithoutClass", "RedirectPort", "TLSDefaultProfile",
		"EntryPoints", "ListenerPorts", "ListenerPortsFrom", "Memo"}
	typ := reflect.TypeFor[Options]()
	for i := range typ.NumField() {
		if f := typ.Field(i); !slices.Contains(compared, f.Name) {
			t.Errorf("Options.%s is not compared by sameOptions: compare it there (memo.go), then list it here", f.Name)
		}
	}
}

// TestMemoComparesEveryInput fails when Inputs gains a field that the memo's basis does
// not cover: the object lists are compared through Kinds, the rest by name here.
func TestMemoComparesEveryInput(t *testing.T) {
	notRead := []string{"APIGroups", "Refused", "RemovedAPIVersions", // statuses and Ingresses only, never an IngressRoute's translation
		"ranks"} // SortByName's scratch, empty between sorts
	compared := []string{"Unsupported", "Replaced"}
	typ := reflect.TypeFor[Inputs]()
	lists := 0
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch {
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Pointer:
			lists++
		case !slices.Contains(notRead, f.Name) && !slices.Contains(compared, f.Name):
			t.Errorf("Inputs.%s is not part of the memo's basis: compare it in unchangedBasis (memo.go), then list it here", f.Name)
		}
	}
	if lists != len(Kinds) {
		t.Errorf("Inputs has %d object lists and Kinds %d: the memo compares the lists of Kinds only", lists, len(Kinds))
	}
}

// TestMemoKeepsConflictsByCreationTime: a folder gives an unchanged document a new
// creation time when a file is added before it. A replayed route competes with its new
// one: here the two routes of a conflict swap ages, and the other one wins.
func TestMemoKeepsConflictsByCreationTime(t *testing.T) {
	in, opts := loadCase(t, "testdata/conflict-same-match-older-wins.in.yaml")
	in.Visit(func(k Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	opts.Memo = &Memo{}
	winner := func() string {
		snap, _ := Translate(in, opts)
		if len(snap.HTTPRoutes) != 1 {
			t.Fatalf("want one route served, got %d", len(snap.HTTPRoutes))
		}
		return snap.HTTPRoutes[0].Source.Name
	}
	if w := winner(); w != "zz-shop-v1" {
		t.Fatalf("the older route should win, got %s", w)
	}
	a, b := in.IngressRoutes[0].DeepCopy(), in.IngressRoutes[1].DeepCopy()
	a.CreationTimestamp, b.CreationTimestamp = b.CreationTimestamp, a.CreationTimestamp
	in.IngressRoutes[0], in.IngressRoutes[1] = a, b
	if w := winner(); w != "aa-shop-v2" {
		t.Errorf("after the routes swapped ages, %s won; want aa-shop-v2, now the older", w)
	}
}

// TestMemoSurvivesAnotherListOrder: a cluster's cache lists objects in any order; once
// sorted (kube.Read does it), an unchanged cluster read twice replays every route.
func TestMemoSurvivesAnotherListOrder(t *testing.T) {
	in, opts := loadCase(t, "testdata/middleware-errors.in.yaml")
	in.Visit(func(k Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	if len(in.Services) < 2 {
		t.Fatal("the case needs two Services to reorder")
	}
	opts.Memo = &Memo{}
	in.SortByName(nil)
	Translate(in, opts)
	remembered := maps.Clone(opts.Memo.routes)
	slices.Reverse(in.Services)
	slices.Reverse(in.IngressRoutes)
	in.SortByName(nil)
	Translate(in, opts)
	for k, m := range opts.Memo.routes {
		if remembered[k] != m {
			t.Errorf("%s was translated again after the lists were read in another order", k)
		}
	}
}

// TestSortByNameOrdersByNamespaceThenName: what the memo's comparison relies on.
func TestSortByNameOrdersByNamespaceThenName(t *testing.T) {
	in := &Inputs{}
	for _, nn := range [][2]string{{"b", "a"}, {"a", "z"}, {"a", "b"}, {"b", "0"}, {"", "x"}} {
		in.IngressRoutes = append(in.IngressRoutes, &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: nn[0], Name: nn[1]}})
	}
	in.SortByName(nil)
	var got []string
	for _, ir := range in.IngressRoutes {
		got = append(got, ir.Namespace+"/"+ir.Name)
	}
	if want := []string{"/x", "a/b", "a/z", "b/0", "b/a"}; !slices.Equal(got, want) {
		t.Errorf("sorted: %v, want %v", got, want)
	}
}

// TestSortByNameLikeAnEarlierRead: sorted with an earlier read's order, a read that added,
// removed, replaced (a new version at a new address) and reordered objects comes out as
// sorting it afresh does.
func TestSortByNameLikeAnEarlierRead(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	route := func(ns string, i int) *bhv1.IngressRoute {
		return &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("r%04d", i)}}
	}
	var objs []*bhv1.IngressRoute
	for i := range 300 {
		objs = append(objs, route([]string{"a", "b", "c"}[r.IntN(3)], i))
	}
	prev := &Inputs{IngressRoutes: slices.Clone(objs)}
	prev.SortByName(nil)
	for step := range 20 {
		cur := slices.Clone(prev.IngressRoutes)
		for range r.IntN(5) { // removed
			i := r.IntN(len(cur))
			cur = slices.Delete(cur, i, i+1)
		}
		for range r.IntN(5) { // a new version of an object
			i := r.IntN(len(cur))
			cp := *cur[i]
			cur[i] = &cp
		}
		for range r.IntN(5) { // added
			cur = append(cur, route([]string{"a", "b", "c", "d", ""}[r.IntN(5)], 1000+100*step+r.IntN(100)))
		}
		cur = slices.CompactFunc(cur, func(a, b *bhv1.IngressRoute) bool { return a.Namespace == b.Namespace && a.Name == b.Name })
		r.Shuffle(len(cur), func(i, j int) { cur[i], cur[j] = cur[j], cur[i] })
		want := &Inputs{IngressRoutes: slices.Clone(cur)}
		want.SortByName(nil)
		got := &Inputs{IngressRoutes: cur}
		got.SortByName(prev)
		if !slices.Equal(got.IngressRoutes, want.IngressRoutes) {
			t.Fatalf("step %d: sorted like the earlier read, the list differs from sorting it afresh", step)
		}
		prev = got
	}
}

// BenchmarkSortByName10k sorts 10,000 IngressRoutes handed out in random order, as a
// cluster's cache does on every rebuild.
func BenchmarkSortByName10k(b *testing.B) {
	in := scaleInputs(b, 10000)
	shuffled := slices.Clone(in.IngressRoutes)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b.ReportAllocs()
	for b.Loop() {
		in.IngressRoutes = append(in.IngressRoutes[:0], shuffled...)
		in.SortByName(nil)
	}
}

// BenchmarkSortByName10kLikeLastRead is BenchmarkSortByName10k with the last read's
// sorted lists to go by, one route of them replaced by a new version. As in a cluster,
// each read is sorted after the one before it.
func BenchmarkSortByName10kLikeLastRead(b *testing.B) {
	in := scaleInputs(b, 10000)
	in.SortByName(nil)
	prev := in.ShallowCopy()
	shuffled := slices.Clone(in.IngressRoutes)
	cp := *shuffled[5000]
	shuffled[5000] = &cp
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b.ReportAllocs()
	for b.Loop() {
		in.IngressRoutes = append(in.IngressRoutes[:0], shuffled...)
		in.SortByName(prev)
		in, prev = prev, in
	}
}

// The redirect of a host two Ingresses ask for is made by the first by name; when that
// one goes, the next one makes it, even though its own version did not change.
func TestMemoIngressTakesOverARedirect(t *testing.T) {
	ing := func(name string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, ResourceVersion: "1", Annotations: map[string]string{AnnotationSSLRedirect: "true"}},
			Spec: networkingv1.IngressSpec{
				IngressClassName: ptr.To(DefaultIngressClass),
				TLS:              []networkingv1.IngressTLS{{Hosts: []string{"app.example"}}},
				Rules: []networkingv1.IngressRule{{Host: "app.example", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/" + name, PathType: ptr.To(networkingv1.PathTypePrefix),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
				}}}},
			},
		}
	}
	in := &Inputs{Ingresses: []*networkingv1.Ingress{ing("a"), ing("b")}}
	opts := DefaultOptions()
	opts.Now = goldenNow
	memoOpts := opts
	memoOpts.Memo = &Memo{}
	Translate(in, memoOpts)
	if len(memoOpts.Memo.ingresses) != 2 {
		t.Fatalf("%d Ingresses remembered, want both", len(memoOpts.Memo.ingresses))
	}
	in.Ingresses = in.Ingresses[1:]
	want, _ := Translate(in, opts)
	got, _ := Translate(in, memoOpts)
	if w, g := marshal(t, want), marshal(t, got); !bytes.Equal(w, g) {
		t.Fatalf("the snapshot differs with the memo:\n%s", diffLines(w, g))
	}
	redirected := false
	for _, r := range got.HTTPRoutes {
		redirected = redirected || (strings.Contains(r.ID, "ssl-redirect/app.example") && r.Source.Name == "b")
	}
	if !redirected {
		t.Error("Ingress b does not redirect app.example to HTTPS now that a is gone")
	}
}

// The memo's index of Services, Secrets and the rest is used again only while it is the
// index of the memo's basis: a call that did not return (a panic the rebuild loop
// recovered from) may have left it made of other inputs, and the next call, whose inputs
// are the basis's, must not read those.
func TestMemoIndexIsUsedAgainOnlyForItsBasis(t *testing.T) {
	service := func(name string) *Inputs {
		return &Inputs{Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, ResourceVersion: "1"}}}}
	}
	m := &Memo{}
	m.index(service("a"), false)
	m.indexed = true // as keep leaves it: the basis holds Service a
	if x := m.index(service("b"), true); x.services[nsName{"web", "a"}] == nil {
		t.Fatal("the index of the basis was not used again")
	}
	m.index(service("b"), false) // a call with Service b, which did not return
	if x := m.index(service("a"), true); x.services[nsName{"web", "a"}] == nil || x.services[nsName{"web", "b"}] != nil {
		t.Errorf("after a call that did not return, the index holds %v, want Service a alone", slices.Collect(maps.Keys(x.services)))
	}
}
