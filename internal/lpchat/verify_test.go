package lpchat_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// The once calls, with a 502 answered after the simulator acted (a gateway
// that lost the service's answer) or before it (the service never saw the
// call): each is carried out exactly once, and the verified call succeeds.

// gateway502 makes the next POST to a path containing path answer 502,
// after the simulator handled it when after is set.
func gateway502(e *simEnv, path string, after bool) {
	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: path, Status: 502, AfterHandle: after})
}

// simCount counts the chat's events at the simulator that match.
func simCount(t *testing.T, e *simEnv, chatID string, match func(lpsim.EventView) bool) int {
	t.Helper()
	views, err := e.sim.ChatEvents(simAccount, chatID)
	must(t, err)
	n := 0
	for _, v := range views {
		if match(v) {
			n++
		}
	}
	return n
}

// ringing starts a chat for skill and waits until it rings at s.
func ringing(t *testing.T, e *simEnv, s *lpchat.AgentSession, skill string) string {
	t.Helper()
	id, err := e.sim.StartChat(simAccount, lpsim.VisitorSpec{SkillID: skill})
	must(t, err)
	testwait.True(t, 10*time.Second, "a ringing chat", func() bool {
		r, err := s.IncomingRequests(t.Context())
		must(t, err)
		return r.Count > 0
	})
	return id
}

// chatting starts a simulator with seed, bot.one Online holding one chat.
func chatting(t *testing.T, seed int64) (*simEnv, *lpchat.AgentSession, context.Context, string) {
	t.Helper()
	e := newSim(t, lpsim.Config{Seed: seed})
	s := e.online(t, simBot)
	ctx := testCtx(t)
	chatID := ringing(t, e, s, skillSup)
	_, err := s.Accept(ctx)
	must(t, err)
	return e, s, ctx, chatID
}

func TestVerifiedOnceCalls(t *testing.T) {
	for _, after := range []bool{true, false} {
		name := "502 before the service acted"
		if after {
			name = "502 after the service acted"
		}
		t.Run(name, func(t *testing.T) {
			t.Run("send line", func(t *testing.T) { verifySendLine(t, after) })
			t.Run("accept", func(t *testing.T) { verifyAccept(t, after) })
			t.Run("end chat", func(t *testing.T) { verifyEnd(t, after) })
			t.Run("transfer", func(t *testing.T) { verifyTransfer(t, after) })
		})
	}
}

// verifySendLine: the bare call is ambiguous; FindLine tells whether the
// line is there (the retry policy across runs lives in the commands).
func verifySendLine(t *testing.T, after bool) {
	e, s, ctx, chatID := chatting(t, 3)
	since := time.Now().Add(-time.Second)
	line := lpchat.Line{Text: "exactly once"}
	gateway502(e, "/events", after)
	if _, err := s.SendLine(ctx, chatID, line); !errors.Is(err, lpchat.ErrAmbiguous) {
		t.Fatalf("SendLine after a 502: err = %v, want ErrAmbiguous", err)
	}
	id, found, err := s.FindLine(ctx, chatID, line, since)
	must(t, err)
	if found != after {
		t.Fatalf("FindLine found = %v (id %d), want %v", found, id, after)
	}
	if !found {
		_, err = s.SendLine(ctx, chatID, line)
		must(t, err)
	}
	if n := simCount(t, e, chatID, func(v lpsim.EventView) bool { return v.Text == line.Text }); n != 1 {
		t.Errorf("the line is in the chat %d times, want 1", n)
	}
}

// verifyAccept: two chats ring; the accept takes exactly one of them.
func verifyAccept(t *testing.T, after bool) {
	e := newSim(t, lpsim.Config{Seed: 4})
	s := e.online(t, simBot)
	ctx := testCtx(t)
	first := ringing(t, e, s, skillSup)
	second, err := e.sim.StartChat(simAccount, lpsim.VisitorSpec{SkillID: skillSup})
	must(t, err)
	held, err := s.HeldChats(ctx)
	must(t, err)
	gateway502(e, "/incomingRequests", after)
	id, err := s.AcceptVerified(ctx, func(id string) bool { return held[id] })
	if err != nil || id != first {
		t.Fatalf("AcceptVerified = %q, %v; want %q", id, err, first)
	}
	for chat, want := range map[string]string{first: "chatting", second: "waiting"} {
		st, _, err := e.sim.ChatState(simAccount, chat)
		must(t, err)
		if st != want {
			t.Errorf("chat %s is %s, want %s (one accept, not two)", chat, st, want)
		}
	}
	if n := simCount(t, e, first, func(v lpsim.EventView) bool { return v.State == "chatting" }); n != 1 {
		t.Errorf("the chat was accepted %d times, want 1", n)
	}
}

