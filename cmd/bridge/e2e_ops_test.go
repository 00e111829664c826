package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// TestE2EOperations runs the whole bridge through one chat, then scrapes
// /metrics and checks the counters moved as they should, and shows /readyz
// going unready while the simulator stalls and ready again after.
func TestE2EOperations(t *testing.T) {
	const pw = "ops-pw"
	sim, simURL := startSim(t, simOptions{seed: 21, agents: e2eAgents(pw, "unused-pw")})
	ns, _, js := natstest.RunServer(t)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["LOG_FORMAT"] = "json"
	vars["STALL_AFTER"] = "1500ms"
	vars["LEASE_TTL"] = "1s" // the stall threshold is never below the lease TTL
	setBridgeEnv(t, vars)
	b := startBridge(t)
	col := collectEvents(t, b, js)
	base := "http://" + httpAddr(t, b)

	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Olga", SkillID: skillSupport})
	col.waitFor(t, b, "chat.accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	for i := range 3 {
		if _, err := sim.VisitorLine(e2eAccount, chat, fmt.Sprintf("line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.VisitorEnd(e2eAccount, chat); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, b, "chat.transcript", func(r received) bool { return r.is(events.ChatTranscript, chat) })

	waitUntil(t, b, "metrics after the chat", func() error {
		m, err := scrape(base + "/metrics")
		if err != nil {
			return err
		}
		checks := []struct {
			series string
			ok     func(float64) bool
			want   string
		}{
			{`lpbridge_events_published_total{type="lpbridge.chat.line"}`, func(v float64) bool { return v >= 5 }, ">= 5 (system lines + 3 visitor lines)"},
			{`lpbridge_events_published_total{type="lpbridge.chat.transcript"}`, func(v float64) bool { return v == 1 }, "1"},
			{`lpbridge_events_published_total{type="lpbridge.chat.accepted"}`, func(v float64) bool { return v == 1 }, "1"},
			{`lpbridge_lp_logins_total{result="ok"}`, func(v float64) bool { return v == 1 }, "1"},
			{`lpbridge_agents_active`, func(v float64) bool { return v == 1 }, "1"},
			{`lpbridge_chats_active`, func(v float64) bool { return v == 0 }, "0 once the chat ended"},
			{`lpbridge_poll_duration_seconds_count`, func(v float64) bool { return v >= 3 }, ">= 3"},
			{`lpbridge_cursor_lag_seconds_count`, func(v float64) bool { return v >= 1 }, ">= 1"},
		}
		for _, c := range checks {
			v, ok := m[c.series]
			if !ok || !c.ok(v) {
				return fmt.Errorf("%s = %v (present %v), want %s", c.series, v, ok, c.want)
			}
		}
		if sumPrefix(m, `lpbridge_lp_requests_total{code="2xx"`) < 5 {
			return fmt.Errorf("lpbridge_lp_requests_total{code=2xx} sums to %v, want >= 5", sumPrefix(m, `lpbridge_lp_requests_total{code="2xx"`))
		}
		for name := range m {
			if strings.Contains(name, chat) || strings.Contains(name, botOne) {
				return fmt.Errorf("series %s carries a chat id or agent name: labels must stay bounded", name)
			}
		}
		return nil
	})

	waitUntil(t, b, "/readyz ready", func() error { return wantStatus(base+"/readyz", http.StatusOK) })
	// Every LivePerson call of the agent session now hangs for 4 s: polls stall.
	sim.InjectFault(lpsim.Fault{PathContains: "/agentSession/", Latency: 4 * time.Second, Count: 1_000_000})
	waitUntil(t, b, "/readyz unready while LivePerson stalls", func() error {
		return wantStatus(base+"/readyz", http.StatusServiceUnavailable)
	})
	if err := wantStatus(base+"/livez", http.StatusOK); err != nil {
		t.Errorf("a stalled LivePerson must not fail liveness: %v", err)
	}
	sim.ClearFaults()
	waitUntil(t, b, "/readyz ready again once LivePerson answers", func() error {
		return wantStatus(base+"/readyz", http.StatusOK)
	})
}

// httpAddr finds the address the bridge's HTTP server listens on in its
// JSON log (the tests ask for port 0).
func httpAddr(t *testing.T, b *inProcessBridge) string {
	t.Helper()
	var addr string
	waitUntil(t, b, "the HTTP server's address in the log", func() error {
		sc := bufio.NewScanner(strings.NewReader(b.stderr.String()))
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, "serving /metrics") && rec.Addr != "" {
				addr = rec.Addr
				return nil
			}
		}
		return fmt.Errorf("not logged yet")
	})
	return addr
}

// scrape reads a Prometheus text exposition into series → value.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url) //nolint:gosec // a loopback URL of the test
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

func sumPrefix(m map[string]float64, prefix string) float64 {
	var sum float64
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			sum += v
		}
	}
	return sum
}

func wantStatus(url string, want int) error {
	resp, err := http.Get(url) //nolint:gosec // a loopback URL of the test
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %d %s, want %d", url, resp.StatusCode, strings.TrimSpace(string(body)), want)
	}
	return nil
}
