package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// Durable commands are routed to the agent's owner too. Every replica pulls
// from the one durable consumer, so a replica standing by for an agent
// (configured, not owned) may be handed its command: it does not run it but
// hands it back at once (a NAK after the standby delay) and counts the
// delivery as skipped in the results bucket. The retry budget (MaxDeliver)
// and the backoff count tries, the deliveries that ran: JetStream's delivery
// count less the skipped ones. The JetStream consumer then has no delivery
// limit of its own, which would count skips too.
//
// A command delivered once was never skipped, so the first try costs no
// KV access; nor does any try of a bridge without an OwnershipSource.

// mdNakDelay is the metadata key of the redelivery delay the handler chose
// for a message it hands back; it overrides the subscriber's NakDelay.
const mdNakDelay = "lpbridge.nak-delay"

// Metadata keys of the stream position of a message, set by natsUnmarshaler.
const (
	mdStreamSeq = "nats.stream-seq" // the message's stream sequence
	mdStored    = "nats.stored"     // when the stream stored it (Unix ns)
)

// mdTries is the metadata key of the handler's try count of a message, for
// the dead letter's deliveries header.
const mdTries = "lpbridge.tries"

// handBack makes the subscriber NAK wm with delay instead of its backoff.
func handBack(wm *message.Message, delay time.Duration) {
	wm.Metadata.Set(mdNakDelay, delay.String())
}

// delayedConsumer is the durable consumer as the watermill subscriber sees
// it: its messages' NAKs take the delay their handler chose.
type delayedConsumer struct{ jetstream.Consumer }

// Consume hands the subscriber each message wrapped in a delayedMsg.
func (d delayedConsumer) Consume(h jetstream.MessageHandler, opts ...jetstream.PullConsumeOpt) (jetstream.ConsumeContext, error) {
	return d.Consumer.Consume(func(m jetstream.Msg) { h(&delayedMsg{Msg: m}) }, opts...)
}

// delayedMsg is a JetStream message whose NAK delay the handler may choose
// (mdNakDelay on the watermill message made from it).
type delayedMsg struct {
	jetstream.Msg
	wm *message.Message // set by natsUnmarshaler
}

// delay is the handler's delay, if it chose one.
func (m *delayedMsg) delay() (time.Duration, bool) {
	if m.wm == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m.wm.Metadata.Get(mdNakDelay))
	return d, err == nil && d > 0
}

// NakWithDelay NAKs with the handler's delay, else with delay.
func (m *delayedMsg) NakWithDelay(delay time.Duration) error {
	if d, ok := m.delay(); ok {
		delay = d
	}
	return m.Msg.NakWithDelay(delay)
}

// Nak NAKs with the handler's delay, else at once.
func (m *delayedMsg) Nak() error {
	if d, ok := m.delay(); ok {
		return m.Msg.NakWithDelay(d)
	}
	return m.Msg.Nak()
}

// standingBy reports whether this replica stands by for agent: it runs the
// agent (an OwnershipSource lists it) but another replica owns it. A
// panicking OwnershipSource (a wiring bug) counts as owning, so the command
// runs and fails visibly rather than circling forever.
func (c *Consumer) standingBy(agent string) (standby bool) {
	own := c.ownership()
	if own == nil || agent == "" {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			c.logger.Error("ownership lookup panicked", "agent", agent, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			standby = false
		}
	}()
	return slices.Contains(own.Agents(c.cfg.Account), agent) && !own.Owns(c.cfg.Account, agent)
}

// standbyDelay is how long a replica standing by waits before the command
// it handed back is delivered again: one ownership check.
func (c Config) standbyDelay() time.Duration { return c.OwnershipCheck }

// position is where a durable command sits in its stream.
type position struct {
	seq    uint64
	stored int64 // Unix ns; tells a sequence reused by a re-created stream apart
}

