package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// memoGatewayInputs is a Gateway API cluster for TestMemoTranslatesHTTPRoutesAsWithout:
// a Gateway of ours with plain and HTTPS listeners (one takes routes from every
// namespace), another controller's Gateway, Services with and without endpoints, a
// Service in another namespace, and HTTPRoutes that attach, overlap, refer across
// namespaces, filter, and belong to the other controller. Two Services are behind
// BackendTLSPolicies: one behind two (the newer Conflicted; the older trusts a CA that
// expires), one behind a policy whose CA is missing; both Gateways of ours present a backend client certificate, each its own,
// and a route to the verified Service is attached to both.
func memoGatewayInputs(t *testing.T) *Inputs {
	t.Helper()
	svc, slice := appService()
	service := func(ns, name string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	}
	wildcard := resolveFixtures(t, nil, map[string]string{"tls.crt": "@wildcard.crt", "tls.key": "@wildcard.key"})
	in := &Inputs{
		Namespaces: []*corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"team": "b"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"team": "a"}}},
		},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "wildcard"}, Data: wildcard},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "id"}, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": memoClientCert().CertPEM, "tls.key": memoClientCert().KeyPEM}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "expiring-ca"}, Data: resolveFixtures(t, nil, map[string]string{"ca.crt": "@expiring.crt"})}},
		ConfigMaps:     []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "ca"}, Data: map[string]string{"ca.crt": memoBackendCA()}}},
		Services:       []*corev1.Service{service("other", "remote"), svc, service("web", "noeps"), service("web", "secure")},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice},
		GatewayClasses: []*gwv1.GatewayClass{
			{ObjectMeta: metav1.ObjectMeta{Name: "bh", Generation: 1}, Spec: gwv1.GatewayClassSpec{ControllerName: GatewayController}},
			{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Generation: 1}, Spec: gwv1.GatewayClassSpec{ControllerName: "example.com/other"}},
		},
		Gateways: []*gwv1.Gateway{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw", Generation: 1}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{
				{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType},
				{Name: "shared", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To[gwv1.Hostname]("*.shared.example"),
					AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}},
				{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To[gwv1.Hostname]("*.example.com"),
					TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "wildcard"}}}},
			}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "theirs", Generation: 1}, Spec: gwv1.GatewaySpec{GatewayClassName: "theirs", Listeners: []gwv1.Listener{
				{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw2", Generation: 1}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh",
				Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To[gwv1.Hostname]("g.example.com")}},
				TLS:       &gwv1.GatewayTLSConfig{Backend: &gwv1.GatewayBackendTLS{ClientCertificateRef: &gwv1.SecretObjectReference{Name: "id"}}}}},
		},
		ReferenceGrants: []*gwv1.ReferenceGrant{{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "from-web", Generation: 1},
			Spec: gwv1.ReferenceGrantSpec{From: []gwv1.ReferenceGrantFrom{{Group: gatewayGroup, Kind: KindHTTPRoute, Namespace: "web"}},
				To: []gwv1.ReferenceGrantTo{{Kind: "Service"}}}}},
		BackendTLSPolicies: []*gwv1.BackendTLSPolicy{
			testBackendTLSPolicy("secure", time.Hour, "", func(p *gwv1.BackendTLSPolicy) {
				p.Spec.TargetRefs[0].Name = "secure"
				// A second CA, which expires: the policy's warnings follow the clock.
				p.Spec.Validation.CACertificateRefs = append(p.Spec.Validation.CACertificateRefs, gwv1.LocalObjectReference{Kind: KindSecret, Name: "expiring-ca"})
			}),
			testBackendTLSPolicy("secure-late", time.Minute, "", func(p *gwv1.BackendTLSPolicy) { p.Spec.TargetRefs[0].Name = "secure" }),
			testBackendTLSPolicy("no-ca", time.Hour, "", func(p *gwv1.BackendTLSPolicy) {
				p.Spec.TargetRefs[0].Name = "noeps"
				p.Spec.Validation.CACertificateRefs[0].Name = "missing"
			}),
		},
	}
	in.Gateways[0].Spec.TLS = &gwv1.GatewayTLSConfig{Backend: &gwv1.GatewayBackendTLS{ClientCertificateRef: &gwv1.SecretObjectReference{Name: "wildcard"}}}
	backend := func(ns, name string) gwv1.HTTPBackendRef {
		ref := gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(name), Port: ptr.To[gwv1.PortNumber](80)}}}
		if ns != "" {
			ref.Namespace = ptr.To(gwv1.Namespace(ns))
		}
		return ref
	}
	route := func(ns, name string, age time.Duration, parent string, section string, hosts []gwv1.Hostname, rules ...gwv1.HTTPRouteRule) *gwv1.HTTPRoute {
		ref := gwv1.ParentReference{Name: gwv1.ObjectName(parent), Namespace: ptr.To(gwv1.Namespace("web"))}
		if section != "" {
			ref.SectionName = ptr.To(gwv1.SectionName(section))
		}
		return &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name), Generation: 1, CreationTimestamp: metav1.NewTime(gwTestT0.Add(-age))},
			Spec:       gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{ref}}, Hostnames: hosts, Rules: rules},
		}
	}
	rule := func(path string, backends ...gwv1.HTTPBackendRef) gwv1.HTTPRouteRule {
		return gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{prefix(path)}, BackendRefs: backends}
	}
	in.HTTPRoutes = []*gwv1.HTTPRoute{
		route("web", "a", 9*time.Hour, "gw", "", []gwv1.Hostname{"a.example.com"}, rule("/a", backend("", "app"))),
		route("web", "b", 8*time.Hour, "gw", "https", []gwv1.Hostname{"b.example.com", "b2.example.com"}, rule("/", backend("", "app"))),
		route("web", "c", 7*time.Hour, "gw", "", nil, rule("/c", backend("", "app")), gwv1.HTTPRouteRule{
			Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchExact), Value: ptr.To("/exact")}, Headers: []gwv1.HTTPHeaderMatch{{Name: "X-Team", Value: "a"}}}},
			BackendRefs: []gwv1.HTTPBackendRef{backend("", "app"), backend("", "noeps")},
		}),
		route("web", "d", 6*time.Hour, "theirs", "", nil, rule("/d", backend("", "app"))),
		route("web", "e", 5*time.Hour, "gw", "", []gwv1.Hostname{"e.example.com"}, rule("/e", backend("other", "remote"))),
		route("web", "f", 4*time.Hour, "gw", "", []gwv1.Hostname{"f.example.com"}, rule("/f", backend("", "noeps"))),
		route("web", "g", 3*time.Hour, "gw", "", []gwv1.Hostname{"g.example.com"}, rule("/g", backend("", "secure"))),
		route("web", "g2", 3*time.Hour, "gw2", "", []gwv1.Hostname{"g.example.com"}, rule("/g2", backend("", "secure"), backend("", "app"))),
		route("web", "h", 2*time.Hour, "gw", "https", []gwv1.Hostname{"h.other.org"}, rule("/h", backend("", "app"))),
		route("web", "i", time.Hour, "gw", "", []gwv1.Hostname{"a.example.com"}, gwv1.HTTPRouteRule{
			Matches:     []gwv1.HTTPRouteMatch{prefix("/a")},
			Filters:     []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "X-From", Value: "i"}}}}},
			BackendRefs: []gwv1.HTTPBackendRef{backend("", "app")},
		}),
		route("other", "j", 30*time.Minute, "gw", "shared", []gwv1.Hostname{"j.shared.example"}, rule("/j", backend("", "remote"))),
		route("web", "k", 10*time.Minute, "gw", "", []gwv1.Hostname{"k.example.com"}, gwv1.HTTPRouteRule{
			Matches: []gwv1.HTTPRouteMatch{prefix("/old")},
			Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Scheme: ptr.To("https"), StatusCode: ptr.To(301)}}},
		}),
	}
	// Route g, to the verified Service, is on both Gateways (their client certificates
	// differ: the route is warned).
	g := in.HTTPRoutes[slices.IndexFunc(in.HTTPRoutes, func(r *gwv1.HTTPRoute) bool { return r.Name == "g" })]
	g.Spec.ParentRefs = append(g.Spec.ParentRefs, gwv1.ParentReference{Name: "gw2"})
	return in
}

