package lpsim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

func TestDomainAPI(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	c := e.client(t)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, p := range []string{
		"/api/account/" + acct + "/service/agentVep/baseURI.json?version=1.0",
		"/csdr/account/" + acct + "/service/agentVep/baseURI.json?version=1.0",
		"/api/account/" + acct + "/service/agentVep/baseURI",
	} {
		r := c.do(http.MethodGet, e.srv.URL+p, nil).expect(t, 200)
		if str(t, r.doc, "service") != "agentVep" || str(t, r.doc, "account") != acct || str(t, r.doc, "baseURI") != host {
			t.Fatalf("%s: %s", p, r.raw)
		}
	}
	all := c.do(http.MethodGet, e.srv.URL+"/api/account/"+acct+"/service/baseURI.json?version=1.0", nil).expect(t, 200)
	uris := list(t, all.doc, "baseURIs")
	if len(uris) != 2 || str(t, uris[1], "service") != "smt" || str(t, uris[1], "baseURI") != host {
		t.Fatalf("all services: %s", all.raw)
	}
	c.do(http.MethodGet, e.srv.URL+"/api/account/999/service/agentVep/baseURI.json?version=1.0", nil).expect(t, 401)
	c.do(http.MethodGet, e.srv.URL+"/api/account/"+acct+"/service/nope/baseURI.json", nil).expect(t, 404)
}

func TestLogin(t *testing.T) {
	e := newEnv(t, lpsim.Config{LoginTTL: time.Hour}, false)
	c := e.client(t)
	for _, ver := range []string{"?v=1.3", "?v=1.2", "?v=1.1", ""} {
		r := c.do(http.MethodPost, c.base+"/login"+ver, map[string]string{"username": "ann", "password": annPass}).expect(t, 200)
		for _, k := range []string{"csrf", "wsuk", "bearer", "sessionId", "config.loginName", "config.userId"} {
			str(t, r.doc, k)
		}
		num(t, r.doc, "config.serverCurrentTime")
		if str(t, r.doc, "sessionTTl") != "3600000" {
			t.Fatalf("sessionTTl: %s", r.raw)
		}
		if str(t, r.doc, "csdsCollectionResponse.baseURIs.0.service") != "agentVep" {
			t.Fatalf("csds map: %s", r.raw)
		}
	}
	app := c.do(http.MethodPost, c.base+"/login?v=1.3", map[string]string{"username": "bot", "appKey": botAppKey,
		"secret": botSecret, "accessToken": botToken, "accessTokenSecret": botTokenSc}).expect(t, 200)
	str(t, app.doc, "bearer")

	for _, body := range []map[string]string{
		{"username": "ann", "password": "wrong"},
		{"username": "nobody", "password": annPass},
		{"username": "bot", "appKey": botAppKey, "secret": "x", "accessToken": botToken, "accessTokenSecret": botTokenSc},
		{"username": "bot", "password": "anything"},
	} {
		r := c.do(http.MethodPost, c.base+"/login?v=1.3", body).expect(t, 401)
		if str(t, r.doc, "error.responseStatus") != "UNAUTHORIZED" || str(t, r.doc, "error.time") == "" {
			t.Fatalf("login error shape: %s", r.raw)
		}
		num(t, r.doc, "error.internalCode")
		if body["password"] != "" && strings.Contains(string(r.raw), body["password"]) {
			t.Fatal("login error repeats the password")
		}
	}
	c.do(http.MethodPost, c.base+"/login", `{"username":`).expect(t, 400)
	c.do(http.MethodPost, e.srv.URL+"/api/account/999/login?v=1.3", map[string]string{"username": "ann", "password": annPass}).expect(t, 401)
}

func TestRefreshAndLoginExpiry(t *testing.T) {
	e := newEnv(t, lpsim.Config{LoginTTL: time.Hour, SessionIdleTimeout: 10 * time.Hour}, false)
	c := e.client(t)
	c.login("ann", annPass)
	c.startSession()

	bad := c.post(c.base+"/refresh", map[string]string{"csrf": "nope"}).expect(t, 401)
	if num(t, bad.doc, "error.internalCode") != 10 || !strings.HasPrefix(str(t, bad.doc, "error.message"), "CSRF token invalid") {
		t.Fatalf("bad csrf body: %s", bad.raw)
	}
	stranger := e.client(t) // no Session_id cookie
	stranger.post(c.base+"/refresh", map[string]string{"csrf": c.csrf}).expect(t, 401)

	// Refreshing before the TTL keeps the bearer alive past the first TTL.
	e.clock.Advance(50 * time.Minute)
	r := c.post(c.base+"/refresh?v=1.2", map[string]string{"csrf": c.csrf}).expect(t, 200)
	if len(r.raw) != 0 {
		t.Fatalf("refresh body %q", r.raw)
	}
	e.clock.Advance(50 * time.Minute)
	c.get(c.as+"/availability").expect(t, 200)

	// Without refresh the login expires: 401, and refresh cannot revive it.
	e.clock.Advance(61 * time.Minute)
	c.get(c.as+"/availability").expect(t, 401)
	c.post(c.base+"/refresh", map[string]string{"csrf": c.csrf}).expect(t, 401)

	// A new login of the same agent may keep using the agent session.
	c.login("ann", annPass)
	c.get(c.as+"/availability").expect(t, 200)

	must(t, e.sim.ExpireLogin(acct, "ann"))
	c.get(c.as+"/availability").expect(t, 401)
}

func TestLogoutEndsSessionsAndRequeuesChats(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ann := e.online(t, "ann", annPass)
	chatID := e.startChat(t, lpsim.VisitorSpec{SkillID: skillBill})
	ann.accept()

	bob := e.online(t, "bob", bobPass)
	if got := bob.ringing(); got != "0" {
		t.Fatalf("bob rings before ann leaves: %s", got)
	}
	r := ann.post(ann.base+"/logout", map[string]string{"csrf": ann.csrf}).expect(t, 200)
	if !strings.Contains(r.header.Get("Set-Cookie"), "Session_id=;") {
		t.Fatalf("logout must clear the cookie: %v", r.header)
	}
	ann.get(ann.as+"/availability").expect(t, 401)
	if st, err := e.sim.AgentAvailability(acct, "ann"); err != nil || st != "Offline" {
		t.Fatalf("ann after logout: %q %v", st, err)
	}
	views, err := e.sim.ChatEvents(acct, chatID)
	must(t, err)
	n := len(views)
	if views[n-2].SystemMessageID != 23 || views[n-1].State != "waiting" {
		t.Fatalf("requeue events: %+v %+v", views[n-2], views[n-1])
	}
	if got := bob.ringing(); got != "1" {
		t.Fatalf("bob ringingCount %s after ann logged out", got)
	}
	bob.accept()
	if st, who, _ := e.sim.ChatState(acct, chatID); st != "chatting" || who != "bob" {
		t.Fatalf("chat %s with %q", st, who)
	}
}
