package manifests

import (
	"iter"
	"maps"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// Origins says where each object of a load came from, for messages:
// "quickstart/route.yaml#2".
//
// A load of a folder starts from the last load's origins (see loader.reclaim): most
// objects come from files that did not change. A copy of the last load's map per load
// was, at 10,000 routes to verified backends (30,000 objects), a quarter of a change's
// garbage. So a load's Origins shares the map of an earlier one (base, never written
// once shared) and holds only what differs from it (own, gone); when that grows past an
// eighth of the shared map, the next load makes a map of its own again.
//
// An Origins is written only by the load that makes it (and, before handing its Result
// on, by whoever made that load: carry, a rename of staged files); after that it is
// read-only, and safe to read from several goroutines.
type Origins struct {
	base map[translate.Key]string // shared with the Origins this one was derived from, or this one's own
	own  map[translate.Key]string // entries base lacks or has otherwise (nil until needed)
	gone map[translate.Key]bool   // keys of base this one does not have (nil until needed)
	n    int
	// shared: base belongs to another Origins too, so writes go to own and gone.
	shared bool
}

// NewOrigins returns empty origins with room for about size objects.
func NewOrigins(size int) *Origins {
	return &Origins{base: make(map[translate.Key]string, size)}
}

// OriginsOf returns origins holding m's entries (tests, tools).
func OriginsOf(m map[translate.Key]string) *Origins {
	return &Origins{base: maps.Clone(m), n: len(m)}
}

// Get returns where the object of key k came from, and whether it is known.
func (o *Origins) Get(k translate.Key) (string, bool) {
	if o == nil {
		return "", false
	}
	if o.shared {
		if v, ok := o.own[k]; ok {
			return v, true
		}
		if o.gone[k] {
			return "", false
		}
	}
	v, ok := o.base[k]
	return v, ok
}

// Of is Get without the second result: "" for an unknown object.
func (o *Origins) Of(k translate.Key) string {
	v, _ := o.Get(k)
	return v
}

// Len is the number of objects.
func (o *Origins) Len() int {
	if o == nil {
		return 0
	}
	return o.n
}

// All yields every object's key and origin, in no particular order.
func (o *Origins) All() iter.Seq2[translate.Key, string] {
	return func(yield func(translate.Key, string) bool) {
		if o == nil {
			return
		}
		for k, v := range o.own {
			if !yield(k, v) {
				return
			}
		}
		for k, v := range o.base {
			if o.shared {
				if _, mine := o.own[k]; mine || o.gone[k] {
					continue
				}
			}
			if !yield(k, v) {
				return
			}
		}
	}
}

// Map returns the origins as a map of their own.
func (o *Origins) Map() map[translate.Key]string {
	m := make(map[translate.Key]string, o.Len())
	for k, v := range o.All() {
		m[k] = v
	}
	return m
}

// Set records that the object of key k came from origin.
func (o *Origins) Set(k translate.Key, origin string) {
	if !o.shared {
		if _, ok := o.base[k]; !ok {
			o.n++
		}
		o.base[k] = origin
		return
	}
	if _, ok := o.Get(k); !ok {
		o.n++
	}
	delete(o.gone, k)
	if o.own == nil {
		o.own = map[translate.Key]string{}
	}
	o.own[k] = origin
}

// Delete forgets the object of key k.
func (o *Origins) Delete(k translate.Key) {
	if _, ok := o.Get(k); !ok {
		return
	}
	o.n--
	if !o.shared {
		delete(o.base, k)
		return
	}
	delete(o.own, k)
	if _, inBase := o.base[k]; inBase {
		if o.gone == nil {
			o.gone = map[translate.Key]bool{}
		}
		o.gone[k] = true
	}
}

// derive returns origins equal to o for a later load (or a carried-over result) to
// change: they share o's map while what differs from it stays small, else they get a
// map of their own. o is not written after this.
func (o *Origins) derive() *Origins {
	if len(o.own)+len(o.gone) > len(o.base)/8 {
		return &Origins{base: o.Map(), n: o.n}
	}
	return &Origins{base: o.base, own: maps.Clone(o.own), gone: maps.Clone(o.gone), n: o.n, shared: true}
}
