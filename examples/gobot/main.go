// Command gobot is a tiny chat bot on top of lpbridge, using nothing but
// NATS (github.com/nats-io/nats.go): it accepts the chats that ring at its
// agent and answers every visitor line.
//
// It listens to two event subjects of its agent:
//
//	lp.evt.<account>.<agent>.agent.ringing     → request chat.accept
//	lp.evt.<account>.<agent>.chat.*.line       → request chat.send (visitor lines only)
//
// and sends commands by request-reply on lp.cmd.<account>.<agent>.<command>,
// reading {"ok": true, "result": ...} or {"ok": false, "error": {...}}.
//
// Events are CloudEvents; in the bridge's default binary mode the body is the
// event's data and the attributes are ce-* headers, so no CloudEvents SDK is
// needed. Structured mode (application/cloudevents+json) is read too.
//
// Every answer carries an id derived from the visitor line's event id: if the
// bot sees a line twice (a restart, a redelivery) the bridge answers the
// stored result instead of posting a second reply.
//
//	go run ./examples/gobot -nats nats://127.0.0.1:4222 -account 55500011 -agent bot_one -max 3
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	var o options
	flag.StringVar(&o.natsURL, "nats", envOr("NATS_URL", nats.DefaultURL), "NATS server URL")
	flag.StringVar(&o.account, "account", envOr("LP_ACCOUNT", "55500011"), "LivePerson account id")
	flag.StringVar(&o.agent, "agent", envOr("LP_AGENT", "bot_one"), "agent token (its login name with '.' as '_')")
	flag.StringVar(&o.prefix, "prefix", "lp", "subject prefix of the bridge")
	flag.IntVar(&o.max, "max", 0, "exit after answering this many visitor lines (0 = run until interrupted)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long to wait for each command's reply")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		log.Fatalf("gobot: %v", err)
	}
}

type options struct {
	natsURL, account, agent, prefix string
	max                             int
	timeout                         time.Duration
}

// reply is the answer to every command.
type reply struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// line is the data of a chat.line event.
type line struct {
	EventID int    `json:"eventId"`
	Text    string `json:"text"`
	Source  string `json:"source"`
}

func run(ctx context.Context, o options) error {
	nc, err := nats.Connect(o.natsURL, nats.Name("lpbridge gobot"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connect %s: %w", o.natsURL, err)
	}
	defer func() { _ = nc.Drain() }()

	evt := strings.Join([]string{o.prefix, "evt", o.account, o.agent}, ".")
	b := &bot{nc: nc, o: o, done: make(chan struct{})}

	// Ringing: take the chat. A bridge that auto-accepts may have taken it
	// already; then the answer is not_ringing, which is fine.
	if _, err := nc.Subscribe(evt+".agent.ringing", func(m *nats.Msg) {
		var d struct {
			Count int `json:"count"`
		}
		if err := json.Unmarshal(eventData(m), &d); err != nil || d.Count == 0 {
			return
		}
		go b.accept()
	}); err != nil {
		return err
	}
	// Lines: answer the visitor's. Each line is handled in its own goroutine
	// so a slow reply does not hold up the subscription.
	if _, err := nc.Subscribe(evt+".chat.*.line", func(m *nats.Msg) {
		var l line
		if err := json.Unmarshal(eventData(m), &l); err != nil || l.Source != "visitor" {
			return
		}
		go b.answer(chatID(m), l)
	}); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	log.Printf("gobot: agent %s of account %s listening on %s.>", o.agent, o.account, evt)

	select {
	case <-ctx.Done():
	case <-b.done:
		log.Printf("gobot: answered %d lines, done", o.max)
	}
	return nil
}

type bot struct {
	nc *nats.Conn
	o  options

	mu       sync.Mutex
	answered int
	done     chan struct{}
	closed   bool
}

func (b *bot) accept() {
	var res struct {
		ChatID string `json:"chatId"`
	}
	switch err := b.command("chat.accept", map[string]any{}, &res); {
	case err == nil:
		log.Printf("gobot: accepted chat %s", res.ChatID)
	case strings.HasPrefix(err.Error(), "not_ringing"):
	default:
		log.Printf("gobot: chat.accept: %v", err)
	}
}

func (b *bot) answer(chat string, l line) {
	body := map[string]any{
		// Derived from the line: the same line never gets two answers.
		"id":     fmt.Sprintf("gobot/%s/%d", chat, l.EventID),
		"chatId": chat,
		"text":   "You said: " + l.Text,
	}
	var res struct {
		EventID int `json:"eventId"`
	}
	if err := b.command("chat.send", body, &res); err != nil {
		log.Printf("gobot: chat.send to %s: %v", chat, err)
		return
	}
	log.Printf("gobot: answered line %d of chat %s (event %d)", l.EventID, chat, res.EventID)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.answered++
	if b.o.max > 0 && b.answered >= b.o.max && !b.closed {
		b.closed = true
		close(b.done)
	}
}

// command sends one command by request-reply and decodes its result.
func (b *bot) command(name string, body, result any) error {
	subject := strings.Join([]string{b.o.prefix, "cmd", b.o.account, b.o.agent, name}, ".")
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	m, err := b.nc.Request(subject, data, b.o.timeout)
	if err != nil {
		return fmt.Errorf("request %s: %w", subject, err)
	}
	var r reply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return fmt.Errorf("reply of %s: %w", name, err)
	}
	if !r.OK {
		if r.Error == nil {
			return errors.New("failed without an error")
		}
		return fmt.Errorf("%s: %s", r.Error.Code, r.Error.Message)
	}
	return json.Unmarshal(r.Result, result)
}

// eventData returns the data of a CloudEvent in either mode.
func eventData(m *nats.Msg) []byte {
	if !strings.HasPrefix(m.Header.Get("Content-Type"), "application/cloudevents+json") {
		return m.Data // binary mode: the body is the data
	}
	var ce struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(m.Data, &ce); err != nil {
		return nil
	}
	return ce.Data
}

// chatID reads the chat id from lp.evt.<account>.<agent>.chat.<chat>.line.
func chatID(m *nats.Msg) string {
	tokens := strings.Split(m.Subject, ".")
	if len(tokens) < 3 {
		return ""
	}
	return tokens[len(tokens)-2]
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
