package commands

import (
	"context"
	"testing"
)

func TestDeadLetteredCarriesReasonAndOriginal(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil)
	dead := subscribe(t, e.nc, "lp.dlq.>")
	ctx := context.Background()

	// Not a dead letter, or one handed back for a later try: nothing.
	d := e.delivery(modeDurable, AgentStatus, "dl-0")
	e.c.deadLettered((&stub{out: failure(d.cmd, failf(CodeChatNotFound, "gone"), 1)}).step)(ctx, d)
	later := failure(d.cmd, failf(CodeBadRequest, "bad"), 1)
	later.redeliver = true
	e.c.deadLettered((&stub{out: later}).step)(ctx, d)

	d = e.delivery(modeDurable, AgentStatus, "dl-1")
	d.msg.Header.Set("X-Original", "kept")
	d.tries = 2
	out := e.c.deadLettered((&stub{out: failure(d.cmd, failf(CodeBadRequest, "body: no"), 2)}).step)(ctx, d)
	if out.redeliver {
		t.Error("a stored dead letter asks for redelivery")
	}
	dl := receive(t, dead)
	if want := DeadLetterSubject("lp", stepAccount, stepAgent, AgentStatus); dl.Subject != want {
		t.Fatalf("first dead letter on %s, want %s (the others were not dead letters)", dl.Subject, want)
	}
	for h, want := range map[string]string{
		HeaderDLQCode: string(CodeBadRequest), HeaderDLQReason: "body: no", HeaderDLQSubject: d.msg.Subject,
		HeaderDLQDeliveries: "2", HeaderCommandID: "dl-1", "X-Original": "kept",
	} {
		if got := dl.Header.Get(h); got != want {
			t.Errorf("dead letter %s = %q, want %q", h, got, want)
		}
	}
	if dl.Header.Get(HeaderDLQTime) == "" || string(dl.Data) != string(d.msg.Data) {
		t.Errorf("dead letter lacks its time or the original body: %v %s", dl.Header, dl.Data)
	}

	// A request-reply dead letter has no deliveries header.
	d = e.delivery(modeRequest, AgentStatus, "dl-2")
	e.c.deadLettered((&stub{out: failure(d.cmd, failf(CodeInternal, "bug"), 1)}).step)(ctx, d)
	if dl := receive(t, dead); dl.Header.Get(HeaderDLQDeliveries) != "" || dl.Header.Get(HeaderCommandID) != "dl-2" {
		t.Errorf("request-reply dead letter headers %v", dl.Header)
	}
}
