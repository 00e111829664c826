package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/harness"
)

const (
	// outageFor is the full NATS outage's length (issue 10).
	outageFor = 30 * time.Second
	// simFaultEvery is the pace of simulator faults (-sim-faults).
	simFaultEvery = 3 * time.Second
	// agentFaultGap is the least time between two expired logins or
	// sessions of one agent (see simulatorFaults).
	agentFaultGap = 150 * time.Second
	// lateKillGap spaces the bridge kills left after the fault window.
	lateKillGap = 5 * time.Second
)

// injectFaults runs every fault loop until ctx (the fault window) ends,
// and the bridge kills until all of them are done (run ends the run), then
// brings every process back and waits until all are ready again.
func (w *world) injectFaults(run, ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { w.killBridges(run) })
	wg.Go(func() { w.killNodes(ctx) })
	if w.o.rolling {
		wg.Go(func() { w.rollingRestart(ctx) })
	}
	if w.o.outage {
		wg.Go(func() { w.natsOutage(ctx) })
	}
	if w.o.simFaults {
		wg.Go(func() { w.simulatorFaults(ctx) })
	}
	wg.Wait()
	<-ctx.Done() // the loops may be done before the duration is
	w.restarts.Wait()
	// Everything up again, whatever was down when the faults ended.
	back := context.WithoutCancel(ctx)
	for i, n := range w.nodes {
		if _, ok := n.running(); !ok {
			w.startNode(back, i)
		}
	}
	for i, b := range w.bridges {
		if _, ok := b.running(); !ok {
			w.startBridge(back, i)
		}
	}
	if w.o.simFaults {
		w.clearSimFaults(back)
	}
}

// killBridges SIGKILLs a bridge (one that owns agents, two times in
// three) o.bridgeKills times, spread with jitter over the time left of the
// fault window (a rolling restart holds the kills back meanwhile), and
// restarts it after a random pause; one bridge always runs. Kills a long
// rolling restart held back past the window follow it, lateKillGap apart:
// the run promises all of them.
func (w *world) killBridges(ctx context.Context) {
	n := w.o.bridgeKills
	end := time.Now().Add(w.o.duration)
	for done := 0; done < n; done++ {
		every := max(time.Second, time.Until(end)/time.Duration(n-done+1))
		if time.Until(end) <= 0 {
			every = lateKillGap
		}
		if harness.Sleep(ctx, w.between(every*3/4, every*5/4)) != nil {
			return
		}
		w.rolling.Lock()
		if ctx.Err() != nil {
			w.rolling.Unlock()
			return
		}
		var running, owning []int
		for i, b := range w.bridges {
			if _, ok := b.running(); ok {
				running = append(running, i)
				if len(w.own.agentsOf(i)) > 0 {
					owning = append(owning, i)
				}
			}
		}
		if len(running) < 2 {
			w.rolling.Unlock()
			w.logf("bridge kill put off: only %d bridge runs", len(running))
			done--
			continue
		}
		victim := running[w.intN(len(running))]
		if len(owning) > 0 && w.intN(3) < 2 {
			victim = owning[w.intN(len(owning))]
		}
		agents := w.own.agentsOf(victim)
		w.faults.add(faultRec{kind: faultBridgeKill, at: time.Now(), agents: agents})
		_ = w.bridges[victim].kill()
		pause := w.between(time.Second, 6*time.Second)
		w.logf("SIGKILL bridge-%d (owned %d agents); restart in %s", victim, len(agents), pause.Round(100*time.Millisecond))
		w.rolling.Unlock()
		w.restarts.Go(func() {
			time.Sleep(pause)
			w.startBridge(context.WithoutCancel(ctx), victim)
		})
	}
}

// startBridge starts bridge i and waits until it is ready.
func (w *world) startBridge(ctx context.Context, i int) {
	if err := w.bridges[i].start(); err != nil {
		w.logf("bridge-%d: %v", i, err)
		return
	}
	t0 := time.Now()
	if err := w.waitBridge(ctx, i); err != nil {
		w.logf("bridge-%d not ready again: %v", i, err)
		return
	}
	w.logf("bridge-%d ready again after %s", i, time.Since(t0).Round(10*time.Millisecond))
}

