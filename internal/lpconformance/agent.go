package lpconformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/testwait"
)

// env is what one case works with: the target and the {base} the domain
// lookup gave.
type env struct {
	t    testing.TB
	tg   *Target
	base string
}

// domainURL is §3's lookup of the agentVep service.
func (tg *Target) domainURL(account string) string {
	return strings.TrimRight(tg.DomainURL, "/") + "/api/account/" + url.PathEscape(account) +
		"/service/agentVep/baseURI.json?version=1.0"
}

// newEnv looks the agentVep host up (§3) and builds {base} with the
// Domain URL's scheme.
func newEnv(t testing.TB, tg *Target) *env {
	t.Helper()
	c := newConn(t, tg, "")
	a := want(t, c.call(http.MethodGet, tg.domainURL(tg.Account), nil), http.StatusOK)
	host := mustText(t, a.doc.key("baseURI"))
	scheme := "https"
	if u, err := url.Parse(tg.DomainURL); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	return &env{t: t, tg: tg, base: scheme + "://" + host + "/api/account/" + url.PathEscape(tg.Account)}
}

// loginBody is the user login (§4.1) when the agent has a password, else
// the application login (§4.2).
func loginBody(a Agent) map[string]string {
	if a.Password != "" {
		return map[string]string{"username": a.Username, "password": a.Password}
	}
	return appLoginBody(a)
}

func appLoginBody(a Agent) map[string]string {
	return map[string]string{"username": a.Username, "appKey": a.AppKey, "secret": a.Secret,
		"accessToken": a.AccessToken, "accessTokenSecret": a.AccessTokenSecret}
}

// loginURL is §4.1's URL with the documented version.
func (e *env) loginURL() string { return e.base + "/login?v=1.3" }

// login logs an agent in on a conn of its own; it logs out with the test.
func (e *env) login(a Agent) *conn {
	e.t.Helper()
	return e.loginWith(a, loginBody(a))
}

func (e *env) loginWith(a Agent, body map[string]string) *conn {
	e.t.Helper()
	c := newConn(e.t, e.tg, e.base)
	res := want(e.t, c.call(http.MethodPost, e.loginURL(), body), http.StatusOK)
	c.bearer = mustText(e.t, res.doc.key("bearer"))
	c.csrf = mustText(e.t, res.doc.key("csrf"))
	e.t.Cleanup(func() {
		if _, err := c.send(http.MethodPost, e.base+"/logout", map[string]string{"csrf": c.csrf}); err != nil {
			e.t.Logf("clean-up: logout of %s: %v", a.Username, err)
		}
	})
	return c
}

// session is one agent session (§5.1) of a conn.
type session struct {
	c   *conn
	url string // {as}
}

// startSession starts an agent session; it goes Away with the test, so
// that no later chat rings at it.
func (e *env) startSession(c *conn) *session {
	e.t.Helper()
	res := want(e.t, c.post(e.base+"/agentSession", map[string]string{"loginData": ""}),
		http.StatusCreated, http.StatusOK)
	s := &session{c: c, url: location(e.t, res, "agentSessionLocation")}
	e.t.Cleanup(func() {
		if _, err := c.send(http.MethodPost, api(s.url+"/availability"), availabilityBody("Away"),
			"X-HTTP-Method-Override", http.MethodPut); err != nil {
			e.t.Logf("clean-up: set %s Away: %v", s.url, err)
		}
	})
	return s
}

// online logs an agent in, starts a session and sets it Online.
func (e *env) online(a Agent) *session {
	e.t.Helper()
	s := e.startSession(e.login(a))
	s.setAvailability("Online")
	return s
}

func availabilityBody(v string) map[string]any {
	return map[string]any{"availability": map[string]string{"chat": v}}
}

// setAvailability is §5.4: POST + override PUT, 200.
func (s *session) setAvailability(v string) {
	s.c.t.Helper()
	want(s.c.t, s.c.put(s.url+"/availability", availabilityBody(v)), http.StatusOK)
}

// availability is §5.3's chat value, one of §7's.
func (s *session) availability() string {
	s.c.t.Helper()
	a := want(s.c.t, s.c.get(s.url+"/availability"), http.StatusOK)
	return mustOneOf(s.c.t, a.doc.key("availability").key("chat"), "Online", "Away", "Occupied", "Offline")
}

// ringing is §5.8: the ringing count and the document.
func (s *session) ringing() (int64, answer) {
	s.c.t.Helper()
	a := want(s.c.t, s.c.get(s.url+"/incomingRequests"), http.StatusOK)
	return mustNumber(s.c.t, a.doc.key("incomingRequests").key("ringingCount")), a
}

// waitRinging polls §5.8 until at least n chats ring.
func (s *session) waitRinging(tg *Target, n int64) answer {
	s.c.t.Helper()
	var last answer
	testwait.Until(s.c.t, tg.WaitTimeout, func() error {
		var count int64
		count, last = s.ringing()
		if count < n {
			return fmt.Errorf("ringingCount %d, want ≥ %d: %s", count, n, last)
		}
		return nil
	})
	return last
}

// accept is §5.9: 201 with chatLocation; it returns the chat URL.
func (s *session) accept() string {
	s.c.t.Helper()
	a := want(s.c.t, s.c.post(s.url+"/incomingRequests", struct{}{}), http.StatusCreated)
	return location(s.c.t, a, "chatLocation")
}

// startChat makes the visitor ask for a chat; it leaves with the test.
func (e *env) startChat(name string) string {
	e.t.Helper()
	id, err := e.tg.Visitor.StartChat(e.t.Context(), e.tg.SkillID, name)
	if err != nil {
		e.t.Fatalf("visitor: %v", err)
	}
	e.t.Cleanup(func() { _ = e.tg.Visitor.End(context.WithoutCancel(e.t.Context()), id) }) // may have ended already
	return id
}

// ringAndAccept starts a chat, waits for it to ring at s and accepts it;
// it returns the chat's id and URL ({chat}).
func (e *env) ringAndAccept(s *session, name string) (string, string) {
	e.t.Helper()
	id := e.startChat(name)
	s.waitRinging(e.tg, 1)
	u := s.accept()
	if got := lastSegment(u); got != id {
		e.t.Fatalf("accepted chat %s (%s), want the visitor's chat %s", got, u, id)
	}
	return id, u
}

// event is one chat event (§6.1).
type event struct {
	id  int64
	typ string
	n   node
}

func (ev event) field(name string) string {
	s, _ := ev.n.key(name).text()
	return s
}

// events reads an event element (one or many, "@id" or "id"); the ids must
// rise by one (§2.4).
func events(t testing.TB, n node) []event {
	t.Helper()
	var out []event
	for _, e := range n.items() {
		ev := event{id: mustNumber(t, e.key("@id", "id")), n: e}
		ev.typ = mustOneOf(t, e.key("@type", "type"), "line", "state", "resource", "url", "a2a-transfer")
		out = append(out, ev)
	}
	for i := 1; i < len(out); i++ {
		if out[i].id != out[i-1].id+1 {
			t.Fatalf("%s: event ids %v do not rise by one (§2.4)", n.path, ids(out))
		}
	}
	return out
}

func ids(evs []event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.id
	}
	return out
}

// lastState is the state of the last state event.
func lastState(evs []event) string {
	for _, e := range slices.Backward(evs) {
		if e.typ == "state" {
			return e.field("state")
		}
	}
	return ""
}
