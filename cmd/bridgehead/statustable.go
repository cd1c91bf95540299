package main

import (
	"bufio"
	"fmt"
	"io"
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
func printStatus(out io.Writer, statuses translate.Statuses, problems []string, origin map[translate.Key]string) bool {
	// One write for the whole table: tabwriter writes line by line, which at 10,000 routes
	// was 10,000 write(2) calls to standard output on every change.
	w := bufio.NewWriterSize(out, 64<<10)
	defer func() { _ = w.Flush() }()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tREADY\tREASON\tWARNINGS\tFROM")
	broken := len(problems) > 0
	var details []string
	for _, k := range statuses.Keys() {
		st := statuses[k]
		ready, warn := st.Condition(bhv1.ConditionReady), st.Condition(bhv1.ConditionWarnings)
		warning := ""
		if warn != nil && warn.Status == "True" {
			warning = warn.Reason
			details = append(details, fmt.Sprintf("%s: warning: %s", k, warn.Message))
		}
		if c := st.Condition(bhv1.ConditionBackendTLSReady); c != nil && c.Status == "False" && (ready == nil || ready.Status == "True") {
			details = append(details, fmt.Sprintf("%s: backend TLS: %s", k, c.Message))
		}
		if ready == nil {
			// Every served object gets Ready; one without is shown, not skipped.
			ready = &metav1.Condition{Status: "Unknown", Reason: "NoCondition", Message: "translate wrote no Ready condition"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k, ready.Status, ready.Reason, warning, origin[k])
		if ready.Status != "True" {
			broken = true
			details = append(details, fmt.Sprintf("%s: %s", k, ready.Message))
		}
		details = append(details, gatewayAPIDetails(k, st.GatewayAPI)...)
	}
	_ = tw.Flush()
	for _, d := range details {
		fmt.Fprintln(w, "  "+d)
	}
	if len(problems) > 0 {
		fmt.Fprintln(w, "Documents not used:")
		for _, p := range problems {
			fmt.Fprintln(w, "  "+p)
		}
	}
	fmt.Fprintln(w, strings.Repeat("-", 40))
	return broken
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
