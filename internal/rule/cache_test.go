package rule

import (
	"fmt"
	"testing"
)

// A rule parsed again is the same value; a failure is not remembered as a success; the
// kind is part of what is remembered.
func TestParseRemembers(t *testing.T) {
	a, err := Parse("Host(`cache.example`)", HTTP)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse("Host(`cache.example`)", HTTP)
	if a != b {
		t.Error("the same rule parsed twice gave two values")
	}
	if _, err := Parse("Host(`cache.example`)", TCP); err == nil {
		t.Error("an HTTP rule parsed as TCP after it was remembered as HTTP")
	}
	for range 2 {
		if _, err := Parse("Host(`unclosed", HTTP); err == nil {
			t.Error("a rule that does not parse parsed")
		}
	}
}

// The cache holds at most two generations of limit entries, and keeps what is in use.
func TestRuleCacheStaysBounded(t *testing.T) {
	c := &ruleCache{limit: 10}
	kept := &Rule{}
	c.store("kept", HTTP, kept)
	for i := range 100 {
		c.store(fmt.Sprint(i), HTTP, &Rule{})
		if c.lookup("kept", HTTP) != kept {
			t.Fatalf("the rule in use was dropped after %d others", i+1)
		}
	}
	if n := len(c.cur) + len(c.prev); n > 2*c.limit {
		t.Errorf("%d rules held, want at most %d", n, 2*c.limit)
	}
	if c.lookup("5", HTTP) != nil {
		t.Error("a rule unused for many generations is still held")
	}
}
