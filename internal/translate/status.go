package translate

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	Generation int64              `json:"generation"`
	Conditions []metav1.Condition `json:"conditions"`
	// Hosts is set for IngressRoutes.
	Hosts []string `json:"hosts,omitempty"`
	// Certificates is the inventory of an IngressRoute's certificates.
	Certificates []bhv1.CertificateInfo `json:"certificates,omitempty"`
	// APIGroup is set for an object read from one of Traefik's API groups: it has no
	// status of ours, so its conditions are shown elsewhere (Events, logs, status/lint).
	APIGroup string `json:"apiGroup,omitempty"`
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
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
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
	generation int64
	invalid    []finding // Accepted=False
	refs       []finding // ResolvedRefs=False
	notReady   []finding // Ready=False without a spec or reference problem (e.g. no endpoints)
	warnings   []finding // Warnings=True
	served     int       // routes (or the object itself) that serve
	total      int       // routes that could serve
	hosts      []string
	certs      []bhv1.CertificateInfo
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

func (r *report) status() *ObjectStatus {
	st := &ObjectStatus{Generation: r.generation, Hosts: r.hosts, Certificates: r.certs}
	add := func(t bhv1.ConditionType, ok bool, okReason bhv1.ConditionReason, okMsg string, fs []finding) {
		c := metav1.Condition{Type: string(t), ObservedGeneration: r.generation}
		if ok {
			c.Status, c.Reason, c.Message = metav1.ConditionTrue, string(okReason), okMsg
		} else {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(fs[0].reason), joinFindings(fs)
		}
		st.Conditions = append(st.Conditions, c)
	}
	add(bhv1.ConditionAccepted, len(r.invalid) == 0, bhv1.ReasonAccepted, "the spec is valid", r.invalid)
	add(bhv1.ConditionResolvedRefs, len(r.refs) == 0, bhv1.ReasonResolvedRefs, "every reference resolves", r.refs)

	blocking := append(append(append([]finding(nil), r.invalid...), r.refs...), r.notReady...)
	ready := metav1.Condition{Type: string(bhv1.ConditionReady), ObservedGeneration: r.generation}
	switch {
	case len(blocking) == 0:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, string(bhv1.ReasonReady), "serving"
	case r.total > 1 && r.served > 0:
		ready.Status, ready.Reason = metav1.ConditionFalse, string(bhv1.ReasonPartiallyReady)
		ready.Message = partialMessage(r.served, r.total) + joinFindings(blocking)
	default:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, string(blocking[0].reason), joinFindings(blocking)
	}
	st.Conditions = append(st.Conditions, ready)

	w := metav1.Condition{Type: string(bhv1.ConditionWarnings), ObservedGeneration: r.generation}
	switch len(r.warnings) {
	case 0:
		w.Status, w.Reason, w.Message = metav1.ConditionFalse, string(bhv1.ReasonNoWarnings), "no warnings"
	case 1:
		w.Status, w.Reason, w.Message = metav1.ConditionTrue, string(r.warnings[0].reason), r.warnings[0].message
	default:
		w.Status, w.Reason, w.Message = metav1.ConditionTrue, string(bhv1.ReasonMultipleWarnings), joinFindings(r.warnings)
	}
	st.Conditions = append(st.Conditions, w)
	return st
}

// maxMessage keeps condition messages under the API's 32 KiB limit with room to spare.
const maxMessage = 8 * 1024

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
