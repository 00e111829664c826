// Package examples_test runs the example bots against a real bridge: the
// cmd/bridge binary on its embedded default (embedded NATS, simulator,
// scripted visitors), as a user would start it with no configuration.
package examples_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/testwait"
)

const (
	buildTimeout  = 5 * time.Minute  // two binaries on a shared 2-core machine
	bridgeTimeout = 60 * time.Second // until the bridge says it runs
	botTimeout    = 2 * time.Minute  // scripted visitors talk every few seconds
)

// TestGoBotAgainstBridge builds cmd/bridge and examples/gobot, starts the
// bridge with no configuration, and runs the bot until it has answered two
// visitor lines through request-reply commands.
func TestGoBotAgainstBridge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bridge binary")
	}
	dir := t.TempDir()
	bridgeBin := goBuild(t, dir, "github.com/lpbridge/lpbridge/cmd/bridge")
	botBin := goBuild(t, dir, "github.com/lpbridge/lpbridge/examples/gobot")
	natsURL := startBridge(t, bridgeBin, dir)
	waitForCommands(t, natsURL)

	ctx, cancel := context.WithTimeout(context.Background(), botTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, botBin, "-nats", natsURL, "-account", "55500011", "-agent", "bot_one", "-max", "2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gobot: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "answered line"); n < 2 {
		t.Fatalf("gobot answered %d lines, want 2:\n%s", n, out)
	}
}

// waitForCommands fails fast, and says why, when the bridge answers no
// commands: a request with no responders means cmd/bridge does not run the
// command consumer.
func waitForCommands(t *testing.T, natsURL string) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatalf("connect %s: %v", natsURL, err)
	}
	defer nc.Close()
	testwait.Until(t, bridgeTimeout, func() error {
		if _, err := nc.Request("lp.cmd.55500011.bot_one.agent.info", []byte("{}"), 5*time.Second); err != nil {
			return fmt.Errorf("the bridge answers no commands on lp.cmd.>: %w (does cmd/bridge run internal/commands?)", err)
		}
		return nil
	})
}

// goBuild builds a package into dir and returns the binary's path.
func goBuild(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// startBridge runs the bridge on its embedded default with JSON logs and
// returns the URL of its embedded NATS server, read from the "bridge
// running" log line. The bridge is stopped (SIGTERM) when the test ends.
func startBridge(t *testing.T, bin, dir string) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(withoutBridgeEnv(os.Environ()),
		"BRIDGE_LOG_FORMAT=json",
		"BRIDGE_SHOW_EVENTS=false",
		"BRIDGE_SIM_VISITORS_PER_MINUTE=120",
		"BRIDGE_EMBEDDED_NATS_DIR="+filepath.Join(dir, "nats"),
		"BRIDGE_HTTP_ADDR=127.0.0.1:0", // the default port may be taken on a shared machine
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	exited := make(chan struct{})
	var exitErr error // set before exited is closed
	urls := make(chan string, 1)
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteString(line + "\n")
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "bridge running" {
				if u, ok := rec["nats"].(string); ok {
					select {
					case urls <- u:
					default:
					}
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		exitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case u := <-urls:
		return u
	case <-exited:
		t.Fatalf("bridge exited before running: %v\n%s", exitErr, logs.String())
	case <-time.After(bridgeTimeout):
		t.Fatalf("bridge did not log \"bridge running\" within %s", bridgeTimeout)
	}
	return ""
}

// withoutBridgeEnv drops BRIDGE_* variables, so the bridge runs on its
// embedded default whatever the environment says.
func withoutBridgeEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "BRIDGE_") {
			out = append(out, kv)
		}
	}
	return out
}
