package manifests

import (
	"maps"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// memo remembers, across the loads of one watched folder, what the costly steps made of a
// document's bytes: the YAML-to-JSON conversion, the apiVersion and kind, and the
// admission of every kind it reads (for ours and Gateway API's: pruning, defaults, the
// OpenAPI schema and CEL rules; for the core kinds: strict decoding). A change
// to one file of a 10,000-route folder then re-admits only that file's documents, where it
// re-admitted all of them (about 5 s of CPU per change at 10,000 routes).
//
// All of it depends only on the document's bytes (and, for admission, its position inside
// a kind List), never on where the document sits in the folder: the creation time, which
// does, is set on the decoded object after admission (accept). What depends on the rest
// of the folder (duplicates, origins) is done again on every load.
//
// Entries not used by a load are dropped after it, so the memo holds what the folder holds.
//
// It also keeps each file's documents with the file's stamp (size, modification time,
// inode, and for a file modified in the last seconds its hash) from the scan that preceded
// the read: a file whose stamp has not changed is not read and split again, as Watch
// would not have seen it change either.
type memo struct {
	// docs holds the documents a load used, by their YAML, until the end of the first load
	// that does not use them. Each remembers the last load that used it: a document found
	// through its doc (lookupDocOf: every document of an unchanged file) is only stamped,
	// where a map made afresh for each load took 10,000 stores of 10,000 texts per change.
	docs  map[string]*converted
	load  uint64                        // counts the loads; converted.used is the last that used it
	files generations[string, fileMemo] // by the file's path in the folder
	sizes []int                         // the last load's number of objects of each kind (Inputs.Sizes)
	// origin is the last load's Result.Origin when no object of that load was a duplicate
	// (nil otherwise): the next load starts from origins derived from it (see
	// loader.reclaim and Origins).
	origin *Origins
}

// fileMemo is what a load read from one file.
type fileMemo struct {
	stamp stamp
	docs  []*doc
}

// converted is what a document's bytes made: its JSON, the apiVersion and kind read from
// it, and its admission. A remembered document whose admission is remembered is not
// decoded again (decoding every document was a third of a change at 10,000 routes).
type converted struct {
	yaml             string // the document's bytes: its key in the memo
	json             []byte // nil once an admission replaces it (admitOnce); see jsonOf
	null             bool   // the document is YAML null: nothing to read
	apiVersion, kind string // "" when absent or not a string
	// gv and gvErr are apiVersion parsed, once: a remembered document skips the parse.
	gv    schema.GroupVersion
	gvErr error
	// admission is admitOnce's outcome for the document as the List item admittedItem ("" at
	// the top level: the item is in its problems' field paths); nil until admitted.
	admission    *admission
	admittedItem string
	used         uint64 // the last load that used the document (memo.load)
}

// generations is a map that forgets what one load did not use: lookups and stores go to
// the current load's generation, lookups fall back to the previous one.
type generations[K comparable, V any] struct {
	prev, cur map[K]V
}

func newGenerations[K comparable, V any]() generations[K, V] {
	return generations[K, V]{prev: map[K]V{}, cur: map[K]V{}}
}

func (g *generations[K, V]) lookup(k K) (V, bool) {
	v, ok := g.cur[k]
	if !ok {
		if v, ok = g.prev[k]; ok {
			g.cur[k] = v
		}
	}
	return v, ok
}

func (g *generations[K, V]) store(k K, v V) { g.cur[k] = v }

// next starts a new load's generation; what the last load did not use is dropped. The
// new one is sized for what this one held, which the next load most likely uses again.
func (g *generations[K, V]) next() { g.prev, g.cur = g.cur, make(map[K]V, len(g.cur)) }

// admission is the outcome of the admission of one document (admitOnce).
type admission struct {
	problems     []Problem        // File and Doc left empty: the document's place is set on replay
	admitted     bool             // false: refused (see problems)
	traefikGroup string           // the object was written in this Traefik group; "": ours, or another family
	obj          translate.Object // decoded once; nil once placed (accept copies placed from then on)
	placed       translate.Object // the last load's copy, with the creation time of its place (see accept)
	decodeErr    error            // the schema admitted what the Go type cannot hold
	key          translate.Key
	kind         translate.Kind // key.Kind's; nil until the first accept
	unsupported  []translate.UnsupportedField
}

func newMemo() *memo {
	return &memo{docs: map[string]*converted{}, files: newGenerations[string, fileMemo]()}
}

// loaded ends a load that read in: what it did not use is forgotten.
func (m *memo) loaded(in *translate.Inputs) {
	if m == nil {
		return
	}
	m.sizes = in.Sizes()
	maps.DeleteFunc(m.docs, func(_ string, c *converted) bool { return c.used != m.load })
	m.load++
	m.files.next()
}

// lastSizes is how many objects of each kind the last load had (Inputs.Sizes); nil
// without a memo.
func (m *memo) lastSizes() []int {
	if m == nil {
		return nil
	}
	return m.sizes
}

// lastDocuments is how many distinct documents the last load used: about as many
// objects as the next load will hold, to size its maps (growing a 10,000-entry map step
// by step was half of a remembered reload's garbage: 2 of 4.5 MB).
func (m *memo) lastDocuments() int {
	if m == nil {
		return 0
	}
	return len(m.docs)
}

// unchangedFile returns the documents of the last load's read of the file, if st (this
// load's stamp of it) says the file has not changed since.
func (m *memo) unchangedFile(rel string, st stamp) ([]*doc, bool) {
	if m == nil || st.info == nil {
		return nil, false
	}
	f, ok := m.files.lookup(rel)
	if !ok || !f.stamp.same(st) {
		return nil, false
	}
	return f.docs, true
}

// releasedDocs returns the documents of the last load's files that this load did not
// keep: those of files changed, or gone, since. Call it after every file of this load was
// looked up and stored.
func (m *memo) releasedDocs() []*doc {
	var out []*doc
	for rel, last := range m.files.prev {
		if now, ok := m.files.cur[rel]; !ok || !sameDocs(now.docs, last.docs) {
			out = append(out, last.docs...)
		}
	}
	return out
}

// sameDocs reports whether a and b are the same list (not only equal ones).
func sameDocs(a, b []*doc) bool { return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) }

