package events

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ResyncIDSuffix ends the Nats-Msg-Id of an event published again by
// chat.resync: a purge does not clear JetStream's duplicate window, so
// under its own id a purged event would be dropped as a duplicate. The
// CloudEvent id stays the original, which consumers dedupe on.
const ResyncIDSuffix = "/resync"

// historyFetchWait bounds one wait for the next stored message: the
// consumer said more are pending, so they come at once unless the server
// is in trouble.
const historyFetchWait = 5 * time.Second

// ChatHistory is what one stream holds of single chats, and publishes the
// events of a chat it lacks (poller.ChatHistory).
type ChatHistory struct {
	js     jetstream.JetStream
	stream string
	pub    *Publisher
}

// NewChatHistory reads the stream named stream and publishes with pub.
func NewChatHistory(js jetstream.JetStream, stream string, pub *Publisher) *ChatHistory {
	return &ChatHistory{js: js, stream: stream, pub: pub}
}

// Stored returns the ids of the events the stream holds for the agent's
// chat and the highest seq among them (0 when none).
func (h *ChatHistory) Stored(ctx context.Context, account, agent, chatID string) (map[string]bool, int64, error) {
	subj := h.pub.cfg.Prefix + ".evt." + Token(account) + "." + Token(agent) + ".chat." + Token(chatID) + ".>"
	ids := map[string]bool{}
	var maxSeq int64
	err := EachStored(ctx, h.js, h.stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}}, func(m jetstream.Msg) bool {
		ce, err := Decode(&nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
		if err != nil {
			return true // not an event of the bridge
		}
		e, err := FromCloudEvent(ce)
		// Tokens of different chats may collide; the decoded ids do not.
		if err != nil || e.ChatID != chatID || e.Account != account || e.Agent != agent {
			return true
		}
		ids[e.ID] = true
		maxSeq = max(maxSeq, e.Seq)
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	return ids, maxSeq, nil
}

// EachStored calls fn, in stream order, for every message the stream holds
// now that cfg selects (its FilterSubjects, from where its DeliverPolicy
// starts), until fn returns false or none is left. It reads with an ordered
// consumer, so it changes nothing on the server.
func EachStored(ctx context.Context, js jetstream.JetStream, stream string, cfg jetstream.OrderedConsumerConfig, fn func(jetstream.Msg) bool) error {
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("read stream %s: %w", stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream %s: %w", stream, err)
	}
	for pending := info.NumPending; pending > 0; {
		m, err := cons.Next(jetstream.FetchMaxWait(historyFetchWait))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read stream %s: %w", stream, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("read stream %s: %w", stream, err)
		}
		pending = md.NumPending
		if !fn(m) {
			return nil
		}
	}
	return nil
}

// Republish publishes evs as Publish does, under the Nats-Msg-Id
// "<id>/resync" (ResyncIDSuffix).
func (h *ChatHistory) Republish(ctx context.Context, evs ...Event) error {
	return h.pub.publish(ctx, ResyncIDSuffix, evs)
}
