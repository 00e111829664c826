// Package jsretry tells a JetStream that cannot answer yet from one that
// answered and refused, and retries the first kind with backoff.
//
// On a NATS cluster, JetStream is unavailable for seconds at a time: while
// the nodes start and elect a meta leader, while a stream or KV bucket
// elects a new leader after losing one, while a client reconnects to
// another node. Its requests then fail with "no responders", "JetStream not
// enabled", "JetStream system temporarily unavailable", "insufficient
// resources" or "no suitable peers" (too few nodes up for the replicas), or
// time out. None of these says the request is wrong; the same request
// succeeds once the cluster is whole again. The bridge waits for that
// instead of failing its start or dropping a write.
package jsretry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// Backoff between attempts: an election takes a few seconds, so the first
// retries come quickly; a longer outage costs one request every few
// seconds per bridge, not a storm of them when a whole fleet waits.
const (
	// MinWait is the wait before the first retry.
	MinWait = 250 * time.Millisecond
	// MaxWait caps the wait between two retries.
	MaxWait = 5 * time.Second
	// AttemptTimeout bounds one attempt of Do. A cluster without a meta
	// leader does not answer at all, and a request that waited for the
	// caller's whole context would never be retried (nor logged). Nor does
	// it answer two clients creating the same new replicated stream or
	// bucket at once (nats-server 2.15: neither request is ever answered,
	// though the stream is made), which is what replicas starting together
	// do; the retry then finds it made and returns at once. Creating one
	// takes well under a second, so 2s is short for a start, long for a
	// create.
	AttemptTimeout = 2 * time.Second
	// jitter is the largest fraction of a wait added at random, so
	// replicas waiting for the same cluster do not retry in lockstep.
	jitter = 0.2
)

// API error codes (nats-server errors.json) that mean "not now" rather than
// "not this": the request was not carried out and may be sent again.
var unavailableCodes = map[jetstream.ErrorCode]string{
	10004: "incomplete results",
	10005: "no suitable peers for placement",
	10008: "JetStream system temporarily unavailable",
	10009: "JetStream cluster can not handle request",
	10023: "insufficient resources",
	10039: "JetStream not enabled for account",
	10076: "JetStream not enabled",
	10118: "stream is offline",
	10163: "expected last sequence per subject temporarily unavailable",
}

// Unavailable reports whether err says JetStream could not answer now (see
// the package doc) while ctx is still live. A request that timed out is
// among them, though it may have been carried out: a caller that retries
// a write which is not idempotent must first check whether it was applied
// (see Ambiguous).
func Unavailable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		_, ok := unavailableCodes[apiErr.ErrorCode]
		return ok
	}
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected)
}

// Ambiguous reports whether a write that failed with err may still have
// been applied: its request may have reached the server, but no answer
// came back in time. Such a write is checked (read back) before it is
// retried. "No responders" (and jetstream's ErrNoStreamResponse, which is
// what a publish reports for it) is not ambiguous: nobody received it.
func Ambiguous(err error) bool {
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected)
}

// Wait is the wait before retry number attempt (from 1): doubling from
// MinWait up to MaxWait, plus jitter.
func Wait(attempt int) time.Duration {
	d := MaxWait
	if n := attempt - 1; n < 8 {
		d = min(MaxWait, MinWait<<max(n, 0))
	}
	return d + time.Duration(rand.Float64()*jitter*float64(d))
}

// Sleep waits d, or less when ctx ends first; it reports whether the whole
// wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Reporter is where retries are told: a warning in Logger, a count in
// Metrics (lpbridge_jetstream_retries_total).
type Reporter struct {
	Logger  *slog.Logger       // nil: slog.Default()
	Metrics *telemetry.Metrics // nil: not counted
}

// Retried tells r of the retry number attempt of what (of kind op, a
// telemetry.JetStream* label), which failed with err, after wait.
func (r Reporter) Retried(op, what string, err error, attempt int, wait time.Duration) {
	r.Metrics.JetStreamRetried(op)
	r.logger().Warn("jetstream not ready; retrying", "op", what, "err", err, "attempt", attempt, "wait", wait)
}

func (r Reporter) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Do runs fn until it succeeds, fails with an error that is not
// Unavailable, or ctx ends; each attempt gets at most AttemptTimeout (a
// timed-out attempt counts as Unavailable, so fn must be safe to repeat
// after one). It waits Wait(attempt) between attempts and tells r of every
// retry, naming what is retried; op is its kind (a telemetry.JetStream*
// label). The error returned after ctx ended wraps ctx's error and the
// last one of fn.
func Do(ctx context.Context, r Reporter, op, what string, fn func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, AttemptTimeout)
		err := fn(actx)
		cancel()
		if err == nil || !Unavailable(ctx, err) {
			if err == nil && attempt > 1 {
				r.logger().Info("jetstream ready again", "op", what, "attempts", attempt)
			}
			return err
		}
		wait := Wait(attempt)
		r.Retried(op, what, err, attempt, wait)
		if !Sleep(ctx, wait) {
			return fmt.Errorf("%s: %w (last attempt: %w)", what, ctx.Err(), err)
		}
	}
}
