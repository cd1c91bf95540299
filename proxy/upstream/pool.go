// Package upstream connects the proxy to backends: one cached round tripper per upstream
// configuration (an http.Transport and the HTTP/1.1 fast path of h1.go; snapshots that
// leave the configuration alone keep their warm connections), certificate verification
// against any of a backend's names, and a classification that names every failure for the
// log, the metrics and the route's status.
//
// It imports the standard library, x/net's HTTP field checks and internal/snapshot only:
// the data plane never sees a Kubernetes type.
package upstream

import (
	"context"
	"crypto/tls"
	"hash/maphash"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Options configure a Pool.
type Options struct {
	// DialContext, when set, replaces the dialer (tests map EndpointSlice addresses to
	// local backends). The transport's DialTimeout still bounds it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// ClientKey, when set, prepares a client certificate (certificatesSecrets) for the
	// handshakes it signs: the proxy hands RSA keys to OpenSSL with it. It runs once per
	// transport built, not per connection.
	ClientKey func(tls.Certificate) tls.Certificate
	// Limits are the connection cap, handshake rate and response-header timeout of every
	// transport built (zero fields take the defaults).
	Limits Limits
	// coalesceGrace, when set, replaces coalesceGrace (this package's tests only).
	coalesceGrace time.Duration
}

// Pool caches one round tripper per upstream configuration across snapshots.
//
// Reads are lock-free: the cache is an immutable map behind an atomic pointer, replaced
// (copy on write) on a miss or by Retain. Misses are rare, once per new configuration,
// so copying the map is cheaper than making every request share a lock.
type Pool struct {
	opts  Options
	seed  maphash.Seed
	cache atomic.Pointer[cacheMap]
	mu    sync.Mutex // serialises writers: misses, Retain and Close
	tcp   tcpCache
}

// cacheMap buckets entries by a hash of their key; a bucket is searched by comparing the
// key's fields exactly, so a hash collision can never hand out another backend's trust.
type cacheMap map[uint64][]*entry

type entry struct {
	hasTransport bool
	id, hash     string
	scheme       string
	serverName   string
	names        []string

	rt http.RoundTripper
}

// NewPool returns an empty Pool.
func NewPool(o Options) *Pool {
	p := &Pool{opts: o, seed: maphash.MakeSeed()}
	p.cache.Store(&cacheMap{})
	return p
}

// For returns the round tripper for backend b. t is the snapshot.Transport named by
// b.Transport, or nil when there is none (the backend is verified against the system
// roots). The cache key is (t.ID, t.Hash, b.Scheme, b.ServerName, b.VerifyNames).
//
// The round tripper expects request URLs with scheme https for an https backend and http
// for http and h2c backends; any failure it returns is an *Error for Classify. For is safe
// for concurrent use and does not allocate on a cache hit.
func (p *Pool) For(t *snapshot.Transport, b *snapshot.Backend) http.RoundTripper {
	h := p.keyHash(t, b)
	if e := (*p.cache.Load()).find(h, t, b); e != nil {
		return e.rt
	}
	return p.miss(h, t, b)
}

func (p *Pool) miss(h uint64, t *snapshot.Transport, b *snapshot.Backend) http.RoundTripper {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.cache.Load()
	if e := old.find(h, t, b); e != nil {
		return e.rt // another request built it while we waited
	}
	e := &entry{
		hasTransport: t != nil, scheme: b.Scheme, serverName: b.ServerName,
		names: slices.Clone(b.VerifyNames),
	}
	if t != nil {
		e.id, e.hash = t.ID, t.Hash
	}
	e.rt = p.build(t, b)
	next := make(cacheMap, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	// A fresh slice: readers of the old map may be iterating the old bucket.
	next[h] = append(slices.Clone(old[h]), e)
	p.cache.Store(&next)
	return e.rt
}

// Retain closes the idle connections of, and forgets, every cached transport that snap
// does not use. Call it after each swap. Requests in flight on a retired transport
// finish normally; their connections then close after the idle timeout. transports is
// snap's transports by ID (Snapshot.TransportsByID), or nil to have them indexed here.
func (p *Pool) Retain(snap *snapshot.Snapshot, transports map[string]*snapshot.Transport) {
	// TCP client setups are cheap to rebuild; drop them all so none outlives its transport.
	p.tcp.mu.Lock()
	p.tcp.m = nil
	p.tcp.mu.Unlock()

	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.cache.Load()
	keep := map[*entry]bool{}
	if snap != nil {
		if transports == nil {
			transports = snap.TransportsByID()
		}
		use := func(b *snapshot.Backend) {
			var t *snapshot.Transport
			if b.Transport != "" {
				t = transports[b.Transport]
			}
			if e := old.find(p.keyHash(t, b), t, b); e != nil {
				keep[e] = true
			}
		}
		for _, r := range snap.HTTPRoutes {
			// The Services of errors pages and forwardAuth's auth servers are reached
			// through the pool too.
			for _, b := range r.Backends {
				use(b)
			}
			if len(r.Middlewares) > 0 {
				for _, b := range snapshot.MiddlewareBackends(r.Middlewares) {
					use(b)
				}
			}
		}
	}
	next := cacheMap{}
	var retired []*entry
	for h, bucket := range old {
		for _, e := range bucket {
			if keep[e] {
				next[h] = append(next[h], e)
			} else {
				retired = append(retired, e)
			}
		}
	}
	p.cache.Store(&next)
	closeIdle(retired)
}

// Close closes every cached transport's idle connections and empties the cache. The Pool
// stays usable: a later For builds afresh.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.cache.Load()
	p.cache.Store(&cacheMap{})
	for _, bucket := range old {
		closeIdle(bucket)
	}
}

func closeIdle(entries []*entry) {
	for _, e := range entries {
		if c, ok := e.rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}

func (m cacheMap) find(h uint64, t *snapshot.Transport, b *snapshot.Backend) *entry {
	for _, e := range m[h] {
		if e.matches(t, b) {
			return e
		}
	}
	return nil
}

func (e *entry) matches(t *snapshot.Transport, b *snapshot.Backend) bool {
	if e.hasTransport != (t != nil) || e.scheme != b.Scheme || e.serverName != b.ServerName ||
		!slices.Equal(e.names, b.VerifyNames) {
		return false
	}
	return t == nil || (e.id == t.ID && e.hash == t.Hash)
}

// keyHash hashes the fields that usually tell entries apart (no concatenation, so no
// allocation). The transport's hash and the verify names are left out to keep the hot
// path short: entries are compared field by field, so entries that share a bucket (a
// transport's old and new versions until Retain) only cost a comparison.
func (p *Pool) keyHash(t *snapshot.Transport, b *snapshot.Backend) uint64 {
	var h uint64 = 1
	if t != nil {
		h = mix(h, maphash.String(p.seed, t.ID))
	}
	h = mix(h, maphash.String(p.seed, b.Scheme))
	return mix(h, maphash.String(p.seed, b.ServerName))
}

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	return h ^ (h >> 29)
}
