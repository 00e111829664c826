package lpchat_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// The retry policy (§9) over HTTP: statuses, hang-ups, refused connections,
// timeouts and cancellation against the fake service.

// counting wraps a handler and counts its calls.
func counting(n *atomic.Int32, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}
}

// statusSequence answers the given statuses in turn, then the last one.
func statusSequence(n *atomic.Int32, body string, statuses ...int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		s := statuses[min(i, len(statuses)-1)]
		if s == 429 {
			w.Header().Set("Retry-After", "0")
		}
		writeJSON(w, s, body)
	}
}

func TestRetryOverHTTP(t *testing.T) {
	ringing := `{"incomingRequests":{"ringingCount":"2"}}`
	tests := []struct {
		name      string
		statuses  []int
		wantCalls int32
		wantErr   error
	}{
		{"5xx then success", []int{500, 503, 200}, 3, nil},
		{"5xx exhausted", []int{500}, 4, lpchat.ErrServer},
		{"400 not retried", []int{400}, 1, lpchat.ErrBadRequest},
		{"401 not retried", []int{401}, 1, lpchat.ErrAuth},
		{"404 not retried", []int{404}, 1, lpchat.ErrNotFound},
		{"429 then success", []int{429, 429, 200}, 3, nil},
		{"429 exhausted", []int{429}, 4, lpchat.ErrRateLimited},
		{"302 is not followed", []int{302}, 1, lpchat.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := session(t, f)
			var n atomic.Int32
			f.handle("GET /agentSession/"+testASID+"/incomingRequests", statusSequence(&n, ringing, tt.statuses...))
			r, err := s.IncomingRequests(testCtx(t))
			if got := n.Load(); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
			}
			if tt.wantErr == nil {
				if err != nil || r.Count != 2 {
					t.Errorf("got %+v, %v", r, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var ae *lpchat.APIError
			if !errors.As(err, &ae) || ae.Op != "incoming requests" || ae.Attempts != int(tt.wantCalls) {
				t.Errorf("APIError = %+v", ae)
			}
		})
	}
}

func TestLoginStatuses(t *testing.T) {
	tests := []struct {
		status    int
		wantErr   error
		wantCalls int32
	}{
		{451, lpchat.ErrBlocked, 1},
		{401, lpchat.ErrAuth, 1},
		{429, lpchat.ErrRateLimited, 4},
		{400, lpchat.ErrBadRequest, 1},
	}
	for _, tt := range tests {
		f := newFake(t)
		var n atomic.Int32
		f.handle("POST /login", statusSequence(&n, `{"error":{"message":"no","internalCode":7}}`, tt.status))
		_, err := newClient(t, f).Login(testCtx(t), lpchat.Credentials{Username: testUser, Password: testPassword})
		if !errors.Is(err, tt.wantErr) || n.Load() != tt.wantCalls {
			t.Errorf("%d: err = %v after %d calls, want %v after %d", tt.status, err, n.Load(), tt.wantErr, tt.wantCalls)
		}
	}
	f := newFake(t)
	if _, err := newClient(t, f).Login(testCtx(t), lpchat.Credentials{Username: testUser}); !errors.Is(err, lpchat.ErrInvalidConfig) {
		t.Errorf("no password: err = %v", err)
	}
	if _, err := newClient(t, f).Login(testCtx(t), lpchat.Credentials{Username: testUser, Password: "p", AppKey: "k"}); !errors.Is(err, lpchat.ErrInvalidConfig) {
		t.Errorf("password and key: err = %v", err)
	}
	f.serveDoc("POST /login", 200, `{"csrf":"x"}`)
	if _, err := newClient(t, f).Login(testCtx(t), lpchat.Credentials{Username: testUser, Password: "p"}); !errors.Is(err, lpchat.ErrProtocol) {
		t.Errorf("login without bearer: err = %v", err)
	}
}

// hangUp answers by closing the connection after reading the request: the
// request was sent, the outcome is unknown.
func hangUp(n *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
}

// nonIdempotent lists the calls that must not be retried after an
// ambiguous failure, with the route each uses.
func nonIdempotent() map[string]struct {
	route string
	call  func(context.Context, *lpchat.AgentSession) error
} {
	chat := "/agentSession/" + testASID + "/chat/" + testChatID
	return map[string]struct {
		route string
		call  func(context.Context, *lpchat.AgentSession) error
	}{
		"send line": {"POST " + chat + "/events", func(ctx context.Context, s *lpchat.AgentSession) error {
			_, err := s.SendLine(ctx, testChatID, lpchat.Line{Text: "hi"})
			return err
		}},
		"end chat": {"POST " + chat + "/events", func(ctx context.Context, s *lpchat.AgentSession) error {
			return s.EndChat(ctx, testChatID)
		}},
		"accept": {"POST /agentSession/" + testASID + "/incomingRequests", func(ctx context.Context, s *lpchat.AgentSession) error {
			_, err := s.Accept(ctx)
			return err
		}},
		"transfer": {"POST " + chat + "/transfer", func(ctx context.Context, s *lpchat.AgentSession) error {
			return s.Transfer(ctx, testChatID, lpchat.Transfer{SkillID: "1"})
		}},
		"start agent session": {"POST /agentSession", func(ctx context.Context, s *lpchat.AgentSession) error {
			_, err := s.Client().StartAgentSession(ctx)
			return err
		}},
	}
}

func TestNonIdempotentNotRetriedWhenAmbiguous(t *testing.T) {
	for name, op := range nonIdempotent() {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			s := session(t, f)
			var n atomic.Int32
			f.handle(op.route, hangUp(&n))
			err := op.call(testCtx(t), s)
			if !errors.Is(err, lpchat.ErrAmbiguous) || !errors.Is(err, lpchat.ErrServer) {
				t.Errorf("err = %v, want ErrAmbiguous and ErrServer", err)
			}
			if n.Load() != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n.Load())
			}
			if err != nil && !strings.Contains(err.Error(), "may have been carried out") {
				t.Errorf("message does not say the outcome is unknown: %v", err)
			}
		})
	}
}

