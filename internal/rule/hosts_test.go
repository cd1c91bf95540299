package rule

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLargeRuleIsCheap guards against analyses that are quadratic in the number of
// hosts: rules come from user objects of up to about a megabyte.
func TestLargeRuleIsCheap(t *testing.T) {
	const n = 20000
	group := func(prefix string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("Host(`%s%d.example.com`)", prefix, i)
		}
		return "(" + strings.Join(parts, " || ") + " || Host(`*.example.com`))"
	}
	expr := group("a") + " && " + group("b")
	start := time.Now()
	r := mustParse(t, expr, HTTP)
	hosts, any := r.Hosts()
	if len(hosts) != 2*n+1 || any {
		t.Errorf("got %d hosts (any %v), want %d", len(hosts), any, 2*n+1)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("parsing a %d-byte rule took %v", len(expr), d)
	}
}
