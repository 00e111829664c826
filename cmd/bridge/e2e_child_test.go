package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
)

// childBridge is the bridge running as a child process: the test binary
// re-executed with childEnv set (see TestMain).
type childBridge struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, once done is closed
}

// startChild starts bridge number n with the BRIDGE_* variables vars (and
// no others); its stdout and stderr go to logDir/bridge-<n>.log. It is
// killed when the test ends, if still running.
func startChild(t *testing.T, vars map[string]string, logDir string, n int) *childBridge {
	t.Helper()
	env := []string{childEnv + "=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix+"_") && !strings.HasPrefix(kv, childEnv+"=") {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, envPrefix+"_"+k+"="+v)
	}
	out, err := os.Create(filepath.Join(logDir, fmt.Sprintf("bridge-%d.log", n)))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy once started
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bridge %d: %v", n, err)
	}
	c := &childBridge{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

// exited reports whether the process has ended.
func (c *childBridge) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the bridge: no shutdown code runs, whatever it was doing.
func (c *childBridge) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !c.exited() {
		t.Fatalf("kill bridge: %v", err)
	}
	<-c.done
}

// terminate asks the bridge to stop with SIGTERM and waits for it; it must
// exit 0 (a data race found by -race in the child would exit 66).
func (c *childBridge) terminate() error {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM: %w", err)
	}
	select {
	case <-c.done:
	case <-time.After(e2eWait):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("did not exit within %s of SIGTERM", e2eWait)
	}
	var exit *exec.ExitError
	if errors.As(c.err, &exit) {
		return fmt.Errorf("exited with %w", exit)
	}
	return c.err
}

// startReplicas starts n bridge processes with the same BRIDGE_* variables
// (replicas of one deployment), logging into one temporary directory whose
// logs are dumped if the test fails.
func startReplicas(t *testing.T, vars map[string]string, n int) ([]*childBridge, string) {
	t.Helper()
	logDir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			dumpChildLogs(t, logDir)
		}
	})
	bridges := make([]*childBridge, n)
	for i := range bridges {
		bridges[i] = startChild(t, vars, logDir, i)
	}
	return bridges, logDir
}

// waitForOwner waits until every replica runs, exactly one has logged
// ownerLog (it owns the agent) and the other stands by, and returns the
// owner's number. It is for two replicas.
func waitForOwner(t *testing.T, bridges []*childBridge, logDir, ownerLog string) int {
	t.Helper()
	owner := -1
	waitUntil(t, nil, "one bridge owns the agent ("+ownerLog+"), the other stands by", func() error {
		owner = -1
		for n, b := range bridges {
			if b.exited() {
				return fmt.Errorf("bridge %d exited", n)
			}
			if !childLogged(logDir, n, "bridge running") {
				return fmt.Errorf("bridge %d not running yet", n)
			}
			if childLogged(logDir, n, ownerLog) {
				if owner >= 0 {
					return fmt.Errorf("bridges %d and %d both logged %q", owner, n, ownerLog)
				}
				owner = n
			}
		}
		if owner < 0 || !childLogged(logDir, 1-owner, "standing by") {
			return errors.New("not yet")
		}
		return nil
	})
	return owner
}

// waitForTranscripts waits until the simulated visitors finished talking
// and a transcript of every chat arrived.
func waitForTranscripts(t *testing.T, talked <-chan error, col *collector, chats []string) {
	t.Helper()
	select {
	case err := <-talked:
		if err != nil {
			t.Fatalf("visitors: %v", err)
		}
	case <-time.After(e2eWait):
		t.Fatal("visitors did not finish talking")
	}
	waitUntil(t, nil, "a transcript of every chat", func() error {
		for _, chat := range chats {
			if len(col.match(func(r received) bool { return r.is(events.ChatTranscript, chat) })) == 0 {
				return fmt.Errorf("none yet for chat %s", chat)
			}
		}
		return nil
	})
}
