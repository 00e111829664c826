package harness_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/harness"
)

func TestCleanEnvDropsBridgeAndSimulatorSettings(t *testing.T) {
	t.Setenv("BRIDGE_NATS_URL", "nats://elsewhere")
	t.Setenv("LPSIM_ADDR", "127.0.0.1:1")
	t.Setenv("HARNESS_KEPT", "yes")
	env := strings.Join(harness.CleanEnv(), "\n")
	if strings.Contains(env, "BRIDGE_NATS_URL") || strings.Contains(env, "LPSIM_ADDR") {
		t.Errorf("CleanEnv kept a BRIDGE_ or LPSIM_ setting")
	}
	if !strings.Contains(env, "HARNESS_KEPT=yes") {
		t.Errorf("CleanEnv dropped another setting")
	}
}

func TestPostJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" || r.URL.Path == "/refused" {
			http.Error(w, "no thanks", http.StatusConflict)
			return
		}
		_, _ = w.Write([]byte(`{"id":"c1"}`))
	}))
	defer srv.Close()
	var out struct{ ID string }
	if err := harness.PostJSON(t.Context(), srv.Client(), srv.URL+"/ok", map[string]string{"a": "b"}, &out); err != nil || out.ID != "c1" {
		t.Errorf("PostJSON = %v, %+v; want c1", err, out)
	}
	err := harness.PostJSON(t.Context(), srv.Client(), srv.URL+"/refused", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "no thanks") {
		t.Errorf("PostJSON to a refusing server = %v, want its status and answer", err)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := harness.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	if err := harness.Sleep(t.Context(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v, want nil", err)
	}
}

func TestWriteAgentsNamesThemAsTheSimulatorDoes(t *testing.T) {
	path := t.TempDir() + "/agents.json"
	logins, err := harness.WriteAgents(path, 12, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(logins) != 12 || logins[0] != "bot.0001" || logins[11] != "bot.0012" {
		t.Errorf("logins = %v, want bot.0001 ... bot.0012", logins)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Agents []struct {
			LoginName, ClientID string
			AutoAccept          bool
			RestoreAvailability bool
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil || len(file.Agents) != 12 {
		t.Fatalf("agents file %s: %v", raw, err)
	}
	if a := file.Agents[0]; a.ClientID != "bot.0001-client-id" || !a.AutoAccept || !a.RestoreAvailability {
		t.Errorf("first agent = %+v", a)
	}
}
