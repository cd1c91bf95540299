package status

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// digestWorld is a status writer over a fake API server, reading objects either whole
// (as from a cache without CacheTransform) or with their statuses digested (as from one
// with it), and counting what it writes and what it reads from the server itself.
type digestWorld struct {
	server        client.WithWatch
	w             *Writer
	writes, reads atomic.Int32
}

func newDigestWorld(t *testing.T, digested bool, objs ...client.Object) *digestWorld {
	t.Helper()
	scheme, err := kube.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	d := &digestWorld{}
	server := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&bhv1.IngressRoute{}, &bhv1.Middleware{}).
		WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			d.writes.Add(1)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		}}).Build()
	d.server = server
	cached := interceptor.NewClient(server, interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if err := c.Get(ctx, key, obj, opts...); err != nil {
			return err
		}
		if digested {
			_, err := CacheTransform(obj)
			return err
		}
		return nil
	}})
	reader := interceptor.NewClient(server, interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		d.reads.Add(1)
		return c.Get(ctx, key, obj, opts...)
	}})
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	d.w = &Writer{Client: cached, Reader: reader, Recorder: &events.FakeRecorder{}, Clock: func() time.Time { return now }, Log: logr.Discard()}
	return d
}

func (d *digestWorld) status(t *testing.T, kind, name string) any {
	t.Helper()
	obj, err := newObject(kind)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.server.Get(context.Background(), client.ObjectKey{Namespace: "web", Name: name}, obj); err != nil {
		t.Fatal(err)
	}
	v := statusOf(obj)
	if v.hosts != nil {
		return []any{v.status, *v.hosts, *v.certs}
	}
	return v.status
}

// A writer that reads statuses as digests must write exactly what one that reads them
// whole writes, and must not read the server for a status that already says what it is
// to write. Random current statuses meet random computed ones: the same, or one field
// apart (a condition's status, reason, message or generation, their order, one more or one
// fewer, the hosts, a certificate's fingerprint, expiry, use or source, which are written,
// or its subject, which alone is not).
func TestDigestedStatusesAreWrittenAsWholeOnes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 20))
	past := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	condTypes := []string{string(bhv1.ConditionAccepted), string(bhv1.ConditionResolvedRefs), string(bhv1.ConditionReady), "Warnings"}
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	condition := func(typ string, gen int64) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionStatus(pick("True", "False")), Reason: pick("Fine", "NoEndpoints", "NotFound"),
			Message: pick("every reference resolves", "Service web/b port http has no ready endpoints", ""), ObservedGeneration: gen, LastTransitionTime: past}
	}
	cert := func() bhv1.CertificateInfo {
		return bhv1.CertificateInfo{Use: bhv1.CertificateUse(pick("Edge", "UpstreamRoot")), Source: pick("Secret web/a", "Secret web/b"),
			Subject: pick("CN=a", "CN=b"), SHA256: pick("aa", "bb"), NotAfter: metav1.NewTime(time.Date(2027, 1, 1+rng.IntN(2), 0, 0, 0, 0, time.UTC))}
	}
	var skipped, written int
	for i := range 400 {
		kind := pick(translate.KindIngressRoute, translate.KindMiddleware)
		name := fmt.Sprintf("o%d", i)
		gen := int64(1 + rng.IntN(3))
		// The status on the server, empty now and then.
		var cur bhv1.Status
		var hosts []string
		var certs []bhv1.CertificateInfo
		if rng.IntN(8) > 0 {
			cur.ObservedGeneration = gen
			for _, typ := range condTypes[:1+rng.IntN(len(condTypes))] {
				cur.Conditions = append(cur.Conditions, condition(typ, gen))
			}
			if kind == translate.KindIngressRoute {
				hosts = []string{pick("a.test", "b.test")}
				for range rng.IntN(3) {
					certs = append(certs, cert())
				}
			}
		}
		// The status computed: the same, or one field apart.
		st := &translate.ObjectStatus{UID: types.UID("uid-" + name), Generation: gen, Conditions: cloneConditions(cur.Conditions)}
		if kind == translate.KindIngressRoute {
			st.Hosts, st.Certificates = append([]string(nil), hosts...), append([]bhv1.CertificateInfo(nil), certs...)
		}
		if len(st.Conditions) == 0 {
			st.Conditions = []metav1.Condition{condition(string(bhv1.ConditionReady), gen)}
		}
		c := &st.Conditions[rng.IntN(len(st.Conditions))]
		switch rng.IntN(12) {
		case 0:
			c.Status = map[metav1.ConditionStatus]metav1.ConditionStatus{"True": "False", "False": "True"}[c.Status]
		case 1:
			c.Reason += "Now"
		case 2:
			c.Message += " (again)"
		case 3:
			c.ObservedGeneration++
		case 4:
			rng.Shuffle(len(st.Conditions), func(i, j int) { st.Conditions[i], st.Conditions[j] = st.Conditions[j], st.Conditions[i] })
		case 5:
			st.Conditions = st.Conditions[1:]
		case 6:
			st.Conditions = append(st.Conditions, condition("Extra", gen))
		case 7:
			if kind == translate.KindIngressRoute {
				st.Hosts = append(st.Hosts, "c.test")
			}
		case 8:
			if len(st.Certificates) > 0 {
				cc := &st.Certificates[rng.IntN(len(st.Certificates))]
				switch rng.IntN(5) {
				case 0:
					cc.SHA256 += "cc"
				case 1:
					cc.NotAfter = metav1.NewTime(cc.NotAfter.Add(time.Second))
				case 2:
					cc.Use = "UpstreamClient"
				case 3:
					cc.Source += "x"
				case 4:
					cc.Subject += ",O=x" // not compared: no write
				}
			}
		}
		object := func() client.Object {
			o, err := newObject(kind)
			if err != nil {
				t.Fatal(err)
			}
			o.SetNamespace("web")
			o.SetName(name)
			o.SetUID(types.UID("uid-" + name))
			o.SetGeneration(gen)
			statusOf(o).set(*cur.DeepCopy(), append([]string(nil), hosts...), append([]bhv1.CertificateInfo(nil), certs...))
			return o
		}
		whole, digested := newDigestWorld(t, false, object()), newDigestWorld(t, true, object())
		key := translate.Key{Kind: kind, Namespace: "web", Name: name}
		for _, d := range []*digestWorld{whole, digested} {
			if err := d.w.apply(context.Background(), key, st); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if got, want := digested.status(t, kind, name), whole.status(t, kind, name); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %s: read as a digest, the status became\n%+v\nread whole\n%+v", kind, name, got, want)
		}
		if digested.writes.Load() != whole.writes.Load() {
			t.Fatalf("%s %s: %d writes read as a digest, %d read whole", kind, name, digested.writes.Load(), whole.writes.Load())
		}
		if whole.writes.Load() == 0 {
			skipped++
			if digested.reads.Load() != 0 && sameTypes(cur.Conditions, st.Conditions) {
				t.Fatalf("%s %s: nothing to write, yet the writer read the object from the server", kind, name)
			}
		} else {
			written++
		}
	}
	if skipped < 50 || written < 50 {
		t.Fatalf("the cases were not mixed: %d without a write, %d with", skipped, written)
	}
}

