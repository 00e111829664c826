package lpchat

import "sync"

// maxCachedHrefs bounds an hrefCache: a chat brings about 15 links (§5.11),
// so this holds those of some 60 open chats; past it the cache starts over.
const maxCachedHrefs = 1024

// hrefCache keeps the link targets one agent's polls read: every poll
// brings the same links of every open chat again (self, info, transfer,
// visit-id, ...), and making a new string of each, each time, was a
// third of what a poll allocated. It is safe for concurrent use.
type hrefCache struct {
	mu sync.Mutex
	m  map[string]string
}

// intern returns b as a string, the cached one when b was seen before.
func (c *hrefCache) intern(b []byte) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[string(b)]; ok { // the lookup does not allocate
		return s
	}
	if c.m == nil || len(c.m) >= maxCachedHrefs {
		c.m = make(map[string]string, 64)
	}
	s := string(b)
	c.m[s] = s
	return s
}
