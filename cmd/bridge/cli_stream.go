package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
)

// eventFilter picks events by agent token, chat id and type; empty fields
// match everything.
type eventFilter struct {
	agent string
	chat  string
	typ   events.Type
}

// subjects narrows what the server sends (a filter subject on the stream):
// the agent's or the chat's subjects. The type is checked on the decoded
// event (match), which is exact for every type.
func (f eventFilter) subjects(prefix string) []string {
	agent := "*"
	if f.agent != "" {
		agent = events.Token(f.agent)
	}
	if f.chat != "" {
		return []string{prefix + ".evt.*." + agent + ".chat." + events.Token(f.chat) + ".>"}
	}
	return []string{prefix + ".evt.*." + agent + ".>"}
}

// match reports whether a decoded event passes the filter.
func (f eventFilter) match(e events.Event) bool {
	return (f.agent == "" || e.Agent == events.Token(f.agent)) &&
		(f.chat == "" || e.ChatID == f.chat) &&
		(f.typ == "" || e.Type == f.typ)
}

// storedEvent is one event read from the stream.
type storedEvent struct {
	msg   *nats.Msg // subject, headers and body as stored
	event events.Event
	seq   uint64    // stream sequence
	at    time.Time // when the stream stored it
}

// toStored decodes a message of the stream; ok is false for one that is not
// an event of the bridge (it is skipped).
func toStored(m jetstream.Msg) (storedEvent, bool) {
	s, ok := decodeStored(&nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
	if md, err := m.Metadata(); ok && err == nil {
		s.seq, s.at = md.Sequence.Stream, md.Timestamp
	}
	return s, ok
}

// decodeStored decodes an event message; ok is false for one that is not an
// event of the bridge.
func decodeStored(msg *nats.Msg) (storedEvent, bool) {
	ce, err := events.Decode(msg)
	if err != nil {
		return storedEvent{}, false
	}
	e, err := events.FromCloudEvent(ce)
	if err != nil {
		return storedEvent{}, false
	}
	return storedEvent{msg: msg, event: e}, true
}

// orderedConsumer reads the stream's messages on subjects, from where cfg
// says (DeliverPolicy, OptStartTime).
func (c *cli) orderedConsumer(ctx context.Context, subjects []string, cfg jetstream.OrderedConsumerConfig) (jetstream.Consumer, error) {
	cfg.FilterSubjects = subjects
	cons, err := c.js.OrderedConsumer(ctx, c.cfg.StreamName, cfg)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", c.cfg.StreamName, err)
	}
	return cons, nil
}

// history calls fn for every event stored now on subjects (from cfg's start),
// in stream order, until fn returns false or nothing more is stored.
func (c *cli) history(ctx context.Context, subjects []string, cfg jetstream.OrderedConsumerConfig, fn func(storedEvent) bool) error {
	cfg.FilterSubjects = subjects
	return events.EachStored(ctx, c.js, c.cfg.StreamName, cfg, func(m jetstream.Msg) bool {
		s, ok := toStored(m)
		return !ok || fn(s)
	})
}

// live calls fn for every event stored from cfg's start on, in stream order,
// until ctx ends (then it returns nil).
func (c *cli) live(ctx context.Context, subjects []string, cfg jetstream.OrderedConsumerConfig, fn func(storedEvent)) error {
	cons, err := c.orderedConsumer(ctx, subjects, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("read stream %s: %w", c.cfg.StreamName, err)
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read stream %s: %w", c.cfg.StreamName, err)
		}
		if s, ok := toStored(m); ok {
			fn(s)
		}
	}
}
