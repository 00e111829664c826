package commands_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// A body that is valid JSON names its command even when the subject fails,
// so an unknown command is answered under its own id; a body that cannot be
// read leaves the Nats-Msg-Id, or none.
func TestDecodeReadsBodyIDWhenSubjectFails(t *testing.T) {
	dance := "lp.cmd." + account + ".bot_one.chat.dance"
	tests := []struct {
		name         string
		m            *nats.Msg
		code         commands.Code
		id, idSource string
	}{
		{"unknown command, body id", msg(dance, `{"id":"d1","step":"salsa"}`, nil), commands.CodeUnknownCommand, "d1", "body"},
		{"unknown command, body id wins over header", msg(dance, `{"id":"d1"}`, map[string]string{nats.MsgIdHdr: "h1"}),
			commands.CodeUnknownCommand, "d1", "body"},
		{"unknown command, structured cloudevent", msg(dance, `{"specversion":"1.0","id":"ce1","source":"bot","type":"x","data":{}}`, nil),
			commands.CodeUnknownCommand, "ce1", "cloudevent"},
		{"other account, body id", msg("lp.cmd.999.bot_one.chat.send", `{"id":"a1"}`, nil), commands.CodeBadRequest, "a1", "body"},
		{"unknown command, malformed JSON, header id", msg(dance, `{"id":"d1",`, map[string]string{nats.MsgIdHdr: "h1"}),
			commands.CodeUnknownCommand, "h1", "header"},
		{"unknown command, malformed JSON", msg(dance, `{"id":"d1",`, nil), commands.CodeUnknownCommand, "", ""},
		{"unknown command, id not a string", msg(dance, `{"id":7}`, map[string]string{nats.MsgIdHdr: "h1"}),
			commands.CodeUnknownCommand, "h1", "header"},
		{"unknown command, oversized body is not read", msg(dance, fmt.Sprintf(`{"id":"d1","pad":"%01200d"}`, 0), nil),
			commands.CodeUnknownCommand, "", ""},
		{"malformed JSON, header id", msg(commands.RequestSubject("lp", account, agentOne, commands.ChatSend), `{"id":"b1","text":`,
			map[string]string{nats.MsgIdHdr: "h1"}), commands.CodeBadRequest, "h1", "header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := commands.Decode(tc.m, decodeOpts)
			var e *commands.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("Decode error = %v, want code %s", err, tc.code)
			}
			if got.ID != tc.id || got.IDSource != tc.idSource {
				t.Errorf("id %q from %q, want %q from %q", got.ID, got.IDSource, tc.id, tc.idSource)
			}
		})
	}
}

// An unknown command with an id in its body gets the id on its reply, its
// command.result and its dead letter; a corrected command reusing the id
// runs, and its own command.result is not dropped as a duplicate.
func TestRequestReplyUnknownCommandKeepsBodyID(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	dance := "lp.cmd." + account + "." + agentOne + ".chat.dance"

	res, err := e.nc.RequestMsg(&nats.Msg{Subject: dance, Data: []byte(`{"id":"reuse-1"}`)}, waitFor)
	must(t, err)
	if got := res.Header.Get(commands.HeaderCommandID); got != "reuse-1" {
		t.Errorf("reply %s = %q, want the body's id reuse-1", commands.HeaderCommandID, got)
	}
	failed := e.result(t, "reuse-1")
	if failed.OK || failed.Error == nil || failed.Error.Code != string(commands.CodeUnknownCommand) || failed.Command != "chat.dance" {
		t.Errorf("command.result of reuse-1 = %+v, want unknown_command for chat.dance", failed)
	}
	dl := e.deadLetter(t, commands.DeadLetterSubject("lp", account, agentOne, "chat.dance"))
	if got := dl.Header.Get(commands.HeaderCommandID); got != "reuse-1" {
		t.Errorf("dead letter %s = %q, want reuse-1", commands.HeaderCommandID, got)
	}

	okResult[map[string]string](t, e.request(t, agentOne, commands.AgentStatus, map[string]any{"id": "reuse-1", "status": "Online"}))
	// JetStream drops a message whose Nats-Msg-Id (the event id) it saw
	// before, so the stream, not a plain subscriber, shows whether it is kept.
	stream, err := e.js.Stream(context.Background(), "LP_EVENTS")
	must(t, err)
	testwait.Until(t, waitFor, func() error {
		last, err := stream.GetLastMsgForSubject(context.Background(), "lp.evt."+account+"."+agentOne+".command.result")
		if err != nil {
			return err
		}
		d := e.decodeResult(t, &nats.Msg{Subject: last.Subject, Header: last.Header, Data: last.Data})
		if d.CommandID != "reuse-1" || !d.OK || d.Command != commands.AgentStatus {
			return fmt.Errorf("last command.result in the stream is %+v, want agent.status ok (dropped as a duplicate?)", d)
		}
		return nil
	})
}

// Malformed JSON keeps the Nats-Msg-Id; without one, the reply carries no
// id and the command.result a generated one.
func TestRequestReplyMalformedBodyID(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	subject := commands.RequestSubject("lp", account, agentOne, commands.AgentStatus)

	m := nats.NewMsg(subject)
	m.Header.Set(nats.MsgIdHdr, "hdr-1")
	m.Data = []byte(`{"id":"body-1","status":`)
	res, err := e.nc.RequestMsg(m, waitFor)
	must(t, err)
	if got := res.Header.Get(commands.HeaderCommandID); got != "hdr-1" {
		t.Errorf("reply %s = %q, want the Nats-Msg-Id hdr-1", commands.HeaderCommandID, got)
	}
	if r := e.result(t, "hdr-1"); r.OK || r.Error == nil || r.Error.Code != string(commands.CodeBadRequest) {
		t.Errorf("command.result of hdr-1 = %+v, want bad_request", r)
	}

	res, err = e.nc.RequestMsg(&nats.Msg{Subject: subject, Data: []byte(`{"id":"body-2",`)}, waitFor)
	must(t, err)
	if got := res.Header.Get(commands.HeaderCommandID); got != "" {
		t.Errorf("reply %s = %q for an unreadable body without Nats-Msg-Id, want none", commands.HeaderCommandID, got)
	}
	testwait.Until(t, waitFor, func() error {
		var ids []string
		for _, m := range e.results.all() {
			d := e.decodeResult(t, m)
			ids = append(ids, d.CommandID)
			if d.CommandID != "" && d.CommandID != "hdr-1" && d.CommandID != "body-2" && d.Command == commands.AgentStatus && !d.OK {
				return nil
			}
		}
		return fmt.Errorf("no command.result with a generated id among %v", ids)
	})
}
