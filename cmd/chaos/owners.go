package main

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// noOwner marks an agent that no running bridge owns: nobody holds its
// lease, or the holder is a bridge the chaos run has killed (its lease has
// not expired yet).
const noOwner = -1

// owners follows which bridge owns each agent, from samples of the lease
// bucket, and the longest time each agent went without a live owner. It
// is safe for concurrent use.
type owners struct {
	mu        sync.Mutex
	current   map[string]int       // agent → bridge index, or noOwner
	lastOwned map[string]time.Time // last sample with a live owner
	longest   map[string]time.Duration
}

func newOwners() *owners {
	return &owners{current: map[string]int{}, lastOwned: map[string]time.Time{}, longest: map[string]time.Duration{}}
}

// sample records that agent was owned by bridge (or noOwner) at now. The
// gap before an agent's first owner (start-up) is not counted.
func (o *owners) sample(agent string, bridge int, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.current[agent] = bridge
	last, seen := o.lastOwned[agent]
	if bridge != noOwner {
		if seen {
			o.longest[agent] = max(o.longest[agent], now.Sub(last))
		}
		o.lastOwned[agent] = now
		return
	}
	if seen {
		o.longest[agent] = max(o.longest[agent], now.Sub(last))
	}
}

// agentsOf lists the agents bridge owns now.
func (o *owners) agentsOf(bridge int) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for a, b := range o.current {
		if b == bridge {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// gaps is the longest gap without a live owner of each agent (a gap of
// one sampling interval or less is normal ownership).
func (o *owners) gaps() map[string]time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]time.Duration, len(o.longest))
	for a := range o.lastOwned {
		out[a] = o.longest[a]
	}
	return out
}

// ownerPID is the process id in a lease owner id (state.NewOwnerID:
// host-pid-random), or 0.
func ownerPID(owner string) int {
	parts := strings.Split(owner, "-")
	if len(parts) < 3 {
		return 0
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil {
		return 0
	}
	return pid
}
