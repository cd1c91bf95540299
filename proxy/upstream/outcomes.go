package upstream

import (
	"container/list"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Observation is the outcome of one request to one endpoint, for status conditions and
// metrics.
type Observation struct {
	RouteID  string
	Backend  snapshot.Ref
	Endpoint string
	// Reason is empty when OK.
	Reason Reason
	Detail Detail
	At     time.Time
	OK     bool
}

// MaxObservations bounds a Outcomes: the status writer needs the latest outcome per
// route and endpoint, not a history, and a churn of endpoints must not grow memory.
const MaxObservations = 10000

// outcomeShards spread Record over several locks: it runs once per request.
const outcomeShards = 16

// Outcomes keeps the latest Observation per (RouteID, Endpoint), at most MaxObservations;
// when full, the entry recorded longest ago makes room. The zero value is ready to use and
// it is safe for concurrent use.
type Outcomes struct {
	shards [outcomeShards]outcomeShard

	changedOnce sync.Once
	changed     chan struct{} // buffered 1: signals coalesce
}

type obsKey struct{ route, endpoint string }

type outcomeShard struct {
	mu    sync.Mutex
	byKey map[obsKey]*list.Element // values are *Observation
	order list.List                // least recently recorded first
}

// Record stores o as the latest observation for its route and endpoint, unless a later
// one is already there (requests finish out of order).
func (r *Outcomes) Record(o Observation) {
	if r.record(o) {
		select {
		case r.changedChan() <- struct{}{}:
		default: // a signal is already pending: whoever takes it reads Latest after
		}
	}
}

// record stores o and reports whether a verdict could see the difference.
func (r *Outcomes) record(o Observation) bool {
	k := obsKey{o.RouteID, o.Endpoint}
	s := &r.shards[shardOf(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byKey[k]; ok {
		cur := el.Value.(*Observation)
		if o.At.Before(cur.At) {
			return false
		}
		changed := !sameOutcome(cur, &o)
		*cur = o
		s.order.MoveToBack(el)
		return changed
	}
	if s.byKey == nil {
		s.byKey = map[obsKey]*list.Element{}
	}
	if s.order.Len() >= MaxObservations/outcomeShards {
		oldest := s.order.Front()
		old := oldest.Value.(*Observation)
		delete(s.byKey, obsKey{old.RouteID, old.Endpoint})
		s.order.Remove(oldest)
	}
	stored := o // only a new key allocates: o itself stays on the caller's stack
	s.byKey[k] = s.order.PushBack(&stored)
	return true
}

// Changed signals, coalesced, each time the latest outcome of an endpoint changes in a
// way its verdict could show: a first outcome, success turning to failure or back, another
// reason, another certificate presented. The same outcome again (what almost every request
// records) does not signal, so a reader that waits on Changed and then reads Latest does
// nothing while nothing changes.
func (r *Outcomes) Changed() <-chan struct{} { return r.changedChan() }

func (r *Outcomes) changedChan() chan struct{} {
	r.changedOnce.Do(func() { r.changed = make(chan struct{}, 1) })
	return r.changed
}

// sameOutcome compares what a verdict reads of two observations of one endpoint (not
// their time). It runs once per request: no reflection.
func sameOutcome(a, b *Observation) bool {
	if a.OK != b.OK || a.Reason != b.Reason || a.Backend != b.Backend {
		return false
	}
	x, y := &a.Detail, &b.Detail
	return x.Endpoint == y.Endpoint && x.Subject == y.Subject && x.Issuer == y.Issuer &&
		x.NotAfter.Equal(y.NotAfter) && x.Message == y.Message &&
		slices.Equal(x.SANs, y.SANs) && slices.Equal(x.NamesChecked, y.NamesChecked) && slices.Equal(x.Roots, y.Roots)
}

// Latest returns a copy of the latest observations, sorted by RouteID, then Endpoint.
func (r *Outcomes) Latest() []Observation {
	var out []Observation
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for el := s.order.Front(); el != nil; el = el.Next() {
			out = append(out, *el.Value.(*Observation))
		}
		s.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RouteID != out[j].RouteID {
			return out[i].RouteID < out[j].RouteID
		}
		return out[i].Endpoint < out[j].Endpoint
	})
	return out
}

// shardOf is FNV-1a over the key: cheap, allocation-free, and needs no seed, so the zero
// Outcomes works.
func shardOf(k obsKey) int {
	h := uint32(2166136261)
	for i := 0; i < len(k.route); i++ {
		h = (h ^ uint32(k.route[i])) * 16777619
	}
	h = (h ^ 0xff) * 16777619 // separator: ("ab","c") and ("a","bc") differ
	for i := 0; i < len(k.endpoint); i++ {
		h = (h ^ uint32(k.endpoint[i])) * 16777619
	}
	return int(h % outcomeShards)
}
