package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// hex64 is the shape of the simulator's bearer and csrf tokens.
var hex64 = regexp.MustCompile(`[0-9a-fA-F]{64}`)

// TestE2ESecretsStayOut runs the bridge with debug logs in JSON through a
// chat and a lost login, and then looks for the agent's password and every
// bearer, csrf and session cookie the simulator issued in the logs, the
// live view, and every byte stored in JetStream (events and KV): none may be
// there (DESIGN.md §4.7).
func TestE2ESecretsStayOut(t *testing.T) {
	const pw = "Pw-e2e-secret-ZEBRA-4417"
	rec := &secretRecorder{kinds: map[string]string{}}
	sim, simURL := startSim(t, simOptions{seed: 5, agents: e2eAgents(pw, "Pw-e2e-secret-two"), wrap: rec.wrap})
	ns, _, js := natstest.RunServer(t)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["LOG_LEVEL"], vars["LOG_FORMAT"], vars["SHOW_EVENTS"] = "debug", "json", "true"
	setBridgeEnv(t, vars)
	b := startBridge(t)
	col := collectEvents(t, b, js)

	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Carol", SkillID: skillSupport})
	col.waitFor(t, b, "chat.accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	for _, text := range []string{"my password is not for you", "bye"} {
		if _, err := sim.VisitorLine(e2eAccount, chat, text); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.VisitorEnd(e2eAccount, chat); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, b, "chat.transcript", func(r received) bool { return r.is(events.ChatTranscript, chat) })

	// A lost login makes the bridge log errors and log in again.
	logins := rec.logins()
	if err := sim.ExpireLogin(e2eAccount, botOne); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, b, "agent.session lost", func(r received) bool {
		return r.is(events.AgentSession, "") && r.str("state") == events.SessionLost
	})
	waitUntil(t, b, "the bridge logs in again", func() error {
		if n := rec.logins(); n <= logins {
			return fmt.Errorf("%d logins", n)
		}
		return nil
	})
	if err := b.stop(); err != nil {
		t.Fatalf("bridge: %v", err)
	}

	secrets := rec.secrets()
	if len(secrets) < 4 {
		t.Fatalf("recorded %d bearer/csrf values over two logins, want at least 4", len(secrets))
	}
	secrets[pw] = "the password"
	places := map[string]string{"the logs (stderr)": b.stderr.String(), "the live view (stdout)": b.stdout.String()}
	for name, raw := range jetStreamContents(t, js) {
		places["stream "+name] = raw
	}
	t.Logf("searching %d places for %d secrets (the password and what %d logins and agent sessions issued)", len(places), len(secrets), rec.logins())
	for place, text := range places {
		for secret, kind := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains %s", place, kind)
			}
		}
	}
	if m := hex64.FindString(b.stderr.String()); m != "" {
		t.Errorf("the logs contain a 64-hex-digit token (%s…)", m[:6])
	}
	checkJSONLogs(t, b.stderr.String())
}

// checkJSONLogs asserts the logs are JSON lines and include debug lines, so
// the search above covered what debug logging writes.
func checkJSONLogs(t *testing.T, logs string) {
	t.Helper()
	debug := 0
	for line := range strings.Lines(logs) {
		var rec struct {
			Level string `json:"level"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON log line: %q", line)
			continue
		}
		if rec.Level == "DEBUG" {
			debug++
		}
	}
	if debug == 0 {
		t.Errorf("no DEBUG lines with BRIDGE_LOG_LEVEL=debug:\n%s", tail(logs, 20))
	}
	t.Logf("%d log lines, %d at debug", strings.Count(logs, "\n"), debug)
}

// secretRecorder watches the simulator's responses and remembers the
// bearer and csrf tokens and the session cookies it hands out.
type secretRecorder struct {
	mu      sync.Mutex
	kinds   map[string]string // secret value → what it is
	nLogins int
}

// wrap serves each request with h, noting the tokens of successful logins.
func (s *secretRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, r)
		if rr.Code == http.StatusOK && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, ".json"), "/login") {
			var body struct {
				Bearer string `json:"bearer"`
				CSRF   string `json:"csrf"`
			}
			if err := json.Unmarshal(rr.Body.Bytes(), &body); err == nil {
				s.mu.Lock()
				s.nLogins++
				n := s.nLogins
				s.add(body.Bearer, fmt.Sprintf("the bearer of login %d", n))
				s.add(body.CSRF, fmt.Sprintf("the csrf of login %d", n))
				s.mu.Unlock()
			}
		}
		s.mu.Lock()
		for _, c := range rr.Result().Cookies() {
			if len(c.Value) >= 16 { // session cookies, not flags
				s.add(c.Value, "the value of cookie "+c.Name)
			}
		}
		s.mu.Unlock()
		for k, v := range rr.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rr.Code)
		_, _ = w.Write(rr.Body.Bytes())
	})
}

func (s *secretRecorder) add(value, kind string) {
	if value != "" {
		s.kinds[value] = kind
	}
}

func (s *secretRecorder) logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nLogins
}

func (s *secretRecorder) secrets() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.kinds))
	for k, v := range s.kinds {
		out[k] = v
	}
	return out
}

// jetStreamContents returns, per stream (the event stream and the KV
// buckets' streams), the subjects, headers and bodies of all its messages.
func jetStreamContents(t *testing.T, js jetstream.JetStream) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	out := map[string]string{}
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		out[name] = readStream(ctx, t, js, name)
	}
	if err := names.Err(); err != nil {
		t.Fatalf("stream names: %v", err)
	}
	if _, ok := out[e2eStream]; !ok || len(out) < 2 {
		t.Fatalf("streams %v: want %s and the KV buckets'", mapKeys(out), e2eStream)
	}
	return out
}

// readStream renders every message of a stream as text.
func readStream(ctx context.Context, t *testing.T, js jetstream.JetStream, name string) string {
	t.Helper()
	stream, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	var b strings.Builder
	for n := uint64(0); n < info.State.Msgs; {
		batch, err := cons.Fetch(int(info.State.Msgs-n), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatalf("stream %s: fetch: %v", name, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			fmt.Fprintf(&b, "%s %v %s\n", m.Subject(), m.Headers(), m.Data())
		}
		if got == 0 {
			t.Fatalf("stream %s: read %d of %d messages: %v", name, n, info.State.Msgs, batch.Error())
		}
		n += uint64(got)
	}
	return b.String()
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