// memoClientCert is the second Gateway's backend client certificate.
var memoClientCert = sync.OnceValue(func() *pki.Leaf { return pki.MustCA("id CA").MustIssue("gateway", pki.Options{}) })

// memoBackendCA is the BackendTLSPolicy's CA, made once: a key per build of the inputs
// was most of the test's time.
var memoBackendCA = sync.OnceValue(func() string { return string(pki.MustCA("backend CA").PEM) })

// memoOtherCA is the CA a mutation puts in its place.
var memoOtherCA = sync.OnceValue(func() string { return string(pki.MustCA("other backend CA").PEM) })

// mutateGatewayAPI changes in the way a cluster changes between two builds: mostly one
// HTTPRoute (edited, moved in time, copied to a new address, removed, added, replaced by
// its last good version), sometimes what HTTPRoutes read (a Service's endpoints, a
// Gateway's listener, a ReferenceGrant, a namespace's labels, a BackendTLSPolicy, the
// clock), or a GRPCRoute or an IngressRoute next to them.
func mutateGatewayAPI(r *rand.Rand, in *Inputs, opts *Options, version func(metav1.Object)) string {
	if len(in.HTTPRoutes) == 0 {
		return "nothing (no HTTPRoute)"
	}
	i := r.IntN(len(in.HTTPRoutes))
	hr := in.HTTPRoutes[i].DeepCopy()
	other := in.HTTPRoutes[r.IntN(len(in.HTTPRoutes))]
	in.HTTPRoutes = slices.Clone(in.HTTPRoutes)
	what := "HTTPRoute " + hr.Namespace + "/" + hr.Name
	edit := func() {
		hr.Generation++
		version(hr)
		in.HTTPRoutes[i] = hr
	}
	switch r.IntN(17) {
	case 0, 1:
		// Another route's host names and rules: the two now rank by age on the same names.
		hr.Spec.Hostnames, hr.Spec.Rules = other.DeepCopy().Spec.Hostnames, other.DeepCopy().Spec.Rules
		edit()
		return what + " given the hosts and rules of " + other.Name
	case 2:
		hr.Spec.Hostnames = append(hr.Spec.Hostnames, gwv1.Hostname(fmt.Sprintf("n%d.example.com", r.IntN(3))))
		edit()
		return what + " given a host name"
	case 3:
		hr.Spec.ParentRefs[0].SectionName = nil
		if r.IntN(2) == 0 {
			hr.Spec.ParentRefs[0].SectionName = ptr.To(gwv1.SectionName("https"))
		}
		edit()
		return what + " attached to another section"
	case 4:
		// The same version, at a new address and created at another time (the ranking's
		// tie-break between routes of the same names and paths).
		hr.CreationTimestamp = metav1.NewTime(other.CreationTimestamp.Add(time.Duration(r.IntN(3)-1) * time.Second))
		in.HTTPRoutes[i] = hr
		return what + " moved in time"
	case 5:
		in.HTTPRoutes[i] = hr
		return what + " at a new address"
	case 6:
		in.HTTPRoutes = slices.Delete(in.HTTPRoutes, i, i+1)
		return what + " removed"
	case 7:
		hr.Name, hr.UID = fmt.Sprintf("%s-copy%d", hr.Name, r.IntN(1000)), "uid-copy"
		hr.CreationTimestamp = metav1.NewTime(gwTestT0.Add(time.Duration(r.IntN(600)-300) * time.Minute))
		version(hr)
		in.HTTPRoutes = append(in.HTTPRoutes, hr)
		return "HTTPRoute " + hr.Name + " added"
	case 8:
		rep := map[Key]Refusal{}
		for k, v := range in.Replaced {
			rep[k] = v
		}
		k := Key{Kind: KindHTTPRoute, Namespace: hr.Namespace, Name: hr.Name}
		if _, ok := rep[k]; ok {
			delete(rep, k)
			in.Replaced = rep
			return what + " served as is again"
		}
		rep[k] = Refusal{Generation: hr.Generation + 1, ServingGeneration: hr.Generation, Reason: bhv1.ReasonInvalid, Message: "refused by the memo test"}
		in.Replaced = rep
		return what + " replaced by its last good version"
	case 9:
		// Endpoints for the Service without any: routes to it serve now (or no longer).
		if len(in.EndpointSlices) > 1 {
			in.EndpointSlices = in.EndpointSlices[:1]
			return "Service noeps without endpoints again"
		}
		es := in.EndpointSlices[0].DeepCopy()
		es.Name, es.Labels = "noeps-1", map[string]string{discoveryv1.LabelServiceName: "noeps"}
		version(es)
		in.EndpointSlices = append(slices.Clone(in.EndpointSlices), es)
		return "Service noeps given endpoints"
	case 10:
		gw := in.Gateways[0].DeepCopy()
		l := &gw.Spec.Listeners[2]
		if *l.Hostname == "*.example.com" {
			l.Hostname = ptr.To[gwv1.Hostname]("b.example.com")
		} else {
			l.Hostname = ptr.To[gwv1.Hostname]("*.example.com")
		}
		gw.Generation++
		version(gw)
		in.Gateways = append([]*gwv1.Gateway{gw}, in.Gateways[1:]...)
		return "the https listener's hostname is now " + string(*l.Hostname)
	case 11:
		if len(in.ReferenceGrants) > 0 {
			in.ReferenceGrants = nil
			return "the ReferenceGrant removed"
		}
		in.ReferenceGrants = memoGatewayInputs(&testing.T{}).ReferenceGrants
		version(in.ReferenceGrants[0])
		return "the ReferenceGrant back"
	case 12:
		ns := in.Namespaces[0].DeepCopy()
		ns.Labels["team"] += "x"
		version(ns)
		in.Namespaces = append([]*corev1.Namespace{ns}, in.Namespaces[1:]...)
		return "namespace other relabelled"
	case 13:
		if len(in.GRPCRoutes) > 0 {
			in.GRPCRoutes = nil
			return "the GRPCRoute removed"
		}
		g := testGRPCRoute("grpc", 10*time.Hour, []gwv1.Hostname{"a.example.com"}, grpcMethod("svc", ""))
		version(g)
		in.GRPCRoutes = []*gwv1.GRPCRoute{g}
		return "a GRPCRoute on a.example.com"
	case 14:
		if len(in.IngressRoutes) > 0 {
			in.IngressRoutes = nil
			return "the IngressRoute removed"
		}
		ir := &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "legacy", Generation: 1},
			Spec: bhv1.IngressRouteSpec{Routes: []bhv1.Route{{Match: "Host(`a.example.com`) && PathPrefix(`/a`)", Services: []bhv1.Service{{Name: "app", Port: "http"}}}}}}
		version(ir)
		in.IngressRoutes = []*bhv1.IngressRoute{ir}
		return "an IngressRoute on a.example.com/a"
	case 15:
		switch r.IntN(5) {
		case 0:
			// The CA the policies trust, in the ConfigMap they name: their transports change.
			cm := in.ConfigMaps[0].DeepCopy()
			ca := memoBackendCA()
			if cm.Data["ca.crt"] == ca {
				ca = memoOtherCA()
			}
			cm.Data["ca.crt"] = ca
			version(cm)
			in.ConfigMaps = []*corev1.ConfigMap{cm}
			return "ConfigMap ca given another CA"
		case 1:
			p := in.BackendTLSPolicies[0].DeepCopy()
			// What its transport checks of the backend's certificate.
			san := gwv1.SubjectAltName{Type: gwv1.HostnameSubjectAltNameType, Hostname: gwv1.Hostname(fmt.Sprintf("s%d.internal", len(p.Spec.Validation.SubjectAltNames)))}
			p.Spec.Validation.SubjectAltNames = append(p.Spec.Validation.SubjectAltNames, san)
			p.Generation++
			version(p)
			in.BackendTLSPolicies = append([]*gwv1.BackendTLSPolicy{p}, in.BackendTLSPolicies[1:]...)
			return "BackendTLSPolicy secure given subject name " + string(san.Hostname)
		case 2:
			// The older of the two policies of Service secure goes, or comes back: the
			// newer one, unchanged, wins the Service, or is Conflicted again.
			if in.BackendTLSPolicies[0].Name == "secure" {
				in.BackendTLSPolicies = slices.Clone(in.BackendTLSPolicies[1:])
				return "BackendTLSPolicy secure removed"
			}
			p := memoGatewayInputs(&testing.T{}).BackendTLSPolicies[0]
			version(p)
			in.BackendTLSPolicies = append([]*gwv1.BackendTLSPolicy{p}, in.BackendTLSPolicies...)
			return "BackendTLSPolicy secure back"
		case 3:
			// The older policy moves between Services: the Service it leaves counts as
			// changed too (its newer policy wins it).
			i := slices.IndexFunc(in.BackendTLSPolicies, func(p *gwv1.BackendTLSPolicy) bool { return p.Name == "secure" })
			if i < 0 {
				return "nothing (BackendTLSPolicy secure is away)"
			}
			p := in.BackendTLSPolicies[i].DeepCopy()
			to := gwv1.ObjectName("app")
			if p.Spec.TargetRefs[0].Name == to {
				to = "secure"
			}
			p.Spec.TargetRefs[0].Name = to
			p.Generation++
			version(p)
			in.BackendTLSPolicies = slices.Clone(in.BackendTLSPolicies)
			in.BackendTLSPolicies[i] = p
			return "BackendTLSPolicy secure now targets Service " + string(to)
		}
		if i := slices.IndexFunc(in.BackendTLSPolicies, func(p *gwv1.BackendTLSPolicy) bool { return p.Name == "no-ca" }); i >= 0 {
			in.BackendTLSPolicies = slices.Delete(slices.Clone(in.BackendTLSPolicies), i, i+1)
			return "the BackendTLSPolicy without a CA removed"
		}
		p := memoGatewayInputs(&testing.T{}).BackendTLSPolicies[2]
		version(p)
		in.BackendTLSPolicies = append(slices.Clone(in.BackendTLSPolicies), p)
		return "the BackendTLSPolicy without a CA back"
	case 16:
		// Around expiring.crt's dates (it expires 2026-01-10, warned from 2025-12-27).
		opts.Now = goldenNow.Add(time.Duration(r.IntN(40*24)-20*24) * time.Hour)
		return "clock set to " + opts.Now.Format(time.RFC3339)
	}
	return "nothing"
}

