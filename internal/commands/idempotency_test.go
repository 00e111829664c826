package commands_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// The same chat.send, sent five times with the same id, posts one line and
// answers the same event id each time.
func TestSameSendFiveTimes(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	body := map[string]any{"id": "send-once", "chatId": chatID, "text": "only once"}
	first := okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, body))
	for range 4 {
		again := okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, body))
		if *again.EventID != *first.EventID {
			t.Errorf("repeat answered event %d, want the stored %d", *again.EventID, *first.EventID)
		}
	}
	if n := e.countText(t, chatID, "only once"); n != 1 {
		t.Fatalf("visitor sees the line %d times, want 1", n)
	}
}

// The id may come from the Nats-Msg-Id header or a CloudEvent id as well.
func TestIDFromHeaderAndCloudEvent(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	subject := commands.RequestSubject("lp", account, agentOne, commands.ChatSend)

	for range 2 {
		m := &nats.Msg{Subject: subject, Header: nats.Header{}, Data: toJSON(t, map[string]any{"chatId": chatID, "text": "by header"})}
		m.Header.Set(nats.MsgIdHdr, "hdr-1")
		okResult[eventIDResult](t, e.requestMsg(t, m))

		ce := map[string]any{"specversion": "1.0", "id": "ce-1", "source": "test", "type": "lpbridge.command.chat.send",
			"datacontenttype": "application/json", "data": map[string]any{"chatId": chatID, "text": "by cloudevent"}}
		okResult[eventIDResult](t, e.requestMsg(t, &nats.Msg{Subject: subject, Data: toJSON(t, ce)}))
	}
	for _, text := range []string{"by header", "by cloudevent"} {
		if n := e.countText(t, chatID, text); n != 1 {
			t.Errorf("%q posted %d times, want 1", text, n)
		}
	}
}

// The same id arriving twice at once runs once.
func TestConcurrentDuplicatesRunOnce(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	// Slow the send down so the copies overlap.
	e.sim.InjectFault(lpsim.Fault{PathContains: "/events", Method: "POST", Latency: 300 * time.Millisecond})
	body := map[string]any{"id": "twins", "chatId": chatID, "text": "twin line"}
	const copies = 4
	replies := make([]commands.Reply, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() { replies[i] = e.request(t, agentOne, commands.ChatSend, body) })
	}
	wg.Wait()
	want := okResult[eventIDResult](t, replies[0])
	for _, r := range replies[1:] {
		if got := okResult[eventIDResult](t, r); *got.EventID != *want.EventID {
			t.Errorf("copies answered events %d and %d", *got.EventID, *want.EventID)
		}
	}
	if n := e.countText(t, chatID, "twin line"); n != 1 {
		t.Fatalf("visitor sees the line %d times, want 1", n)
	}
}

// Results outlive the consumer: a new one (same bucket) answers the stored
// result, in request-reply and durable mode.
func TestSendAcrossRestart(t *testing.T) {
	e := newEnv(t)
	stop := e.start(t, durableConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	body := map[string]any{"id": "restart-send", "chatId": chatID, "text": "survives restarts"}
	first := okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, body))
	stop()

	e.start(t, durableConfig())
	again := okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, body))
	if *again.EventID != *first.EventID {
		t.Errorf("after restart: event %d, want the stored %d", *again.EventID, *first.EventID)
	}
	for i := range 5 {
		e.publishDurable(t, agentOne, commands.ChatSend, body, "copy-"+string(rune('a'+i)))
	}
	e.waitStreamEmpty(t)
	if n := e.countText(t, chatID, "survives restarts"); n != 1 {
		t.Fatalf("visitor sees the line %d times, want 1", n)
	}
}

