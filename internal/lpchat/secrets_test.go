package lpchat_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// secretValues are the values that must never be rendered.
var secretValues = []string{testPassword, testBearer, testCSRF, "app-KEY-secret-1", "app-SECRET-2",
	"access-TOKEN-3", "access-TOKEN-SECRET-4", testClientID, testClientSecret, url.QueryEscape(testClientSecret)}

// assertNoSecret fails when s holds any secret value.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range secretValues {
		if strings.Contains(s, v) {
			t.Errorf("%s reveals a secret: %s", what, s)
		}
	}
}

// renderings returns v formatted with every common verb, logged with both
// slog handlers and JSON-encoded.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["ptr %+v"] = fmt.Sprintf("%+v", &v)
	out["in struct %+v"] = fmt.Sprintf("%+v", struct{ V any }{v})
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
	out["slog"] = buf.String()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out["json"] = string(b)
	return out
}

func TestCredentialsRedacted(t *testing.T) {
	for _, cr := range []lpchat.Credentials{
		{Username: testUser, Password: testPassword},
		{Username: testUser, AppKey: "app-KEY-secret-1", Secret: "app-SECRET-2", AccessToken: "access-TOKEN-3",
			AccessTokenSecret: "access-TOKEN-SECRET-4"},
		lpchat.OAuth2App(testUser, testClientID, testClientSecret),
	} {
		for how, s := range renderings(t, cr) {
			assertNoSecret(t, "Credentials "+how, s)
		}
		for how, s := range renderings(t, &cr) {
			assertNoSecret(t, "*Credentials "+how, s)
		}
		if s := fmt.Sprint(cr); !strings.Contains(s, testUser) || !strings.Contains(s, "[REDACTED]") {
			t.Errorf("String() = %q, want the user name and [REDACTED]", s)
		}
	}
}

func TestLoginSessionRedacted(t *testing.T) {
	f := newFake(t)
	ls, err := newClient(t, f).Login(testCtx(t), lpchat.Credentials{Username: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	for how, s := range renderings(t, *ls) {
		assertNoSecret(t, "LoginSession "+how, s)
	}
	for how, s := range renderings(t, ls) {
		assertNoSecret(t, "*LoginSession "+how, s)
	}
	if s := fmt.Sprint(ls); !strings.Contains(s, "bot.one") {
		t.Errorf("String() = %q lost the login name", s)
	}
}

func TestErrorsAndLogsHoldNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	f := newFake(t)
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := session(t, f, func(c *lpchat.Config) { c.Logger = logger })
	ctx := testCtx(t)

	// A service that echoes the session's secrets in its error messages.
	// (The password is only known to the client during Login; the login
	// error case is below.)
	echo := "bearer " + testBearer + " csrf " + testCSRF
	f.serveDoc("GET /agentSession/"+testASID+"/info", 400, `{"error":{"message":"`+echo+`","internalCode":1}}`)
	_, err := s.Info(ctx)
	if !errors.Is(err, lpchat.ErrBadRequest) {
		t.Fatalf("err = %v", err)
	}
	for how, r := range renderings(t, err) {
		assertNoSecret(t, "error "+how, r)
	}
	var ae *lpchat.APIError
	if errors.As(err, &ae) {
		assertNoSecret(t, "APIError.Message", ae.Message)
		if !strings.Contains(ae.Message, "[REDACTED]") {
			t.Errorf("Message = %q, want the secrets replaced", ae.Message)
		}
	}

	f.serveDoc("POST /refresh", 401, `{"error":{"message":"csrf `+testCSRF+` invalid","internalCode":10}}`)
	if err := s.Client().Refresh(ctx); err == nil {
		t.Fatal("refresh succeeded")
	} else {
		assertNoSecret(t, "refresh error", fmt.Sprintf("%+v", err))
	}

	// Login failure echoing the password.
	f.handle("POST /login", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"error":{"message":"bad password `+testPassword+`","internalCode":2}}`)
	})
	_, err = s.Client().Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword})
	if !errors.Is(err, lpchat.ErrAuth) {
		t.Fatalf("err = %v", err)
	}
	assertNoSecret(t, "login error", err.Error())

	// A plain-text login failure (§4.2) echoing an OAuth2 app's values, raw
	// and form-encoded.
	f.handle("POST /login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(401)
		_, _ = io.WriteString(w, "oauth_problem=token_rejected&oauth_consumer_key="+testClientID+
			"&secret="+url.QueryEscape(testClientSecret)+"&raw="+testClientSecret)
	})
	_, err = s.Client().Login(ctx, lpchat.OAuth2App(testUser, testClientID, testClientSecret))
	if !errors.Is(err, lpchat.ErrAuth) {
		t.Fatalf("err = %v", err)
	}
	for how, r := range renderings(t, err) {
		assertNoSecret(t, "plain-text login error "+how, r)
	}
	if !strings.Contains(err.Error(), "oauth_problem=token_rejected&oauth_consumer_key=[REDACTED]") {
		t.Errorf("plain-text login error = %v, want the redacted text", err)
	}

	// A login document that does not decode.
	f.serveDoc("POST /login", 200, `{"bearer": {"v": "`+testBearer+`"}, "csrf": "`+testCSRF+`"}`)
	_, err = s.Client().Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword})
	if !errors.Is(err, lpchat.ErrProtocol) {
		t.Fatalf("err = %v", err)
	}
	assertNoSecret(t, "login decode error", err.Error())

	assertNoSecret(t, "logs", logs.String())
	if !strings.Contains(logs.String(), "op=\"agent info\"") {
		t.Errorf("logs lack the failed operation: %s", logs.String())
	}
}
