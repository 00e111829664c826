package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Durable commands run through a watermill router fed by watermill-nats's
// JetStream subscriber on a durable consumer of the command stream:
//
//   - the handler runs the command (process) and says what becomes of it:
//     nil → ack; *redeliver → nack, which the subscriber turns into
//     NakWithDelay(Backoff[try-1]), so the retry schedule survives a
//     restart (an in-process Retry middleware would not); a command for an
//     agent another replica owns is not run but handed back (standby.go);
//     *deadLetter → middleware.PoisonQueueWithFilter publishes it to
//     <prefix>.dlq.<account>.<agent>.<command> and acks;
//   - middleware.Recoverer turns a panic into an error the poison queue
//     takes, so nothing stalls the stream.
//
// Messages are handled one at a time, in stream order.

// Metadata keys of a watermill message made from a JetStream message.
const (
	mdSubject   = "nats.subject"   // the command subject
	mdDelivered = "nats.delivered" // JetStream delivery count
	mdHeader    = "nats.header."   // prefix of each original header
	mdDLQCode   = "dlq.code"       // error code of a dead letter
	mdDLQReason = "dlq.reason"     // error message of a dead letter
)

// closeTimeoutMargin is added to Timeout to bound how long shutdown waits
// for the command being run.
const closeTimeoutMargin = 5 * time.Second

// redeliver asks JetStream to deliver the command again later.
type redeliver struct{ err *Error }

func (r *redeliver) Error() string { return "redeliver: " + r.err.Error() }
func (r *redeliver) Unwrap() error { return r.err }

// deadLetter sends the command to the dead-letter subject.
type deadLetter struct{ err *Error }

// markDeadLetter notes e's code and message on wm for the poison queue's
// publisher and returns the error that sends wm there.
func markDeadLetter(wm *message.Message, e *Error) error {
	wm.Metadata.Set(mdDLQCode, string(e.Code))
	wm.Metadata.Set(mdDLQReason, e.Message)
	return &deadLetter{e}
}

func (d *deadLetter) Error() string { return d.err.Error() }
func (d *deadLetter) Unwrap() error { return d.err }

// natsUnmarshaler keeps what the handler needs of a JetStream message (the
// default one drops Nats-Msg-Id and fails on repeated headers, which would
// stall its subscriber).
type natsUnmarshaler struct{}

func (natsUnmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	uuid := nuid.Next()
	var delivered uint64
	md, mdErr := msg.Metadata()
	if mdErr == nil {
		uuid = "seq-" + strconv.FormatUint(md.Sequence.Stream, 10)
		delivered = md.NumDelivered
	}
	wm := message.NewMessage(uuid, msg.Data())
	if mdErr == nil {
		wm.Metadata.Set(mdStreamSeq, strconv.FormatUint(md.Sequence.Stream, 10))
		wm.Metadata.Set(mdStored, strconv.FormatInt(md.Timestamp.UnixNano(), 10))
	}
	if dm, ok := msg.(*delayedMsg); ok {
		dm.wm = wm
	}
	wm.Metadata.Set(mdSubject, msg.Subject())
	wm.Metadata.Set(mdDelivered, strconv.FormatUint(delivered, 10))
	for k, v := range msg.Headers() {
		if len(v) > 0 {
			wm.Metadata.Set(mdHeader+k, v[0])
		}
	}
	return wm, nil
}

// natsMsg rebuilds the command message and its delivery count.
func natsMsg(wm *message.Message) (*nats.Msg, uint64) {
	m := &nats.Msg{Subject: wm.Metadata.Get(mdSubject), Data: wm.Payload, Header: nats.Header{}}
	for k, v := range wm.Metadata {
		if name, ok := strings.CutPrefix(k, mdHeader); ok {
			m.Header.Set(name, v)
		}
	}
	delivered, _ := strconv.ParseUint(wm.Metadata.Get(mdDelivered), 10, 64)
	return m, delivered
}

// redeliveryDelay is the subscriber's NakDelay: Backoff by delivery count.
type redeliveryDelay struct{ cfg Config }

func (d redeliveryDelay) WaitTime(delivery uint64) time.Duration { return d.cfg.backoff(delivery) }

// poisonPublisher is the poison queue's publisher: it dead-letters each
// message on the subject derived from its own command subject.
type poisonPublisher struct{ c *Consumer }

func (p poisonPublisher) Publish(_ string, msgs ...*message.Message) error {
	for _, wm := range msgs {
		m, delivered := natsMsg(wm)
		if tries, err := strconv.ParseUint(wm.Metadata.Get(mdTries), 10, 64); err == nil {
			delivered = tries
		}
		cmd, _ := Decode(m, p.c.decodeOpts)
		e := &Error{Code: Code(wm.Metadata.Get(mdDLQCode)), Message: wm.Metadata.Get(mdDLQReason)}
		if e.Code == "" {
			// A panic recovered by middleware.Recoverer: its text holds a
			// stack trace, which belongs in the log, not in a header.
			e.Code, e.Message = CodeInternal, "command handling failed unexpectedly"
			p.c.logger.Error("durable command handling panicked", "subject", m.Subject,
				"panic", wm.Metadata.Get(middleware.ReasonForPoisonedKey))
		}
		if err := p.c.dead.send(wm.Context(), m, cmd, e, delivered); err != nil {
			return err
		}
	}
	return nil
}

func (poisonPublisher) Close() error { return nil }

