package manifests

import (
	"fmt"
	"maps"
	"testing"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// FuzzOrigins runs a sequence of operations on origins derived load after load, as the
// loader derives each load's from the last, and checks each against a plain map: what it
// holds and yields, and that the origins it was derived from (which the last load's
// Result, serve's table and /status still read) do not change.
func FuzzOrigins(f *testing.F) {
	f.Add([]byte{0x01, 0x12, 0x23, 0xc0, 0x41, 0x82, 0xc0, 0x13})
	f.Add([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xc0, 0x40, 0x41, 0x42, 0x43, 0x44, 0xc0, 0x45, 0x00, 0xc0})
	f.Add([]byte{0xc0, 0xc0, 0x40, 0x00, 0x00, 0xc0, 0x80, 0x81})
	// Sixteen objects, then loads that change one each while sharing the first's map.
	f.Add([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0xc0, 0x81, 0xc0, 0x02, 0x43, 0xc0, 0x91, 0x44})
	f.Add([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0xc0, 0x43, 0xc0, 0x44, 0xc0, 0x83})
	f.Fuzz(func(t *testing.T, ops []byte) {
		key := func(b byte) translate.Key {
			return translate.Key{Kind: translate.KindIngressRoute, Namespace: "ns", Name: fmt.Sprintf("r%d", b&0x0f)}
		}
		type kept struct {
			o    *Origins
			want map[translate.Key]string
		}
		cur, want := NewOrigins(0), map[translate.Key]string{}
		var earlier []kept
		for i, op := range ops {
			k := key(op)
			switch op >> 6 {
			case 0, 2: // set (two of four: origins change more often than they go)
				v := fmt.Sprintf("f%d.yaml#%d", op>>4&3, i)
				cur.Set(k, v)
				want[k] = v
			case 1:
				cur.Delete(k)
				delete(want, k)
			case 3: // a new load, derived from this one
				earlier = append(earlier, kept{cur, maps.Clone(want)})
				cur = cur.derive()
			}
		}
		earlier = append(earlier, kept{cur, want})
		for n, e := range earlier {
			if got := e.o.Map(); !maps.Equal(got, e.want) {
				t.Fatalf("origins %d of %d hold %v, want %v", n+1, len(earlier), got, e.want)
			}
			if e.o.Len() != len(e.want) {
				t.Fatalf("origins %d of %d: Len %d, want %d", n+1, len(earlier), e.o.Len(), len(e.want))
			}
			yielded := 0
			for range e.o.All() {
				yielded++
			}
			if yielded != len(e.want) {
				t.Fatalf("origins %d of %d: All yields %d entries, want %d", n+1, len(earlier), yielded, len(e.want))
			}
			for b := range byte(16) {
				v, ok := e.o.Get(key(b))
				if w, wok := e.want[key(b)]; v != w || ok != wok {
					t.Fatalf("origins %d of %d: Get(%v) = %q, %v; want %q, %v", n+1, len(earlier), key(b), v, ok, w, wok)
				}
			}
		}
	})
}

// A load derived from a large one shares its map while few objects changed, and makes
// one of its own once the changes pass an eighth of it.
func TestOriginsShareTheLastLoadsMapWhileFewObjectsChanged(t *testing.T) {
	o := NewOrigins(100)
	for i := range 100 {
		o.Set(translate.Key{Kind: translate.KindService, Namespace: "ns", Name: fmt.Sprint(i)}, "a.yaml#1")
	}
	next := o.derive()
	for i := range 12 {
		next.Set(translate.Key{Kind: translate.KindService, Namespace: "ns", Name: fmt.Sprint(i)}, "b.yaml#1")
	}
	again := next.derive()
	if !again.shared || len(again.own) != 12 {
		t.Fatalf("12 objects of 100 changed: the next load's origins are not shared with 12 of their own (shared %v, %d own)", again.shared, len(again.own))
	}
	again.Delete(translate.Key{Kind: translate.KindService, Namespace: "ns", Name: "99"})
	flat := again.derive()
	if flat.shared || flat.Len() != 99 || flat.Of(translate.Key{Kind: translate.KindService, Namespace: "ns", Name: "3"}) != "b.yaml#1" {
		t.Fatalf("13 of 100 changed: the next load's origins should be a map of their own with 99 objects (shared %v, %d)", flat.shared, flat.Len())
	}
}
