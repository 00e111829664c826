package main

import (
	"slices"
	"sync"
	"time"
)

// Fault kinds, as the table names them.
const (
	faultBridgeKill  = "bridge SIGKILL"
	faultRolling     = "rolling SIGTERM"
	faultNATSKill    = "NATS node SIGKILL"
	faultNATSLeader  = "NATS stream leader SIGKILL"
	faultNATSOutage  = "NATS outage (all nodes)"
	faultSimFaults   = "simulator faults"
	faultSimSessions = "simulator expire-sessions"
)

// faultKinds orders the table's recovery rows.
var faultKinds = []string{faultBridgeKill, faultRolling, faultNATSKill, faultNATSLeader, faultNATSOutage, faultSimFaults, faultSimSessions}

// faultRec is one injected fault: when, and the agents whose events it
// stops (those a killed bridge owned; every agent for a NATS fault).
type faultRec struct {
	kind   string
	at     time.Time
	agents []string
}

// faultLog collects the faults of a run. It is safe for concurrent use.
type faultLog struct {
	mu     sync.Mutex
	faults []faultRec
}

func (f *faultLog) add(r faultRec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, r)
}

func (f *faultLog) all() []faultRec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.faults)
}

// recovery is what the table shows for one fault kind.
type recovery struct {
	count    int             // faults injected
	measured []time.Duration // time until events flowed again, one per measured fault
}

// recoveries measures, after each fault, the time until events flow again:
// for every agent the fault stopped, the first visitor line posted at or
// after the fault, from the fault until the stream stored that line; the
// fault's figure is the slowest of its agents. A fault that stopped no
// agent (a standby bridge killed) or after which no line was posted is
// counted but not measured. The figure includes the wait for the next
// visitor line of the agent (lines come about every second per agent).
func recoveries(faults []faultRec, lines []lineTime) map[string]*recovery {
	byAgent := map[string][]lineTime{}
	for _, l := range lines {
		byAgent[l.agent] = append(byAgent[l.agent], l)
	}
	for _, ls := range byAgent {
		slices.SortFunc(ls, func(a, b lineTime) int { return a.posted.Compare(b.posted) })
	}
	out := map[string]*recovery{}
	for _, f := range faults {
		r := out[f.kind]
		if r == nil {
			r = &recovery{}
			out[f.kind] = r
		}
		r.count++
		worst, measured := time.Duration(0), false
		for _, a := range f.agents {
			ls := byAgent[a]
			i, _ := slices.BinarySearchFunc(ls, f.at, func(l lineTime, t time.Time) int { return l.posted.Compare(t) })
			if i == len(ls) {
				continue
			}
			worst, measured = max(worst, max(0, ls[i].stored.Sub(f.at))), true
		}
		if measured {
			r.measured = append(r.measured, worst)
		}
	}
	return out
}

// p50Max are the median and the maximum of ds (zero when empty).
func p50Max(ds []time.Duration) (time.Duration, time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2], s[len(s)-1]
}
