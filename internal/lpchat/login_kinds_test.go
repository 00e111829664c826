package lpchat_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// An OAuth2 client-credentials app (chat-agent-api.md §4.2). The secret has
// characters a form-encoded answer escapes.
const (
	testClientID     = "client-ID-secret-5"
	testClientSecret = "client/SECRET+6"
)

// loginBody logs in on a fake service with cr and returns the body sent.
func loginBody(t *testing.T, cr lpchat.Credentials) map[string]string {
	t.Helper()
	f := newFake(t)
	if _, err := newClient(t, f).Login(testCtx(t), cr); err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(f.last("/login").Body), &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func TestOAuth2AppLoginBody(t *testing.T) { // §4.2
	want := map[string]string{"username": testUser, "appKey": testClientID, "secret": testClientSecret,
		"accessToken": "dummy", "accessTokenSecret": "dummy"}
	for name, cr := range map[string]lpchat.Credentials{
		"OAuth2App":       lpchat.OAuth2App(testUser, testClientID, testClientSecret),
		"dummy by caller": {Username: testUser, AppKey: testClientID, Secret: testClientSecret, AccessToken: "dummy", AccessTokenSecret: "dummy"},
	} {
		if got := loginBody(t, cr); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: login body = %v, want %v", name, got, want)
		}
	}
}

func TestCredentialsRefused(t *testing.T) {
	for name, cr := range map[string]lpchat.Credentials{
		"client id alone":      {Username: testUser, AppKey: testClientID},
		"client secret alone":  {Username: testUser, Secret: testClientSecret},
		"token without secret": {Username: testUser, AppKey: "k", Secret: "s", AccessToken: "t"},
		"token secret alone":   {Username: testUser, AppKey: "k", Secret: "s", AccessTokenSecret: "ts"},
		"app and password":     {Username: testUser, Password: testPassword, AppKey: testClientID, Secret: testClientSecret},
		"no user":              lpchat.OAuth2App("", testClientID, testClientSecret),
	} {
		f := newFake(t)
		_, err := newClient(t, f).Login(testCtx(t), cr)
		if !errors.Is(err, lpchat.ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
		if n := len(f.requests("/login")); n != 0 {
			t.Errorf("%s: sent %d logins", name, n)
		}
		if err != nil {
			assertNoSecret(t, name, err.Error())
		}
	}
}

func TestCredentialsLogTheMethod(t *testing.T) {
	for want, cr := range map[string]lpchat.Credentials{
		"password":   {Username: testUser, Password: testPassword},
		"oauth2-app": lpchat.OAuth2App(testUser, testClientID, testClientSecret),
		"oauth1-key": {Username: testUser, AppKey: "k", Secret: "s", AccessToken: "t", AccessTokenSecret: "ts"},
	} {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "cr", cr)
		if !strings.Contains(buf.String(), "cr.method="+want) {
			t.Errorf("log %q, want method %s", buf.String(), want)
		}
	}
}

// simLogin logs in to a simulator with cr.
func simLogin(t *testing.T, e *simEnv, cr lpchat.Credentials) error {
	t.Helper()
	c, err := lpchat.New(lpchat.Config{DomainURL: e.srv.URL, Account: simAccount, AllowInsecureHTTP: true,
		Retry: fastRetry(), HTTPTimeout: 5 * time.Second, Transport: e.ops})
	must(t, err)
	if _, err := c.Login(testCtx(t), cr); err != nil {
		return err
	}
	_, err = c.StartAgentSession(testCtx(t))
	return err
}

// TestSimLoginKinds logs in to the simulator with each kind of credentials;
// an OAuth2 app with a wrong secret is ErrAuth.
func TestSimLoginKinds(t *testing.T) {
	for _, plain := range []bool{false, true} {
		e := newSim(t, lpsim.Config{Seed: 1, PlainTextAuthErrors: plain})
		must(t, e.sim.AddAgent(simAccount, lpsim.AgentSpec{LoginName: "app.bot", ClientID: testClientID, ClientSecret: testClientSecret}))
		must(t, e.sim.AddAgent(simAccount, lpsim.AgentSpec{LoginName: "key.bot", AppKey: "ak-1", Secret: "as-1",
			AccessToken: "at-1", AccessTokenSecret: "ats-1"}))
		for name, cr := range map[string]lpchat.Credentials{
			"password":   {Username: simBot, Password: simPass},
			"oauth2 app": lpchat.OAuth2App("app.bot", testClientID, testClientSecret),
			"oauth1 key": {Username: "key.bot", AppKey: "ak-1", Secret: "as-1", AccessToken: "at-1", AccessTokenSecret: "ats-1"},
		} {
			if err := simLogin(t, e, cr); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		err := simLogin(t, e, lpchat.OAuth2App("app.bot", testClientID, "wrong-"+testClientSecret))
		var ae *lpchat.APIError
		if !errors.Is(err, lpchat.ErrAuth) || errors.Is(err, lpchat.ErrProtocol) || !errors.As(err, &ae) || ae.Status != 401 {
			t.Fatalf("plain %v: wrong secret: err = %v, want ErrAuth (401)", plain, err)
		}
		want := "Authentication failed"
		if plain {
			want = "oauth_problem=token_rejected&oauth_problem_advice=the oauth_token is unacceptable"
		}
		if !strings.HasPrefix(ae.Message, want) {
			t.Errorf("plain %v: Message = %q, want %q...", plain, ae.Message, want)
		}
		assertNoSecret(t, "wrong-secret error", err.Error())
	}
}

// TestPlainTextErrorCut: a long plain-text answer is cut, on a separator,
// and does not decode as JSON; JSON without the error shape gives no text.
func TestPlainTextErrorCut(t *testing.T) {
	f := newFake(t)
	s := session(t, f)
	long := "oauth_problem=token_rejected&oauth_problem_advice=" + strings.Repeat("x", 230) +
		"&token=" + testBearer + "\n<html>" + strings.Repeat("y ", 500)
	f.handle("GET /agentSession/"+testASID+"/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(401)
		_, _ = io.WriteString(w, long)
	})
	_, err := s.Info(testCtx(t))
	var ae *lpchat.APIError
	if !errors.Is(err, lpchat.ErrAuth) || errors.Is(err, lpchat.ErrProtocol) || !errors.As(err, &ae) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	wantStart := "oauth_problem=token_rejected&oauth_problem_advice=" + strings.Repeat("x", 230) + "&token=[REDACTED]"
	if !strings.HasPrefix(ae.Message, wantStart) || !strings.HasSuffix(ae.Message, "...") || len(ae.Message) > 303 {
		t.Errorf("Message = %q, want %q cut to 300 bytes on a separator", ae.Message, wantStart)
	}
	assertNoSecret(t, "cut error", err.Error())

	f.serveDoc("GET /agentSession/"+testASID+"/info", 401, `["not", "an", "error", "document"]`)
	if _, err := s.Info(testCtx(t)); !errors.As(err, &ae) || ae.Message != "" || !errors.Is(err, lpchat.ErrAuth) {
		t.Errorf("JSON without the error shape: err = %v, Message %q", err, ae.Message)
	}

	// A secret that straddles the cut is redacted whole, not kept in part.
	f.serveDoc("GET /agentSession/"+testASID+"/info", 401,
		`{"error":{"message":"`+strings.Repeat("z", 280)+` `+testBearer+`"}}`)
	if _, err := s.Info(testCtx(t)); !errors.As(err, &ae) || strings.Contains(ae.Message, testBearer[:12]) {
		t.Errorf("JSON message cut through the bearer: %q", ae.Message)
	}
}
