package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/lpbridge/lpbridge/schemas"
)

const (
	account  = "55500011"
	password = "test-password"
	skillA   = "31100810" // Support: bot.one and bot.two
	skillB   = "31100811" // Billing: bot.two only
	agentOne = "bot_one"  // events.Token("bot.one")
	agentTwo = "bot_two"
	waitFor  = 10 * time.Second
)

// env is one test's world: an embedded NATS server with JetStream, the
// simulator over loopback HTTP, two agents logged in with lpchat and Online,
// and recorders of command.result events and dead letters.
type env struct {
	sim      *lpsim.Simulator
	nc       *nats.Conn
	js       jetstream.JetStream
	pub      *events.Publisher
	schemas  *schemas.Set
	sessions *sessionMap
	clients  map[string]*lpchat.Client
	results  *recorder
	dead     *recorder
	lastChat string // the chat an error case works on
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	nc, js, pub := commands.RunEventServer(t)
	set := compileSchemas(t)
	sim, err := lpsim.New(lpsim.Config{Seed: 1})
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	must(t, sim.AddAccount(account))
	must(t, sim.AddSkill(account, lpsim.SkillSpec{ID: skillA, Name: "Support"}))
	must(t, sim.AddSkill(account, lpsim.SkillSpec{ID: skillB, Name: "Billing"}))
	must(t, sim.AddAgent(account, lpsim.AgentSpec{LoginName: "bot.one", Password: password, Nickname: "Bot One", SkillIDs: []string{skillA}}))
	must(t, sim.AddAgent(account, lpsim.AgentSpec{LoginName: "bot.two", Password: password, Nickname: "Bot Two", SkillIDs: []string{skillA, skillB}}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	e := &env{sim: sim, nc: nc, js: js, pub: pub, schemas: set, sessions: &sessionMap{m: map[string]*lpchat.AgentSession{}},
		clients: map[string]*lpchat.Client{}}
	for login, token := range map[string]string{"bot.one": agentOne, "bot.two": agentTwo} {
		c, err := lpchat.New(lpchat.Config{
			DomainURL: srv.URL, Account: account, AllowInsecureHTTP: true, HTTPTimeout: 2 * time.Second,
			Retry: lpchat.RetryPolicy{ServerBackoff: []time.Duration{time.Millisecond}, MinRetryAfter: time.Millisecond,
				LoginMinRetryAfter: time.Millisecond, Max429Retries: 1},
		})
		must(t, err)
		if _, err := c.Login(ctx, lpchat.Credentials{Username: login, Password: password}); err != nil {
			t.Fatalf("login %s: %v", login, err)
		}
		sess, err := c.StartAgentSession(ctx)
		if err != nil {
			t.Fatalf("agent session %s: %v", login, err)
		}
		if _, err := sess.SetAvailability(ctx, lpchat.Online); err != nil {
			t.Fatalf("online %s: %v", login, err)
		}
		e.clients[token] = c
		e.sessions.set(token, sess)
	}
	e.results = record(t, nc, "lp.evt."+account+".*.command.result")
	e.dead = record(t, nc, "lp.dlq.>")
	return e
}

func compileSchemas(t testing.TB) *schemas.Set {
	t.Helper()
	set, err := schemas.Compile()
	if err != nil {
		t.Fatalf("schemas: %v", err)
	}
	return set
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sessionMap is the test's SessionSource: agent token → agent session. A
// known agent with a nil session has none right now; panicOn makes Session
// panic for that agent (a bug in the bridge's wiring).
type sessionMap struct {
	mu      sync.Mutex
	m       map[string]*lpchat.AgentSession
	panicOn string
}

func (s *sessionMap) Session(acct, agent string) (*lpchat.AgentSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if agent == s.panicOn && agent != "" {
		panic("session source broke")
	}
	if acct != account {
		return nil, false
	}
	sess, ok := s.m[agent]
	return sess, ok
}

func (s *sessionMap) set(agent string, sess *lpchat.AgentSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[agent] = sess
}

func (s *sessionMap) setPanic(agent string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.panicOn = agent
}

func (s *sessionMap) get(agent string) *lpchat.AgentSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[agent]
}

// baseConfig is a consumer config with test-sized timings.
func baseConfig() commands.Config {
	return commands.Config{
		Account: account, Timeout: 5 * time.Second, MaxDeliver: 3,
		Backoff: []time.Duration{20 * time.Millisecond}, ClockSkew: time.Second, AmbiguityWindow: 3 * time.Second,
		Storage: jetstream.MemoryStorage,
	}
}

// start runs a consumer until the test ends (or stop is called) and waits
// until it takes commands.
func (e *env) start(t testing.TB, cfg commands.Config) (stop func()) {
	t.Helper()
	return e.startWith(t, cfg, e.sessions)
}

// startWith is start with another SessionSource.
func (e *env) startWith(t testing.TB, cfg commands.Config, src commands.SessionSource) (stop func()) {
	t.Helper()
	c, err := commands.New(cfg, e.nc, e.js, src, e.pub, e.schemas, nil)
	if err != nil {
		t.Fatalf("commands.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-c.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("consumer stopped before it was ready: %v", err)
	case <-time.After(waitFor):
		cancel()
		t.Fatal("consumer not ready in time")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("consumer Run: %v", err)
				}
			case <-time.After(waitFor):
				t.Error("consumer did not stop in time")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// request sends a command by request-reply and returns its reply, checked
// against schemas/commands/reply.json.
func (e *env) request(t testing.TB, agent, command string, body any) commands.Reply {
	t.Helper()
	return e.requestMsg(t, &nats.Msg{Subject: commands.RequestSubject("lp", account, agent, command), Data: toJSON(t, body)})
}

func (e *env) requestMsg(t testing.TB, m *nats.Msg) commands.Reply {
	t.Helper()
	res, err := e.nc.RequestMsg(m, waitFor)
	if err != nil {
		t.Fatalf("request %s: %v", m.Subject, err)
	}
	if err := e.schemas.ValidateReply(res.Data); err != nil {
		t.Errorf("reply %s does not match reply.json: %v", res.Data, err)
	}
	var r commands.Reply
	if err := json.Unmarshal(res.Data, &r); err != nil {
		t.Fatalf("reply %q: %v", res.Data, err)
	}
	return r
}

func toJSON(t testing.TB, v any) []byte {
	t.Helper()
	switch b := v.(type) {
	case nil:
		return nil
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

// okResult checks a successful reply and decodes its result into T.
func okResult[T any](t testing.TB, r commands.Reply) T {
	t.Helper()
	var v T
	if !r.OK {
		t.Fatalf("reply not ok: %+v", r.Error)
	}
	if err := json.Unmarshal(r.Result, &v); err != nil {
		t.Fatalf("result %s: %v", r.Result, err)
	}
	return v
}

// wantCode checks a failed reply's code.
func wantCode(t testing.TB, r commands.Reply, code commands.Code) {
	t.Helper()
	if r.OK || r.Error == nil {
		t.Fatalf("reply ok (%s), want error %s", r.Result, code)
	}
	if r.Error.Code != string(code) {
		t.Fatalf("error %s (%s), want %s", r.Error.Code, r.Error.Message, code)
	}
	if r.Error.Message == "" {
		t.Error("error message is empty")
	}
}

// ringingChat starts a visitor chat for skill and waits until it rings at agent.
func (e *env) ringingChat(t testing.TB, agent, skill string, v lpsim.VisitorSpec) string {
	t.Helper()
	v.SkillID = skill
	chatID, err := e.sim.StartChat(account, v)
	must(t, err)
	sess := e.sessions.get(agent)
	testwait.Until(t, waitFor, func() error {
		r, err := sess.IncomingRequests(context.Background())
		if err != nil {
			return err
		}
		if r.Count == 0 {
			return errors.New("not ringing yet")
		}
		return nil
	})
	return chatID
}

// chattingChat starts a chat at agent and accepts it with lpchat.
func (e *env) chattingChat(t testing.TB, agent, skill string) string {
	t.Helper()
	e.ringingChat(t, agent, skill, lpsim.VisitorSpec{Name: "Ada"})
	chatID, err := e.sessions.get(agent).Accept(context.Background())
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return chatID
}

// agentLines are the chat's lines posted by an agent, as the visitor's side sees them.
func (e *env) agentLines(t testing.TB, chatID string) []lpsim.EventView {
	t.Helper()
	evs, err := e.sim.ChatEvents(account, chatID)
	must(t, err)
	var lines []lpsim.EventView
	for _, ev := range evs {
		if ev.Type == "line" && ev.Source == "agent" {
			lines = append(lines, ev)
		}
	}
	return lines
}

// countText counts the agent lines with text.
func (e *env) countText(t testing.TB, chatID, text string) int {
	t.Helper()
	n := 0
	for _, l := range e.agentLines(t, chatID) {
		if l.Text == text {
			n++
		}
	}
	return n
}

// recorder keeps the messages of a subscription.
type recorder struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

func record(t testing.TB, nc *nats.Conn, subject string) *recorder {
	t.Helper()
	r := &recorder{}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
	})
	must(t, err)
	must(t, nc.Flush())
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return r
}

func (r *recorder) all() []*nats.Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*nats.Msg(nil), r.msgs...)
}

// result waits for the command.result event of a command id and returns
// its data, checked against its schema.
func (e *env) result(t testing.TB, commandID string) events.CommandResultData {
	t.Helper()
	var found events.CommandResultData
	testwait.Until(t, waitFor, func() error {
		for _, m := range e.results.all() {
			d := e.decodeResult(t, m)
			if d.CommandID == commandID {
				found = d
				return nil
			}
		}
		return fmt.Errorf("no command.result for %q among %d", commandID, len(e.results.all()))
	})
	return found
}

func (e *env) decodeResult(t testing.TB, m *nats.Msg) events.CommandResultData {
	t.Helper()
	ce, err := events.Decode(m)
	if err != nil {
		t.Fatalf("command.result is not a CloudEvent: %v", err)
	}
	if err := e.schemas.ValidateEvent(events.CommandResult.Suffix(), ce.Data()); err != nil {
		t.Errorf("command.result %s does not match its schema: %v", ce.Data(), err)
	}
	ev, err := events.FromCloudEvent(ce)
	if err != nil {
		t.Fatalf("command.result: %v", err)
	}
	return ev.Data.(events.CommandResultData)
}

// deadLetter waits for a dead letter on subject and returns it.
func (e *env) deadLetter(t testing.TB, subject string) *nats.Msg {
	t.Helper()
	var found *nats.Msg
	testwait.Until(t, waitFor, func() error {
		for _, m := range e.dead.all() {
			if m.Subject == subject {
				found = m
				return nil
			}
		}
		return fmt.Errorf("no dead letter on %s among %d", subject, len(e.dead.all()))
	})
	return found
}

// deadLettersOn counts dead letters on subject so far.
func (e *env) deadLettersOn(subject string) int {
	n := 0
	for _, m := range e.dead.all() {
		if m.Subject == subject {
			n++
		}
	}
	return n
}
