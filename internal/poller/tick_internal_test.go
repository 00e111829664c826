package poller

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestTickMakesAtMostTwoRequests: with chats open and lines arriving, no
// tick sends more than two requests (the multi-chat read and one read of
// the agent) at any SessionSyncEvery; a sync read takes the ring's place,
// chatSessions and availability in turn, never on two ticks in a row.
// Counted at the client's transport and at the simulator.
func TestTickMakesAtMostTwoRequests(t *testing.T) {
	for _, every := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("SessionSyncEvery=%d", every), func(t *testing.T) {
			const chats, ticks = 4, 60
			r := newTickRig(t, chats, true, func(c *Config) { c.SessionSyncEvery = every })
			ctx := context.Background()
			_, mark := r.reqs.since(0)
			var sessions, status, rings int
			rangBefore := true
			for i := range ticks {
				chat := r.chats[i%chats]
				if _, err := r.sim.VisitorLine(r.acct, chat, fmt.Sprintf("line %d", i)); err != nil {
					t.Fatal(err)
				}
				last := r.w.chats[chat].cur.LastEventID
				atSim := r.sim.Requests()
				if err := r.w.tick(ctx, r.as, i%every == 0); err != nil {
					t.Fatalf("tick %d: %v", i, err)
				}
				reqs, n := r.reqs.since(mark)
				mark = n
				if len(reqs) > 2 || r.sim.Requests()-atSim > 2 {
					t.Errorf("tick %d: %d requests (simulator: %d), want at most 2: %q", i, len(reqs), r.sim.Requests()-atSim, reqs)
				}
				if count(reqs, "/chat") != 1 {
					t.Errorf("tick %d: %q lacks the one multi-chat read", i, reqs)
				}
				rang := count(reqs, "/incomingRequests") == 1
				s, a := count(reqs, "/chatSessions"), count(reqs, "/availability")
				if !rang && !rangBefore {
					t.Errorf("tick %d: no ring read on two ticks in a row", i)
				}
				if rang == (s+a == 1) {
					t.Errorf("tick %d: want either the ring or one sync read: %q", i, reqs)
				}
				rangBefore = rang
				sessions, status = sessions+s, status+a
				if rang {
					rings++
				}
				if c := r.w.chats[chat]; c == nil || c.cur.LastEventID <= last || c.unsaved {
					t.Errorf("tick %d: the line of chat %s was not published and saved", i, chat)
				}
			}
			syncs := ticks / max(every, 2)
			if sessions < syncs/2-1 || status < syncs/2-1 || sessions-status > 1 || status-sessions > 1 {
				t.Errorf("%d chatSessions and %d availability reads in %d ticks, want about %d of each, in turn",
					sessions, status, ticks, syncs/2)
			}
			t.Logf("%d ticks: %d ring, %d chatSessions, %d availability reads", ticks, rings, sessions, status)
		})
	}
}

// TestNextSlot: the schedule keeps its grid; an overrun skips the slots it
// missed rather than running them in a burst.
func TestNextSlot(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const every = 2 * time.Second
	for _, tc := range []struct {
		due, now, want time.Duration // from t0
	}{
		{due: 2 * time.Second, now: 500 * time.Millisecond, want: 2 * time.Second},          // on time
		{due: 2 * time.Second, now: 2 * time.Second, want: 2 * time.Second},                 // just due
		{due: 2 * time.Second, now: 2100 * time.Millisecond, want: 4 * time.Second},         // overran a little
		{due: 2 * time.Second, now: 7 * time.Second, want: 8 * time.Second},                 // missed two slots
		{due: 2 * time.Second, now: 8 * time.Second, want: 10 * time.Second},                // on a later slot: skip it too
		{due: 4100 * time.Millisecond, now: 4 * time.Second, want: 4100 * time.Millisecond}, // phase kept
	} {
		if got := nextSlot(t0.Add(tc.due), every, t0.Add(tc.now)).Sub(t0); got != tc.want {
			t.Errorf("nextSlot(due %v, now %v) = %v, want %v", tc.due, tc.now, got, tc.want)
		}
	}
}

// TestPhaseWithinJitter: the one random delay of a worker's schedule stays
// within Jitter of the interval, never shortens it, and is 0 without
// jitter.
func TestPhaseWithinJitter(t *testing.T) {
	w := &Worker{cfg: Config{PollInterval: 2 * time.Second, Jitter: 1}}
	lo, hi := 2*time.Second, time.Duration(0)
	for range 1000 {
		p := w.phase()
		if p < 0 || p >= 2*time.Second {
			t.Fatalf("phase %v outside [0, 2s)", p)
		}
		lo, hi = min(lo, p), max(hi, p)
	}
	if lo > 200*time.Millisecond || hi < 1800*time.Millisecond {
		t.Errorf("phases span only %v..%v: not spread over the interval", lo, hi)
	}
	w.cfg.Jitter = 0
	if p := w.phase(); p != 0 {
		t.Errorf("phase without jitter = %v", p)
	}
}
