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

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/telemetry"
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

// routedToOwner keeps durable commands with the agent's owner: a replica
// standing by hands the command back at once without running it (nothing
// is traced, counted or published for that delivery), and counts the skip,
// so that for the others the try number (delivery) is JetStream's delivery
// count less the skipped deliveries. The count is dropped when the message
// is acked (settled), not before: a message whose ack did not land comes
// again, and its skips must still not count as tries.
func (c *Consumer) routedToOwner(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		if c.standingBy(d.cmd.Agent) {
			c.skipDelivery(ctx, d)
			return outcome{cmd: d.cmd, redeliver: true, delay: c.cfg.standbyDelay()}
		}
		d.tries, d.skipKey = c.tries(ctx, d)
		return next(ctx, d)
	}
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
	seq    uint64 // 0 when unknown
	stored int64  // Unix ns; tells a sequence reused by a re-created stream apart
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

// skipCountTimeout bounds counting (or reading the count of) skipped
// deliveries, retries included. While the results bucket elects a leader (a
// NATS node lost) its writes fail at once with "no responders"; a standby
// that gave up on the first would hand the command back uncounted every
// OwnershipCheck, and the owner would find the retry budget spent by
// deliveries that never ran and dead-letter the command untried.
const skipCountTimeout = 10 * time.Second

// skipDelivery counts a delivery handed back for the agent's owner as
// skipped.
func (c *Consumer) skipDelivery(ctx context.Context, d *delivery) {
	if d.pos.seq > 0 {
		sctx, cancel := context.WithTimeout(ctx, skipCountTimeout)
		err := jsretry.Do(sctx, c.retries(), telemetry.JetStreamKV, "count a skipped durable command", func(actx context.Context) error {
			return c.results.skip(actx, c.skipKey(d.pos), d.pos)
		})
		cancel()
		if err != nil {
			// The delivery will count as a try: a command nobody could
			// count for this long may be dead-lettered a try early.
			c.logger.Warn("skipped durable command not counted", "agent", d.cmd.Agent, "command", d.cmd.Name, "err", err)
		}
	}
	c.logger.Debug("durable command handed back: another replica owns the agent", "agent", d.cmd.Agent,
		"command", d.cmd.Name, "id", d.cmd.ID)
}

// tries is the try number of this delivery: JetStream's delivery count less
// the deliveries that replicas standing by skipped. skipKey is "" when no
// delivery was skipped.
func (c *Consumer) tries(ctx context.Context, d *delivery) (tries uint64, skipKey string) {
	delivered := d.tries
	if delivered <= 1 || c.ownership() == nil || d.pos.seq == 0 {
		return delivered, ""
	}
	key := c.skipKey(d.pos)
	var n uint64
	sctx, cancel := context.WithTimeout(ctx, skipCountTimeout)
	err := jsretry.Do(sctx, c.retries(), telemetry.JetStreamKV, "read the skip count of a durable command", func(actx context.Context) error {
		var err error
		n, err = c.results.skipped(actx, key, d.pos)
		return err
	})
	cancel()
	if err != nil {
		c.logger.Warn("skipped deliveries unknown; counting every delivery as a try", "err", err)
		return delivered, ""
	}
	if n == 0 {
		return delivered, ""
	}
	return max(delivered-min(n, delivered), 1), key
}

// forgetSkips drops the skip count of a command acked.
func (c *Consumer) forgetSkips(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := c.results.kv.Delete(ctx, key); err != nil {
		c.logger.Debug("skip count not dropped; it expires with the results", "err", err)
	}
}