// storeFile remembers the documents read from a file whose stamp was st before the read
// (none when the scan did not see the file: it is then read again next time).
func (m *memo) storeFile(rel string, st stamp, docs []*doc) {
	if m != nil && st.info != nil {
		m.files.store(rel, fileMemo{stamp: st, docs: docs})
	}
}

// lookupDoc finds what an earlier load made of a document's text.
func (m *memo) lookupDoc(yamlData string) (*converted, bool) {
	if m == nil {
		return nil, false
	}
	c, ok := m.docs[yamlData]
	if ok {
		c.used = m.load
	}
	return c, ok
}

// lookupDocOf is lookupDoc for a document a load has looked up before (a document of a
// file whose stamp did not change is the same doc, with the same bytes): it is found
// through the doc and only stamped as used, where lookupDoc hashes its bytes.
func (m *memo) lookupDocOf(d *doc) (*converted, bool) {
	if m == nil {
		return nil, false
	}
	if c := d.conv; c != nil {
		// c is in docs: its file was read or found unchanged by the last load, which
		// used c. (Were it not, the doc would still hold it; only a lookup of the same
		// text from another file would miss it and admit the text again.)
		c.used = m.load
		return c, true
	}
	c, ok := m.lookupDoc(d.data)
	d.conv = c
	return c, ok
}

// storeDocOf is storeDoc, remembering c in the doc as well (see lookupDocOf).
func (m *memo) storeDocOf(d *doc, c *converted) {
	if m != nil {
		m.storeDoc(d.data, c)
		d.conv = c
	}
}

func (m *memo) storeDoc(yamlData string, c *converted) {
	if m != nil {
		c.yaml = yamlData // shares the file's text
		c.used = m.load
		m.docs[c.yaml] = c
	}
}
