package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// Key identifies an object whose status translate computed.
type Key struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (k Key) String() string { return k.Kind + "/" + k.Namespace + "/" + k.Name }

// ObjectStatus is what translate concluded about one object: the conditions to write on
// it (LastTransitionTime is left for the status writer, which owns the clock).
type ObjectStatus struct {
	// UID tells an object from one deleted and created again under its name between two
	// builds: its status is the same, and still has to be written to the new object.
	UID        types.UID          `json:"-"`
	Generation int64              `json:"generation"`
	Conditions []metav1.Condition `json:"conditions"`
	// Hosts is set for IngressRoutes.
	Hosts []string `json:"hosts,omitempty"`
	// Certificates is the inventory of an IngressRoute's certificates.
	Certificates []bhv1.CertificateInfo `json:"certificates,omitempty"`
	// Refused is set when the object's own spec (not a reference, not a conflict with
	// another object) cannot be served: what internal/lastgood replaces with the object's
	// last good version.
	Refused *Refusal `json:"-"`
	// APIGroup is set for an object read from one of Traefik's API groups: it has no
	// status of ours, so its conditions are shown elsewhere (Events, logs, status/lint).
	APIGroup string `json:"apiGroup,omitempty"`
	// Blocking and Warnings are every finding behind Ready=False and Warnings=True, each
	// with its own reason: a condition carries one reason (MultipleWarnings for several),
	// and diagnose names each cause apart.
	Blocking []Finding `json:"-"`
	Warnings []Finding `json:"-"`
	// NotServed: the gateway does not take the object (an Ingress of no class); the
	// status says why for `bridgehead status` and `lint`, and is never written to the
	// object (it may be another controller's).
	NotServed bool `json:"notServed,omitempty"`
	// GatewayAPI is the status of a Gateway API object in the spec's shape, for the
	// status writer; nil for other kinds and for Gateway API objects that are not ours.
	GatewayAPI *GatewayAPIStatus `json:"gatewayAPI,omitempty"`
}

// Finding is one cause found about an object.
type Finding struct {
	Reason  bhv1.ConditionReason
	Message string
}

func exportFindings(fs []finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, Finding{Reason: f.reason, Message: f.message})
	}
	return out
}

// Condition returns the condition of type t, or nil.
func (s *ObjectStatus) Condition(t bhv1.ConditionType) *metav1.Condition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == string(t) {
			return &s.Conditions[i]
		}
	}
	return nil
}

// Statuses holds the status of every input object of a Bridgehead kind.
type Statuses map[Key]*ObjectStatus

