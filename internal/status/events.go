package status

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/internal/verdict"
)

// IngressReport is what one build concluded about Ingresses.
type IngressReport struct {
	// Statuses may hold every kind; only the Ingress entries are used.
	Statuses translate.Statuses
	// Publish says whether the gateway manages status.loadBalancer of its Ingresses
	// (--publish-service or --publish-address is set).
	Publish bool
	// Addresses go into status.loadBalancer.ingress of every served Ingress, sorted.
	Addresses []networkingv1.IngressLoadBalancerIngress
}

// IngressWriter reports on Ingresses, which have no conditions: it writes the load
// balancer's addresses into their status and records an Event when what translate found
// about one changes (Warning for problems, Normal once it serves). Like Writer, it runs
// only on the leader; a new leader starts with a new IngressWriter, so it re-announces
// the current state once.
type IngressWriter struct {
	Client   client.Client
	Recorder events.EventRecorder
	Log      logr.Logger

	// The newest report, and BackendTLSReady from real handshakes (Ingress keys only).
	box mailbox[*IngressReport]

	// Only the Start goroutine touches these.
	primed    bool // the first report of the term has been made
	announced map[translate.Key]announcement
	published map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress
}

// announcement is what the last Events said about an Ingress.
type announcement struct {
	// ready and backend are Ready and BackendTLSReady as announced (nil: nothing said),
	// conditions of status and runtime, which nothing writes to.
	ready, backend *metav1.Condition
	findings       []notice // the problems and warnings each announced by a Warning Event, once each
	// status and runtime are what the announcement was made from (see unchanged).
	status  *translate.ObjectStatus
	runtime []metav1.Condition
}

// said reports whether two announced conditions say the same: the same status, reason and
// message, or both nothing. Holding the conditions themselves rather than their words
// joined into one string, and findings in a slice rather than a set: 10,000 Ingresses of
// one finding each kept 9.8 MB of announcements that way, 2.6 MB this way.
func said(a, b *metav1.Condition) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message
}

// notice is one Warning Event about an Ingress: a finding, known by its reason and message,
// so that a changed value (which changes the message) is announced again.
type notice struct {
	reason, message string
}

// maxEventsPerChange bounds the Warning Events one change of an Ingress records.
const maxEventsPerChange = 20

// notices are the findings behind Ready=False, then those behind Warnings=True, one
// notice each. A status that carries conditions but not their findings is announced by
// the condition itself.
func notices(st *translate.ObjectStatus) []notice {
	var out []notice
	add := func(t bhv1.ConditionType, bad metav1.ConditionStatus, fs []translate.Finding) {
		c := st.Condition(t)
		if c == nil || c.Status != bad {
			return
		}
		if len(fs) == 0 {
			out = append(out, notice{reason: c.Reason, message: c.Message})
		}
		for _, f := range fs {
			out = append(out, notice{reason: string(f.Reason), message: f.Message})
		}
	}
	add(bhv1.ConditionReady, metav1.ConditionFalse, st.Blocking)
	add(bhv1.ConditionWarnings, metav1.ConditionTrue, st.Warnings)
	return out
}

// Publish hands the latest report to the writer; an older unwritten one is replaced.
func (w *IngressWriter) Publish(r *IngressReport) { w.box.publish(r) }

// SetRuntime hands the writer the latest runtime conditions (those of other kinds are
// ignored); a change of an Ingress's BackendTLSReady is announced with an Event.
func (w *IngressWriter) SetRuntime(c verdict.Conditions) {
	mine := verdict.Conditions{}
	for k, cs := range c {
		if k.Kind == translate.KindIngress {
			mine[k] = cs
		}
	}
	w.box.setRuntime(mine)
}

// NeedLeaderElection makes a manager start the writer on the leader only.
func (w *IngressWriter) NeedLeaderElection() bool { return true }

// Start reports until ctx ends (the lease is lost or the process stops).
func (w *IngressWriter) Start(ctx context.Context) error {
	if w.announced == nil {
		w.announced = map[translate.Key]announcement{}
		w.published = map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress{}
	}
	w.box.run(ctx, func(r *IngressReport, runtime verdict.Conditions) {
		if r != nil {
			w.report(ctx, r, runtime)
		}
	})
	return nil
}

