package diagnose

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReportVerdicts: the worst hop decides; warnings alone do not break.
func TestReportVerdicts(t *testing.T) {
	r := &Report{}
	warn := Section{Title: "IngressRoute web/a"}
	warn.add(Hop{Kind: "Service", Object: "web/b port 80"})
	warn.add(Hop{Kind: "Service", Object: "web/b port 80", Verdict: Warn, Reason: "TransportNotUsed", Message: "m", Fix: "f"})
	r.addSection(warn)
	if r.Broken() || r.Verdict != Warn {
		t.Fatalf("a warning: verdict %s, broken %v", r.Verdict, r.Broken())
	}
	fail := Section{Title: "IngressRoute web/c", Origin: "c.yaml#1"}
	fail.add(Hop{Kind: "Endpoint", Object: "10.0.0.1:443", Verdict: Fail, Reason: "UnknownAuthority", Message: "the cause", Fix: "the fix", Facts: []string{"presented: x"}})
	r.addSection(fail)
	if !r.Broken() {
		t.Fatal("a failed hop must break the report")
	}
	var text bytes.Buffer
	r.WriteText(&text)
	for _, want := range []string{
		"IngressRoute web/c (c.yaml#1)",
		"  FAIL  Endpoint 10.0.0.1:443: UnknownAuthority\n        presented: x\n        cause: the cause\n        fix:   the fix\n",
		"  OK    Service web/b port 80\n",
		"Result: FAIL (1 broken hop, 1 warning)",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text does not hold %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Verdict != Fail || back.Sections[1].Hops[0].Fix != "the fix" {
		t.Fatalf("JSON round trip: %v\n%s", err, js.String())
	}
}
