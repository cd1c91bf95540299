package translate

import "testing"

// A memo's lists hand their chunks out again in the next call: the lists cut before
// must be whole until then, and recycled chunks must keep none of their elements alive.
func TestListsRecycledKeepNothingAndServeAgain(t *testing.T) {
	var s lists[*report]
	m := map[int][]*report{}
	reports := make([]*report, 3000)
	for i := range reports {
		reports[i] = &report{served: i}
		add(m, i%2500, reports[i], &s) // 500 keys get a second element
	}
	for k, l := range m {
		want := 1
		if k < 500 {
			want = 2
		}
		if len(l) != want || l[0] != reports[k] || (want == 2 && l[1] != reports[k+2500]) {
			t.Fatalf("list %d holds %v, want reports %d (and %d)", k, l, k, k+2500)
		}
	}
	chunks := len(s.chunks)
	first := &s.chunks[0][0]
	s.recycle()
	for i, c := range s.chunks {
		for j, e := range c {
			if e != nil {
				t.Fatalf("chunk %d keeps element %d alive after recycle", i, j)
			}
		}
	}
	clear(m)
	add(m, 1, reports[1], &s)
	if &m[1][0] != first || len(s.chunks) != chunks {
		t.Errorf("the next list is not cut from the first recycled chunk (%d chunks, %d before)", len(s.chunks), chunks)
	}
}
