package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// An OAuth2 client-credentials app of bot.one (chat-agent-api.md §4.2); the
// secret has characters a form-encoded answer escapes.
const (
	e2eClientID     = "e2e-client-ID-QUOKKA-31"
	e2eClientSecret = "e2e-client/SECRET+QUOKKA-32"
)

// oauth2Vars is the environment of a bridge whose one agent logs in with
// its OAuth2 app, with debug logs in JSON and the live view on.
func oauth2Vars(natsURL, simURL, clientSecret string) map[string]string {
	vars := bridgeVars(natsURL, simURL, botOne, "")
	delete(vars, "AGENT_PASSWORD")
	vars["AGENT_CLIENT_ID"], vars["AGENT_CLIENT_SECRET"] = e2eClientID, clientSecret
	vars["LOG_LEVEL"], vars["LOG_FORMAT"], vars["SHOW_EVENTS"] = "debug", "json", "true"
	return vars
}

// assertNoAppSecret fails when text holds the OAuth2 app's values.
func assertNoAppSecret(t *testing.T, place, text string) {
	t.Helper()
	for _, s := range []string{e2eClientID, e2eClientSecret, url.QueryEscape(e2eClientSecret)} {
		if strings.Contains(text, s) {
			t.Errorf("%s contains a value of the OAuth2 app", place)
		}
	}
}

// stopAndSearch stops the bridge and looks for the OAuth2 app's values in
// the logs, the live view and every stream (events and KV).
func stopAndSearch(t *testing.T, b *inProcessBridge, js jetstream.JetStream) {
	t.Helper()
	if err := b.stop(); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	assertNoAppSecret(t, "the logs", b.stderr.String())
	assertNoAppSecret(t, "the live view", b.stdout.String())
	for name, raw := range jetStreamContents(t, js) {
		assertNoAppSecret(t, "stream "+name, raw)
	}
}

// TestE2EOAuth2AppLogin: a bot configured with an OAuth2 app in the
// environment logs in (again after its login is lost), takes a chat, and
// the app's values appear nowhere: logs, live view, events, KV.
func TestE2EOAuth2AppLogin(t *testing.T) {
	sim, simURL := startSim(t, simOptions{seed: 7, agents: []lpsim.AgentSpec{{LoginName: botOne, Nickname: "Bot One",
		ClientID: e2eClientID, ClientSecret: e2eClientSecret, SkillIDs: []string{skillSupport}}}})
	ns, _, js := natstest.RunServer(t)
	setBridgeEnv(t, oauth2Vars(ns.ClientURL(), simURL, e2eClientSecret))
	b := startBridge(t)
	col := collectEvents(t, b, js)

	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Dana", SkillID: skillSupport})
	col.waitFor(t, b, "chat.accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	if err := sim.ExpireLogin(e2eAccount, botOne); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, b, "two OAuth2 logins", func() error {
		if n := strings.Count(b.stderr.String(), `"method":"oauth2-app"`); n < 2 {
			return fmt.Errorf("%d logins logged with method oauth2-app", n)
		}
		return nil
	})
	if _, err := sim.VisitorLine(e2eAccount, chat, "still there?"); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, b, "the line after the new login", func(r received) bool {
		return r.is(events.ChatLine, chat) && r.str("text") == "still there?"
	})
	stopAndSearch(t, b, js)
}

// TestE2EOAuth2AppRefusedPlainText: a service that refuses the app with a
// plain-text 401 echoing its values (as real oauth_problem answers may):
// the bridge publishes agent.session error with the problem as the reason,
// redacted, and keeps running.
func TestE2EOAuth2AppRefusedPlainText(t *testing.T) {
	plainLogin := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/login") {
				h.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "oauth_problem=token_rejected&oauth_consumer_key="+e2eClientID+
				"&oauth_secret="+url.QueryEscape(e2eClientSecret))
		})
	}
	_, simURL := startSim(t, simOptions{seed: 8, wrap: plainLogin, agents: []lpsim.AgentSpec{{LoginName: botOne,
		ClientID: e2eClientID, ClientSecret: e2eClientSecret, SkillIDs: []string{skillSupport}}}})
	ns, _, js := natstest.RunServer(t)
	setBridgeEnv(t, oauth2Vars(ns.ClientURL(), simURL, e2eClientSecret))
	b := startBridge(t)
	col := collectEvents(t, b, js)

	ev := col.waitFor(t, b, "agent.session error", func(r received) bool {
		return r.is(events.AgentSession, "") && r.str("state") == events.SessionError
	})
	if why := ev.str("reason"); !strings.Contains(why, "401") ||
		!strings.Contains(why, "oauth_problem=token_rejected&oauth_consumer_key=[REDACTED]&oauth_secret=[REDACTED]") {
		t.Errorf("reason %q, want the 401 and the redacted problem", why)
	}
	stopAndSearch(t, b, js)
}

// TestE2EZeroConfigOAuth2Bot: in the zero-config demo bot.two logs in with
// its OAuth2 app (the recommended path) and takes chats like bot.one.
func TestE2EZeroConfigOAuth2Bot(t *testing.T) {
	clearBridgeEnv(t)
	t.Setenv(envPrefix+"_POLL_INTERVAL", "100ms")
	t.Setenv(envPrefix+"_SIM_VISITORS_PER_MINUTE", "600")
	t.Setenv(envPrefix+"_HTTP_ADDR", "127.0.0.1:0")
	b := startBridge(t)
	waitUntil(t, b, "bot.two logged in with its OAuth2 app and took a chat", func() error {
		if !hasLine(b.stderr.String(), `msg="logged in"`, "login=bot.two", "method=oauth2-app") {
			return fmt.Errorf("no OAuth2 login of bot.two logged yet:\n%s", tail(b.stderr.String(), 10))
		}
		if hasLine(b.stdout.String(), " bot_two ", "accepted (auto)") {
			return nil
		}
		return fmt.Errorf("bot_two accepted no chat yet:\n%s", tail(b.stdout.String(), 10))
	})
	if err := b.stop(); err != nil {
		t.Fatalf("run after cancel: %v, want nil", err)
	}
	assertNoAppSecret(t, "the logs", b.stderr.String())
	if strings.Contains(b.stderr.String(), lpsim.DemoClientSecret) {
		t.Error("the logs show the demo client secret")
	}
}

// hasLine reports whether a line of text holds every part.
func hasLine(text string, parts ...string) bool {
	for line := range strings.Lines(text) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			return true
		}
	}
	return false
}
