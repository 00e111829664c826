package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/schemas"
)

// received is one event as a JetStream consumer of the event stream sees it.
type received struct {
	StreamSeq uint64
	Subject   string
	MsgID     string // the Nats-Msg-Id header
	Header    nats.Header
	Body      []byte
	DecodeErr error // events.Decode failed: nothing below is set

	CE     event.Event
	Type   events.Type
	Chat   string // CloudEvent subject: the chat id of chat events
	Seq    int64  // the "seq" extension
	SeqErr error
	Data   map[string]any // the event's data as JSON
}

// str is a data field as text ("" when absent).
func (r received) str(key string) string {
	v, ok := r.Data[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// is reports whether r has type typ and, when chat is not "", is of that chat.
func (r received) is(typ events.Type, chat string) bool {
	return r.DecodeErr == nil && r.Type == typ && (chat == "" || r.Chat == chat)
}

// String names the event in failure messages.
func (r received) String() string {
	if r.DecodeErr != nil {
		return fmt.Sprintf("#%d %s (undecodable: %v)", r.StreamSeq, r.Subject, r.DecodeErr)
	}
	return fmt.Sprintf("#%d %s seq=%d data=%s", r.StreamSeq, r.Type.Suffix(), r.Seq, r.CE.Data())
}

// decodeReceived turns a stream message into a received event.
func decodeReceived(m jetstream.Msg) received {
	r := received{Subject: m.Subject(), Header: m.Headers(), Body: m.Data()}
	if meta, err := m.Metadata(); err == nil {
		r.StreamSeq = meta.Sequence.Stream
	}
	r.MsgID = r.Header.Get(jetstream.MsgIDHeader)
	ce, err := events.Decode(&nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
	if err != nil {
		r.DecodeErr = err
		return r
	}
	r.CE, r.Type, r.Chat = ce, events.Type(ce.Type()), ce.Subject()
	r.Seq, r.SeqErr = extInt(ce, "seq")
	if err := json.Unmarshal(ce.Data(), &r.Data); err != nil {
		r.DecodeErr = fmt.Errorf("data is not a JSON object: %w", err)
	}
	return r
}

// extInt reads an integer extension, which arrives as a string in binary
// mode and as a number in structured mode.
func extInt(ce event.Event, name string) (int64, error) {
	v, ok := ce.Extensions()[name]
	if !ok {
		return 0, fmt.Errorf("no %q extension", name)
	}
	n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("extension %q = %v: %w", name, v, err)
	}
	return n, nil
}

// extStr reads a string extension ("" when absent).
func extStr(ce event.Event, name string) string {
	v, ok := ce.Extensions()[name]
	if !ok {
		return ""
	}
	return fmt.Sprint(v)
}

// collector reads the event stream with an ordered consumer, from its first
// message, for as long as the test runs.
type collector struct {
	mu  sync.Mutex
	got []received
}

// collectEvents waits until the bridge has created the event stream, then
// consumes all of it (lp.evt.>) in the background.
func collectEvents(t *testing.T, b *inProcessBridge, js jetstream.JetStream) *collector {
	t.Helper()
	ctx := context.Background()
	var stream jetstream.Stream
	waitUntil(t, b, "the bridge creates stream "+e2eStream, func() error {
		s, err := js.Stream(ctx, e2eStream)
		stream = s
		return err
	})
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{e2eSubjects}})
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	c := &collector{}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		r := decodeReceived(m)
		c.mu.Lock()
		c.got = append(c.got, r)
		c.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	t.Cleanup(cc.Stop)
	return c
}

// all returns what arrived so far, in stream order.
func (c *collector) all() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]received(nil), c.got...)
}

// count is how many messages arrived so far.
func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// match returns the events that satisfy pred, in stream order.
func (c *collector) match(pred func(received) bool) []received {
	var out []received
	for _, r := range c.all() {
		if pred(r) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits until an event satisfying pred arrived and returns the first.
func (c *collector) waitFor(t *testing.T, b *inProcessBridge, what string, pred func(received) bool) received {
	t.Helper()
	var found received
	waitUntil(t, b, what, func() error {
		m := c.match(pred)
		if len(m) == 0 {
			return fmt.Errorf("not among the %d events received so far", c.count())
		}
		found = m[0]
		return nil
	})
	return found
}

// checkEvents asserts the contract every event of the stream keeps
// (DESIGN.md §2–§3): a valid CloudEvent of a known type, with a time, a
// source naming account and agent, and a dataschema, whose data validates
// against that JSON Schema; on the subject its type, account, agent and chat
// give it; with a unique id that is also its Nats-Msg-Id; and with a
// per-chat seq that only grows.
func checkEvents(t *testing.T, got []received) {
	t.Helper()
	set, err := schemas.Compile()
	if err != nil {
		t.Fatalf("schemas.Compile: %v", err)
	}
	ids := map[string]uint64{}
	lastSeq := map[string]received{}
	for _, r := range got {
		if r.DecodeErr != nil {
			t.Errorf("%v", r)
			continue
		}
		if err := r.CE.Validate(); err != nil {
			t.Errorf("%v: invalid CloudEvent: %v", r, err)
		}
		if !r.Type.Valid() {
			t.Errorf("%v: unknown type %q", r, r.Type)
			continue
		}
		if r.MsgID == "" || r.MsgID != r.CE.ID() {
			t.Errorf("%v: Nats-Msg-Id %q != ce id %q", r, r.MsgID, r.CE.ID())
		}
		if prev, dup := ids[r.CE.ID()]; dup {
			t.Errorf("%v: id %q already used by stream message #%d", r, r.CE.ID(), prev)
		}
		ids[r.CE.ID()] = r.StreamSeq
		if err := set.ValidateEvent(string(r.Type), r.CE.Data()); err != nil {
			t.Errorf("%v: data does not validate against its schema: %v", r, err)
		}
		acct, agent := extStr(r.CE, "account"), extStr(r.CE, "agent")
		if acct != e2eAccount || agent == "" || r.CE.Source() != events.Source(acct, agent) {
			t.Errorf("%v: account %q, agent %q, source %q; want account %q and the source they name", r, acct, agent, r.CE.Source(), e2eAccount)
		}
		if !strings.HasSuffix(r.CE.DataSchema(), "/events/"+r.Type.Suffix()+".json") || r.CE.DataContentType() != "application/json" {
			t.Errorf("%v: dataschema %q, datacontenttype %q", r, r.CE.DataSchema(), r.CE.DataContentType())
		}
		if r.CE.Time().IsZero() {
			t.Errorf("%v: no time", r)
		}
		want := events.Subject("lp", events.Event{Type: r.Type, Account: acct, Agent: agent, ChatID: r.Chat})
		if r.Subject != want {
			t.Errorf("%v: subject %q, want %q", r, r.Subject, want)
		}
		if !r.Type.IsChat() {
			continue
		}
		if r.Chat == "" {
			t.Errorf("%v: chat event without a subject (chat id)", r)
			continue
		}
		if r.SeqErr != nil {
			t.Errorf("%v: %v", r, r.SeqErr)
			continue
		}
		if prev, ok := lastSeq[r.Chat]; ok && r.Seq <= prev.Seq {
			t.Errorf("chat %s: seq does not grow: %v after %v", r.Chat, r, prev)
		}
		lastSeq[r.Chat] = r
	}
}

// typeCounts summarises events per type, for logs.
func typeCounts(got []received) string {
	n := map[string]int{}
	for _, r := range got {
		n[r.Type.Suffix()]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, n[k])
	}
	return strings.TrimSpace(b.String())
}
