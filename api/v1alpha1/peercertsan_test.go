package v1alpha1

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestPeerCertSANForms(t *testing.T) {
	var got []PeerCertSAN
	in := `["backend.example", {"type": "URI", "value": "spiffe://c/ns/a"}, {"type": "DNSName", "value": "x"}, 5, {"type": "DNSName", "extra": 1}]`
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := []PeerCertSAN{
		{Value: "backend.example", Plain: true},
		{Type: SANTypeURI, Value: "spiffe://c/ns/a"},
		{Type: SANTypeDNSName, Value: "x"},
		{Invalid: "5"},
		{Invalid: `{"type": "DNSName", "extra": 1}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	out, err := json.Marshal(got[:3])
	if err != nil || string(out) != `["backend.example",{"type":"URI","value":"spiffe://c/ns/a"},{"type":"DNSName","value":"x"}]` {
		t.Errorf("marshal: %s %v; want each entry in the form it was read in", out, err)
	}
}

// FuzzPeerCertSAN: reading an entry never fails (one bad entry must not break reading
// every object of the kind), and what is written back reads the same.
func FuzzPeerCertSAN(f *testing.F) {
	for _, s := range []string{`"a.example"`, `{"type":"URI","value":"spiffe://x"}`, `5`, `[1]`, `{"type":1}`, `null`, `"\u00e9"`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s PeerCertSAN
		if err := s.UnmarshalJSON(data); err != nil {
			t.Fatalf("UnmarshalJSON(%q): %v", data, err)
		}
		if !json.Valid(data) {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", s, err)
		}
		var again PeerCertSAN
		if err := again.UnmarshalJSON(out); err != nil || (again.Invalid == "") != (s.Invalid == "") || again.Plain != s.Plain ||
			(s.Invalid == "" && (again.Type != s.Type || again.Value != s.Value)) {
			t.Fatalf("round trip of %q: %+v then %s then %+v", data, s, out, again)
		}
	})
}
