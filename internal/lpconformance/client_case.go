package lpconformance

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// clientRetryWait is lpchat's pause between retries here: a test double
// answers at once, and a broken one should fail the case quickly, not after
// §9's 5, 10 and 15 s.
const clientRetryWait = 10 * time.Millisecond

// testLPChat is the second layer: our client (internal/lpchat) walks §1's
// flow over the same server, so a server that passes the raw checks also
// works with the bridge's client.
func testLPChat(t testing.TB, tg *Target) {
	ctx := t.Context()
	c, err := lpchat.New(lpchat.Config{
		DomainURL: tg.DomainURL, Account: tg.Account, HTTPTimeout: tg.HTTPTimeout, Transport: tg.Transport,
		AllowInsecureHTTP: strings.HasPrefix(tg.DomainURL, "http://"),
		Retry: lpchat.RetryPolicy{ServerBackoff: []time.Duration{clientRetryWait}, MinRetryAfter: clientRetryWait,
			LoginMinRetryAfter: clientRetryWait, Max429Retries: 1},
	})
	if err != nil {
		t.Fatalf("lpchat: %v", err)
	}
	a := tg.Agent
	cr := lpchat.Credentials{Username: a.Username, Password: a.Password}
	if a.Password == "" {
		cr = lpchat.Credentials{Username: a.Username, AppKey: a.AppKey, Secret: a.Secret,
			AccessToken: a.AccessToken, AccessTokenSecret: a.AccessTokenSecret}
	}
	if _, err := c.Login(ctx, cr); err != nil {
		t.Fatalf("lpchat login: %v", err)
	}
	t.Cleanup(func() { _ = c.Logout(context.WithoutCancel(ctx)) })
	s, err := c.StartAgentSession(ctx)
	if err != nil {
		t.Fatalf("lpchat agent session: %v", err)
	}
	t.Cleanup(func() { _, _ = s.SetAvailability(context.WithoutCancel(ctx), lpchat.Away) })
	if _, err := s.SetAvailability(ctx, lpchat.Online); err != nil {
		t.Fatalf("lpchat availability: %v", err)
	}
	e := &env{t: t, tg: tg}
	id := e.startChat(visitorName)
	testwait.Until(t, tg.WaitTimeout, func() error {
		r, err := s.IncomingRequests(ctx)
		if err != nil {
			return fmt.Errorf("lpchat ringing: %w", err)
		}
		if r.Count < 1 {
			return fmt.Errorf("lpchat ringing count %d, want ≥ 1", r.Count)
		}
		return nil
	})
	got, err := s.Accept(ctx)
	if err != nil || got != id {
		t.Fatalf("lpchat accept: %q, %v; want %s", got, err, id)
	}
	ch, err := s.Chat(ctx, id)
	if err != nil || ch.Info == nil || ch.Info.State != string(lpchat.ChatChatting) || ch.NextFrom < 1 {
		t.Fatalf("lpchat chat: %+v, %v; want chatting with a next link", ch, err)
	}
	if _, err := s.SendLine(ctx, id, lpchat.Line{Text: agentText}); err != nil {
		t.Fatalf("lpchat send line: %v", err)
	}
	if err := tg.Visitor.Line(ctx, id, visitorText); err != nil {
		t.Fatalf("visitor: %v", err)
	}
	testwait.Until(t, tg.WaitTimeout, func() error {
		evs, _, err := s.ChatEvents(ctx, id, ch.NextFrom)
		if err != nil {
			return fmt.Errorf("lpchat events: %w", err)
		}
		for _, ev := range evs {
			if ev.Source == lpchat.SourceVisitor && ev.Text == visitorText {
				return nil
			}
		}
		return fmt.Errorf("lpchat events from %d: %+v; want the visitor's line", ch.NextFrom, evs)
	})
	if name, err := s.VisitorName(ctx, id); err != nil || name != visitorName {
		t.Errorf("lpchat visitor name %q, %v; want %q", name, err, visitorName)
	}
	if err := s.EndChat(ctx, id); err != nil {
		t.Fatalf("lpchat end chat: %v", err)
	}
}