func (w *IngressWriter) report(ctx context.Context, r *IngressReport, runtime verdict.Conditions) {
	// Only the Ingresses that need something are sorted and handled: at 10,000 Ingresses,
	// sorting them all and making a set of them for every build was most of the writer's
	// CPU per change. held counts the served Ingresses the writer keeps an announcement of
	// (heldPublished: addresses written to), so that the passes looking for Ingresses gone
	// are skipped when none can be.
	var changed []translate.Key // sorted, as every listing of statuses is
	held, heldPublished := 0, 0
	for k, st := range r.Statuses {
		// An Ingress of no class may be another controller's: not ours to write to.
		if k.Kind != translate.KindIngress || st.NotServed {
			continue
		}
		if w.unchanged(k, r, runtime[k]) {
			held++
			if r.Publish {
				heldPublished++
			}
			continue
		}
		changed = append(changed, k)
	}
	translate.SortKeys(changed)
	for _, k := range changed {
		if ctx.Err() != nil {
			return
		}
		nn := types.NamespacedName{Namespace: k.Namespace, Name: k.Name}
		w.handle(ctx, k, nn, r, runtime[k])
		if _, ok := w.announced[k]; ok {
			held++
		}
		if _, ok := w.published[nn]; ok {
			heldPublished++
		}
	}
	w.primed = true
	// An Ingress deleted or moved out of the class is announced afresh if it comes back.
	if held != len(w.announced) {
		for k := range w.announced {
			if _, ok := r.Statuses[k]; !ok {
				delete(w.announced, k)
			}
		}
	}
	// An Ingress that left our class (or the flags) keeps no address of ours.
	if heldPublished == len(w.published) {
		return
	}
	for nn, addrs := range w.published {
		if st := r.Statuses[translate.Key{Kind: translate.KindIngress, Namespace: nn.Namespace, Name: nn.Name}]; st != nil && !st.NotServed {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if err := w.clearAddresses(ctx, nn, addrs); err != nil {
			w.Log.Error(err, "clearing the load-balancer status", "ingress", nn.String())
			continue
		}
		delete(w.published, nn)
	}
}

// handle announces what changed about one Ingress and writes the addresses to it.
func (w *IngressWriter) handle(ctx context.Context, k translate.Key, nn types.NamespacedName, r *IngressReport, runtime []metav1.Condition) {
	ing := &networkingv1.Ingress{}
	if err := w.Client.Get(ctx, nn, ing); err != nil {
		if !apierrors.IsNotFound(err) {
			w.Log.Error(err, "reading an Ingress", "ingress", nn.String())
		}
		return
	}
	w.announce(k, ing, r.Statuses[k], runtime)
	if r.Publish {
		if err := w.setAddresses(ctx, nn, r.Addresses); err != nil {
			w.Log.Error(err, "writing the load-balancer status", "ingress", nn.String())
			return
		}
		w.published[nn] = r.Addresses
	}
}

// unchanged reports whether an Ingress needs nothing this round: the build handed over the
// very status it was last announced from (translate's memo hands an unchanged Ingress's
// status over as the same object), its runtime verdict is the same, and the addresses are
// the ones written to it. As the CRD writer does, it is not read again then: reading
// (a deep copy from the cache) every Ingress for every build was a third of the CPU of a
// change at 10,000 Ingresses. An address someone else overwrites is written again when the
// Ingress's own status changes, or by the next leader.
func (w *IngressWriter) unchanged(k translate.Key, r *IngressReport, runtime []metav1.Condition) bool {
	a, seen := w.announced[k]
	if !seen || a.status == nil || a.status != r.Statuses[k] || !sameConditions(a.runtime, runtime) {
		return false
	}
	if !r.Publish {
		return true
	}
	written, ok := w.published[types.NamespacedName{Namespace: k.Namespace, Name: k.Name}]
	return ok && sameAddresses(written, r.Addresses)
}

func sameConditions(a, b []metav1.Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Status != b[i].Status || a[i].Reason != b[i].Reason || a[i].Message != b[i].Message {
			return false
		}
	}
	return true
}

// announce records Events about what changed on the Ingress since the last ones this
// writer recorded: one Warning per new finding (each cause of not being Ready, each
// warning), a Normal one when it starts to serve, and the runtime verdict on TLS to its
// backends. A finding already announced is not repeated, so changing one annotation
// brings exactly the Event about it. The first report of a term (a new leader, a restart)
// repeats problems but not that healthy Ingresses serve: a failover in a cluster with
// thousands of Ingresses must not flood the API server with Events nobody needs.
func (w *IngressWriter) announce(k translate.Key, ing *networkingv1.Ingress, st *translate.ObjectStatus, runtime []metav1.Condition) {
	if w.Recorder == nil || st == nil {
		return
	}
	ready := st.Condition(bhv1.ConditionReady)
	// The runtime conditions are copied: unchanged compares the next ones with them.
	now := announcement{status: st, runtime: slices.Clone(runtime), ready: ready}
	for i := range now.runtime {
		if c := &now.runtime[i]; c.Type == string(bhv1.ConditionBackendTLSReady) && c.Status != metav1.ConditionUnknown {
			now.backend = c
		}
	}
	before, seen := w.announced[k]
	var fresh []notice
	// A few findings an Ingress, rarely dozens: looked for in slices rather than sets.
	for _, n := range notices(st) {
		if slices.Contains(now.findings, n) {
			continue
		}
		now.findings = append(now.findings, n)
		if !slices.Contains(before.findings, n) {
			fresh = append(fresh, n)
		}
	}
	w.announced[k] = now

	w.warn(ing, fresh)
	if ready != nil && ready.Status == metav1.ConditionTrue && (!seen || !said(before.ready, now.ready)) && w.primed {
		// At the start of a term, a healthy Ingress is only the baseline.
		note := "the gateway serves this Ingress"
		if len(st.Hosts) > 0 {
			note += " for " + strings.Join(st.Hosts, ", ")
		}
		w.Recorder.Eventf(ing, nil, corev1.EventTypeNormal, ready.Reason, "Translate", "%s", clip(note))
	}
	if backend := now.backend; backend != nil && !said(before.backend, backend) {
		switch {
		case backend.Status == metav1.ConditionFalse:
			w.Recorder.Eventf(ing, nil, corev1.EventTypeWarning, backend.Reason, "Proxy", "%s", clip("TLS to the backend fails: "+backend.Message))
		case before.backend != nil:
			w.Recorder.Eventf(ing, nil, corev1.EventTypeNormal, backend.Reason, "Proxy", "%s", clip("TLS to the backend works again: "+backend.Message))
		}
	}
}