// A 5xx on a non-idempotent call may come after the service acted (a
// gateway's 502/504): not retried, ErrAmbiguous, for the caller to check.
// A 429 says the service did not act: retried.
func TestNonIdempotentServerAnswerIsAmbiguous(t *testing.T) {
	for name, op := range nonIdempotent() {
		if name == "start agent session" {
			continue // reaped when orphaned: retried (TestStartAgentSessionRetriedOn5xx)
		}
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			s := session(t, f)
			var n atomic.Int32
			f.handle(op.route, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				writeJSON(w, http.StatusBadGateway, ``)
			})
			err := op.call(testCtx(t), s)
			if !errors.Is(err, lpchat.ErrAmbiguous) || !errors.Is(err, lpchat.ErrServer) {
				t.Errorf("err = %v, want ErrAmbiguous and ErrServer", err)
			}
			if n.Load() != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n.Load())
			}
		})
	}
}

func TestNonIdempotentRetriedOnRateLimit(t *testing.T) {
	f := newFake(t)
	s := session(t, f)
	var n atomic.Int32
	f.handle("POST /agentSession/"+testASID+"/chat/"+testChatID+"/events", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 429, ``)
			return
		}
		writeJSON(w, 201, f.expand(`{"chatEventLocation":{"link":{"@href":"{chat}/events/12","@rel":"location"}}}`))
	})
	id, err := s.SendLine(testCtx(t), testChatID, lpchat.Line{Text: "hi"})
	if err != nil || id != 12 || n.Load() != 2 {
		t.Errorf("SendLine = %d, %v after %d requests", id, err, n.Load())
	}
}

