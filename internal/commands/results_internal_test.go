package commands

import (
	"context"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
)

// A run that takes over the claim of a run that died must look before it
// acts, and so must every run after it until one looked: a takeover that
// failed before looking (no agent session) does not clear it. Found by the
// chaos run: a line posted by a run that was killed was posted again four
// minutes later by the fifth try.
func TestClaimAfterDeadRunRechecksUntilChecked(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ctx := context.Background()
	cfg := Config{Account: "acct", ResultsBucket: "RESULTS_TEST", ResultTTL: time.Hour, Replicas: 1, Timeout: time.Second}
	dead, err := openResults(ctx, js, cfg, "dead-bridge")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	dead.now = func() time.Time { return now }
	cmd := Command{ID: "send-1", Name: ChatSend}
	key := resultKey("acct", "bot", cmd.ID)
	if cl, err := dead.claim(ctx, key, cmd); err != nil || cl.kind != claimed || cl.recheck {
		t.Fatalf("first claim = %+v, %v; want claimed without recheck", cl, err)
	}
	// The dead bridge never reports; its lease runs out.
	next, err := openResults(ctx, js, cfg, "next-bridge")
	if err != nil {
		t.Fatal(err)
	}
	next.now = func() time.Time { return now.Add(time.Hour) }
	cl, err := next.claim(ctx, key, cmd)
	if err != nil || cl.kind != claimed || !cl.recheck {
		t.Fatalf("takeover claim = %+v, %v; want claimed with recheck", cl, err)
	}
	// This run fails before it could look (session_lost: not ambiguous).
	if err := next.failed(ctx, key, cl.rec, cl.rev, false); err != nil {
		t.Fatal(err)
	}
	cl, err = next.claim(ctx, key, cmd)
	if err != nil || cl.kind != claimed || !cl.recheck {
		t.Fatalf("claim after a takeover that did not look = %+v, %v; want recheck still owed", cl, err)
	}
}
