package rule

import "sync"

// parsed is the process's memory of rules that parsed. A Rule is immutable, so one value
// serves every caller.
var parsed = &ruleCache{limit: 1 << 16}

// ruleCache keeps two generations: lookups promote what they find in the older one, and
// when the current one reaches limit entries it becomes the older one and the previous
// older one is dropped. So rules in use stay (a build looks up every rule it has), rules
// no longer written anywhere go after two turns, and at most 2 x limit are held.
type ruleCache struct {
	limit     int
	mu        sync.Mutex
	cur, prev map[cacheKey]*Rule
}

type cacheKey struct {
	expr string
	kind Kind
}

func (c *ruleCache) lookup(expr string, kind Kind) *Rule {
	k := cacheKey{expr, kind}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.cur[k]; ok {
		return r
	}
	r, ok := c.prev[k]
	if ok {
		c.storeLocked(k, r)
	}
	return r
}

func (c *ruleCache) store(expr string, kind Kind, r *Rule) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.storeLocked(cacheKey{expr, kind}, r)
}

func (c *ruleCache) storeLocked(k cacheKey, r *Rule) {
	if len(c.cur) >= c.limit {
		c.prev, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[cacheKey]*Rule)
	}
	c.cur[k] = r
}
