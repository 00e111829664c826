package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// TestE2ESessionLostAndAgentFailed runs the bridge with two agents against
// a simulator with strict agent-session cookies whose reaped agent sessions
// answer 403. bot.one's session is reaped while its visitor talks: a
// subscriber sees agent.session lost then restarted, and every line once
// and in order, and bot.one polls again. bot.two's password is wrong: it is
// failed (agent.session error, lpbridge_agents_failed, named in /readyz's
// body, which stays 200) and never tried again, while bot.one works.
func TestE2ESessionLostAndAgentFailed(t *testing.T) {
	const pw = "session-pw-one"
	sim, simURL := startSim(t, simOptions{cfg: &lpsim.Config{Seed: 9, StrictCookies: true, ReapedStatus: http.StatusForbidden},
		agents: e2eAgents(pw, "session-pw-two")})
	ns := natstest.StartServer(t)
	_, js := natstest.Connect(t, ns)

	vars := bridgeVars(ns.ClientURL(), simURL, "", "")
	for _, k := range []string{"AGENT_LOGIN", "AGENT_PASSWORD", "AGENT_AUTO_ACCEPT"} {
		delete(vars, k)
	}
	vars["POLL_INTERVAL"] = "50ms"
	vars["LOG_FORMAT"] = "json" // httpAddr reads the address from the log
	vars["AGENTS_FILE"] = writeAgentsFile(t, map[string]string{botOne: pw, botTwo: "wrong-pw-two"})
	setBridgeEnv(t, vars)
	b := startBridge(t)
	col := collectEvents(t, b, js)
	base := "http://" + httpAddr(t, b)
	one, two := "."+events.Token(botOne)+".", "."+events.Token(botTwo)+"."

	failed := col.waitFor(t, b, "bot.two's agent.session error", func(r received) bool {
		return r.is(events.AgentSession, "") && strings.Contains(r.Subject, two) && r.str("state") == events.SessionError
	})
	if why := failed.str("reason"); !strings.Contains(why, "401") || strings.Contains(why, "wrong-pw-two") {
		t.Errorf("bot.two's error reason %q: want the 401 and no password", why)
	}

	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Reaped visitor", SkillID: skillSupport})
	col.waitFor(t, b, "the chat accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	say := func(text string) {
		t.Helper()
		if _, err := sim.VisitorLine(e2eAccount, chat, text); err != nil {
			t.Fatalf("VisitorLine: %v", err)
		}
	}
	waitLine := func(text string) {
		t.Helper()
		col.waitFor(t, b, "line "+text, func(r received) bool { return r.is(events.ChatLine, chat) && r.str("text") == text })
	}
	say("before")
	waitLine("before")
	started := col.waitFor(t, b, "bot.one's session", func(r received) bool {
		return r.is(events.AgentSession, "") && strings.Contains(r.Subject, one) && r.str("state") == events.SessionStarted
	}).str("agentSessionId")

	if err := sim.ExpireAgentSession(e2eAccount, botOne); err != nil {
		t.Fatalf("ExpireAgentSession: %v", err)
	}
	say("while reaped")
	lost := col.waitFor(t, b, "bot.one's session lost", func(r received) bool {
		return r.is(events.AgentSession, "") && strings.Contains(r.Subject, one) && r.str("state") == events.SessionLost
	})
	if lost.str("agentSessionId") != started || !strings.Contains(lost.str("reason"), "403") {
		t.Errorf("lost %s: want session %s and the 403 in the reason", lost, started)
	}
	re := col.waitFor(t, b, "bot.one's session restarted", func(r received) bool {
		return r.is(events.AgentSession, "") && strings.Contains(r.Subject, one) && r.str("state") == events.SessionRestarted
	})
	if id := re.str("agentSessionId"); id == "" || id == started {
		t.Errorf("restarted session %q, want a new one", id)
	}
	waitLine("while reaped")
	say("after")
	waitLine("after")

	var texts []string
	last := -1.0
	for _, r := range col.match(func(r received) bool { return r.is(events.ChatLine, chat) }) {
		id, _ := r.Data["eventId"].(float64)
		if id <= last {
			t.Errorf("line event %v after %v: doubled or out of order", id, last)
		}
		last = id
		if r.str("source") == "visitor" {
			texts = append(texts, r.str("text"))
		}
	}
	if want := []string{"before", "while reaped", "after"}; !slices.Equal(texts, want) {
		t.Errorf("visitor lines %q, want %q each once in order", texts, want)
	}

	// bot.one polls again, bot.two stays failed and shows in /readyz.
	waitUntil(t, b, "/readyz degraded by bot.two only", func() error {
		return readyzDegraded(base+"/readyz", "agent."+botTwo, "poll."+botOne)
	})
	if m, err := scrape(base + "/metrics"); err != nil || m["lpbridge_agents_failed"] != 1 {
		t.Errorf("lpbridge_agents_failed = %v (%v), want 1", m["lpbridge_agents_failed"], err)
	}
	errs := col.match(func(r received) bool {
		return r.is(events.AgentSession, "") && strings.Contains(r.Subject, two)
	})
	if len(errs) != 1 {
		t.Errorf("bot.two has %d agent.session events %v, want the one error: a refused login is not retried", len(errs), errs)
	}
	checkEvents(t, col.all())
}

// readyzDegraded checks that /readyz answers 200 with status "degraded",
// naming failed among the degraded checks with a reason holding the 401,
// and ok the check that must pass.
func readyzDegraded(url, failed, ok string) error {
	resp, err := http.Get(url) //nolint:gosec // a loopback URL of the test
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Status   string            `json:"status"`
		Degraded []string          `json:"degraded"`
		Checks   map[string]string `json:"checks"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("body %s: %w", raw, err)
	}
	switch {
	case resp.StatusCode != http.StatusOK || body.Status != "degraded":
		return fmt.Errorf("%d %s, want 200 degraded", resp.StatusCode, raw)
	case !slices.Equal(body.Degraded, []string{failed}) || !strings.Contains(body.Checks[failed], "401"):
		return fmt.Errorf("%s: want %s degraded with the 401", raw, failed)
	case body.Checks[ok] != "ok":
		return fmt.Errorf("%s: want %s ok", raw, ok)
	case strings.Contains(string(raw), "wrong-pw-two"):
		return errors.New("the body shows the password")
	}
	return nil
}

// writeAgentsFile writes a BRIDGE_AGENTS_FILE with auto-accepting agents
// (login name → password) and returns its path.
func writeAgentsFile(t *testing.T, passwords map[string]string) string {
	t.Helper()
	type entry struct {
		LoginName  string `json:"loginName"`
		Password   string `json:"password"`
		AutoAccept bool   `json:"autoAccept"`
	}
	var doc struct {
		Agents []entry `json:"agents"`
	}
	for _, login := range slices.Sorted(func(yield func(string) bool) {
		for k := range passwords {
			if !yield(k) {
				return
			}
		}
	}) {
		doc.Agents = append(doc.Agents, entry{LoginName: login, Password: passwords[login], AutoAccept: true})
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "agents.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
