package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// printStatus prints the conditions as a table, then the message of everything that is
// not ready or warns, then the documents that could not be read. It reports whether
// anything is broken.
func printStatus(w io.Writer, statuses translate.Statuses, problems []string, origin map[translate.Key]string) bool {
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k, ready.Status, ready.Reason, warning, origin[k])
		if ready.Status != "True" {
			broken = true
			details = append(details, fmt.Sprintf("%s: %s", k, ready.Message))
		}
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
