package lpconformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// unknownAccount is an account id no server should know: the Domain API
// answers 401 "bad site" for it (§3).
const unknownAccount = "0"

// badSecret replaces a credential or csrf to make it wrong.
const badSecret = "lpconformance-wrong"

// sessionCookie is the Login Service's cookie (§4.3), the one cookie name
// the reference gives.
const sessionCookie = "Session_id"

// testDomain: §3's lookup answers the agentVep host without Authorization,
// and 401 for an unknown account.
func testDomain(t testing.TB, tg *Target) {
	c := newConn(t, tg, "")
	a := want(t, c.call(http.MethodGet, tg.domainURL(tg.Account), nil), http.StatusOK)
	if s := mustText(t, a.doc.key("service")); s != "agentVep" {
		t.Errorf("%s; want service agentVep", a)
	}
	if acct, ok := a.doc.key("account").text(); ok && acct != tg.Account {
		t.Errorf("%s; want account %s", a, tg.Account)
	}
	host := mustText(t, a.doc.key("baseURI"))
	if strings.Contains(host, "/") {
		t.Errorf("baseURI %q: want a host, without scheme or path (§3)", host)
	}
	want(t, c.call(http.MethodGet, tg.domainURL(unknownAccount), nil), http.StatusUnauthorized)
}

// checkLogin checks §4.3's answer.
func checkLogin(t testing.TB, a answer) {
	t.Helper()
	mustText(t, a.doc.key("bearer"))
	mustText(t, a.doc.key("csrf"))
	if ttl := mustNumber(t, a.doc.key("sessionTTl")); ttl <= 0 {
		t.Errorf("%s; want a positive sessionTTl", a)
	}
	if !hasCookie(a.header, sessionCookie) {
		t.Errorf("%s; want the %s cookie (§4.3)", a, sessionCookie)
	}
}

func hasCookie(h http.Header, name string) bool {
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == name && ck.Value != "" {
			return true
		}
	}
	return false
}

// testPasswordLogin: §4.1 and §4.3; a wrong password is 401.
func testPasswordLogin(t testing.TB, tg *Target) {
	if tg.Agent.Password == "" {
		t.Skip("lpconformance: the Agent has no Password")
	}
	e := newEnv(t, tg)
	c := newConn(t, tg, e.base)
	body := map[string]string{"username": tg.Agent.Username, "password": tg.Agent.Password}
	a := want(t, c.call(http.MethodPost, e.loginURL(), body), http.StatusOK)
	checkLogin(t, a)
	c.csrf = mustText(t, a.doc.key("csrf"))
	wantEmpty(t, c.call(http.MethodPost, e.base+"/logout", map[string]string{"csrf": c.csrf}))

	body["password"] = badSecret
	want(t, newConn(t, tg, e.base).call(http.MethodPost, e.loginURL(), body), http.StatusUnauthorized)
}

// testAppLogin: §4.2, five fields; an OAuth2 app sends "dummy" tokens. A
// wrong secret is 401.
func testAppLogin(t testing.TB, tg *Target) {
	if tg.Agent.AppKey == "" {
		t.Skip("lpconformance: the Agent has no AppKey")
	}
	e := newEnv(t, tg)
	c := newConn(t, tg, e.base)
	a := want(t, c.call(http.MethodPost, e.loginURL(), appLoginBody(tg.Agent)), http.StatusOK)
	checkLogin(t, a)
	c.csrf = mustText(t, a.doc.key("csrf"))
	wantEmpty(t, c.call(http.MethodPost, e.base+"/logout", map[string]string{"csrf": c.csrf}))

	bad := appLoginBody(tg.Agent)
	bad["secret"] = badSecret
	want(t, newConn(t, tg, e.base).call(http.MethodPost, e.loginURL(), bad), http.StatusUnauthorized)
}

// testRefresh: §4.4, 200 empty with the cookie and csrf; a bad csrf is 401.
func testRefresh(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	c := e.login(tg.Agent)
	want(t, c.call(http.MethodPost, e.base+"/refresh", map[string]string{"csrf": badSecret}), http.StatusUnauthorized)
	wantEmpty(t, c.call(http.MethodPost, e.base+"/refresh", map[string]string{"csrf": c.csrf}))
	// The bearer stays after a refresh (§4.4 is silent on rotation; the
	// sample app and lpchat keep it), so the agent API still answers.
	s := e.startSession(c)
	s.availability()
}