// verifyEnd: the chat ends once, and the verified call says so.
func verifyEnd(t *testing.T, after bool) {
	e, s, ctx, chatID := chatting(t, 5)
	gateway502(e, "/events", after)
	if err := s.EndChatVerified(ctx, chatID); err != nil {
		t.Fatalf("EndChatVerified: %v", err)
	}
	if n := simCount(t, e, chatID, func(v lpsim.EventView) bool { return v.State == "ended" }); n != 1 {
		t.Errorf("the chat ended %d times, want 1", n)
	}
}

// verifyTransfer: the chat is transferred once (one transfer system line).
func verifyTransfer(t *testing.T, after bool) {
	e, s, ctx, chatID := chatting(t, 6)
	e.online(t, simAnn)
	since := time.Now().Add(-time.Second)
	gateway502(e, "/transfer", after)
	if err := s.TransferVerified(ctx, chatID, lpchat.Transfer{SkillID: skillBill, Text: "over to you"}, since); err != nil {
		t.Fatalf("TransferVerified: %v", err)
	}
	transfers := simCount(t, e, chatID, func(v lpsim.EventView) bool { return v.SystemMessageID == 15 })
	notes := simCount(t, e, chatID, func(v lpsim.EventView) bool { return v.Text == "over to you" })
	if transfers != 1 || notes != 1 {
		t.Errorf("%d transfers and %d transfer notes, want 1 each", transfers, notes)
	}
}

// A transfer refused for another reason than having happened stays an
// error, and a verification that cannot read the chat leaves it ambiguous.
func TestVerifiedTransferErrors(t *testing.T) {
	e, s, ctx, chatID := chatting(t, 7)
	since := time.Now().Add(-time.Second)
	// Nobody can take Billing (Ann is offline): 400, not verified away.
	if err := s.TransferVerified(ctx, chatID, lpchat.Transfer{SkillID: skillBill}, since); !errors.Is(err, lpchat.ErrBadRequest) {
		t.Errorf("transfer to an empty skill: err = %v, want ErrBadRequest", err)
	}
	e.online(t, simAnn)
	gateway502(e, "/transfer", true)
	e.sim.InjectFault(lpsim.Fault{Method: "GET", PathContains: "/events", Status: 500, Count: 10})
	err := s.TransferVerified(ctx, chatID, lpchat.Transfer{SkillID: skillBill}, since)
	if !errors.Is(err, lpchat.ErrAmbiguous) {
		t.Errorf("unverifiable transfer: err = %v, want ErrAmbiguous", err)
	}
	e.sim.ClearFaults()
	if n := simCount(t, e, chatID, func(v lpsim.EventView) bool { return v.SystemMessageID == 15 }); n != 1 {
		t.Errorf("%d transfers, want 1", n)
	}
}

// Submitting the survey is a PUT that replaces the answers (§5.20), so it
// stays retried on a 5xx: a 502 after the simulator stored them leaves the
// same answers, and the call succeeds.
func TestSurveySubmitRetriedAfterGateway502(t *testing.T) {
	e, s, ctx, chatID := chatting(t, 10)
	e.sim.InjectFault(lpsim.Fault{Method: "PUT", PathContains: "/survey", Status: 502, AfterHandle: true})
	answers := []lpchat.SurveyAnswer{{QuestionID: "3001", Value: "Billing"}, {QuestionID: "3002", Value: "Yes"}}
	if err := s.SubmitSurvey(ctx, chatID, answers); err != nil {
		t.Fatalf("SubmitSurvey after a 502: %v", err)
	}
	raw, err := s.Survey(ctx, chatID)
	must(t, err)
	if !strings.Contains(string(raw), `"lastKnownValue":"Billing"`) || strings.Contains(string(raw), "Billing,Billing") {
		t.Errorf("survey after the retried submit: %s", raw)
	}
}