// positionOf reads the stream position natsUnmarshaler noted on wm.
func positionOf(wm *message.Message) (position, bool) {
	seq, err1 := strconv.ParseUint(wm.Metadata.Get(mdStreamSeq), 10, 64)
	stored, err2 := strconv.ParseInt(wm.Metadata.Get(mdStored), 10, 64)
	return position{seq: seq, stored: stored}, err1 == nil && err2 == nil && seq > 0
}

// skipRecord counts the skipped deliveries of one stream message.
type skipRecord struct {
	Stored  int64  `json:"stored"`
	Skipped uint64 `json:"skipped"`
}

// skipKey is the results-bucket key of the skip count of a stream message.
func (c *Consumer) skipKey(p position) string {
	return "s." + safeName(c.cfg.StreamName) + "." + strconv.FormatUint(p.seq, 10)
}

// skip notes one more skipped delivery of the message at p.
func (r *results) skip(ctx context.Context, key string, p position) error {
	for range maxClaimRaces {
		entry, err := r.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			_, err = r.kv.Create(ctx, key, mustJSON(skipRecord{Stored: p.stored, Skipped: 1}))
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			if err != nil {
				return fmt.Errorf("create skip count %s: %w", key, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read skip count %s: %w", key, err)
		}
		var rec skipRecord
		if json.Unmarshal(entry.Value(), &rec) != nil || rec.Stored != p.stored {
			rec = skipRecord{Stored: p.stored} // another message's: start over
		}
		rec.Skipped++
		_, err = r.kv.Update(ctx, key, mustJSON(rec), entry.Revision())
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			continue
		}
		if err != nil {
			return fmt.Errorf("update skip count %s: %w", key, err)
		}
		return nil
	}
	return fmt.Errorf("update skip count %s: %w", key, errSkipRaces)
}

// skipped is the number of skipped deliveries of the message at p.
func (r *results) skipped(ctx context.Context, key string, p position) (uint64, error) {
	entry, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read skip count %s: %w", key, err)
	}
	var rec skipRecord
	if json.Unmarshal(entry.Value(), &rec) != nil || rec.Stored != p.stored {
		return 0, nil
	}
	return rec.Skipped, nil
}

// skipDelivery hands a command back for the agent's owner without running
// it, and counts the delivery as skipped.
func (c *Consumer) skipDelivery(ctx context.Context, wm *message.Message, cmd Command) {
	if p, ok := positionOf(wm); ok {
		if err := c.results.skip(ctx, c.skipKey(p), p); err != nil {
			// The delivery will count as a try: at worst a command nobody
			// could run for long is dead-lettered a try early.
			c.logger.Warn("skipped durable command not counted", "agent", cmd.Agent, "command", cmd.Name, "err", err)
		}
	}
	c.logger.Debug("durable command handed back: another replica owns the agent", "agent", cmd.Agent,
		"command", cmd.Name, "id", cmd.ID)
	handBack(wm, c.cfg.standbyDelay())
	wm.Nack()
}

// tries is the try number of this delivery: JetStream's delivery count less
// the deliveries that replicas standing by skipped. skipKey is "" when no
// delivery was skipped.
func (c *Consumer) tries(ctx context.Context, wm *message.Message, delivered uint64) (tries uint64, skipKey string) {
	if delivered <= 1 || c.ownership() == nil {
		return delivered, ""
	}
	p, ok := positionOf(wm)
	if !ok {
		return delivered, ""
	}
	key := c.skipKey(p)
	n, err := c.results.skipped(ctx, key, p)
	if err != nil {
		c.logger.Warn("skipped deliveries unknown; counting every delivery as a try", "err", err)
		return delivered, ""
	}
	if n == 0 {
		return delivered, ""
	}
	return max(delivered-min(n, delivered), 1), key
}

// forgetSkips drops the skip count of a command that is done with.
func (c *Consumer) forgetSkips(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := c.results.kv.Delete(ctx, key); err != nil {
		c.logger.Debug("skip count not dropped; it expires with the results", "err", err)
	}
}
