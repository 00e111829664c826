// Package harness holds what the commands that drive the bridge, the
// simulator and NATS as processes (cmd/scalebench, cmd/chaos) share.
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// CleanEnv is this process's environment without BRIDGE_* and LPSIM_*, so
// a developer's settings do not change a run.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") && !strings.HasPrefix(kv, "LPSIM_") {
			env = append(env, kv)
		}
	}
	return env
}

// PostJSON POSTs body as JSON to url and decodes a 2xx answer into into
// (nil: the answer is read and dropped); another status is an error
// carrying the answer.
func PostJSON(ctx context.Context, hc *http.Client, url string, body, into any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", url, res.StatusCode, out)
	}
	if into != nil {
		return json.Unmarshal(out, into)
	}
	return nil
}

// Sleep waits d, or until ctx ends (its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WriteAgents writes a bridge agents file for the simulator's agents
// bot.0001 ... bot.N (named as lpsim's -agents-count names them), each with
// the demo OAuth2 app and auto-accepting; it returns the login names.
func WriteAgents(path string, n int, restoreAvailability bool) ([]string, error) {
	type entry struct {
		LoginName           string `json:"loginName"`
		ClientID            string `json:"clientId"`
		ClientSecret        string `json:"clientSecret"`
		AutoAccept          bool   `json:"autoAccept"`
		RestoreAvailability bool   `json:"restoreAvailability,omitempty"`
	}
	width := max(4, len(strconv.Itoa(n)))
	agents := make([]entry, n)
	logins := make([]string, n)
	for i := range agents {
		logins[i] = fmt.Sprintf("bot.%0*d", width, i+1)
		agents[i] = entry{LoginName: logins[i], ClientID: logins[i] + "-client-id", ClientSecret: lpsim.DemoClientSecret,
			AutoAccept: true, RestoreAvailability: restoreAvailability}
	}
	raw, err := json.Marshal(map[string]any{"agents": agents})
	if err != nil {
		return nil, fmt.Errorf("agents file: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, fmt.Errorf("agents file: %w", err)
	}
	return logins, nil
}
