package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// awayTimeout bounds setting one agent Away at shutdown: one API call, so a
// few seconds; a service that does not answer must not eat the whole
// shutdown budget.
const awayTimeout = 5 * time.Second

// errShutdownTimeout is returned by run when BRIDGE_SHUTDOWN_TIMEOUT passed
// before every part had stopped.
var errShutdownTimeout = errors.New("shutdown timed out")

// task is a goroutine with its own context: shutdown decides when each part
// stops, not the signal that started the shutdown.
type task struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
}

// startTask runs fn in a goroutine on a context that keeps parent's values
// but not its cancellation; stop cancels it.
func startTask(parent context.Context, name string, fn func(ctx context.Context)) *task {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	t := &task{name: name, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		defer cancel()
		fn(ctx)
	}()
	return t
}

// stop cancels the task's context; the task ends in its own time.
func (t *task) stop() { t.cancel() }

// wait waits until the task ended or ctx is done; it reports whether the
// task ended.
func (t *task) wait(ctx context.Context) bool {
	select {
	case <-t.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// ended reports whether the task has returned.
func (t *task) ended() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// workerTask is a poller worker running as a task.
type workerTask struct {
	*task
	login  string
	worker *poller.Worker
}

// bridgeParts are the running parts that shutdown stops.
type bridgeParts struct {
	nc       *nats.Conn
	commands *task
	workers  []workerTask
}

// shutdownConfig is the part of Config that shapes the shutdown.
type shutdownConfig struct {
	timeout    time.Duration
	awayOnStop bool
}

// shutdown stops the bridge within cfg.timeout, in this order:
//
//  1. Stop taking commands: the command consumer unsubscribes, finishes
//     the commands it is running (their senders get their replies and
//     command.result is published) and returns. The workers still run, so
//     those commands still have their agent sessions.
//  2. With BRIDGE_AWAY_ON_STOP, set every agent Away (in parallel, each
//     bounded by awayTimeout), while its worker still holds the session, so
//     the service stops routing chats to an agent nobody polls.
//  3. Stop the poller workers: each finishes the poll tick in progress
//     (its HTTP calls and publishes complete), saves the cursors of what it
//     published (cursors are also saved after every publish), publishes its
//     pending agent events, with BRIDGE_LOGOUT_ON_STOP logs out and
//     publishes agent.session "ended", and releases its lease so another
//     replica takes the agent over at once.
//  4. Drain NATS: remaining subscriptions are drained, buffered publishes
//     flushed, and the connection closed.
//
// run then stops the HTTP server, the embedded simulator and the embedded
// nats-server. When the timeout passes first, shutdown stops waiting: it
// cancels whatever still runs (a worker's tick in progress is cut off),
// logs it, and returns errShutdownTimeout naming it.
func shutdown(parts bridgeParts, cfg shutdownConfig, logger *slog.Logger) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	logger.Info("shutting down", "timeout", cfg.timeout, "awayOnStop", cfg.awayOnStop)

	ok := true
	if parts.commands != nil {
		parts.commands.stop()
		ok = parts.commands.wait(ctx)
	}
	if ok && cfg.awayOnStop {
		setAway(ctx, parts.workers, logger)
	}
	for _, w := range parts.workers {
		w.worker.Stop() // graceful; their contexts end only at the deadline
	}
	for _, w := range parts.workers {
		ok = ok && w.wait(ctx)
	}
	natsClosed := ok && drainNATS(ctx, parts.nc)

	if ok && natsClosed {
		logger.Info("shut down cleanly", "took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	if parts.commands != nil {
		parts.commands.stop()
	}
	for _, w := range parts.workers {
		w.stop() // the hard abort of a tick still in progress
	}
	var running []string
	if parts.commands != nil && !parts.commands.ended() {
		running = append(running, parts.commands.name)
	}
	for _, w := range parts.workers {
		if !w.ended() {
			running = append(running, w.name)
		}
	}
	if !natsClosed {
		running = append(running, "nats drain")
	}
	logger.Error("shutdown timed out; stopping anyway", "timeout", cfg.timeout, "stillRunning", strings.Join(running, ", "))
	return fmt.Errorf("%w after %s; still running: %s", errShutdownTimeout, cfg.timeout, strings.Join(running, ", "))
}

// setAway sets every worker's agent Away, each with a fresh context bounded
// by awayTimeout and by ctx. A failure is logged: the service sets an agent
// Away by itself once its session is reaped.
func setAway(ctx context.Context, workers []workerTask, logger *slog.Logger) {
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			actx, cancel := context.WithTimeout(ctx, awayTimeout)
			defer cancel()
			st, err := w.worker.SetAvailability(actx, lpchat.Away)
			if err != nil {
				logger.Warn("agent not set Away at shutdown", "agent", w.login, "err", err)
				return
			}
			logger.Info("agent set Away at shutdown", "agent", w.login, "status", st.Chat)
		})
	}
	wg.Wait()
}

// drainNATS drains nc and waits until it is closed or ctx is done; it
// reports whether the connection closed.
func drainNATS(ctx context.Context, nc *nats.Conn) bool {
	if nc == nil || nc.IsClosed() {
		return true
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		// Closed already, or closed at once because it was reconnecting
		// (what it had buffered is lost; cursors make it published again).
		return nc.IsClosed()
	}
	select {
	case <-closed:
		return true
	case <-ctx.Done():
		return false
	}
}