// handleDurable runs one durable command and decides its fate.
func (c *Consumer) handleDurable(wm *message.Message) (err error) {
	start := time.Now()
	m, delivered := natsMsg(wm)
	cmd, derr := c.decode(m)
	if c.standingBy(cmd.Agent) {
		c.skipDelivery(context.WithoutCancel(wm.Context()), wm, cmd)
		return nil
	}
	tries, skipKey := c.tries(context.WithoutCancel(wm.Context()), wm, delivered)
	wm.Metadata.Set(mdTries, strconv.FormatUint(tries, 10))
	ctx, span := c.startSpan(context.WithoutCancel(wm.Context()), m, cmd, modeDurable, tries)
	defer span.End()
	defer c.recoverDurable(ctx, wm, m, &err)
	var out outcome
	if tries > uint64(c.cfg.MaxDeliver) {
		out = failure(cmd, failf(CodeTimeout, "given up after %d tries", c.cfg.MaxDeliver), int(tries))
	} else {
		out = c.process(ctx, cmd, derr)
	}
	if out.err != nil && out.err.Code.Transient() {
		if tries < uint64(c.cfg.MaxDeliver) {
			c.observe(ctx, out)
			c.logOutcome(ctx, out, modeDurable, time.Since(start))
			handBack(wm, c.cfg.backoff(tries))
			return &redeliver{out.err}
		}
		out.deadLetter = true
	}
	defer c.forgetSkips(ctx, skipKey)
	c.publishResult(ctx, out)
	c.observe(ctx, out)
	c.logOutcome(ctx, out, modeDurable, time.Since(start))
	if out.deadLetter {
		return markDeadLetter(wm, out.err)
	}
	return nil
}

// recoverDurable turns a panic while handling a durable command (a bug)
// into an internal failure that is published and dead-lettered.
// middleware.Recoverer stays behind it for panics outside the handler.
func (c *Consumer) recoverDurable(ctx context.Context, wm *message.Message, m *nats.Msg, err *error) {
	p := recover()
	if p == nil {
		return
	}
	c.logger.Error("command handling panicked", "subject", m.Subject, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	cmd, _ := c.decode(m)
	out := failure(cmd, failf(CodeInternal, "command failed unexpectedly"), 1)
	c.publishResult(ctx, out)
	c.observe(ctx, out)
	*err = markDeadLetter(wm, out.err)
}

// shouldDeadLetter is the poison queue's filter: dead letters and panics.
func shouldDeadLetter(err error) bool {
	var dl *deadLetter
	var rp middleware.RecoveredPanicError
	return errors.As(err, &dl) || errors.As(err, &rp)
}

// durable is the running durable consumer.
type durable struct {
	router *message.Router
	conn   *nats.Conn
	done   chan error
}

// startDurable sets up the stream, the durable consumer and the router, and
// runs the router until stop. The watermill subscriber drains the
// connection it is given when it closes, so it gets a connection of its own.
func (c *Consumer) startDurable(ctx context.Context) (*durable, error) {
	if _, err := ensureCommandStream(ctx, c.js, c.cfg); err != nil {
		return nil, err
	}
	opts := c.nc.Opts
	opts.Name = strings.TrimSpace(opts.Name + " commands")
	conn, err := opts.Connect()
	if err != nil {
		return nil, fmt.Errorf("durable commands: connect: %w", err)
	}
	wlog := watermill.NewSlogLoggerWithLevelMapping(c.logger.With("component", "watermill"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	consumerCfg := durableConsumerConfig(c.cfg, c.ownership() != nil)
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:           conn,
		Logger:         wlog,
		AckWaitTimeout: ackWait(c.cfg),
		NakDelay:       redeliveryDelay{c.cfg},
		Unmarshaler:    natsUnmarshaler{},
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)},
		ResourceInitializer: func(ctx context.Context, js jetstream.JetStream, _ string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
			cons, err := js.CreateOrUpdateConsumer(ctx, c.cfg.StreamName, consumerCfg)
			if err != nil {
				return nil, nil, err
			}
			return delayedConsumer{cons}, nil, nil
		},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("durable commands: subscriber: %w", err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: c.cfg.Timeout + closeTimeoutMargin}, wlog)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("durable commands: router: %w", err)
	}
	poison, err := middleware.PoisonQueueWithFilter(poisonPublisher{c}, DeadLetterSubject(c.cfg.Prefix, c.cfg.Account, "", ""), shouldDeadLetter)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("durable commands: poison queue: %w", err)
	}
	router.AddMiddleware(poison, middleware.Recoverer)
	router.AddConsumerHandler("lpbridge-commands", consumerCfg.FilterSubject, sub, c.handleDurable)

	d := &durable{router: router, conn: conn, done: make(chan error, 1)}
	// The router's context is not the caller's: cancelling it would cut
	// the command being run; stop closes the router gracefully instead.
	go func() { d.done <- router.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-router.Running():
		return d, nil
	case err := <-d.done:
		conn.Close()
		if err == nil {
			err = errors.New("router stopped")
		}
		return nil, fmt.Errorf("durable commands: %w", err)
	case <-ctx.Done():
		_ = router.Close()
		conn.Close()
		return nil, ctx.Err()
	}
}

// stop closes the router (it waits for the command being run) and the
// connection.
func (d *durable) stop() error {
	err := d.router.Close()
	if rerr := <-d.done; err == nil {
		err = rerr
	}
	d.conn.Close()
	return err
}
