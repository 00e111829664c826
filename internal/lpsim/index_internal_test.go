package lpsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepClock is a clock the test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// indexAgent is one agent the random walk drives over HTTP.
type indexAgent struct {
	login, bearer, as string
}

// TestIndexesMatchAFullScan walks the model through random agent, visitor
// and clock moves and checks after each that the indexes (index.go) say
// what a scan of every open chat says, that the sweep bounds are no later
// than any deadline, and that a clean route flag means routing has nothing
// to do.
func TestIndexesMatchAFullScan(t *testing.T) {
	clock := &stepClock{t: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)}
	s, err := New(Config{Now: clock.Now, AcceptWindow: 20 * time.Second, SessionIdleTimeout: 400 * time.Second, LoginTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	logins := []string{"a.one", "a.two", "a.three", "a.four"}
	skills, err := s.AddDemo(DemoSpec{Agents: logins, MaxChats: 2})
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/account/" + DemoAccountID
	do := func(method, target, body, bearer string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	agents := make([]*indexAgent, len(logins))
	for i, l := range logins {
		agents[i] = &indexAgent{login: l}
	}
	connect := func(ag *indexAgent) {
		rec := do(http.MethodPost, base+"/login", `{"username":"`+ag.login+`","password":"`+DemoPassword+`"}`, "")
		var lr struct {
			Bearer string `json:"bearer"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &lr) != nil {
			t.Fatalf("login %s: %d %s", ag.login, rec.Code, rec.Body)
		}
		ag.bearer = lr.Bearer
		rec = do(http.MethodPost, base+"/agentSession", `{}`, ag.bearer)
		if rec.Code != http.StatusCreated {
			t.Fatalf("agent session %s: %d %s", ag.login, rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		at := strings.Index(loc, "/api/")
		if at < 0 {
			t.Fatalf("no /api/ in Location %q", loc)
		}
		ag.as = loc[at:]
	}
	var chats []string
	rng := rand.New(rand.NewPCG(7, 11))
	states := []string{availOnline, availOnline, availAway, availOccupied}
	for step := range 3000 {
		ag := agents[rng.IntN(len(agents))]
		var what string
		switch op := rng.IntN(14); {
		case ag.as == "" || op == 0:
			what = "connect"
			connect(ag)
		case op == 1:
			what = "availability"
			do(http.MethodPost, ag.as+"/availability", `{"availability":{"chat":"`+states[rng.IntN(len(states))]+`"}}`, ag.bearer,
				"X-HTTP-Method-Override", "PUT")
		case op <= 3:
			what = "start chat"
			v := VisitorSpec{}
			if rng.IntN(3) == 0 {
				v.SkillID = skills[rng.IntN(len(skills))].ID
			}
			id, err := s.StartChat(DemoAccountID, v)
			if err != nil {
				t.Fatal(err)
			}
			chats = append(chats, id)
		case op <= 5:
			what = "accept"
			do(http.MethodPost, ag.as+"/incomingRequests", `{}`, ag.bearer)
		case op == 6 && len(chats) > 0:
			what = "agent ends"
			do(http.MethodPost, ag.as+"/chat/"+chats[rng.IntN(len(chats))]+"/events", `{"event":{"@type":"state","state":"ended"}}`, ag.bearer)
		case op == 7 && len(chats) > 0:
			what = "transfer"
			body := `{"transfer":{"skill":{"id":"` + skills[rng.IntN(len(skills))].ID + `"}}}`
			if rng.IntN(2) == 0 {
				other := agents[rng.IntN(len(agents))]
				body = `{"transfer":{"agent":{"id":"` + s.agentID(other.login) + `"}}}`
			}
			do(http.MethodPost, ag.as+"/chat/"+chats[rng.IntN(len(chats))]+"/transfer", body, ag.bearer)
		case op == 8 && len(chats) > 0:
			what = "visitor ends"
			_ = s.VisitorEnd(DemoAccountID, chats[rng.IntN(len(chats))]) // may have ended already
		case op == 9:
			what = "delete session"
			do(http.MethodPost, ag.as, ``, ag.bearer, "X-HTTP-Method-Override", "DELETE")
			ag.as = ""
		case op == 10:
			what = "expire sessions"
			if err := s.ExpireAgentSession(DemoAccountID, ag.login); err != nil {
				t.Fatal(err)
			}
			ag.as = ""
		case op == 11:
			what = "clock +5..25s"
			clock.advance(time.Duration(5+rng.IntN(21)) * time.Second)
		case op == 12 && rng.IntN(10) == 0:
			what = "clock +401s"
			clock.advance(401 * time.Second)
		default:
			what = "poll"
			do(http.MethodGet, ag.as+"/incomingRequests", ``, ag.bearer)
		}
		if msg := s.indexProblem(); msg != "" {
			t.Fatalf("step %d (%s by %s): %s", step, what, ag.login, msg)
		}
	}
}

func (s *Simulator) agentID(login string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[DemoAccountID].agentByLogin(login).id
}

// indexProblem describes the first way the indexes disagree with a scan,
// or returns "".
func (s *Simulator) indexProblem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		var queue []*chat
		for _, c := range a.open {
			if c.state == stateWaiting && c.ringing == nil {
				queue = append(queue, c)
			}
		}
		if !slices.Equal(queue, a.queue) {
			return fmt.Sprintf("queue has %d chats, a scan finds %d", len(a.queue), len(queue))
		}
		for _, ag := range a.agents {
			var ringing, held []*chat
			load := 0
			for _, c := range a.open {
				if c.ringing == ag {
					ringing = append(ringing, c)
				}
				if c.state == stateChatting && c.holder == ag {
					held = append(held, c)
				}
				if c.ringing == ag || (c.state == stateChatting && c.holder == ag) {
					load++
				}
			}
			switch {
			case !slices.Equal(ringing, ag.ringing):
				return fmt.Sprintf("%s: ringing has %d chats, a scan finds %d", ag.login, len(ag.ringing), len(ringing))
			case !slices.Equal(held, ag.held):
				return fmt.Sprintf("%s: held has %d chats, a scan finds %d", ag.login, len(ag.held), len(held))
			case a.load(ag) != load:
				return fmt.Sprintf("%s: load %d, a scan finds %d", ag.login, a.load(ag), load)
			}
			for _, as := range ag.live {
				if d := as.lastActivity.Add(s.cfg.SessionIdleTimeout); a.sessionDue.IsZero() || d.Before(a.sessionDue) {
					return fmt.Sprintf("session bound %v after a deadline %v", a.sessionDue, d)
				}
			}
		}
		for _, ls := range a.logins {
			if d := ls.refreshed.Add(s.cfg.LoginTTL); a.loginDue.IsZero() || d.Before(a.loginDue) {
				return fmt.Sprintf("login bound %v after a deadline %v", a.loginDue, d)
			}
		}
		for _, c := range a.open {
			if c.ringing == nil {
				continue
			}
			if d := c.ringSince.Add(s.cfg.AcceptWindow); a.ringDue.IsZero() || d.Before(a.ringDue) {
				return fmt.Sprintf("ring bound %v after a deadline %v", a.ringDue, d)
			}
		}
		if a.routeDirty {
			continue
		}
		for _, c := range queue {
			for _, ag := range a.agents {
				if canTake(c, ag, a.load(ag)) {
					return fmt.Sprintf("route flag clean, but chat %s could ring at %s", c.id, ag.login)
				}
			}
		}
	}
	return ""
}