// Keys returns the keys sorted, for deterministic output.
func (s Statuses) Keys() []Key {
	keys := make([]Key, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	SortKeys(keys)
	return keys
}

// SortKeys sorts keys by their String, the order of every listing of statuses.
func SortKeys(keys []Key) {
	// Sorted by String, made once per key: made in every comparison, it was most of the
	// sort's cost at 10,000 objects.
	type named struct {
		name string
		key  Key
	}
	all := make([]named, len(keys))
	for i, k := range keys {
		all[i] = named{k.String(), k}
	}
	slices.SortFunc(all, func(a, b named) int { return strings.Compare(a.name, b.name) })
	for i, n := range all {
		keys[i] = n.key
	}
}

// finding is one problem (or warning) found about an object.
type finding struct {
	reason  bhv1.ConditionReason
	message string
	// detail, when set, goes with the reason into the Bridgehead-Error header: the
	// namespace/name of a missing object (CASecretNotFound).
	detail string
}

// report collects findings about one object while it is translated, then becomes its
// conditions. Findings are grouped by the condition they make False.
type report struct {
	key        Key
	uid        types.UID
	generation int64
	invalid    []finding // Accepted=False
	refs       []finding // ResolvedRefs=False
	notReady   []finding // Ready=False without a spec or reference problem (e.g. no endpoints)
	warnings   []finding // Warnings=True
	served     int       // routes (or the object itself) that serve
	total      int       // routes that could serve
	hosts      []string
	certs      []bhv1.CertificateInfo
	refused    *Refusal // the newest version was refused; an older one is translated
	lastGood   bool     // what serves is the last good version (see refusedVersion)
	notServed  bool     // the gateway does not take the object (ObjectStatus.NotServed)
	// memo is the IngressRoute translation this report was recorded into or replayed
	// from, and recorded the report's shape then: while the later steps leave it so,
	// the status is the one the memo made last time (see rememberedStatus).
	memo     *routeMemo
	recorded reportShape
	// remembered is what the memo's status was when this report was replayed, held here
	// so that the statuses of 10,000 replayed routes are found without reaching into
	// 10,000 memo entries and statuses scattered over the heap.
	remembered memoStatus
}

// memoStatus is a memo's status and the two fields a build compares it on.
type memoStatus struct {
	status *ObjectStatus
	group  string
	gw     *GatewayAPIStatus
}

func (r *report) invalidf(reason bhv1.ConditionReason, msg string) {
	r.invalid = append(r.invalid, finding{reason: reason, message: msg})
}
func (r *report) refError(reason bhv1.ConditionReason, msg string) {
	r.refs = append(r.refs, finding{reason: reason, message: msg})
}
func (r *report) refErrorDetail(reason bhv1.ConditionReason, msg, detail string) {
	r.refs = append(r.refs, finding{reason: reason, message: msg, detail: detail})
}
func (r *report) notReadyf(reason bhv1.ConditionReason, msg string) {
	r.notReady = append(r.notReady, finding{reason: reason, message: msg})
}
func (r *report) warn(reason bhv1.ConditionReason, msg string) {
	r.warnings = append(r.warnings, finding{reason: reason, message: msg})
}

// statusConditions is how many conditions translate writes: Accepted, ResolvedRefs, Ready
// and Warnings. BackendTLSReady comes later, from internal/verdict, on a copy.
const statusConditions = 4

// statusSlab hands out the statuses of one Translate, a chunk at a time: at 10,000
// routes, an allocation per object was a tenth of a rebuild's garbage.
type statusSlab struct {
	statuses []ObjectStatus
	// conditions gives statuses that say the same the same slice of conditions: most
	// routes of a large gateway do (the same four conditions at the same generation),
	// and a slice of their own was 3.8 MB of the heap at 10,000 routes. The slices have
	// no room to grow into, and no consumer writes into a status's conditions (verdict
	// merges into a copy).
	conditions map[[statusConditions]metav1.Condition][]metav1.Condition
}

// next returns a zero status.
func (s *statusSlab) next(remaining int) *ObjectStatus {
	if len(s.statuses) == 0 {
		n := min(max(remaining, 1), 1024)
		s.statuses = make([]ObjectStatus, n)
	}
	st := &s.statuses[0]
	s.statuses = s.statuses[1:]
	return st
}

// share returns the slab's slice of the conditions cs, made on first use. The slice is
// its own allocation: a status the memo keeps keeps its slice alive, which must not hold a
// chunk of statuses made afresh at every build.
func (s *statusSlab) share(cs *[statusConditions]metav1.Condition) []metav1.Condition {
	if shared, ok := s.conditions[*cs]; ok {
		return shared
	}
	if s.conditions == nil {
		s.conditions = map[[statusConditions]metav1.Condition][]metav1.Condition{}
	}
	shared := make([]metav1.Condition, statusConditions)
	copy(shared, cs[:])
	s.conditions[*cs] = shared
	return shared
}

func (r *report) status(slab *statusSlab, remaining int) *ObjectStatus {
	st := slab.next(remaining)
	st.UID, st.Generation, st.Hosts, st.Certificates, st.NotServed = r.uid, r.generation, r.hosts, r.certs, r.notServed
	if own := r.ownFaults(); len(own) > 0 {
		st.Refused = &Refusal{Generation: r.generation, Reason: own[0].reason, Message: joinFindings(own)}
	}
	if r.refused != nil {
		r.refusedVersion()
	}
	var conds [statusConditions]metav1.Condition
	n := 0
	add := func(c metav1.Condition) {
		conds[n] = c
		n++
	}
	addCheck := func(t bhv1.ConditionType, ok bool, okReason bhv1.ConditionReason, okMsg string, fs []finding) {
		c := metav1.Condition{Type: string(t), ObservedGeneration: r.generation}
		if ok {
			c.Status, c.Reason, c.Message = metav1.ConditionTrue, string(okReason), okMsg
		} else {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(fs[0].reason), joinFindings(fs)
		}
		add(c)
	}
	addCheck(bhv1.ConditionAccepted, len(r.invalid) == 0, bhv1.ReasonAccepted, "the spec is valid", r.invalid)
	addCheck(bhv1.ConditionResolvedRefs, len(r.refs) == 0, bhv1.ReasonResolvedRefs, "every reference resolves", r.refs)

	blocking := append(append(append([]finding(nil), r.invalid...), r.refs...), r.notReady...)
	st.Blocking, st.Warnings = exportFindings(blocking), exportFindings(r.warnings)
	ready := metav1.Condition{Type: string(bhv1.ConditionReady), ObservedGeneration: r.generation}
	switch {
	case len(blocking) == 0:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, string(bhv1.ReasonReady), "serving"
	case r.lastGood:
		// Traffic is served, but by an older spec than the one written: not Ready as written.
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, string(bhv1.ReasonServingLastGood), joinFindings(blocking)
	case r.total > 1 && r.served > 0:
		ready.Status, ready.Reason = metav1.ConditionFalse, string(bhv1.ReasonPartiallyReady)
		ready.Message = partialMessage(r.served, r.total) + joinFindings(blocking)
	default:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, string(blocking[0].reason), joinFindings(blocking)
	}
	add(ready)

	w := metav1.Condition{Type: string(bhv1.ConditionWarnings), ObservedGeneration: r.generation}
	switch len(r.warnings) {
	case 0:
		w.Status, w.Reason, w.Message = metav1.ConditionFalse, string(bhv1.ReasonNoWarnings), "no warnings"
	case 1:
		w.Status, w.Reason, w.Message = metav1.ConditionTrue, string(r.warnings[0].reason), r.warnings[0].message
	default:
		w.Status, w.Reason, w.Message = metav1.ConditionTrue, string(bhv1.ReasonMultipleWarnings), joinFindings(r.warnings)
	}
	add(w)
	st.Conditions = slab.share(&conds)
	return st
}

// maxMessage keeps condition messages under the API's 32 KiB limit with room to spare.
const maxMessage = 8 * 1024

// ownFaults are the findings about the object's own spec: a conflict is about two objects,
// so neither is at fault on its own.
func (r *report) ownFaults() []finding {
	var out []finding
	for _, f := range r.invalid {
		if f.reason != bhv1.ReasonConflicted {
			out = append(out, f)
		}
	}
	return out
}

// refusedVersion turns a refused newest version into the findings of the status: the
// spec as written is not accepted (with the reason its own translation gave), and what
// serves is the last good version, which was translated in its place.
func (r *report) refusedVersion() {
	refused, serving := r.refused.versions()
	msg := fmt.Sprintf("%s is refused: %s; %s keeps serving until the spec is fixed", refused, r.refused.Message, serving)
	r.invalid = append([]finding{{reason: r.refused.Reason, message: msg}}, r.invalid...)
	r.lastGood = true
}

func joinFindings(fs []finding) string {
	msgs := make([]string, 0, len(fs))
	for _, f := range fs {
		msgs = append(msgs, f.message)
	}
	msg := strings.Join(msgs, "; ")
	if len(msg) > maxMessage {
		msg = msg[:maxMessage-len(" [truncated]")] + " [truncated]"
	}
	return msg
}

func partialMessage(served, total int) string {
	return fmt.Sprintf("%d of %d routes serve; ", served, total)
}
