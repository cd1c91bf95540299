package manifests

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A folder has no API server to stamp creation times, and translate's "oldest wins" needs
// them: each document's creation time is its place in the folder (files in sorted order,
// documents in file order), counted from epoch.
//
// The times are not the documents' ordinals. A file added early in the folder would then
// make every later document younger by one, so that every object of the folder changed,
// and was copied, at every such change (a tenth of a change's CPU at 10,000 routes). A
// document read before keeps its time instead: only the new documents are placed, between
// the kept ones around them, and the times still follow folder order.
const (
	// docSpacing is the step between documents placed afresh.
	docSpacing = time.Second
	// minGap is the least room a placed document gets before the next one: its kind List
	// items are placed a nanosecond apart after it.
	minGap = time.Millisecond
)

// placeDocuments gives every document of a load its creation time (doc.created), in
// folder order. A document that has one from the last load keeps it (the documents of an
// unchanged file are the same docs from one load to the next, and keep their order); the
// others are placed evenly between their kept neighbours, or docSpacing apart before the
// first and after the last. When new documents do not fit between two kept ones, every
// document is placed afresh, docSpacing apart.
func placeDocuments(files [][]*doc) {
	var pending []*doc // documents to place, after lo and before the next kept one
	lo, haveLo := time.Duration(0), false
	fits := true
	for _, docs := range files {
		for _, d := range docs {
			if !d.placed || haveLo && d.created <= lo {
				pending = append(pending, d)
				continue
			}
			if !placeBetween(pending, lo, haveLo, d.created) {
				fits = false
			}
			pending, lo, haveLo = pending[:0], d.created, true
		}
	}
	if !fits {
		i := time.Duration(0)
		for _, docs := range files {
			for _, d := range docs {
				d.created, d.placed = i*docSpacing, true
				i++
			}
		}
		return
	}
	start := time.Duration(0)
	if haveLo {
		start = lo + docSpacing
	}
	for i, d := range pending {
		d.created, d.placed = start+time.Duration(i)*docSpacing, true
	}
}

// placeBetween places docs after lo (none: no document before them was kept) and before
// hi, and reports whether they fit with minGap each.
func placeBetween(docs []*doc, lo time.Duration, haveLo bool, hi time.Duration) bool {
	if len(docs) == 0 {
		return true
	}
	if !haveLo {
		for i, d := range docs {
			d.created, d.placed = hi-time.Duration(len(docs)-i)*docSpacing, true
		}
		return true
	}
	step := (hi - lo) / time.Duration(len(docs)+1)
	if step < minGap {
		return false
	}
	for i, d := range docs {
		d.created, d.placed = lo+time.Duration(i+1)*step, true
	}
	return true
}

// creationTime is the creation time of the document (or List item) the loader is at.
func (l *loader) creationTime() metav1.Time {
	return metav1.NewTime(epoch.Add(l.created))
}

// itemTime is the creation time of a kind List's item i, after its document and before
// the next one. Past minGap items they share the last time; translate then orders them
// by name.
func itemTime(list time.Duration, i int) time.Duration {
	return list + min(time.Duration(i+1), minGap-1)
}
