package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// routeLines is how many chat.send commands are sent before and after the
// owner is killed.
const routeLines = 10

// routeAttempt bounds one request of a client retrying on a timeout: a
// command for an agent nobody owns yet is not answered.
const routeAttempt = time.Second

// TestE2ECommandsRoutedToOwner runs two bridge processes for one agent: every
// request-reply chat.send reaches the replica holding the agent's lease (the
// standby would answer session_lost), before and after the owner is
// SIGKILLed and the standby takes over; a client retries a timed-out or
// transiently failed command with the same id. The visitor sees every line
// once.
func TestE2ECommandsRoutedToOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the routing test (runs and SIGKILLs bridge processes)")
	}
	const pw = "route-pw-one"
	sim, simURL := startSim(t, simOptions{seed: 11, agents: e2eAgents(pw, "route-pw-two")})
	ns := natstest.StartServer(t)
	nc, js := natstest.Connect(t, ns)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["POLL_INTERVAL"] = "50ms"
	vars["LEASE_TTL"] = "2s"
	bridges, logDir := startReplicas(t, vars, 2)
	col := collectEvents(t, nil, js)

	owner := waitForOwner(t, bridges, logDir, "taking the agent's commands")
	standby := 1 - owner

	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Routed visitor", SkillID: skillSupport})
	col.waitFor(t, nil, "the chat accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })

	for i := range routeLines {
		if attempts := sendRouted(t, nc, chat, i); attempts != 1 {
			t.Errorf("line %d took %d attempts while bridge %d owned the agent; want 1", i, attempts, owner)
		}
	}
	if childLogged(logDir, standby, "taking the agent's commands") {
		t.Errorf("the standby bridge %d took the agent's commands", standby)
	}

	bridges[owner].kill(t)
	t.Logf("killed bridge %d, the owner", owner)
	for i := routeLines; i < 2*routeLines; i++ {
		sendRouted(t, nc, chat, i)
	}
	if !childLogged(logDir, standby, "taking the agent's commands") {
		t.Errorf("bridge %d answered after the kill without taking the agent's commands", standby)
	}

	for i := range 2 * routeLines {
		if lines := agentLinesWith(t, sim, chat, routeLineText(i)); len(lines) != 1 {
			t.Errorf("the visitor sees %q %d times; want once", routeLineText(i), len(lines))
		}
	}
	if err := bridges[standby].terminate(); err != nil {
		t.Errorf("bridge %d: %v", standby, err)
	}
}

func routeLineText(i int) string { return fmt.Sprintf("routed agent line %02d", i) }

// sendRouted sends chat.send number i with id route-<i> until it is answered
// ok, retrying after a timeout, no responders or a transient error with the
// same id, as a client would; it returns how many requests it took.
func sendRouted(t *testing.T, nc *nats.Conn, chat string, i int) int {
	t.Helper()
	id := fmt.Sprintf("route-%d", i)
	body, err := json.Marshal(map[string]any{"id": id, "chatId": chat, "text": routeLineText(i)})
	if err != nil {
		t.Fatal(err)
	}
	m := &nats.Msg{Subject: commands.RequestSubject("lp", e2eAccount, botOneToken, commands.ChatSend), Data: body}
	attempts := 0
	var last string
	waitUntil(t, nil, "chat.send "+id+" answered ok", func() error {
		attempts++
		res, err := nc.RequestMsg(m, routeAttempt)
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) {
			last = err.Error()
			return err
		}
		if err != nil {
			t.Fatalf("chat.send %s: %v", id, err)
		}
		var r commands.Reply
		if err := json.Unmarshal(res.Data, &r); err != nil {
			t.Fatalf("chat.send %s: reply %s: %v", id, res.Data, err)
		}
		if !r.OK {
			if !commands.Code(r.Error.Code).Transient() {
				t.Fatalf("chat.send %s: %s: %s", id, r.Error.Code, r.Error.Message)
			}
			last = r.Error.Code + ": " + r.Error.Message
			return errors.New(last)
		}
		return nil
	})
	if attempts > 1 {
		t.Logf("chat.send %s: ok after %d attempts (last failure: %s)", id, attempts, last)
	}
	return attempts
}
