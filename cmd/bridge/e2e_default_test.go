package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// What the live view prints for an accepted chat and a visitor's line
// (describeEvent): "15:04:05 bot_one   chat H55500…K8400001 accepted (auto)".
var (
	acceptedLine = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d \S+ +chat \S+ accepted \(auto\)$`)
	visitorLine  = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d \S+ +chat \S+ ← visitor: \S.*$`)
)

// TestE2EZeroConfig is `make run`: with no BRIDGE_* configuration the bridge
// starts an embedded nats-server and the simulator with its demo agents and
// scripted visitors, and prints the chats readably as they happen. Only the
// pace is turned up so the test is quick.
func TestE2EZeroConfig(t *testing.T) {
	clearBridgeEnv(t)
	t.Setenv(envPrefix+"_POLL_INTERVAL", "100ms")
	t.Setenv(envPrefix+"_SIM_VISITORS_PER_MINUTE", "600")
	t.Setenv(envPrefix+"_HTTP_ADDR", "127.0.0.1:0") // the default port may be taken on a shared machine
	b := startBridge(t)

	waitUntil(t, b, "the live view shows an accepted chat and a visitor's line", func() error {
		out := b.stdout.String()
		if !acceptedLine.MatchString(out) || !visitorLine.MatchString(out) {
			return errors.New("not yet; stdout so far:\n" + tail(out, 10))
		}
		return nil
	})
	if err := b.stop(); err != nil {
		t.Fatalf("run after cancel: %v, want nil", err)
	}
	out := b.stdout.String()
	if strings.Contains(out, "undecodable") {
		t.Errorf("the live view printed undecodable events:\n%s", tail(out, 20))
	}
	t.Logf("live view (head):\n%s", head(out, 8))
}
