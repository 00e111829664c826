package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// TestE2EChatsOneGoneOthersGoOn runs the bridge for bot.one with three
// chats; one is transferred away and from then on the simulator refuses it
// (403, or 410) on its own resource and on the multi-chat request. The
// other two go on: a subscriber sees each of their lines once and in order,
// chat.transferred with the refusal as reason for the gone one, and the
// bridge logs no failed tick.
func TestE2EChatsOneGoneOthersGoOn(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason string
	}{
		{http.StatusForbidden, events.TransferReasonForbidden},
		{http.StatusGone, events.TransferReasonGone},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) { testChatsOneGone(t, tc.status, tc.reason) })
	}
}

// tickFailed is the poller's log message for a failed poll tick.
const tickFailed = "poll tick failed"

func testChatsOneGone(t *testing.T, status int, reason string) {
	const pwOne, pwTwo = "chats-pw-one", "chats-pw-two"
	sim, simURL := startSim(t, simOptions{seed: 19, agents: e2eAgents(pwOne, pwTwo)})
	ns, _, js := natstest.RunServer(t)
	setBridgeEnv(t, bridgeVars(ns.ClientURL(), simURL, botOne, pwOne))
	b := startBridge(t)
	col := collectEvents(t, b, js)
	ctx := t.Context()

	col.waitFor(t, b, "agent.status Online", func(r received) bool {
		return r.is(events.AgentStatus, "") && r.str("status") == string(lpchat.Online)
	})
	chats := []string{
		startVisitor(t, sim, lpsim.VisitorSpec{Name: "Ann", SkillID: skillSupport}),
		startVisitor(t, sim, lpsim.VisitorSpec{Name: "Ben", SkillID: skillSupport}),
		startVisitor(t, sim, lpsim.VisitorSpec{Name: "Cat", SkillID: skillSupport}),
	}
	for _, chat := range chats {
		col.waitFor(t, b, "chat.accepted of "+chat, func(r received) bool { return r.is(events.ChatAccepted, chat) })
	}
	gone, stay := chats[1], []string{chats[0], chats[2]}
	want := map[string][]string{}
	say := func(chat, text string) {
		t.Helper()
		if _, err := sim.VisitorLine(e2eAccount, chat, text); err != nil {
			t.Fatalf("VisitorLine %s: %v", chat, err)
		}
		want[chat] = append(want[chat], text)
	}
	for i := range 2 {
		for _, chat := range chats {
			say(chat, fmt.Sprintf("%s before %d", chat, i))
		}
	}
	for _, chat := range chats {
		last := want[chat][len(want[chat])-1]
		col.waitFor(t, b, "the last line before the transfer of "+chat, func(r received) bool {
			return r.is(events.ChatLine, chat) && r.str("text") == last
		})
	}

	// From now on a chat that left bot.one is refused; then one leaves.
	if err := sim.SetMovedChatStatus(status); err != nil {
		t.Fatal(err)
	}
	two := agentSession(t, simURL, botTwo, pwTwo)
	if _, err := two.SetAvailability(ctx, lpchat.Online); err != nil {
		t.Fatalf("bot.two SetAvailability: %v", err)
	}
	as := agentSession(t, simURL, botOne, pwOne)
	if err := as.Transfer(ctx, gone, lpchat.Transfer{SkillID: skillBilling}); err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	failedBefore := strings.Count(b.stderr.String(), tickFailed)
	for i := range 3 {
		for _, chat := range stay {
			say(chat, fmt.Sprintf("%s after %d", chat, i))
		}
	}
	moved := col.waitFor(t, b, "chat.transferred of the gone chat", func(r received) bool { return r.is(events.ChatTransferred, gone) })
	if got := moved.str("reason"); got != reason {
		t.Errorf("chat.transferred %v: reason %q, want %q", moved, got, reason)
	}
	for _, chat := range stay {
		last := want[chat][len(want[chat])-1]
		col.waitFor(t, b, "the last line after the transfer of "+chat, func(r received) bool {
			return r.is(events.ChatLine, chat) && r.str("text") == last
		})
	}
	// A few more ticks: the gone chat must not be asked for again.
	polls := sim.Requests()
	waitUntil(t, b, "more polls", func() error {
		if sim.Requests() < polls+20 {
			return fmt.Errorf("%d requests since", sim.Requests()-polls)
		}
		return nil
	})
	if err := b.stop(); err != nil {
		t.Fatalf("bridge: %v", err)
	}

	if n := strings.Count(b.stderr.String(), tickFailed) - failedBefore; n > 0 {
		t.Errorf("%d failed poll ticks after the transfer; want none:\n%s", n, tail(b.stderr.String(), 20))
	}
	got := col.all()
	checkEvents(t, got)
	for _, chat := range chats {
		var lines []string
		for _, r := range got {
			if r.is(events.ChatLine, chat) && r.str("source") == "visitor" {
				lines = append(lines, r.str("text"))
			}
		}
		if !slices.Equal(lines, want[chat]) {
			t.Errorf("visitor lines of %s:\n got %q\nwant %q", chat, lines, want[chat])
		}
	}
	if n := len(col.match(func(r received) bool { return r.is(events.ChatTransferred, gone) })); n != 1 {
		t.Errorf("%d chat.transferred of the gone chat; want 1", n)
	}
	for _, chat := range stay {
		if n := len(col.match(func(r received) bool { return r.is(events.ChatTransferred, chat) || r.is(events.ChatEnded, chat) })); n != 0 {
			t.Errorf("chat %s that stayed got %d transferred/ended events", chat, n)
		}
	}
}