// A second agent session is reaped by the service when idle, so starting
// one is retried on a 5xx.
func TestStartAgentSessionRetriedOn5xx(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := testCtx(t)
	if _, err := c.Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword}); err != nil {
		t.Fatalf("Login: %v", err)
	}
	var n atomic.Int32
	f.handle("POST /agentSession", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			writeJSON(w, http.StatusBadGateway, ``)
			return
		}
		writeJSON(w, 201, `{"agentSessionLocation":{"link":{"@href":"`+f.base()+`/agentSession/`+testASID+`","@rel":"location"}}}`)
	})
	s, err := c.StartAgentSession(ctx)
	if err != nil || s.ID != testASID || n.Load() != 2 {
		t.Errorf("StartAgentSession = %v, %v after %d requests", s, err, n.Load())
	}
}

func TestIdempotentRetriedAfterHangUp(t *testing.T) {
	f := newFake(t)
	s := session(t, f)
	var n atomic.Int32
	f.handle("GET /agentSession/"+testASID+"/chat/"+testChatID, hangUp(&n))
	_, err := s.Chat(testCtx(t), testChatID)
	if !errors.Is(err, lpchat.ErrServer) || errors.Is(err, lpchat.ErrAmbiguous) {
		t.Errorf("err = %v, want ErrServer only", err)
	}
	// 4 of ours; net/http may itself replay a GET once on a reused
	// connection that broke, so more is fine.
	if n.Load() < 4 {
		t.Errorf("%d requests, want at least 4", n.Load())
	}
}

func TestRefusedConnectionIsNotAmbiguous(t *testing.T) {
	f := newFake(t)
	// No pooled connection: the POST must dial, and the dial is refused.
	s := session(t, f, func(c *lpchat.Config) { c.Transport = &http.Transport{DisableKeepAlives: true} })
	f.srv.Close() // nothing listens any more: the request never left
	_, err := s.SendLine(testCtx(t), testChatID, lpchat.Line{Text: "hi"})
	if !errors.Is(err, lpchat.ErrServer) || errors.Is(err, lpchat.ErrAmbiguous) {
		t.Errorf("err = %v, want ErrServer, not ErrAmbiguous", err)
	}
	var ae *lpchat.APIError
	if !errors.As(err, &ae) || ae.Attempts != 4 || ae.Status != 0 {
		t.Errorf("APIError = %+v (want 4 attempts)", ae)
	}
}

func TestTimeout(t *testing.T) {
	f := newFake(t)
	s := session(t, f, func(c *lpchat.Config) { c.HTTPTimeout = 50 * time.Millisecond })
	block := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	var gets, posts atomic.Int32
	f.handle("GET /agentSession/"+testASID+"/incomingRequests", counting(&gets, block))
	f.handle("POST /agentSession/"+testASID+"/chat/"+testChatID+"/events", counting(&posts, block))

	_, err := s.IncomingRequests(testCtx(t))
	if !errors.Is(err, lpchat.ErrServer) || !errors.Is(err, context.DeadlineExceeded) || gets.Load() != 4 {
		t.Errorf("GET: err = %v after %d requests", err, gets.Load())
	}
	_, err = s.SendLine(testCtx(t), testChatID, lpchat.Line{Text: "hi"})
	if !errors.Is(err, lpchat.ErrAmbiguous) || posts.Load() != 1 {
		t.Errorf("POST: err = %v after %d requests", err, posts.Load())
	}
}

func TestCancelStopsRetryWait(t *testing.T) {
	f := newFake(t)
	s := session(t, f, func(c *lpchat.Config) {
		c.Retry = lpchat.RetryPolicy{ServerBackoff: []time.Duration{time.Hour}, MinRetryAfter: time.Hour, Max429Retries: 3}
	})
	for _, status := range []int{429, 500} {
		ctx, cancel := context.WithCancel(testCtx(t))
		var n atomic.Int32
		f.handle("GET /agentSession/"+testASID+"/availability", func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Retry-After", "3600")
			writeJSON(w, status, ``)
			cancel() // the caller gives up while the client waits an hour
		})
		_, err := s.Availability(ctx)
		if !errors.Is(err, context.Canceled) || n.Load() != 1 {
			t.Errorf("%d: err = %v after %d requests, want context.Canceled after 1", status, err, n.Load())
		}
	}
}
