package v1alpha1

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDurationReadsTraefikSpellings(t *testing.T) {
	cases := []struct {
		json string
		want time.Duration
	}{
		{`"30s"`, 30 * time.Second},
		{`"1m30s"`, 90 * time.Second},
		{`"500ms"`, 500 * time.Millisecond},
		{`42`, 42 * time.Second},
		{`"42"`, 42 * time.Second},
		{`1.5`, 1500 * time.Millisecond},
	}
	for _, c := range cases {
		var d Duration
		if err := json.Unmarshal([]byte(c.json), &d); err != nil {
			t.Fatalf("unmarshal %s: %v", c.json, err)
		}
		got, err := d.Parse()
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.json, got, err, c.want)
		}
	}
}

func TestDurationRejectsWords(t *testing.T) {
	_, err := Duration("30 seconds").Parse()
	if err == nil {
		t.Fatal(`"30 seconds" parsed`)
	}
}

func TestPortRoundTripsAsWritten(t *testing.T) {
	for _, in := range []string{`443`, `"https"`} {
		var p Port
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(p)
		if err != nil || string(out) != in {
			t.Errorf("%s came back as %s (%v)", in, out, err)
		}
	}
	if n, ok := Port("443").Number(); !ok || n != 443 {
		t.Errorf("Port 443: got %d, %v", n, ok)
	}
	if _, ok := Port("https").Number(); ok {
		t.Error("a named port has no number")
	}
}
