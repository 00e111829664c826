package commands_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// replica is one bridge replica's view of the agents: it runs bot.one and
// bot.two, has their sessions only while it owns them, and owns what the
// test says. Its Owns calls are counted, so a test can tell that the
// consumer looked again.
type replica struct {
	sessions *sessionMap

	mu    sync.Mutex
	owned map[string]bool
	looks int
}

func newReplica(sessions *sessionMap, owned ...string) *replica {
	r := &replica{sessions: sessions, owned: map[string]bool{}}
	for _, a := range owned {
		r.owned[a] = true
	}
	return r
}

func (r *replica) Session(acct, agent string) (*lpchat.AgentSession, bool) {
	sess, known := r.sessions.Session(acct, agent)
	if known && !r.Owns(acct, agent) {
		return nil, true // standing by: no session
	}
	return sess, known
}

func (r *replica) Agents(acct string) []string {
	if acct != account {
		return nil
	}
	return []string{agentOne, agentTwo}
}

func (r *replica) Owns(acct, agent string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.looks++
	return acct == account && r.owned[agent]
}

func (r *replica) set(agent string, owned bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owned[agent] = owned
}

// lookedAgain waits until the replica's ownership was checked twice more
// than now: the consumer saw the last set.
func (r *replica) lookedAgain(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	from := r.looks
	r.mu.Unlock()
	testwait.Until(t, waitFor, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.looks < from+2*len(r.owned)+2 {
			return errors.New("ownership not checked again yet")
		}
		return nil
	})
}

// routedConfig re-checks ownership often, so flips are seen quickly.
func routedConfig() commands.Config {
	cfg := baseConfig()
	cfg.OwnershipCheck = 20 * time.Millisecond
	return cfg
}

// replies sends each request with its own reply inbox and collects every
// reply per command id, so that double replies are seen.
type replies struct {
	mu  sync.Mutex
	got map[string][]commands.Reply
}

func collectReplies(t *testing.T, nc *nats.Conn) (*replies, string) {
	t.Helper()
	r := &replies{got: map[string][]commands.Reply{}}
	inbox := nats.NewInbox()
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		var rep commands.Reply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			rep = commands.Reply{Error: &events.CommandError{Code: "unreadable", Message: string(m.Data)}}
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		id := m.Header.Get(commands.HeaderCommandID)
		r.got[id] = append(r.got[id], rep)
	})
	must(t, err)
	must(t, nc.Flush())
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return r, inbox
}

func (r *replies) of(id string) []commands.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]commands.Reply(nil), r.got[id]...)
}

// infoRequest is an agent.info command with an id, answered on inbox.
func infoRequest(t *testing.T, agent, id, inbox string) *nats.Msg {
	t.Helper()
	return &nats.Msg{Subject: commands.RequestSubject("lp", account, agent, commands.AgentInfo), Reply: inbox,
		Data: toJSON(t, map[string]any{"id": id})}
}

// sendAll sends n agent.info commands to agent and waits for every reply:
// each must be ok (a standby would answer session_lost) and come once.
func (e *env) sendAll(t *testing.T, agent, idPrefix string, n int) {
	t.Helper()
	got, inbox := collectReplies(t, e.nc)
	for i := range n {
		must(t, e.nc.PublishMsg(infoRequest(t, agent, fmt.Sprintf("%s-%d", idPrefix, i), inbox)))
	}
	testwait.Until(t, waitFor, func() error {
		for i := range n {
			if len(got.of(fmt.Sprintf("%s-%d", idPrefix, i))) == 0 {
				return fmt.Errorf("no reply to %s-%d yet", idPrefix, i)
			}
		}
		return nil
	})
	// A second reply would come from the other replica's run of the same
	// message; one more round trip through both lanes lets it arrive.
	okResult[map[string]any](t, e.request(t, agent, commands.AgentInfo, map[string]any{"id": idPrefix + "-barrier"}))
	for i := range n {
		id := fmt.Sprintf("%s-%d", idPrefix, i)
		rs := got.of(id)
		if len(rs) != 1 {
			t.Errorf("%s: %d replies, want 1", id, len(rs))
			continue
		}
		if !rs[0].OK {
			t.Errorf("%s: %+v, want ok (a standby took it?)", id, rs[0].Error)
		}
	}
}

// TestRoutingToOwner runs two replicas' consumers on one NATS: commands
// reach only the replica that owns the agent, each is answered once, and
// after ownership flips the new owner answers.
func TestRoutingToOwner(t *testing.T) {
	e := newEnv(t)
	a := newReplica(e.sessions, agentOne, agentTwo)
	b := newReplica(e.sessions)
	e.startWith(t, routedConfig(), a)
	e.startWith(t, routedConfig(), b)

	e.sendAll(t, agentOne, "before", 20)

	a.set(agentOne, false)
	b.set(agentOne, true)
	a.lookedAgain(t)
	b.lookedAgain(t)
	e.sendAll(t, agentOne, "after", 20)
	// bot.two did not move: still a's.
	e.sendAll(t, agentTwo, "two", 5)
}