// startNode starts NATS node i and waits until it is healthy (JetStream
// current).
func (w *world) startNode(ctx context.Context, i int) {
	if err := w.nodes[i].start(); err != nil {
		w.logf("%s: %v", w.nodes[i].name, err)
		return
	}
	t0 := time.Now()
	if err := w.waitNode(ctx, i); err != nil {
		w.logf("%s not healthy again: %v", w.nodes[i].name, err)
		return
	}
	w.logf("%s healthy again after %s", w.nodes[i].name, time.Since(t0).Round(10*time.Millisecond))
}

// streamLeader is the index of the node leading the event stream, or -1.
func (w *world) streamLeader(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := w.js.Stream(ctx, eventStream)
	if err != nil {
		return -1
	}
	info := s.CachedInfo()
	if info.Cluster == nil {
		return -1
	}
	for i, n := range w.nodeOpts {
		if n.name == info.Cluster.Leader {
			return i
		}
	}
	return -1
}

// killNodes SIGKILLs a NATS node o.natsKills times (the event stream's
// leader first and every other time), restarts it with its store after
// 5-12 s and waits until it is current before the next.
func (w *world) killNodes(ctx context.Context) {
	n := w.o.natsKills
	if n == 0 {
		return
	}
	every := w.o.duration / time.Duration(n+1)
	for k := range n {
		if harness.Sleep(ctx, w.between(every*3/4, every*5/4)) != nil {
			return
		}
		w.natsMu.Lock()
		if ctx.Err() != nil {
			w.natsMu.Unlock()
			return
		}
		kind, victim := faultNATSKill, w.intN(nodes)
		if k%2 == 0 {
			if l := w.streamLeader(ctx); l >= 0 {
				kind, victim = faultNATSLeader, l
			}
		}
		w.faults.add(faultRec{kind: kind, at: time.Now(), agents: w.agents})
		_ = w.nodes[victim].kill()
		pause := w.between(5*time.Second, 12*time.Second)
		w.logf("%s: %s; restart in %s", kind, w.nodes[victim].name, pause.Round(100*time.Millisecond))
		time.Sleep(pause)
		w.startNode(context.WithoutCancel(ctx), victim)
		w.natsMu.Unlock()
	}
}

