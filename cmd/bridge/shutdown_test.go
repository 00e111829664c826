package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// TestShutdownFinishesCommandsAndSetsAway stops a bridge (AWAY_ON_STOP)
// while a chat.send is held at the service: the bridge stops taking
// commands, the held command still gets its reply once the service answers,
// the agent ends Away in the service, and run returns nil.
func TestShutdownFinishesCommandsAndSetsAway(t *testing.T) {
	const pw, text = "shutdown-pw-one", "One moment, I am checking your order."
	held := newGate(isLinePost)
	sim, simURL := startSim(t, simOptions{seed: 21, agents: e2eAgents(pw, "shutdown-pw-two"), wrap: held.wrap})
	t.Cleanup(held.release) // before the simulator's server closes
	ns, nc, js := natstest.RunServer(t)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["AWAY_ON_STOP"] = "true"
	setBridgeEnv(t, vars)
	b := startBridge(t)
	col := collectEvents(t, b, js)
	col.waitFor(t, b, "agent.status Online", func(r received) bool {
		return r.is(events.AgentStatus, "") && r.str("status") == string(lpchat.Online)
	})
	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Carol", SkillID: skillSupport})
	col.waitFor(t, b, "chat.accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	waitForCommands(t, b, nc)

	replies := make(chan commandReply, 1)
	go func() {
		replies <- request(nc, "chat.send", map[string]any{"id": "shutdown-send-1", "chatId": chat, "text": text}, e2eWait)
	}()
	held.waitEntered(t)
	b.cancel() // SIGTERM, as far as run can tell
	testwait.Until(t, e2eWait, func() error {
		if !strings.Contains(b.stderr.String(), "stopping: finishing commands being run") {
			return errors.New("the command consumer has not begun to stop")
		}
		return nil
	})
	// Stopped taking commands: nobody subscribes any more. A request that
	// slipped in before would queue behind the held send, time out here,
	// and be tried again.
	testwait.Until(t, e2eWait, func() error {
		r := request(nc, "agent.info", map[string]any{}, pollRequestTimeout)
		if !errors.Is(r.err, nats.ErrNoResponders) {
			return fmt.Errorf("a new command after shutdown began: %+v; want no responders", r)
		}
		return nil
	})
	if ok, _ := b.exited(); ok {
		t.Fatal("run returned while a command was in flight")
	}

	held.release()
	var reply commandReply
	select {
	case reply = <-replies:
	case <-time.After(e2eWait):
		t.Fatal("the command in flight got no reply")
	}
	if reply.err != nil || !reply.OK || reply.Result["eventId"] == nil {
		t.Fatalf("reply of the command in flight = %+v; want ok with an eventId", reply)
	}
	if err := b.stop(); err != nil {
		t.Fatalf("run = %v; want nil after a clean shutdown", err)
	}
	if got, err := sim.AgentAvailability(e2eAccount, botOne); err != nil || got != string(lpchat.Away) {
		t.Errorf("availability in the service after shutdown = %q, %v; want Away", got, err)
	}
	col.waitFor(t, nil, "agent.status Away", func(r received) bool {
		return r.is(events.AgentStatus, "") && r.str("status") == string(lpchat.Away)
	})
	col.waitFor(t, nil, "command.result of the send", func(r received) bool {
		return r.is(events.CommandResult, "") && r.str("commandId") == "shutdown-send-1" && r.Data["ok"] == true
	})
	lines, err := sim.ChatEvents(e2eAccount, chat)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(lines), text) {
		t.Errorf("the line sent during shutdown is not in the chat: %+v", lines)
	}
	if !strings.Contains(b.stderr.String(), "shut down cleanly") {
		t.Errorf("no clean shutdown logged:\n%s", tail(b.stderr.String(), 20))
	}
}

// TestShutdownLogsOut: with LOGOUT_ON_STOP the bridge logs the agent out
// and publishes agent.session "ended"; the service then has no session.
func TestShutdownLogsOut(t *testing.T) {
	const pw = "logout-pw-one"
	sim, simURL := startSim(t, simOptions{seed: 22, agents: e2eAgents(pw, "logout-pw-two")})
	ns, _, js := natstest.RunServer(t)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["LOGOUT_ON_STOP"] = "true"
	setBridgeEnv(t, vars)
	b := startBridge(t)
	col := collectEvents(t, b, js)
	started := col.waitFor(t, b, "agent.session started", func(r received) bool {
		return r.is(events.AgentSession, "") && r.str("state") == events.SessionStarted
	})
	if err := b.stop(); err != nil {
		t.Fatalf("run = %v; want nil after a clean shutdown", err)
	}
	ended := col.waitFor(t, nil, "agent.session ended", func(r received) bool {
		return r.is(events.AgentSession, "") && r.str("state") == events.SessionEnded
	})
	if ended.str("agentSessionId") != started.str("agentSessionId") || ended.str("reason") != "shutdown" {
		t.Errorf("agent.session ended %v; want the started session %s, reason shutdown", ended, started.str("agentSessionId"))
	}
	if got, err := sim.AgentAvailability(e2eAccount, botOne); err != nil || got != "Offline" {
		t.Errorf("availability in the service after logout = %q, %v; want Offline", got, err)
	}
}

