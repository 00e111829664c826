package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// The whole-bridge tests share one simulated account: two skills, the first
// shared by both agents, the second (only bot.two has it) the transfer target.
const (
	e2eAccount   = "70000001"
	skillSupport = "31100810"
	skillBilling = "31100811"
	e2eStream    = "LP_EVENTS"
	e2eSubjects  = "lp.evt.>"
	botOne       = "bot.one"
	botTwo       = "bot.two"
	// e2eWait bounds every wait of these tests: generous because the machine
	// is shared and everything runs with -race.
	e2eWait = 30 * time.Second
)

// simOptions adjusts the simulator a test starts.
type simOptions struct {
	seed   int64
	agents []lpsim.AgentSpec
	// cfg, if set, is the simulator's whole Config (seed and strict
	// cookies included); else the seed with strict agent-session cookies.
	cfg *lpsim.Config
	// tlsCA, if set, makes the simulator serve HTTPS with a test
	// certificate and receives the path of its CA (PEM).
	tlsCA *string
	// wrap, if set, wraps the simulator's handler (e.g. to watch responses).
	wrap func(h http.Handler) http.Handler
}

// e2eAgents are bot.one (skill Support) and bot.two (Support and Billing).
func e2eAgents(pwOne, pwTwo string) []lpsim.AgentSpec {
	return []lpsim.AgentSpec{
		{LoginName: botOne, Password: pwOne, Nickname: "Bot One", SkillIDs: []string{skillSupport}},
		{LoginName: botTwo, Password: pwTwo, Nickname: "Bot Two", SkillIDs: []string{skillSupport, skillBilling}},
	}
}

// startSim serves a simulator with the e2e account on loopback and returns
// it and its base URL. Both are closed when the test ends.
func startSim(t *testing.T, o simOptions) (*lpsim.Simulator, string) {
	t.Helper()
	seed := o.seed
	if seed == 0 {
		seed = 1
	}
	// Strict cookies as the real service may be: an agent-session call
	// without the agent's own cookies is refused.
	cfg := lpsim.Config{Seed: seed, StrictCookies: true}
	if o.cfg != nil {
		cfg = *o.cfg
	}
	sim, err := lpsim.New(cfg)
	if err != nil {
		t.Fatalf("lpsim.New: %v", err)
	}
	t.Cleanup(sim.Close)
	errs := []error{
		sim.AddAccount(e2eAccount),
		sim.AddSkill(e2eAccount, lpsim.SkillSpec{ID: skillSupport, Name: "Support"}),
		sim.AddSkill(e2eAccount, lpsim.SkillSpec{ID: skillBilling, Name: "Billing"}),
	}
	for _, a := range o.agents {
		errs = append(errs, sim.AddAgent(e2eAccount, a))
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("simulator setup: %v", err)
	}
	var h http.Handler = sim
	if o.wrap != nil {
		h = o.wrap(sim)
	}
	if o.tlsCA == nil {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return sim, srv.URL
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	*o.tlsCA = filepath.Join(t.TempDir(), "lpsim-ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(*o.tlsCA, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	return sim, srv.URL
}

// bridgeVars is the BRIDGE_* environment (without the prefix) of a bridge
// running one agent against an external NATS server and simulator.
func bridgeVars(natsURL, simURL, login, password string) map[string]string {
	return map[string]string{
		"NATS_URL":               natsURL,
		"LP_ACCOUNT":             e2eAccount,
		"LP_DOMAIN_URL":          simURL,
		"LP_ALLOW_INSECURE_HTTP": "true",
		"AGENT_LOGIN":            login,
		"AGENT_PASSWORD":         password,
		"AGENT_AUTO_ACCEPT":      "true",
		"POLL_INTERVAL":          "100ms",
		// The default budget (10/s) would throttle a 100 ms poll loop.
		"REQUESTS_PER_SECOND": "1000",
		"SHOW_EVENTS":         "false",
		"HTTP_ADDR":           "127.0.0.1:0",
	}
}

// setBridgeEnv replaces the whole BRIDGE_* environment by vars for the test.
func setBridgeEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	clearBridgeEnv(t)
	for k, v := range vars {
		t.Setenv(envPrefix+"_"+k, v)
	}
}

// syncBuffer is a bytes.Buffer safe for the bridge's goroutines to write
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// inProcessBridge is run() started in a goroutine of the test.
type inProcessBridge struct {
	cancel         context.CancelFunc
	done           chan error
	stdout, stderr *syncBuffer
	stopOnce       sync.Once
	err            error
}

// startBridge runs the bridge in process with the current BRIDGE_*
// environment. It is stopped (and must return nil) when the test ends, if
// the test did not stop it before.
func startBridge(t *testing.T) *inProcessBridge {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &inProcessBridge{cancel: cancel, done: make(chan error, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	go func() { b.done <- run(ctx, b.stdout, b.stderr) }()
	t.Cleanup(func() {
		if err := b.stop(); err != nil {
			t.Errorf("bridge: %v", err)
		}
		if t.Failed() {
			t.Logf("bridge stderr (tail):\n%s", tail(b.stderr.String(), 60))
		}
	})
	return b
}

// stop cancels the bridge's context and waits for run to return; it returns
// run's error, or an error when run does not return in time.
func (b *inProcessBridge) stop() error {
	b.stopOnce.Do(func() {
		b.cancel()
		select {
		case err := <-b.done:
			b.err = err
		case <-time.After(e2eWait):
			b.err = fmt.Errorf("run did not return within %s of cancel", e2eWait)
		}
	})
	return b.err
}

// exited reports whether run returned on its own (it must not before the
// test stops it) and with what.
func (b *inProcessBridge) exited() (bool, error) {
	select {
	case err := <-b.done:
		b.done <- err
		return true, err
	default:
		return false, nil
	}
}

// waitUntil polls check until it returns nil, failing the test with what
// and the last error after timeout. It also fails at once if bridge (when
// given) has stopped by itself.
func waitUntil(t *testing.T, b *inProcessBridge, what string, check func() error) {
	t.Helper()
	testwait.Until(t, e2eWait, func() error {
		if b != nil {
			if ok, err := b.exited(); ok {
				return fmt.Errorf("%s: the bridge stopped early: %w", what, errors.Join(err, errors.New("run returned")))
			}
		}
		if err := check(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