// TestRoutingUnowned: a configured agent nobody owns gets no answer (its
// owner-to-be answers the retry), an unknown agent gets unknown_agent and
// a subject without a command unknown_command, each once, from the catch-all.
func TestRoutingUnowned(t *testing.T) {
	e := newEnv(t)
	a := newReplica(e.sessions, agentTwo)
	b := newReplica(e.sessions)
	e.startWith(t, routedConfig(), a)
	e.startWith(t, routedConfig(), b)

	got, inbox := collectReplies(t, e.nc)
	must(t, e.nc.PublishMsg(infoRequest(t, "bot_nobody", "unknown-1", inbox)))
	must(t, e.nc.PublishMsg(&nats.Msg{Subject: "lp.cmd." + account + "." + agentOne, Reply: inbox,
		Data: toJSON(t, map[string]any{"id": "malformed-1"})}))
	must(t, e.nc.PublishMsg(infoRequest(t, agentOne, "unowned-1", inbox)))
	testwait.Until(t, waitFor, func() error {
		if len(got.of("unknown-1")) == 0 || len(got.of("malformed-1")) == 0 {
			return errors.New("catch-all replies not in yet")
		}
		return nil
	})
	// Round trips through both replicas' catch-all and owned lanes.
	wantCode(t, e.request(t, "bot_nobody", commands.AgentInfo, map[string]any{"id": "unknown-2"}), commands.CodeUnknownAgent)
	okResult[map[string]any](t, e.request(t, agentTwo, commands.AgentInfo, map[string]any{"id": "owned-2"}))

	for id, code := range map[string]commands.Code{"unknown-1": commands.CodeUnknownAgent, "malformed-1": commands.CodeUnknownCommand} {
		rs := got.of(id)
		if len(rs) != 1 {
			t.Fatalf("%s: %d replies, want 1", id, len(rs))
		}
		wantCode(t, rs[0], code)
	}
	if rs := got.of("unowned-1"); len(rs) != 0 {
		t.Fatalf("a command for an agent nobody owns was answered: %+v", rs)
	}

	// The retry of the unanswered command, once b owns bot.one, runs.
	b.set(agentOne, true)
	testwait.Until(t, waitFor, func() error {
		res, err := e.nc.RequestMsg(infoRequest(t, agentOne, "unowned-1", ""), 200*time.Millisecond)
		if err != nil {
			return err
		}
		var r commands.Reply
		if err := json.Unmarshal(res.Data, &r); err != nil || !r.OK {
			return fmt.Errorf("reply %s", res.Data)
		}
		return nil
	})
}

// TestRoutingFlipUnderLoad sends chat.send commands while ownership moves
// from one replica to the other and back; a client retries a timed-out or
// transiently failed command with the same id. Every line is posted once.
func TestRoutingFlipUnderLoad(t *testing.T) {
	e := newEnv(t)
	chat := e.chattingChat(t, agentOne, skillA)
	a := newReplica(e.sessions, agentOne)
	b := newReplica(e.sessions)
	e.startWith(t, routedConfig(), a)
	e.startWith(t, routedConfig(), b)

	const n = 30
	var sent atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if err := sendUntilOK(e.nc, chat, i); err != nil {
				done <- err
				return
			}
			sent.Add(1)
		}
		done <- nil
	}()
	for k, owner := range []*replica{b, a, b} {
		testwait.Until(t, 4*waitFor, func() error {
			if sent.Load() < int64(k+1)*n/4 {
				return errors.New("not enough lines sent yet")
			}
			return nil
		})
		other := a
		if owner == a {
			other = b
		}
		other.set(agentOne, false)
		owner.set(agentOne, true)
		owner.lookedAgain(t)
	}
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(4 * waitFor):
		t.Fatal("commands did not finish")
	}
	for i := range n {
		if c := e.countText(t, chat, lineText(i)); c != 1 {
			t.Errorf("%q posted %d times, want once", lineText(i), c)
		}
	}
}

func lineText(i int) string { return fmt.Sprintf("routed line %02d", i) }

// sendUntilOK sends chat.send number i, retrying it with the same id after
// a timeout, no responders or a transient error, as a client would.
func sendUntilOK(nc *nats.Conn, chat string, i int) error {
	body, err := json.Marshal(map[string]any{"id": fmt.Sprintf("line-%d", i), "chatId": chat, "text": lineText(i)})
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: commands.RequestSubject("lp", account, agentOne, commands.ChatSend), Data: body}
	deadline := time.Now().Add(4 * waitFor)
	for time.Now().Before(deadline) {
		res, err := nc.RequestMsg(m, 500*time.Millisecond)
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) {
			continue
		}
		if err != nil {
			return err
		}
		var r commands.Reply
		if err := json.Unmarshal(res.Data, &r); err != nil {
			return fmt.Errorf("line %d: reply %s: %w", i, res.Data, err)
		}
		if r.OK {
			return nil
		}
		if !commands.Code(r.Error.Code).Transient() {
			return fmt.Errorf("line %d: %s: %s", i, r.Error.Code, r.Error.Message)
		}
	}
	return fmt.Errorf("line %d: no ok reply in time", i)
}