func cloneConditions(cs []metav1.Condition) []metav1.Condition {
	return append([]metav1.Condition(nil), cs...)
}

// sameTypes reports whether a and b hold the same condition types in the same order.
// When they do not, the digest differs even where merging b into a changes nothing (b in
// another order, or without one of a's conditions): the writer reads the object then.
func sameTypes(a, b []metav1.Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type {
			return false
		}
	}
	return true
}

// The transform is applied again to what it returned (an informer's resync does): it must
// give the same object. A status someone wrote that looks like a digest is not one the
// writer trusts.
func TestCacheTransformIsIdempotentAndItsDigestCannotBeForged(t *testing.T) {
	ir := &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "r", UID: "u", Generation: 2}}
	ir.Status.ObservedGeneration = 2
	ir.Status.Conditions = []metav1.Condition{{Type: string(bhv1.ConditionReady), Status: "True", Reason: "Fine", ObservedGeneration: 2}}
	ir.Status.Hosts = []string{"a.test"}
	st := &translate.ObjectStatus{UID: "u", Generation: 2, Conditions: cloneConditions(ir.Status.Conditions), Hosts: []string{"a.test"}}

	if _, err := CacheTransform(ir); err != nil {
		t.Fatal(err)
	}
	if !isDigest(ir.Status.Status) || ir.Status.Hosts != nil || ir.Status.Certificates != nil {
		t.Fatalf("the status was not replaced by a digest: %+v", ir.Status)
	}
	once := ir.DeepCopy()
	if _, err := CacheTransform(ir); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(once, ir) {
		t.Fatalf("applied again, the transform changed the object:\n%+v\n%+v", once.Status, ir.Status)
	}
	if writes(ir.Status.Conditions[0].Message, st, true) {
		t.Fatal("the digest of the very status to write says it differs")
	}

	// A digest of the same status made with another key (by someone who wrote such a
	// condition to the object) does not pass.
	forged := keyedDigest([]byte("another key"), digestInput(st.Generation, st.Conditions, &st.Hosts, &st.Certificates))
	if !writes(forged, st, true) {
		t.Fatal("a digest made without the process's key passed for the status to write")
	}
}