// The same durable chat.send delivered five times (five stream messages)
// posts one line, across a restart of the consumer too.
func TestDurableSameSendFiveTimes(t *testing.T) {
	e := newEnv(t)
	stop := e.start(t, durableConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	body := map[string]any{"id": "durable-once", "chatId": chatID, "text": "durable once"}
	for i := range 3 {
		e.publishDurable(t, agentOne, commands.ChatSend, body, "m"+string(rune('0'+i)))
	}
	e.waitStreamEmpty(t)
	stop()
	e.waitNoPullers(t)
	for i := 3; i < 5; i++ {
		e.publishDurable(t, agentOne, commands.ChatSend, body, "m"+string(rune('0'+i)))
	}
	e.start(t, durableConfig())
	e.waitStreamEmpty(t)
	if n := e.countText(t, chatID, "durable once"); n != 1 {
		t.Fatalf("visitor sees the line %d times, want 1", n)
	}
	if res := e.result(t, "durable-once"); !res.OK {
		t.Errorf("command.result: %+v", res.Error)
	}
}

// A send whose response was lost after the service stored the line is not
// posted again: the consumer finds it among the chat's events.
func TestAmbiguousSendDropAfterStore(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	e.sim.InjectFault(lpsim.Fault{PathContains: "/events", Method: "POST", AfterHandle: true, Drop: true})
	body := map[string]any{"id": "dropped", "chatId": chatID, "text": "stored but unanswered"}
	r := e.request(t, agentOne, commands.ChatSend, body)
	res := okResult[eventIDResult](t, r)
	lines := e.agentLines(t, chatID)
	if len(lines) != 1 || lines[0].ID != *res.EventID {
		t.Fatalf("agent lines %+v, want exactly the one with event %d", lines, *res.EventID)
	}
	// A client retry answers the same.
	again := okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, body))
	if *again.EventID != *res.EventID || e.countText(t, chatID, "stored but unanswered") != 1 {
		t.Errorf("retry: event %d, %d copies", *again.EventID, e.countText(t, chatID, "stored but unanswered"))
	}
}

// A send that outlasts the client's HTTP timeout is stored by the service
// later. The command fails as timeout (it is not re-sent in the same run);
// the client's retries with the same id look for the line first and, once
// it is there, answer its event id: the visitor sees it once.
func TestAmbiguousSendSlowService(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	// lpchat's HTTPTimeout in the test env is 2s.
	e.sim.InjectFault(lpsim.Fault{PathContains: "/events", Method: "POST", Latency: 2500 * time.Millisecond})
	body := map[string]any{"id": "slow", "chatId": chatID, "text": "slow line"}
	first := e.request(t, agentOne, commands.ChatSend, body)
	if first.OK {
		t.Logf("first try already found the line: %s", first.Result)
	} else {
		wantCode(t, first, commands.CodeTimeout)
	}
	var got eventIDResult
	testwait.Until(t, waitFor, func() error {
		r := e.request(t, agentOne, commands.ChatSend, body)
		if !r.OK {
			return errors.New(r.Error.Code + ": " + r.Error.Message)
		}
		got = okResult[eventIDResult](t, r)
		return nil
	})
	lines := e.agentLines(t, chatID)
	if len(lines) != 1 || lines[0].ID != *got.EventID {
		t.Fatalf("agent lines %+v, want exactly the one with event %d", lines, *got.EventID)
	}
}

// The same in durable mode: redelivery looks before it posts.
func TestDurableAmbiguousSend(t *testing.T) {
	e := newEnv(t)
	cfg := durableConfig()
	cfg.Backoff, cfg.MaxDeliver = []time.Duration{500 * time.Millisecond}, 12
	e.start(t, cfg)
	chatID := e.chattingChat(t, agentOne, skillA)
	e.sim.InjectFault(lpsim.Fault{PathContains: "/events", Method: "POST", Latency: 2500 * time.Millisecond})
	e.publishDurable(t, agentOne, commands.ChatSend, map[string]any{"id": "durable-slow", "chatId": chatID, "text": "slow durable"}, "")
	res := e.result(t, "durable-slow")
	if !res.OK {
		t.Fatalf("durable ambiguous send: %+v", res.Error)
	}
	e.waitStreamEmpty(t)
	if n := e.countText(t, chatID, "slow durable"); n != 1 {
		t.Fatalf("visitor sees the line %d times, want 1", n)
	}
}
