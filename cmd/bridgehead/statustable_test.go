package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

func routeStatuses(n int) translate.Statuses {
	st := translate.Statuses{}
	for i := range n {
		st[translate.Key{Kind: translate.KindIngressRoute, Namespace: "scale", Name: fmt.Sprintf("r%05d", i)}] = readyStatus("True", "Ready", "")
	}
	return st
}

func readyStatus(status, reason, message string) *translate.ObjectStatus {
	return &translate.ObjectStatus{Conditions: []metav1.Condition{{Type: string(bhv1.ConditionReady), Status: metav1.ConditionStatus(status), Reason: reason, Message: message}}}
}

// A folder of up to fullTableRows objects gets its whole table on every change, as before.
func TestTablePrinterSmallFolderPrintsEveryRow(t *testing.T) {
	var out bytes.Buffer
	p := tablePrinter{out: &out}
	st := routeStatuses(fullTableRows)
	p.print(st, nil, origins{})
	out.Reset()
	st[translate.Key{Kind: translate.KindIngressRoute, Namespace: "scale", Name: "r00007"}] = readyStatus("False", "ServiceNotFound", "spec.routes[0].services[0]: no Service scale/backend")
	p.print(st, nil, origins{})
	if rows := strings.Count(out.String(), "IngressRoute/scale/r"); rows != fullTableRows+1 { // every row, and the message
		t.Errorf("the second table has %d mentions of the routes, want %d (every row and one message):\n%s", rows, fullTableRows+1, out.String())
	}
}

// Above fullTableRows objects, the first table is whole; after that a change prints the
// rows that changed, appeared or went away, their messages, and how many rows it left out.
func TestTablePrinterLargeFolderPrintsChanges(t *testing.T) {
	var out bytes.Buffer
	p := tablePrinter{out: &out}
	st := routeStatuses(1000)
	p.print(st, []string{"bad.yaml: invalid YAML"}, origins{})
	if rows := strings.Count(out.String(), "IngressRoute/scale/r"); rows != 1000 {
		t.Fatalf("the first table has %d rows, want all 1000", rows)
	}
	out.Reset()
	key := func(name string) translate.Key {
		return translate.Key{Kind: translate.KindIngressRoute, Namespace: "scale", Name: name}
	}
	st[key("r00007")] = readyStatus("False", "ServiceNotFound", "spec.routes[0].services[0]: no Service scale/backend")
	st[key("new")] = readyStatus("True", "Ready", "")
	delete(st, key("r00009"))
	p.print(st, []string{"bad.yaml: invalid YAML"}, origins{})
	printed := out.String()
	for _, want := range []string{
		"IngressRoute/scale/r00007  False  ServiceNotFound",
		"  IngressRoute/scale/r00007: spec.routes[0].services[0]: no Service scale/backend",
		"IngressRoute/scale/new     True   Ready",
		"IngressRoute/scale/r00009  -      Removed",
		"Documents not used:\n  bad.yaml: invalid YAML",
		"998 of 1000 objects unchanged and not shown (1 not ready in all)",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("the table lacks %q:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, "r00008") {
		t.Errorf("an unchanged row is printed:\n%s", printed)
	}
	if !strings.HasSuffix(printed, strings.Repeat("-", 40)+"\n") {
		t.Errorf("the table does not end with its line of dashes:\n%s", printed)
	}
	// Nothing changed: no rows, the count.
	out.Reset()
	p.print(st, nil, origins{})
	if strings.Count(out.String(), "IngressRoute/") != 0 || !strings.Contains(out.String(), "1000 of 1000 objects unchanged") {
		t.Errorf("a print without changes:\n%s", out.String())
	}
	// Only a message changed: the row is printed again, with the new message.
	out.Reset()
	st[key("r00007")] = readyStatus("False", "ServiceNotFound", "spec.routes[0].services[0]: no Service scale/api")
	p.print(st, nil, origins{})
	if !strings.Contains(out.String(), "  IngressRoute/scale/r00007: spec.routes[0].services[0]: no Service scale/api") || !strings.Contains(out.String(), "999 of 1000") {
		t.Errorf("a changed message is not printed:\n%s", out.String())
	}
	// The broken route is fixed: the count of routes not ready follows.
	out.Reset()
	st[key("r00007")] = readyStatus("True", "Ready", "")
	p.print(st, nil, origins{})
	if !strings.Contains(out.String(), "(0 not ready in all)") {
		t.Errorf("a route that became ready is still counted as not ready:\n%s", out.String())
	}
}

// BenchmarkTablePrinter10k is serve's table after a change of one object in 10,000.
func BenchmarkTablePrinter10k(b *testing.B) {
	p := tablePrinter{out: io.Discard}
	st := routeStatuses(10000)
	p.print(st, nil, origins{})
	k := translate.Key{Kind: translate.KindIngressRoute, Namespace: "scale", Name: "r00007"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		st[k] = readyStatus("False", "ServiceNotFound", fmt.Sprint("change ", i))
		p.print(st, nil, origins{})
	}
}

// When the loader says which origins changed since the load last printed, the table looks
// up only those: a route moved to another file with its status unchanged gets its row
// printed with the new origin. Without that word (a load skipped, or none given) every
// origin is compared.
func TestTablePrinterFollowsTheOriginsTheLoaderSaysChanged(t *testing.T) {
	var out bytes.Buffer
	p := tablePrinter{out: &out}
	st := routeStatuses(1000)
	key := translate.Key{Kind: translate.KindIngressRoute, Namespace: "scale", Name: "r00007"}
	of := map[translate.Key]string{}
	for k := range st {
		of[k] = "routes.yaml#" + k.Name
	}
	p.print(st, nil, origins{of: manifests.OriginsOf(of), load: 1})
	moved := maps.Clone(of)
	moved[key] = "moved.yaml#1"
	out.Reset()
	p.print(st, nil, origins{of: manifests.OriginsOf(moved), load: 2, changed: []translate.Key{key}})
	if !strings.Contains(out.String(), "moved.yaml#1") || !strings.Contains(out.String(), "999 of 1000") {
		t.Fatalf("the moved route's row is not printed with its new origin:\n%s", out.String())
	}
	// The same load printed again (new runtime verdicts): nothing moved.
	out.Reset()
	p.print(st, nil, origins{of: manifests.OriginsOf(moved), load: 2, changed: []translate.Key{key}})
	if strings.Contains(out.String(), "IngressRoute/") {
		t.Errorf("a print of the same load again shows rows:\n%s", out.String())
	}
	// Load 3 was not printed: load 4's list says nothing about what load 3 moved.
	back := maps.Clone(moved)
	back[key] = "back.yaml#1"
	out.Reset()
	p.print(st, nil, origins{of: manifests.OriginsOf(back), load: 4})
	if !strings.Contains(out.String(), "back.yaml#1") {
		t.Errorf("an origin changed in a load the table did not print is not shown:\n%s", out.String())
	}
}
