package lpsim_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// An OAuth2 client-credentials app of the test account (chat-agent-api.md §4.2).
const (
	appBot       = "app.bot"
	appClientID  = "app-bot-client-id"
	appClientSec = "app-bot-client-secret"
)

// addOAuth2Bot adds an agent that logs in only with an OAuth2 app.
func addOAuth2Bot(t *testing.T, e *env) {
	t.Helper()
	must(t, e.sim.AddAgent(acct, lpsim.AgentSpec{LoginName: appBot, ClientID: appClientID, ClientSecret: appClientSec}))
}

// appLogin is the body of an application login (§4.2).
func appLogin(user, appKey, secret, token, tokenSecret string) map[string]string {
	return map[string]string{"username": user, "appKey": appKey, "secret": secret,
		"accessToken": token, "accessTokenSecret": tokenSecret}
}

// TestLoginKinds logs in with each of the three kinds of credentials and
// uses the bearer; the wrong variants of each are 401.
func TestLoginKinds(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	addOAuth2Bot(t, e)
	for name, body := range map[string]map[string]string{
		"password":   {"username": "ann", "password": annPass},
		"oauth1 key": appLogin("bot", botAppKey, botSecret, botToken, botTokenSc),
		"oauth2 app": appLogin(appBot, appClientID, appClientSec, "dummy", "dummy"),
	} {
		c := e.client(t)
		r := c.do(http.MethodPost, c.base+"/login?v=1.3", body).expect(t, 200)
		c.bearer = str(t, r.doc, "bearer")
		c.startSession()
		if got := str(t, c.get(c.as+"/info").expect(t, 200).doc, "info.loginName"); got != body["username"] {
			t.Errorf("%s: logged in as %q", name, got)
		}
	}
	c := e.client(t)
	for name, body := range map[string]map[string]string{
		"oauth2 wrong secret":        appLogin(appBot, appClientID, "wrong-secret", "dummy", "dummy"),
		"oauth2 without dummy":       appLogin(appBot, appClientID, appClientSec, "", ""),
		"oauth2 with tokens":         appLogin(appBot, appClientID, appClientSec, botToken, botTokenSc),
		"oauth2 app of another user": appLogin("bot", appClientID, appClientSec, "dummy", "dummy"),
		"oauth1 key as oauth2 app":   appLogin("bot", botAppKey, botSecret, "dummy", "dummy"),
	} {
		r := c.do(http.MethodPost, c.base+"/login?v=1.3", body).expect(t, 401)
		if str(t, r.doc, "error.responseStatus") != "UNAUTHORIZED" {
			t.Errorf("%s: error shape %s", name, r.raw)
		}
		if strings.Contains(string(r.raw), appClientSec) {
			t.Errorf("%s: the error repeats the client secret", name)
		}
	}
}

// TestOAuth2AppSpec checks the spec of an OAuth2 app: both values, and a
// client id no other app of the account uses.
func TestOAuth2AppSpec(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	addOAuth2Bot(t, e)
	for name, tc := range map[string]struct {
		spec lpsim.AgentSpec
		want error
	}{
		"client id alone":      {lpsim.AgentSpec{LoginName: "n", ClientID: "c"}, lpsim.ErrInvalidSpec},
		"client secret alone":  {lpsim.AgentSpec{LoginName: "n", Password: "p", ClientSecret: "s"}, lpsim.ErrInvalidSpec},
		"client id used twice": {lpsim.AgentSpec{LoginName: "n", ClientID: appClientID, ClientSecret: "s"}, lpsim.ErrAgentExists},
		"client id = app key":  {lpsim.AgentSpec{LoginName: "n", ClientID: botAppKey, ClientSecret: "s"}, lpsim.ErrAgentExists},
		"app key = client id": {lpsim.AgentSpec{LoginName: "n", AppKey: appClientID, Secret: "s", AccessToken: "t",
			AccessTokenSecret: "ts"}, lpsim.ErrAgentExists},
	} {
		if err := e.sim.AddAgent(acct, tc.spec); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

// TestPlainTextAuthErrors: with PlainTextAuthErrors a rejected login, bearer
// or OAuth signature is a 401 with a text/plain oauth_problem body, as the
// real service answers at times (§4.2).
func TestPlainTextAuthErrors(t *testing.T) {
	e := newEnv(t, lpsim.Config{PlainTextAuthErrors: true}, false)
	addOAuth2Bot(t, e)
	c := e.client(t)
	for name, tc := range map[string]struct {
		send func() (resp, error)
		want string
	}{
		"login": {func() (resp, error) {
			return c.send(http.MethodPost, c.base+"/login?v=1.3", appLogin(appBot, appClientID, "wrong", "dummy", "dummy"))
		}, "oauth_problem=token_rejected&oauth_problem_advice="},
		"bearer": {func() (resp, error) {
			return c.send(http.MethodGet, v(c.base+"/agentSession/1/info"), nil, "Authorization", "Bearer dead")
		}, "oauth_problem=token_rejected&"},
		"signature": {func() (resp, error) {
			u := v(c.base + "/agentSession/1/info")
			return c.send(http.MethodGet, u, nil, "Authorization", oauthHeader(t, http.MethodGet, u, "wrong-secret"))
		}, "oauth_problem=signature_invalid&"},
	} {
		r, err := tc.send()
		if err == nil {
			t.Errorf("%s: the answer decodes as JSON: %s", name, r.raw)
		}
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(string(r.raw), tc.want) {
			t.Errorf("%s: %d %q, want 401 %q...", name, r.status, r.raw, tc.want)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q, want text/plain", name, ct)
		}
	}
	// Only failures change: a good login still answers JSON.
	c.do(http.MethodPost, c.base+"/login?v=1.3", appLogin(appBot, appClientID, appClientSec, "dummy", "dummy")).expect(t, 200)
}

// TestDemoOAuth2App: every demo agent has an OAuth2 app.
func TestDemoOAuth2App(t *testing.T) {
	sim, err := lpsim.New(lpsim.Config{})
	must(t, err)
	t.Cleanup(sim.Close)
	_, err = sim.AddDemo(lpsim.DemoSpec{})
	must(t, err)
	e := &env{sim: sim, srv: newServer(t, sim)}
	c := e.client(t)
	c.base = e.srv.URL + "/api/account/" + lpsim.DemoAccountID
	for _, login := range []string{"bot.one", "bot.two"} {
		r := c.do(http.MethodPost, c.base+"/login?v=1.3",
			appLogin(login, lpsim.DemoClientID(login), lpsim.DemoClientSecret, "dummy", "dummy")).expect(t, 200)
		str(t, r.doc, "bearer")
	}
}
