package lpchat_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// TestSessionLostClassification: whatever a reaped agent session answers
// (401, 403, 404, 410, 400), every read of the session's own resources
// fails with ErrSessionLost, next to the status's own sentinel.
func TestSessionLostClassification(t *testing.T) {
	for _, status := range []int{401, 403, 404, 410, 400} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newSim(t, lpsim.Config{Seed: 1, StrictCookies: true, ReapedStatus: status})
			s := e.online(t, simBot)
			must(t, e.sim.ExpireAgentSession(simAccount, simBot))
			ctx := testCtx(t)
			for name, call := range map[string]func(context.Context) error{
				"agent session":     func(ctx context.Context) error { _, err := s.Resource(ctx); return err },
				"availability":      func(ctx context.Context) error { _, err := s.Availability(ctx); return err },
				"info":              func(ctx context.Context) error { _, err := s.Info(ctx); return err },
				"incoming requests": func(ctx context.Context) error { _, err := s.IncomingRequests(ctx); return err },
				"chat sessions":     func(ctx context.Context) error { _, err := s.ChatSessions(ctx); return err },
				"resumed": func(ctx context.Context) error {
					_, err := s.Client().ResumeAgentSession(s.ID).ChatSessions(ctx)
					return err
				},
			} {
				err := call(ctx)
				var ae *lpchat.APIError
				if !errors.Is(err, lpchat.ErrSessionLost) || !errors.As(err, &ae) || ae.Status != status {
					t.Errorf("%s: err = %v, want ErrSessionLost with status %d", name, err, status)
				}
			}
		})
	}
}

// TestSessionLostNotForChatsOrLogin: a 403 or 404 of one chat is about that
// chat, a 5xx past the retry policy proves nothing, 429 is only a wait, and
// a 401 on login is bad credentials: none of them is ErrSessionLost. A 401
// on a chat call is (the bearer died).
func TestSessionLostNotForChatsOrLogin(t *testing.T) {
	e := newSim(t, lpsim.Config{Seed: 1, StrictCookies: true})
	s := e.online(t, simBot)
	ctx := testCtx(t)
	for _, tc := range []struct {
		path   string
		status int
		call   func() error
		lost   bool
	}{
		{"/chat/nope", 404, func() error { _, err := s.Chat(ctx, "nope"); return err }, false},
		{"/chat/nope", 403, func() error { _, err := s.Chat(ctx, "nope"); return err }, false},
		{"/chat/nope", 401, func() error { _, err := s.Chat(ctx, "nope"); return err }, true},
		{"/incomingRequests", 503, func() error { _, err := s.IncomingRequests(ctx); return err }, false},
		{"/incomingRequests", 429, func() error { _, err := s.IncomingRequests(ctx); return err }, false},
	} {
		e.sim.InjectFault(lpsim.Fault{PathContains: tc.path, Status: tc.status, Count: 10})
		err := tc.call()
		e.sim.ClearFaults()
		if err == nil || errors.Is(err, lpchat.ErrSessionLost) != tc.lost {
			t.Errorf("%d on %s: err = %v, want ErrSessionLost %v", tc.status, tc.path, err, tc.lost)
		}
	}
	c, err := lpchat.New(lpchat.Config{DomainURL: e.srv.URL, Account: simAccount, AllowInsecureHTTP: true, Retry: fastRetry()})
	must(t, err)
	_, err = c.Login(ctx, lpchat.Credentials{Username: simBot, Password: "wrong"})
	if !errors.Is(err, lpchat.ErrAuth) || errors.Is(err, lpchat.ErrSessionLost) {
		t.Errorf("bad password: err = %v, want ErrAuth and not ErrSessionLost", err)
	}
	if _, err := s.Resource(ctx); err != nil {
		t.Errorf("the session lives: %v", err)
	}
}