// warn records one Warning Event per notice, at most maxEventsPerChange: an Ingress
// carrying dozens of foreign annotations must not turn one change into dozens of API
// writes. The last Event says how many were left out and where to read them all; those
// count as announced, so a later change brings up only what it changed.
func (w *IngressWriter) warn(ing *networkingv1.Ingress, ns []notice) {
	for i, n := range ns {
		note := clip(n.message)
		if i == maxEventsPerChange-1 && len(ns) > maxEventsPerChange {
			more := fmt.Sprintf(" (and %d more findings not recorded as Events: bridgehead diagnose ingress/%s -n %s lists them all)",
				len(ns)-maxEventsPerChange, ing.Name, ing.Namespace)
			note = clipTo(n.message, noteLimit-len(more)) + more
		}
		w.Recorder.Eventf(ing, nil, corev1.EventTypeWarning, n.reason, "Translate", "%s", note)
		if i == maxEventsPerChange-1 {
			return
		}
	}
}

// setAddresses writes status.loadBalancer.ingress when it differs.
func (w *IngressWriter) setAddresses(ctx context.Context, nn types.NamespacedName, addrs []networkingv1.IngressLoadBalancerIngress) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing := &networkingv1.Ingress{}
		if err := w.Client.Get(ctx, nn, ing); err != nil {
			return client.IgnoreNotFound(err)
		}
		if sameAddresses(ing.Status.LoadBalancer.Ingress, addrs) {
			return nil
		}
		ing.Status.LoadBalancer.Ingress = addrs
		return client.IgnoreNotFound(w.Client.Status().Update(ctx, ing))
	})
}

// clearAddresses removes the addresses this writer set, and only those: another
// controller may own the Ingress now.
func (w *IngressWriter) clearAddresses(ctx context.Context, nn types.NamespacedName, ours []networkingv1.IngressLoadBalancerIngress) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing := &networkingv1.Ingress{}
		if err := w.Client.Get(ctx, nn, ing); err != nil {
			return client.IgnoreNotFound(err)
		}
		if len(ing.Status.LoadBalancer.Ingress) == 0 || !sameAddresses(ing.Status.LoadBalancer.Ingress, ours) {
			return nil
		}
		ing.Status.LoadBalancer.Ingress = nil
		return client.IgnoreNotFound(w.Client.Status().Update(ctx, ing))
	})
}

func sameAddresses(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		// Without reflection: every Ingress's addresses are compared at every build.
		if a[i].IP != b[i].IP || a[i].Hostname != b[i].Hostname || len(a[i].Ports) != len(b[i].Ports) {
			return false
		}
		if len(a[i].Ports) > 0 && !reflect.DeepEqual(a[i].Ports, b[i].Ports) {
			return false
		}
	}
	return true
}

// SortAddresses orders load-balancer addresses, IPs first, so that every replica writes
// the same list.
func SortAddresses(addrs []networkingv1.IngressLoadBalancerIngress) {
	sort.Slice(addrs, func(i, j int) bool {
		if (addrs[i].IP == "") != (addrs[j].IP == "") {
			return addrs[i].IP != ""
		}
		if addrs[i].IP != addrs[j].IP {
			return addrs[i].IP < addrs[j].IP
		}
		return addrs[i].Hostname < addrs[j].Hostname
	})
}

// noteLimit keeps an Event note under the API's 1 KiB limit.
const noteLimit = 1000

// clip keeps an Event note under noteLimit.
func clip(s string) string { return clipTo(s, noteLimit) }

// clipTo cuts s to at most limit bytes, at a character boundary.
func clipTo(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(" [truncated]")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " [truncated]"
}
