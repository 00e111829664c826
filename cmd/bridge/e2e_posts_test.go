package main

import (
	"context"
	"errors"
	"testing"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// TestE2EPostsOnceThrough502: chat.accept, chat.send, chat.close and
// chat.transfer, each answered 502 by a gateway after the service acted.
// Every reply is ok (the bridge looked at the service instead of posting
// again), the service holds one accept, one line, one end and one transfer,
// and a subscriber sees each of them once.
func TestE2EPostsOnceThrough502(t *testing.T) {
	const pw, pwTwo = "posts-pw-one", "posts-pw-two"
	sim, simURL := startSim(t, simOptions{seed: 29, agents: e2eAgents(pw, pwTwo)})
	ns, nc, js := natstest.RunServer(t)
	setBridgeEnv(t, commandVars(ns.ClientURL(), simURL, pw))
	b := startBridge(t)
	col := collectEvents(t, b, js)
	c := newCommander(t, b, nc)
	col.waitFor(t, b, "agent.status Online at startup", func(r received) bool {
		return r.is(events.AgentStatus, "") && r.str("status") == string(lpchat.Online)
	})
	gateway502 := func(method, path string) {
		sim.InjectFault(lpsim.Fault{Method: method, PathContains: path, Status: 502, AfterHandle: true})
	}

	// Accept, send, close on one chat.
	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Ida", SkillID: skillSupport})
	col.waitFor(t, b, "agent.ringing", func(r received) bool {
		return r.is(events.AgentRinging, "") && r.str("count") != "0"
	})
	gateway502("POST", "/incomingRequests")
	accepted := okResult[struct {
		ChatID string `json:"chatId"`
	}](t, "chat.accept through a 502", c.request(botOneToken, commands.ChatAccept, "posts-accept", nil))
	if accepted.ChatID != chat {
		t.Fatalf("chat.accept took %q, want %q", accepted.ChatID, chat)
	}
	const text = "said once through a bad gateway"
	gateway502("POST", "/events")
	okResult[map[string]any](t, "chat.send through a 502",
		c.request(botOneToken, commands.ChatSend, "posts-send", map[string]any{"chatId": chat, "text": text}))
	col.waitFor(t, b, "the line", func(r received) bool { return r.is(events.ChatLine, chat) && r.str("text") == text })
	gateway502("POST", "/events")
	okResult[map[string]any](t, "chat.close through a 502",
		c.request(botOneToken, commands.ChatClose, "posts-close", map[string]any{"chatId": chat}))
	col.waitFor(t, b, "chat.ended", func(r received) bool { return r.is(events.ChatEnded, chat) })

	// Transfer another chat to Billing, which only bot.two (Online) has.
	two := agentSession(t, simURL, botTwo, pwTwo)
	if _, err := two.SetAvailability(context.Background(), lpchat.Online); err != nil {
		t.Fatalf("bot.two Online: %v", err)
	}
	rings := func(r received) bool { return r.is(events.AgentRinging, "") && r.str("count") == "1" }
	rang := len(col.match(rings))
	moved := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Jo", SkillID: skillSupport})
	waitUntil(t, b, "the second chat rings", func() error {
		if len(col.match(rings)) == rang {
			return errors.New("not ringing yet")
		}
		return nil
	})
	okResult[map[string]any](t, "chat.accept", c.request(botOneToken, commands.ChatAccept, "posts-accept-2", nil))
	gateway502("POST", "/transfer")
	okResult[map[string]any](t, "chat.transfer through a 502", c.request(botOneToken, commands.ChatTransfer,
		"posts-transfer", map[string]any{"chatId": moved, "skillId": skillBilling, "text": "over to billing"}))
	col.waitFor(t, b, "chat.transferred", func(r received) bool { return r.is(events.ChatTransferred, moved) })

	// The service: one of each.
	views, err := sim.ChatEvents(e2eAccount, chat)
	if err != nil {
		t.Fatal(err)
	}
	var accepts, lines, ends int
	for _, v := range views {
		switch {
		case v.State == "chatting":
			accepts++
		case v.State == "ended":
			ends++
		case v.Text == text:
			lines++
		}
	}
	if accepts != 1 || lines != 1 || ends != 1 {
		t.Errorf("the service has %d accepts, %d lines, %d ends; want 1 each", accepts, lines, ends)
	}
	views, err = sim.ChatEvents(e2eAccount, moved)
	if err != nil {
		t.Fatal(err)
	}
	transfers := 0
	for _, v := range views {
		if v.SystemMessageID == int(lpchat.SysTransferSkill) {
			transfers++
		}
	}
	if transfers != 1 {
		t.Errorf("the service transferred the chat %d times, want 1", transfers)
	}

	c.checkResults(col)
	if err := b.stop(); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	// The subscriber: each once.
	for what, pred := range map[string]func(received) bool{
		"chat.accepted":    func(r received) bool { return r.is(events.ChatAccepted, chat) },
		"the line":         func(r received) bool { return r.is(events.ChatLine, chat) && r.str("text") == text },
		"chat.ended":       func(r received) bool { return r.is(events.ChatEnded, chat) },
		"chat.transferred": func(r received) bool { return r.is(events.ChatTransferred, moved) },
	} {
		if n := len(col.match(pred)); n != 1 {
			t.Errorf("%s seen %d times, want 1", what, n)
		}
	}
	checkEvents(t, col.all())
}
