package main

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// TestE2ELivePersonOverTLS: against a Chat Agent API served over HTTPS with
// a certificate no system trusts (a TLS-inspecting proxy, the simulator's
// test certificate), the bridge refuses it until BRIDGE_LP_CA_FILE names
// its CA, and then runs the agent. Plain HTTP stays refused.
func TestE2ELivePersonOverTLS(t *testing.T) {
	const pw = "tls-pw-one"
	var caFile string
	_, simURL := startSim(t, simOptions{seed: 31, agents: e2eAgents(pw, "tls-pw-two"), tlsCA: &caFile})
	if !strings.HasPrefix(simURL, "https://") {
		t.Fatalf("simulator URL %s, want https", simURL)
	}

	t.Run("untrusted", func(t *testing.T) {
		ns, _, _ := natstest.RunServer(t)
		vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
		delete(vars, "LP_ALLOW_INSECURE_HTTP")
		setBridgeEnv(t, vars)
		b := startBridge(t)
		waitUntil(t, b, "a certificate error in the log", func() error {
			if !strings.Contains(b.stderr.String(), "certificate") {
				return errors.New("no certificate error logged yet")
			}
			return nil
		})
	})

	t.Run("trusted by BRIDGE_LP_CA_FILE", func(t *testing.T) {
		ns, _, js := natstest.RunServer(t)
		vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
		delete(vars, "LP_ALLOW_INSECURE_HTTP")
		vars["LP_CA_FILE"] = caFile
		setBridgeEnv(t, vars)
		b := startBridge(t)
		col := collectEvents(t, b, js)
		col.waitFor(t, b, "agent.session started over TLS", func(r received) bool {
			return r.is(events.AgentSession, "") && r.str("state") == events.SessionStarted
		})
	})
}

func TestLivePersonTransportRefusesABadCAFile(t *testing.T) {
	if _, err := livePersonTransport(t.TempDir()+"/missing.pem", 1); err == nil || !strings.Contains(err.Error(), "BRIDGE_LP_CA_FILE") {
		t.Errorf("missing file: err = %v, want one naming BRIDGE_LP_CA_FILE", err)
	}
	notPEM := writeFile(t, t.TempDir(), "not.pem", []byte("not a certificate"))
	if _, err := livePersonTransport(notPEM, 1); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a file without PEM: err = %v, want 'no PEM certificate'", err)
	}
	if tr, err := livePersonTransport("", 1); err != nil || tr.TLSClientConfig != nil && tr.TLSClientConfig.RootCAs != nil {
		t.Errorf("no CA file: err = %v; want the system's roots only", err)
	}
}

// TestE2EProfilesWhenAsked: BRIDGE_PPROF=true adds /debug/pprof/ to the
// HTTP server; by default it is not there.
func TestE2EProfilesWhenAsked(t *testing.T) {
	const pw = "pprof-pw-one"
	_, simURL := startSim(t, simOptions{seed: 37, agents: e2eAgents(pw, "pprof-pw-two")})
	for _, on := range []bool{false, true} {
		ns, _, _ := natstest.RunServer(t)
		vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
		vars["LOG_FORMAT"] = "json" // httpAddr reads the address from the log
		if on {
			vars["PPROF"] = "true"
		}
		setBridgeEnv(t, vars)
		b := startBridge(t)
		want := http.StatusNotFound
		if on {
			want = http.StatusOK
		}
		resp, err := http.Get("http://" + httpAddr(t, b) + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("BRIDGE_PPROF=%v: /debug/pprof/ answered %d, want %d", on, resp.StatusCode, want)
		}
		if err := b.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}