// rollingRestart restarts every bridge once, one by one, as Kubernetes
// does: SIGTERM, wait for the exit, start, wait until ready, then the next.
func (w *world) rollingRestart(ctx context.Context) {
	// Early: it takes a while (each bridge waits until ready), and it
	// should be over before the full outage at three quarters.
	if harness.Sleep(ctx, w.between(w.o.duration/5, w.o.duration*3/10)) != nil {
		return
	}
	w.rolling.Lock()
	defer w.rolling.Unlock()
	w.logf("rolling restart of the three bridges")
	for i, b := range w.bridges {
		// A bridge killed just before is being restarted: wait for it.
		for range 100 {
			if _, ok := b.running(); ok {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		agents := w.own.agentsOf(i)
		w.faults.add(faultRec{kind: faultRolling, at: time.Now(), agents: agents})
		took, killed, err := b.term()
		if err != nil {
			w.logf("rolling: bridge-%d: %v", i, err)
		}
		w.logf("rolling: bridge-%d (owned %d agents) stopped in %s%s", i, len(agents), took.Round(10*time.Millisecond),
			map[bool]string{true: " (KILLED after the timeout)", false: ""}[killed])
		w.startBridge(context.WithoutCancel(ctx), i)
	}
}

// natsOutage SIGKILLs every NATS node at once, three quarters into the
// run, and starts them again after outageFor.
func (w *world) natsOutage(ctx context.Context) {
	if harness.Sleep(ctx, w.o.duration*3/4-outageFor/2) != nil {
		return
	}
	w.natsMu.Lock()
	defer w.natsMu.Unlock()
	w.faults.add(faultRec{kind: faultNATSOutage, at: time.Now(), agents: w.agents})
	w.logf("NATS outage: every node SIGKILLed for %s", outageFor)
	var wg sync.WaitGroup
	for _, n := range w.nodes {
		wg.Go(func() { _ = n.kill() })
	}
	wg.Wait()
	time.Sleep(outageFor)
	for i := range w.nodes {
		if err := w.nodes[i].start(); err != nil {
			w.logf("%s: %v", w.nodes[i].name, err)
		}
	}
	for i := range w.nodes {
		if err := w.waitNode(context.WithoutCancel(ctx), i); err != nil {
			w.logf("%s not healthy again: %v", w.nodes[i].name, err)
		}
	}
	w.logf("NATS cluster back after the outage")
}

// simFault is one simulator fault rule (POST /sim/faults).
type simFault struct {
	Method       string  `json:"method,omitempty"`
	PathContains string  `json:"pathContains,omitempty"`
	Status       int     `json:"status,omitempty"`
	RetryAfter   string  `json:"retryAfter,omitempty"`
	Count        int     `json:"count,omitempty"`
	Latency      string  `json:"latency,omitempty"`
	Drop         bool    `json:"drop,omitempty"`
	AfterHandle  bool    `json:"afterHandle,omitempty"`
	Rate         float64 `json:"rate,omitempty"`
}

// standingFaults hold for the whole run: 10 % of the requests answer 5xx,
// half of them before the service acted (503) and half after it did (502,
// the answer to a send whose line is posted).
func standingFaults() []simFault {
	return []simFault{
		{Status: 503, Rate: 0.05, Count: math.MaxInt32},
		{Status: 502, Rate: 0.05 / 0.95, Count: math.MaxInt32, AfterHandle: true}, // of the 95 % the first spared
	}
}

// simulatorFaults sets the standing faults, then injects, every
// simFaultEvery, one of: a 429
// burst with Retry-After, latency up to 3 s, dropped connections (also
// after the request was handled: the ambiguous send), an expired login or
// a reaped agent session of a random agent.
//
// An agent gets at most one expired login or session per agentFaultGap:
// two session deaths of one agent within the poller's first re-login
// backoff (2 min, LivePerson's §9 outer loop) make it wait those 2 minutes
// on purpose, which would measure that policy rather than the faults.
func (w *world) simulatorFaults(ctx context.Context) {
	for _, f := range standingFaults() {
		if err := w.simPost(ctx, w.simURL+"/sim/faults", f, nil); err != nil {
			w.logf("simulator fault %d at rate %.2f: %v", f.Status, f.Rate, err)
		}
	}
	lastHit := map[int]time.Time{}
	for {
		if harness.Sleep(ctx, w.between(simFaultEvery/2, simFaultEvery*3/2)) != nil {
			return
		}
		pick := 1 + w.intN(6) // 5xx come from the standing faults
		agent := w.intN(w.o.agents)
		if pick >= 5 {
			if t, hit := lastHit[agent]; hit && time.Since(t) < agentFaultGap {
				pick = 1 + w.intN(4) // that agent had its share: a request fault instead
			} else {
				lastHit[agent] = time.Now()
			}
		}
		login := fmt.Sprintf("bot.%04d", agent+1)
		var err error
		kind, agents := faultSimFaults, []string(nil)
		what := ""
		switch pick {
		case 1:
			what, err = "429 burst, Retry-After 1", w.simPost(ctx, w.simURL+"/sim/faults", simFault{Status: 429, RetryAfter: "1", Count: 4}, nil)
		case 2:
			what, err = "latency 3 s × 5", w.simPost(ctx, w.simURL+"/sim/faults", simFault{Latency: "3s", Count: 5}, nil)
		case 3:
			what, err = "2 dropped connections", w.simPost(ctx, w.simURL+"/sim/faults", simFault{Drop: true, Count: 2}, nil)
		case 4:
			what, err = "a POST handled, then its connection dropped", w.simPost(ctx, w.simURL+"/sim/faults", simFault{Method: "POST", PathContains: "/events", Drop: true, AfterHandle: true}, nil)
		case 5:
			what, err = "expire-login "+login, w.control(ctx, "/agents/"+login+"/expire-login", nil, nil)
		default:
			kind, agents = faultSimSessions, []string{events.Token(login)}
			what, err = "expire-sessions "+login, w.control(ctx, "/agents/"+login+"/expire-sessions", nil, nil)
		}
		if err != nil {
			if ctx.Err() == nil {
				w.logf("simulator fault %s: %v", what, err)
			}
			continue
		}
		w.faults.add(faultRec{kind: kind, at: time.Now(), agents: agents})
	}
}

// clearSimFaults removes every simulator fault rule left.
func (w *world) clearSimFaults(ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, w.simURL+"/sim/faults", nil)
	if err != nil {
		return
	}
	if res, err := w.hc.Do(req); err == nil {
		_ = res.Body.Close()
	}
}