// TestShutdownIsBounded: a command the service never answers cannot hold
// the shutdown past SHUTDOWN_TIMEOUT; run returns errShutdownTimeout naming
// what still ran.
func TestShutdownIsBounded(t *testing.T) {
	const pw = "bounded-pw-one"
	held := newGate(isLinePost)
	sim, simURL := startSim(t, simOptions{seed: 23, agents: e2eAgents(pw, "bounded-pw-two"), wrap: held.wrap})
	t.Cleanup(held.release)
	ns, nc, js := natstest.RunServer(t)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["SHUTDOWN_TIMEOUT"] = "1s"
	setBridgeEnv(t, vars)
	// Not startBridge: its cleanup wants run to return nil.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, &syncBuffer{}, stderr) }()
	col := collectEvents(t, nil, js)
	col.waitFor(t, nil, "agent.status Online", func(r received) bool {
		return r.is(events.AgentStatus, "") && r.str("status") == string(lpchat.Online)
	})
	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Dan", SkillID: skillSupport})
	col.waitFor(t, nil, "chat.accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	waitForCommands(t, nil, nc)
	go request(nc, "chat.send", map[string]any{"chatId": chat, "text": "never answered"}, e2eWait)
	held.waitEntered(t)

	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(e2eWait):
		t.Fatalf("run did not return within %s of cancel with a 1s shutdown timeout", e2eWait)
	}
	if !errors.Is(err, errShutdownTimeout) || !strings.Contains(err.Error(), "command consumer") {
		t.Errorf("run = %v; want errShutdownTimeout naming the command consumer", err)
	}
	if !strings.Contains(stderr.String(), "shutdown timed out") {
		t.Errorf("the timeout was not logged:\n%s", tail(stderr.String(), 20))
	}
}

// waitForCommands waits until the bridge answers commands: it subscribes
// some time after its agents are Online.
func waitForCommands(t *testing.T, b *inProcessBridge, nc *nats.Conn) {
	t.Helper()
	waitUntil(t, b, "the bridge takes commands", func() error {
		r := request(nc, "agent.info", map[string]any{}, pollRequestTimeout)
		if r.err == nil && !r.OK {
			return fmt.Errorf("agent.info failed: %+v", r.Error)
		}
		return r.err
	})
}

// isLinePost matches the request that posts a line (or a state) to a chat.
func isLinePost(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/events")
}

// gate holds the first simulator request that matches until released, to
// keep a command in flight.
type gate struct {
	match       func(*http.Request) bool
	entered     chan struct{}
	released    chan struct{}
	enterOnce   sync.Once
	releaseOnce sync.Once
}

func newGate(match func(*http.Request) bool) *gate {
	return &gate{match: match, entered: make(chan struct{}), released: make(chan struct{})}
}

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		if g.match(r) {
			g.enterOnce.Do(func() { first = true })
		}
		if first {
			close(g.entered)
			<-g.released
		}
		h.ServeHTTP(w, r)
	})
}

// waitEntered waits until the held request reached the simulator.
func (g *gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(e2eWait):
		t.Fatalf("no matching request reached the simulator within %s", e2eWait)
	}
}

// release lets the held request (and every later one) through.
func (g *gate) release() { g.releaseOnce.Do(func() { close(g.released) }) }

// commandReply is a command's reply, or the error of the request.
type commandReply struct {
	OK     bool           `json:"ok"`
	Result map[string]any `json:"result"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	err error
}

// pollRequestTimeout bounds a request made inside a poll, which tries again
// after a timeout.
const pollRequestTimeout = 2 * time.Second

// request sends command cmd for bot.one, waits up to timeout and decodes
// the reply.
func request(nc *nats.Conn, cmd string, body map[string]any, timeout time.Duration) commandReply {
	raw, err := json.Marshal(body)
	if err != nil {
		return commandReply{err: err}
	}
	subject := strings.Join([]string{"lp.cmd", e2eAccount, events.Token(botOne), cmd}, ".")
	msg, err := nc.Request(subject, raw, timeout)
	if err != nil {
		return commandReply{err: err}
	}
	var r commandReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return commandReply{err: fmt.Errorf("reply %q: %w", msg.Data, err)}
	}
	return r
}
