package translate

import (
	"bytes"
	"fmt"
	"maps"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// When pods come and go behind one Service, only the routes that resolved it are
// translated again: the others replay.
func TestMemoReplaysRoutesOfUnchangedServices(t *testing.T) {
	const n = 6
	in := memoGatewayInputs(t)
	in.HTTPRoutes = nil
	for i := range n {
		name := fmt.Sprintf("app%d", i)
		svc, slice := appService()
		svc.Name, slice.Name, slice.Labels = name, name+"-x", map[string]string{discoveryv1.LabelServiceName: name}
		in.Services, in.EndpointSlices = append(in.Services, svc), append(in.EndpointSlices, slice)
		hr := testHTTPRoute(name, 0, []gwv1.Hostname{gwv1.Hostname(name + ".example.com")})
		hr.Spec.Rules[0].BackendRefs[0].Name = gwv1.ObjectName(name)
		in.HTTPRoutes = append(in.HTTPRoutes, hr)
	}
	in.Visit(func(_ Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	opts := DefaultOptions()
	opts.Now = goldenNow
	opts.Memo = &Memo{}
	Translate(in, opts)
	before := map[Key]*httpRouteMemo{}
	for k, m := range opts.Memo.httpRoutes {
		before[k] = m
	}
	if len(before) != n {
		t.Fatalf("%d HTTPRoutes remembered, want %d", len(before), n)
	}
	// A pod of app2 stops: its EndpointSlice loses its endpoint.
	for i, es := range in.EndpointSlices {
		if es.Labels[discoveryv1.LabelServiceName] == "app2" {
			es = es.DeepCopy()
			es.Endpoints, es.ResourceVersion = nil, "2"
			in.EndpointSlices[i] = es
		}
	}
	got, _ := Translate(in, opts)
	for k, m := range opts.Memo.httpRoutes {
		if replayed := before[k] == m; replayed != (k.Name != "app2") {
			t.Errorf("HTTPRoute %s replayed: %v; want only the route to app2 translated again", k, replayed)
		}
	}
	asWithoutMemo(t, in, opts, got)
}

// asWithoutMemo fails t unless got, built with opts.Memo, is the snapshot a build of in
// without a memo gives.
func asWithoutMemo(t *testing.T, in *Inputs, opts Options, got *snapshot.Snapshot) {
	t.Helper()
	opts.Memo = nil
	want, _ := Translate(in, opts)
	if w, g := marshal(t, want), marshal(t, got); !bytes.Equal(w, g) {
		t.Fatalf("the snapshot differs with the memo:\n%s", diffLines(w, g))
	}
}

// A Middleware is built before the routes, outside any record: when the Service a
// forwardAuth Middleware resolves changes, the routes using the Middleware must not
// replay with its last build.
func TestMemoTranslatesRoutesAgainWhenAMiddlewaresServiceChanges(t *testing.T) {
	in, opts := loadCase(t, "testdata/middleware-forwardauth.in.yaml")
	in.Visit(func(_ Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	opts.Memo = &Memo{}
	Translate(in, opts)
	if len(opts.Memo.routes) == 0 {
		t.Fatal("nothing was remembered")
	}
	changed := false
	for i, es := range in.EndpointSlices {
		if es.Labels[discoveryv1.LabelServiceName] == "auth" {
			es = es.DeepCopy()
			es.Endpoints[0].Addresses, es.ResourceVersion = []string{"10.2.0.21"}, "2"
			in.EndpointSlices[i], changed = es, true
		}
	}
	if !changed {
		t.Fatal("the case has no EndpointSlice of Service auth")
	}
	got, _ := Translate(in, opts)
	asWithoutMemo(t, in, opts, got)
}

// diffObjects names every object whose version differs, whatever the lists' order and
// where the changes lie in them.
func FuzzDiffObjects(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{0, 1, 2, 3})
	f.Add([]byte{0, 1, 2, 3}, []byte{0, 0x11, 2, 3})
	f.Add([]byte{0, 1, 2, 3}, []byte{0, 1, 2, 0x13})
	f.Add([]byte{0, 1, 2}, []byte{2, 1, 0, 4})
	f.Add([]byte{}, []byte{7})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		// Each byte is an object: its name is the low nibble, its version the high one.
		list := func(bs []byte) []*metav1.ObjectMeta {
			var out []*metav1.ObjectMeta
			seen := map[byte]bool{}
			for _, c := range bs {
				if !seen[c&15] { // names are unique in a list
					seen[c&15] = true
					out = append(out, &metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprint(c & 15), ResourceVersion: fmt.Sprint(c >> 4), UID: "u"})
				}
			}
			return out
		}
		before, now := list(a), list(b)
		want := map[string]bool{}
		versions := func(l []*metav1.ObjectMeta) map[string]string {
			m := map[string]string{}
			for _, o := range l {
				m[o.Name] = o.ResourceVersion
			}
			return m
		}
		vb, vn := versions(before), versions(now)
		for name, v := range vb {
			if w, ok := vn[name]; !ok || w != v {
				want[name] = true
			}
		}
		for name, v := range vn {
			if w, ok := vb[name]; !ok || w != v {
				want[name] = true
			}
		}
		got := map[string]bool{}
		diffObjects(before, now, sameVersion, func(o metav1.Object) { got[o.GetName()] = true })
		if !maps.Equal(got, want) {
			t.Fatalf("before %v, now %v: got %v, want %v", vb, vn, got, want)
		}
	})
}

// A call that did not return (a panic the rebuild loop recovered from) may have left
// records made of inputs the memo's basis does not hold: the next call replays none.
func TestMemoReplaysNothingAfterACallThatDidNotReturn(t *testing.T) {
	in := memoGatewayInputs(t)
	in.Visit(func(_ Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	opts := DefaultOptions()
	opts.Now = goldenNow
	opts.Memo = &Memo{}
	Translate(in, opts)
	before := maps.Clone(opts.Memo.httpRoutes)
	if len(before) == 0 {
		t.Fatal("nothing was remembered")
	}
	opts.Memo.use(in, opts) // a call that begins and never returns
	Translate(in, opts)
	for k, m := range opts.Memo.httpRoutes {
		if before[k] == m {
			t.Errorf("HTTPRoute %s replayed after a call that did not return", k)
		}
	}
	second := maps.Clone(opts.Memo.httpRoutes)
	Translate(in, opts)
	replayed := 0
	for k, m := range opts.Memo.httpRoutes {
		if second[k] == m {
			replayed++
		}
	}
	if replayed == 0 {
		t.Error("the memo replays nothing once calls return again")
	}
}