// TestMemoTranslatesHTTPRoutesAsWithout is TestMemoTranslatesAsWithout for HTTPRoutes: over
// random changes to a Gateway API cluster, a build with the memo gives the snapshot and
// the statuses a build without it gives, leaves the snapshots of earlier builds as they
// were built (a replayed route is shared with them), and replays routes at all.
func TestMemoTranslatesHTTPRoutesAsWithout(t *testing.T) {
	replayed := 0
	for seed := range 24 {
		in := memoGatewayInputs(t)
		versions := 0
		version := func(o metav1.Object) {
			versions++
			o.SetResourceVersion(fmt.Sprintf("v%d", versions))
		}
		in.Visit(func(_ Key, o metav1.Object) metav1.Object { version(o); return nil })
		opts := DefaultOptions()
		opts.Now = goldenNow
		memo := &Memo{}
		r := rand.New(rand.NewPCG(uint64(seed), 11))
		var earlier [][]byte
		var earlierSnaps []*snapshot.Snapshot
		for step := range 16 {
			what := "unchanged"
			if step > 0 {
				what = mutateGatewayAPI(r, in, &opts, version)
			}
			want, wantStatuses := Translate(in, opts)
			if step == 0 && !slices.ContainsFunc(wantStatuses[Key{Kind: KindHTTPRoute, Namespace: "web", Name: "g"}].Warnings, func(f Finding) bool {
				return strings.Contains(f.Message, "different backend client certificates")
			}) {
				t.Fatal("HTTPRoute web/g is not warned of its Gateways' two client certificates: the test does not replay that warning")
			}
			memoOpts := opts
			memoOpts.Memo = memo
			before := maps.Clone(memo.httpRoutes)
			got, gotStatuses := Translate(in, memoOpts)
			for k, m := range memo.httpRoutes {
				if before[k] == m {
					replayed++
				}
			}
			w, g := marshal(t, want), marshal(t, got)
			if !bytes.Equal(w, g) {
				t.Fatalf("seed %d, step %d (%s): the snapshot differs with the memo:\n%s", seed, step, what, diffLines(w, g))
			}
			if !equality.Semantic.DeepEqual(wantStatuses, gotStatuses) {
				ws, gs := marshal(t, byName(wantStatuses)), marshal(t, byName(gotStatuses))
				t.Fatalf("seed %d, step %d (%s): the statuses differ with the memo:\n%s", seed, step, what, diffLines(ws, gs))
			}
			for k, m := range memo.httpRoutes {
				if m.call != memo.calls || memo.httpRouteOf[m.obj.(*gwv1.HTTPRoute)] != m {
					t.Fatalf("seed %d, step %d: the memo holds a record of %v from call %d (now %d), or not under its object", seed, step, k, m.call, memo.calls)
				}
			}
			if len(memo.httpRouteOf) != len(memo.httpRoutes) {
				t.Fatalf("seed %d, step %d: HTTPRoute records by object: %d, by key: %d", seed, step, len(memo.httpRouteOf), len(memo.httpRoutes))
			}
			// JSON, not marshal's YAML: the earlier snapshots are read again at every step.
			for j, snap := range earlierSnaps {
				if now := snapshotJSON(t, snap); !bytes.Equal(now, earlier[j]) {
					t.Fatalf("seed %d, step %d (%s): the snapshot of step %d changed after it was built:\n%s", seed, step, what, j, diffLines(earlier[j], now))
				}
			}
			earlier, earlierSnaps = append(earlier, snapshotJSON(t, got)), append(earlierSnaps, got)
		}
	}
	if replayed == 0 {
		t.Error("no HTTPRoute was replayed: the test exercises nothing")
	}
	t.Logf("HTTPRoute replays: %d", replayed)
}

func snapshotJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMemoListsTransportsInOrder adds an application between two builds with the memo (a
// Service, its BackendTLSPolicy and an HTTPRoute to it, as kubectl apply does) whose
// transports sort between the replayed ones, then deletes it. Each build merges what it
// made into the last build's list (translate.go, sortedTransports); the list must be the
// one a build without the memo sorts.
func TestMemoListsTransportsInOrder(t *testing.T) {
	in := memoGatewayInputs(t)
	// The memo tells objects apart by resource version, as the API server's.
	in.Visit(func(_ Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	opts := DefaultOptions()
	opts.Now = goldenNow
	memoOpts := opts
	memoOpts.Memo = &Memo{}
	first, _ := Translate(in, memoOpts)

	withApp := in.ShallowCopy()
	withApp.Services = append(slices.Clone(in.Services), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "mid", ResourceVersion: "2"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}})
	// "o-mid" sorts between the kept policies "no-ca" and "secure".
	withApp.BackendTLSPolicies = append(slices.Clone(in.BackendTLSPolicies), testBackendTLSPolicy("o-mid", time.Hour, "", func(p *gwv1.BackendTLSPolicy) {
		p.Spec.TargetRefs[0].Name = "mid"
		p.ResourceVersion = "2"
	}))
	withApp.HTTPRoutes = append(slices.Clone(in.HTTPRoutes), &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "mid", ResourceVersion: "2", Generation: 1, CreationTimestamp: metav1.NewTime(gwTestT0)},
		Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames: []gwv1.Hostname{"mid.example.com"},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
				Name: "mid", Port: ptr.To[gwv1.PortNumber](80)}}}}}}},
	})
	// Without its route the policy's copy with the Gateway's client certificate is not
	// built, yet its record keeps it: the route back replays a transport the last list
	// does not have.
	withoutRoute := withApp.ShallowCopy()
	withoutRoute.HTTPRoutes = in.HTTPRoutes
	for _, step := range []struct {
		name string
		in   *Inputs
		last *snapshot.Snapshot
	}{{"application added", withApp, first}, {"its route deleted", withoutRoute, nil}, {"its route back", withApp, nil}, {"application deleted", in, nil}} {
		want, _ := Translate(step.in, opts)
		got, _ := Translate(step.in, memoOpts)
		wantIDs, gotIDs := transportIDs(want), transportIDs(got)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Fatalf("%s: with the memo the transports are\n%v\nwithout it\n%v", step.name, gotIDs, wantIDs)
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("%s: the snapshot built with the memo is refused: %v", step.name, err)
		}
		if step.last == nil {
			continue
		}
		if !slices.Contains(wantIDs, "BackendTLSPolicy/web/o-mid") || slices.Index(wantIDs, "BackendTLSPolicy/web/o-mid") == len(wantIDs)-1 {
			t.Fatalf("%s: the transports are %v: the new one is not between others", step.name, wantIDs)
		}
		if replayed := got.Transports[len(got.Transports)-1]; replayed != step.last.Transports[len(step.last.Transports)-1] {
			t.Fatalf("%s: %s was made again: the test merges nothing into the last list", step.name, replayed.ID)
		}
	}
}

func transportIDs(s *snapshot.Snapshot) []string {
	var ids []string
	for _, tr := range s.Transports {
		ids = append(ids, tr.ID)
	}
	return ids
}
