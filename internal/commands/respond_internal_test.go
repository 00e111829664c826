package commands

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestRepliedAnswersWithHeaders(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil)
	inbox := nats.NewInbox()
	replies := subscribe(t, e.nc, inbox)

	d := e.delivery(modeRequest, AgentStatus, "reply-1")
	d.msg.Reply = inbox
	s := &stub{out: outcome{cmd: d.cmd, reply: okReply(json.RawMessage(`{"status":"Away"}`)), final: true}}
	e.c.replied(s.step)(context.Background(), d)
	r := receive(t, replies)
	if got := r.Header.Get(HeaderCommandID); got != "reply-1" {
		t.Errorf("reply %s = %q, want the command id", HeaderCommandID, got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("reply Content-Type %q", got)
	}
	var rep Reply
	if err := json.Unmarshal(r.Data, &rep); err != nil || !rep.OK || string(rep.Result) != `{"status":"Away"}` {
		t.Errorf("reply %s (%v), want the outcome's", r.Data, err)
	}

	// A generated id is not the sender's: no header.
	d = e.delivery(modeRequest, AgentStatus, "x")
	d.cmd.ID, d.cmd.IDSource = "made-up", idSourceGenerated
	d.msg.Reply = inbox
	s = &stub{out: failure(d.cmd, failf(CodeRateLimited, "slow down"), 0)}
	e.c.replied(s.step)(context.Background(), d)
	r = receive(t, replies)
	if got := r.Header.Get(HeaderCommandID); got != "" {
		t.Errorf("reply to a command without id carries %s %q", HeaderCommandID, got)
	}
	if err := json.Unmarshal(r.Data, &rep); err != nil || rep.OK || rep.Error.Code != string(CodeRateLimited) {
		t.Errorf("reply %s, want rate_limited", r.Data)
	}
}
