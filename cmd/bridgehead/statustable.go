package main

import (
	"bufio"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// printStatus prints the conditions as a table, then the message of everything that is
// not ready or warns, then the documents that could not be read. It reports whether
// anything is broken.
func printStatus(out io.Writer, statuses translate.Statuses, problems []string, origin *manifests.Origins) bool {
	rows, broken := statusRows(statuses, origin)
	writeTable(out, rows, nil, problems, "")
	return broken || len(problems) > 0
}

// fullTableRows is the most objects whose whole table `serve` prints on every change; for
// a larger folder it prints the rows that changed. A 10,000-route folder printed 10,000
// rows on every change: nobody reads that, and it was a sixth of the change's CPU.
const fullTableRows = 200

// tablePrinter prints `serve`'s table after each build: whole, or above fullTableRows
// objects only what changed since the last print (new and changed rows with their
// messages, removed objects) and a line that says how many rows are not shown.
type tablePrinter struct {
	out   io.Writer
	every string                     // how to see every row ("bridgehead status --config-dir DIR, ...")
	last  map[translate.Key]*printed // each object's status as last printed; nil before the first print
	round uint64                     // counts the prints, to find the objects a print no longer has
	load  uint64                     // the load (origins.load) whose origins the last print showed
}

// origins is where the objects of a load came from (manifests.Result's Origin), with what
// the loader says changed since the load before (Load, OriginChanged).
type origins struct {
	of      *manifests.Origins
	load    uint64
	changed []translate.Key
}

func originsOf(res *manifests.Result) origins {
	return origins{of: res.Origin, load: res.Load, changed: res.OriginChanged}
}

// printed is an object's row as last printed: its status fingerprint, and the status and
// origin it was made from. translate gives an unchanged route the same status object
// from one build to the next, so most fingerprints are not computed again.
type printed struct {
	fp       uint64
	status   *translate.ObjectStatus
	origin   string
	round    uint64 // the last print that had the object
	notReady bool   // the status's Ready is missing or not True
}

func (p *tablePrinter) print(statuses translate.Statuses, problems []string, from origins) {
	// Each object's status is fingerprinted as it is, unformatted: formatting all 10,000
	// rows to find the few that changed cost as much as printing them. The entries are
	// updated in place: one map lookup per object and build.
	first := p.last == nil
	if first {
		p.last = make(map[translate.Key]*printed, len(statuses))
	}
	p.round++
	// When the loader says which origins changed since the ones last printed, an object
	// whose status is the one last printed keeps its origin without a look-up (at 10,000
	// objects, the look-ups were half of the table's cost per build). The same load
	// printed again (new runtime verdicts) changed no origin.
	var moved []translate.Key
	known := !first && from.load > 1 && (from.load == p.load || from.load == p.load+1)
	if known && from.load == p.load+1 {
		moved = from.changed
	}
	p.load = from.load
	origin := from.of
	notReady := 0
	var changed, removed []translate.Key
	update := func(k translate.Key, e *printed, st *translate.ObjectStatus, o string) {
		if fp := statusFingerprint(k, st, o); fp != e.fp {
			changed = append(changed, k)
			e.fp = fp
		}
		e.status, e.origin, e.notReady = st, o, isNotReady(st)
	}
	for k, st := range statuses {
		e := p.last[k]
		switch {
		case e == nil:
			o := origin.Of(k)
			e = &printed{fp: statusFingerprint(k, st, o), status: st, origin: o, notReady: isNotReady(st)}
			p.last[k] = e
			changed = append(changed, k)
		case e.status != st || !known:
			if o := origin.Of(k); e.status != st || e.origin != o {
				update(k, e, st, o)
			}
		}
		e.round = p.round
		if e.notReady {
			notReady++
		}
	}
	for _, k := range moved {
		if e := p.last[k]; e != nil && e.round == p.round {
			if o := origin.Of(k); e.origin != o {
				update(k, e, e.status, o)
			}
		}
	}
	if len(p.last) > len(statuses) { // some objects this print did not have
		for k, e := range p.last {
			if e.round != p.round {
				removed = append(removed, k)
				delete(p.last, k)
			}
		}
	}
	if first || len(statuses) <= fullTableRows {
		rows, _ := statusRows(statuses, origin)
		writeTable(p.out, rows, nil, problems, "")
		return
	}
	byName := func(a, b translate.Key) int { return strings.Compare(a.String(), b.String()) }
	slices.SortFunc(changed, byName)
	slices.SortFunc(removed, byName)
	rows := make([]statusRow, 0, len(changed))
	for _, k := range changed {
		rows = append(rows, statusRowOf(k, statuses[k], origin.Of(k)))
	}
	summary := fmt.Sprintf("%d of %d objects unchanged and not shown (%d not ready in all)", len(statuses)-len(changed), len(statuses), notReady)
	if p.every != "" {
		summary += "; every row: " + p.every
	}
	writeTable(p.out, rows, removed, problems, summary)
}

func isNotReady(st *translate.ObjectStatus) bool {
	ready := st.Condition(bhv1.ConditionReady)
	return ready == nil || ready.Status != metav1.ConditionTrue
}

// statusFingerprint hashes what an object's row and messages are made of: its key, its
// origin, its conditions, and its Gateway API status (formatted: few objects have one).
// A 64-bit hash: two different statuses that collide would hide one change from the
// table, never from /status or `bridgehead status`.
func statusFingerprint(k translate.Key, st *translate.ObjectStatus, origin string) uint64 {
	var h maphash.Hash
	h.SetSeed(fingerprintSeed)
	add := func(s string) {
		h.WriteString(s)
		h.WriteByte(0) // so "ab"+"c" and "a"+"bc" differ
	}
	add(k.Kind)
	add(k.Namespace)
	add(k.Name)
	add(origin)
	for _, c := range st.Conditions {
		add(c.Type)
		add(string(c.Status))
		add(c.Reason)
		add(c.Message)
	}
	for _, d := range gatewayAPIDetails(k, st.GatewayAPI) {
		add(d)
	}
	return h.Sum64()
}

// fingerprintSeed is the process's seed of statusFingerprint: fingerprints are only
// compared within one process. maphash hashes 16 bytes a step where FNV-1a took one, which
// made fingerprinting 10,000 statuses a twentieth of a change's CPU.
var fingerprintSeed = maphash.MakeSeed()

// statusRow is one object's line of the table and the messages printed under it.
type statusRow struct {
	key      translate.Key
	cells    [5]string // OBJECT READY REASON WARNINGS FROM
	details  []string
	notReady bool
}

// statusRows makes the table's rows in the objects' order, and reports whether any object
// is not ready.
func statusRows(statuses translate.Statuses, origin *manifests.Origins) ([]statusRow, bool) {
	broken := false
	keys := statuses.Keys()
	rows := make([]statusRow, 0, len(keys))
	for _, k := range keys {
		r := statusRowOf(k, statuses[k], origin.Of(k))
		broken = broken || r.notReady
		rows = append(rows, r)
	}
	return rows, broken
}

// statusRowOf is one object's row and the messages printed under it.
func statusRowOf(k translate.Key, st *translate.ObjectStatus, origin string) statusRow {
	ready, warn := st.Condition(bhv1.ConditionReady), st.Condition(bhv1.ConditionWarnings)
	r := statusRow{key: k}
	warning := ""
	if warn != nil && warn.Status == "True" {
		warning = warn.Reason
		r.details = append(r.details, fmt.Sprintf("%s: warning: %s", k, warn.Message))
	}
	if c := st.Condition(bhv1.ConditionBackendTLSReady); c != nil && c.Status == "False" && (ready == nil || ready.Status == "True") {
		r.details = append(r.details, fmt.Sprintf("%s: backend TLS: %s", k, c.Message))
	}
	if ready == nil {
		// Every served object gets Ready; one without is shown, not skipped.
		ready = &metav1.Condition{Status: "Unknown", Reason: "NoCondition", Message: "translate wrote no Ready condition"}
	}
	r.cells = [5]string{k.String(), string(ready.Status), ready.Reason, warning, origin}
	if ready.Status != "True" {
		r.notReady = true
		r.details = append(r.details, fmt.Sprintf("%s: %s", k, ready.Message))
	}
	r.details = append(r.details, gatewayAPIDetails(k, st.GatewayAPI)...)
	return r
}

// writeTable prints rows (and removed objects), their messages, the documents not used,
// the summary line when there is one, and the closing line of dashes.
func writeTable(out io.Writer, rows []statusRow, removed []translate.Key, problems []string, summary string) {
	// One write for the whole table: tabwriter writes line by line, which at 10,000 routes
	// was 10,000 write(2) calls to standard output on every change.
	w := bufio.NewWriterSize(out, 64<<10)
	defer func() { _ = w.Flush() }()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tREADY\tREASON\tWARNINGS\tFROM")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.cells[:], "\t"))
	}
	for _, k := range removed {
		fmt.Fprintf(tw, "%s\t-\tRemoved\t\t\n", k)
	}
	_ = tw.Flush()
	for _, r := range rows {
		for _, d := range r.details {
			fmt.Fprintln(w, "  "+d)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(w, "Documents not used:")
		for _, p := range problems {
			fmt.Fprintln(w, "  "+p)
		}
	}
	if summary != "" {
		fmt.Fprintln(w, summary)
	}
	fmt.Fprintln(w, strings.Repeat("-", 40))
}

// problemStrings is how the table and /status show the documents that could not be read.
func problemStrings(ps []manifests.Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// gatewayAPIDetails are the lines that show a Gateway API object's own status, as
// `kubectl describe` would: a Gateway's addresses and each listener's conditions, a
// route's conditions per parent, a policy's per ancestor. Each condition is
// Type=Status(Reason); the message follows for every condition that is not as it should be,
// so a listener or a parent that is refused says why.
func gatewayAPIDetails(k translate.Key, st *translate.GatewayAPIStatus) []string {
	if st == nil {
		return nil
	}
	var out []string
	if st.Class != nil {
		out = append(out, fmt.Sprintf("%s: %s", k, conditionLine(st.Class.Conditions)))
	}
	if g := st.Gateway; g != nil {
		var addrs []string
		for _, a := range g.Addresses {
			addrs = append(addrs, a.Value)
		}
		if len(addrs) == 0 {
			addrs = []string{"none"}
		}
		out = append(out, fmt.Sprintf("%s: addresses %s; %s", k, strings.Join(addrs, ", "), conditionLine(g.Conditions)))
		for _, l := range g.Listeners {
			out = append(out, fmt.Sprintf("%s: listener %s (%d routes attached): %s", k, l.Name, l.AttachedRoutes, conditionLine(l.Conditions)))
		}
	}
	if ls := st.ListenerSet; ls != nil {
		out = append(out, fmt.Sprintf("%s: %s", k, conditionLine(ls.Conditions)))
		for _, l := range ls.Listeners {
			out = append(out, fmt.Sprintf("%s: listener %s (%d routes attached): %s", k, l.Name, l.AttachedRoutes, conditionLine(l.Conditions)))
		}
	}
	for _, p := range st.Parents {
		out = append(out, fmt.Sprintf("%s: parent %s: %s", k, parentRefString(p.ParentRef), conditionLine(p.Conditions)))
	}
	for _, a := range st.Ancestors {
		out = append(out, fmt.Sprintf("%s: ancestor %s: %s", k, parentRefString(a.AncestorRef), conditionLine(a.Conditions)))
	}
	return out
}

// conditionLine is "Accepted=True(Accepted) Programmed=False(Invalid): <message>", the
// messages being those of the conditions that are not as they should be.
func conditionLine(cs []metav1.Condition) string {
	var parts, msgs []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s=%s(%s)", c.Type, c.Status, c.Reason))
		if conditionBad(c) && c.Message != "" {
			msgs = append(msgs, c.Type+": "+c.Message)
		}
	}
	line := strings.Join(parts, " ")
	if len(msgs) > 0 {
		line += " — " + strings.Join(msgs, "; ")
	}
	return line
}

// conditionBad: the Gateway API's conditions are positive except Conflicted (and the
// other negative-polarity ones), which are bad when True.
func conditionBad(c metav1.Condition) bool {
	switch c.Type {
	case string(gwv1.ListenerConditionConflicted), string(gwv1.RouteConditionPartiallyInvalid):
		return c.Status == metav1.ConditionTrue
	}
	return c.Status != metav1.ConditionTrue
}

// parentRefString is "Gateway default/edge section https port 443".
func parentRefString(p gwv1.ParentReference) string {
	kind := "Gateway"
	if p.Kind != nil {
		kind = string(*p.Kind)
	}
	ns := ""
	if p.Namespace != nil {
		ns = string(*p.Namespace) + "/"
	}
	s := kind + " " + ns + string(p.Name)
	if p.SectionName != nil {
		s += " section " + string(*p.SectionName)
	}
	if p.Port != nil {
		s += fmt.Sprintf(" port %d", *p.Port)
	}
	return s
}
