package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Durable commands are consumed with nats.go's jetstream API from the
// account's durable consumer of the command stream (docs/adr/0006): one
// message at a time, in stream order, each through the durable pipeline
// (pipeline.go), whose last step acks it or naks it with the delay the
// outcome chose (NakWithDelay: the retry schedule lives in JetStream, so it
// survives a restart).

// closeTimeoutMargin is added to Timeout to bound how long shutdown waits
// for the command being run.
const closeTimeoutMargin = 5 * time.Second

// durableBatch is how many durable commands are pulled at once: one, so
// that they run one at a time and none waits in a buffer while its ack
// wait runs.
const durableBatch = 1

// durable is the running consumption of durable commands.
type durable struct {
	cc      jetstream.ConsumeContext
	timeout time.Duration // bound of the wait for the command being run
}

// startDurable sets up the stream and the durable consumer and consumes
// it until stop. A command runs detached from ctx: shutdown stops taking
// commands, not the one being run.
func (c *Consumer) startDurable(ctx context.Context) (*durable, error) {
	if err := jsretry.Do(ctx, c.retries(), telemetry.JetStreamCreate, "create stream "+c.cfg.StreamName, func(ctx context.Context) error {
		_, err := ensureCommandStream(ctx, c.js, c.cfg)
		return err
	}); err != nil {
		return nil, err
	}
	cfg := durableConsumerConfig(c.cfg, c.ownership() != nil)
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.cfg.StreamName, cfg)
	if err != nil {
		return nil, fmt.Errorf("durable commands: consumer %s: %w", cfg.Name, err)
	}
	run := context.WithoutCancel(ctx)
	cc, err := cons.Consume(func(m jetstream.Msg) { c.handleDurable(run, m) },
		jetstream.PullMaxMessages(durableBatch),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			level := slog.LevelWarn
			if errors.Is(err, jetstream.ErrNoHeartbeat) {
				// Heartbeats wait while a long command runs; the
				// consumer re-issues its pull by itself.
				level = slog.LevelDebug
			}
			c.logger.Log(run, level, "durable commands: consume", "err", err)
		}))
	if err != nil {
		return nil, fmt.Errorf("durable commands: consume %s: %w", cfg.Name, err)
	}
	return &durable{cc: cc, timeout: c.cfg.Timeout + closeTimeoutMargin}, nil
}

// handleDurable runs one delivered durable command through the pipeline.
func (c *Consumer) handleDurable(ctx context.Context, m jetstream.Msg) {
	d := c.newDelivery(&nats.Msg{Subject: m.Subject(), Data: m.Data(), Header: m.Headers()}, modeDurable)
	d.js = m
	if md, err := m.Metadata(); err == nil {
		d.tries = md.NumDelivered
		d.pos = position{seq: md.Sequence.Stream, stored: md.Timestamp.UnixNano()}
	}
	c.pipes.durable(ctx, d)
}

// stop stops pulling and waits (up to the command timeout) for the
// commands already delivered to be run and settled.
func (d *durable) stop() error {
	d.cc.Drain()
	t := time.NewTimer(d.timeout)
	defer t.Stop()
	select {
	case <-d.cc.Closed():
		return nil
	case <-t.C:
		d.cc.Stop()
		return fmt.Errorf("durable commands: still running after %s", d.timeout)
	}
}