// testLogout: §4.5, a bad csrf is 401, the right one 200 empty.
func testLogout(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	c := e.login(tg.Agent)
	want(t, c.call(http.MethodPost, e.base+"/logout", map[string]string{"csrf": badSecret}), http.StatusUnauthorized)
	wantEmpty(t, c.call(http.MethodPost, e.base+"/logout", map[string]string{"csrf": c.csrf}))
}

// testAgentSession: §5.1 (201, or 200 on an older page) with a location
// link to {base}/agentSession/{numeric id}; GET {as} answers (§5.2, body
// SILENT).
func testAgentSession(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.startSession(e.login(tg.Agent))
	if !strings.HasPrefix(s.url, e.base+"/agentSession/") {
		t.Errorf("agent session %s: want it under %s/agentSession/ (§5.1)", s.url, e.base)
	}
	id := lastSegment(s.url)
	if mustNumber(t, node{v: id, path: "agentSessionId"}) < 0 {
		t.Errorf("agentSessionId %q: want a numeric string (§2.4)", id)
	}
	want(t, s.c.get(s.url), http.StatusOK)
}

// testAvailability: §5.3 and §5.4; the value set is the value read.
func testAvailability(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.startSession(e.login(tg.Agent))
	s.availability()
	for _, v := range []string{"Online", "Away"} {
		s.setAvailability(v)
		if got := s.availability(); got != v {
			t.Errorf("availability %s after setting %s", got, v)
		}
	}
}

// testBadBearer: a bearer the server never issued is refused with 401
// (§9: lpchat takes it for a lost session and logs in again).
func testBadBearer(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.startSession(e.login(tg.Agent))
	bad := newConn(t, tg, e.base)
	bad.bearer = strings.Repeat("0", 64)
	want(t, bad.get(s.url+"/availability"), http.StatusUnauthorized)
	want(t, bad.get(s.url+"/incomingRequests"), http.StatusUnauthorized)
	want(t, bad.post(e.base+"/agentSession", map[string]string{"loginData": ""}), http.StatusUnauthorized)
}

// testUnknownChat: a chat the server never had is 404 (§9, lpchat's
// ErrNotFound), as the resource and as its events.
func testUnknownChat(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.startSession(e.login(tg.Agent))
	chat := s.url + "/chat/" + url.PathEscape("H0000000000-lpconformanceK0000000")
	want(t, s.c.get(chat), http.StatusNotFound)
	want(t, s.c.get(chat+"/events"), http.StatusNotFound)
}

// testCookiesPerAgent: two agents, one cookie jar each (§10), work side by
// side; each login sets its own Session_id, and agent one's cookie with
// agent two's csrf is refused (401, §4.4), so the jars must not mix.
func testCookiesPerAgent(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	one, two := e.login(tg.Agent), e.login(tg.SecondAgent)
	c1, c2 := sessionCookieOf(t, one), sessionCookieOf(t, two)
	if c1 == c2 {
		t.Fatalf("both agents got the %s cookie %q", sessionCookie, c1)
	}
	s1, s2 := e.startSession(one), e.startSession(two)
	s1.setAvailability("Away")
	s2.setAvailability("Away")
	s1.availability()
	s2.availability()
	want(t, one.call(http.MethodPost, e.base+"/refresh", map[string]string{"csrf": two.csrf}), http.StatusUnauthorized)
	wantEmpty(t, one.call(http.MethodPost, e.base+"/refresh", map[string]string{"csrf": one.csrf}))
	wantEmpty(t, two.call(http.MethodPost, e.base+"/refresh", map[string]string{"csrf": two.csrf}))
}

func sessionCookieOf(t testing.TB, c *conn) string {
	t.Helper()
	u, err := url.Parse(c.base + "/refresh")
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	t.Fatalf("no %s cookie in the jar for %s (§4.3)", sessionCookie, u)
	return ""
}
