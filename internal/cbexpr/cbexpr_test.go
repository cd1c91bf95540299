package cbexpr

import (
	"errors"
	"strings"
	"testing"
)

type fixed struct {
	net, codes, latency float64
	requests            int64
	asked               []int
}

func (f *fixed) NetworkErrorRatio() float64 { return f.net }
func (f *fixed) ResponseCodeRatio(a, b, c, d int) float64 {
	f.asked = []int{a, b, c, d}
	return f.codes
}
func (f *fixed) LatencyAtQuantileMS(float64) float64 { return f.latency }
func (f *fixed) Requests() int64                     { return f.requests }

func TestEval(t *testing.T) {
	for _, tc := range []struct {
		expr string
		m    fixed
		want bool
	}{
		{"NetworkErrorRatio() > 0.5", fixed{net: 0.6}, true},
		{"NetworkErrorRatio() > 0.5", fixed{net: 0.5}, false},
		{"NetworkErrorRatio() >= 0.5", fixed{net: 0.5}, true},
		{"ResponseCodeRatio(500, 600, 0, 600) > 0.25", fixed{codes: 0.3}, true},
		{"LatencyAtQuantileMS(50.0) > 100", fixed{latency: 101}, true},
		{"LatencyAtQuantileMS(50.0) < 100", fixed{latency: 101}, false},
		{"RequestThreshold() == 7", fixed{requests: 7}, true},
		{"RequestThreshold() != 7", fixed{requests: 7}, false},
		{"LatencyAtQuantileMS(99) <= 5", fixed{latency: 5}, true},
		// && binds tighter than ||.
		{"NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50) > 10 && RequestThreshold() > 3", fixed{net: 0.6}, true},
		{"(NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50) > 10) && RequestThreshold() > 3", fixed{net: 0.6}, false},
		{"((NetworkErrorRatio() > -1))", fixed{}, true},
	} {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := e.Eval(&tc.m); got != tc.want {
			t.Errorf("%s with %+v = %v; want %v", tc.expr, tc.m, got, tc.want)
		}
	}
	e, _ := Parse("ResponseCodeRatio(500,600,0,600)>0.5")
	m := &fixed{}
	e.Eval(m)
	if len(m.asked) != 4 || m.asked[0] != 500 || m.asked[1] != 600 || m.asked[2] != 0 || m.asked[3] != 600 {
		t.Errorf("ResponseCodeRatio asked %v; want [500 600 0 600]", m.asked)
	}
}

// TestErrorsNamePositions: a bad expression is refused with the byte position of the
// problem and what to write instead.
func TestErrorsNamePositions(t *testing.T) {
	for _, tc := range []struct {
		expr string
		pos  int
		msg  string
	}{
		{"", 0, "empty"},
		{"NetworkErrorRatio()", 19, "expected a comparison"},
		{"NetworkErrorRatio() > ", 22, "expected a number"},
		{"NetworkErrorRatio > 0.5", 18, `expected "(" after NetworkErrorRatio`},
		{"NetworkErrorRate() > 0.5", 0, "unknown metric NetworkErrorRate"},
		{"ResponseCodeRatio(500, 600) > 0.5", 0, "takes 4 arguments, not 2"},
		{"ResponseCodeRatio(500.5, 600, 0, 600) > 0.5", 0, "whole numbers"},
		{"NetworkErrorRatio() > 0.5 &&", 28, "expected a metric"},
		{"NetworkErrorRatio() > 0.5 & LatencyAtQuantileMS(50) > 1", 26, `unexpected "&"`},
		{"(NetworkErrorRatio() > 0.5", 26, `expected ")"`},
		{"NetworkErrorRatio() > 0.5)", 25, `unexpected ")"`},
		{"NetworkErrorRatio() && LatencyAtQuantileMS(50) > 1", 20, "is a number, not a condition"},
		{"LatencyAtQuantileMS(50) > 1x", 27, "unexpected name x"},
		{strings.Repeat("(", 70) + "NetworkErrorRatio() > 1" + strings.Repeat(")", 70), 64, "nest deeper"},
	} {
		_, err := Parse(tc.expr)
		var pe *Error
		ok := errors.As(err, &pe)
		if !ok || pe.Pos != tc.pos || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%q: %v; want position %d and %q", tc.expr, err, tc.pos, tc.msg)
		}
	}
}

// FuzzParse: nothing panics, errors have a position inside the expression, and what
// parses writes back (String) to an expression that parses to the same text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"NetworkErrorRatio() > 0.30",
		"ResponseCodeRatio(500, 600, 0, 600) > 0.25",
		"LatencyAtQuantileMS(50.0) > 100",
		"NetworkErrorRatio() > 0.5 || (LatencyAtQuantileMS(99) > 50 && RequestThreshold() >= 10)",
		"((NetworkErrorRatio() != -1e3))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *Error
			ok := errors.As(err, &pe)
			if !ok || pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("%q: error %v without a position inside the expression", s, err)
			}
			return
		}
		again, err := Parse(e.String())
		if err != nil {
			t.Fatalf("%q wrote back as %q, which does not parse: %v", s, e.String(), err)
		}
		if again.String() != e.String() {
			t.Fatalf("%q: %q then %q", s, e.String(), again.String())
		}
	})
}
