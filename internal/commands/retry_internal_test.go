package commands

import (
	"context"
	"testing"
	"time"
)

func TestRetriedBacksOffByTryThenDeadLetters(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil) // MaxDeliver 3, Backoff 10ms, 20ms
	transient := failure(Command{ID: "r-1"}, failf(CodeUpstreamError, "503"), 1)
	for _, tc := range []struct {
		tries      uint64
		redeliver  bool
		delay      time.Duration
		deadLetter bool
		runs       int
		code       Code
	}{
		{tries: 1, redeliver: true, delay: 10 * time.Millisecond, runs: 1, code: CodeUpstreamError},
		{tries: 2, redeliver: true, delay: 20 * time.Millisecond, runs: 1, code: CodeUpstreamError},
		{tries: 3, deadLetter: true, runs: 1, code: CodeUpstreamError}, // the last try
		{tries: 4, deadLetter: true, runs: 0, code: CodeTimeout},       // the bridge died during the last try
	} {
		s := &stub{out: transient}
		d := e.delivery(modeDurable, AgentStatus, "r-1")
		d.tries = tc.tries
		out := e.c.retried(s.step)(context.Background(), d)
		if out.redeliver != tc.redeliver || out.delay != tc.delay || out.deadLetter != tc.deadLetter || s.calls != tc.runs {
			t.Errorf("try %d: redeliver=%v delay=%v deadLetter=%v runs=%d, want %v %v %v %d",
				tc.tries, out.redeliver, out.delay, out.deadLetter, s.calls, tc.redeliver, tc.delay, tc.deadLetter, tc.runs)
		}
		if out.err == nil || out.err.Code != tc.code {
			t.Errorf("try %d: error %v, want %s", tc.tries, out.err, tc.code)
		}
	}

	final := failure(Command{ID: "r-2"}, failf(CodeChatNotFound, "gone"), 1)
	s := &stub{out: final}
	d := e.delivery(modeDurable, AgentStatus, "r-2")
	d.tries = 1
	if out := e.c.retried(s.step)(context.Background(), d); out.redeliver || out.deadLetter {
		t.Errorf("a final failure is retried or dead-lettered: %+v", out)
	}
}

// TestRetriedReplaysAStoredResultPastTheBudget: a command acked after it
// ran can come again with its skip count gone (found by cmd/chaos: the
// whole NATS cluster restarted, an acked chat.send came back as delivery
// 23 and was dead-lettered "given up after 6 tries"). Past the budget it is
// not run, but its stored result is replayed rather than dead-lettered.
func TestRetriedReplaysAStoredResultPastTheBudget(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil) // MaxDeliver 3
	ctx := context.Background()
	d := e.delivery(modeDurable, AgentStatus, "r-3")
	rec := record{ID: d.cmd.ID, Command: d.cmd.Name, Attempts: 1}
	if err := e.c.results.done(ctx, resultKey(d.cmd.Account, d.cmd.Agent, d.cmd.ID), rec, mustJSON(okReply(nil))); err != nil {
		t.Fatal(err)
	}
	d.tries = 23
	s := &stub{out: failure(d.cmd, failf(CodeUpstreamError, "503"), 1)}
	out := e.c.retried(s.step)(ctx, d)
	if s.calls != 0 {
		t.Errorf("a delivery past the budget ran %d times", s.calls)
	}
	if out.deadLetter || out.redeliver || !out.replayed || !out.reply.OK || out.err != nil {
		t.Errorf("outcome %+v, want the stored ok result replayed, not dead-lettered", out)
	}

	other := e.delivery(modeDurable, AgentStatus, "r-4") // no stored result
	other.tries = 23
	if out := e.c.retried(s.step)(ctx, other); !out.deadLetter || out.err == nil || out.err.Code != CodeTimeout {
		t.Errorf("a delivery past the budget without a result: %+v, want dead-lettered as timeout", out)
	}
}
