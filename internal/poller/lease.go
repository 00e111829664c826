package poller

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/lpbridge/lpbridge/internal/state"
)

// Lease is the agent's lease across replicas (DESIGN.md §4.4): a worker
// with a Lease logs in and polls only while it holds it. *state.AgentLease
// satisfies it.
type Lease interface {
	// Acquire takes the lease; state.ErrLeaseHeld while another replica
	// holds it.
	Acquire(ctx context.Context) error
	// Renew extends the lease by TTL; state.ErrLeaseLost when another
	// replica holds it now or it expired.
	Renew(ctx context.Context) error
	// Release gives the lease up so another replica takes over at once.
	Release(ctx context.Context) error
	// TTL is how long the lease lasts without a renewal.
	TTL() time.Duration
}

// errLeaseLost is the cause of a hold's context when the lease was lost.
var errLeaseLost = errors.New("poller: lease lost")

// releaseTimeout bounds giving the lease up at the end of Run: one KV call.
const releaseTimeout = 5 * time.Second

// hold is the worker's time as the agent's owner, from acquiring the lease
// until losing or releasing it. Without a Lease it is never lost.
type hold struct {
	// ctx is Run's context, also cancelled when the lease is lost: the work
	// of the owner runs on it.
	ctx    context.Context
	cancel context.CancelFunc
	// lost ends only when the lease is lost (cause errLeaseLost); it
	// bounds the work after Run's context ended (saving cursors).
	lost context.Context
	lose context.CancelCauseFunc
	// stopRenew ends the renewer; renewed is closed once it returned.
	stopRenew context.CancelFunc
	renewed   chan struct{}
	// owned is the worker's ownership flag (Owns), cleared when the hold ends.
	owned *atomic.Bool
}

// Owns reports whether the worker owns its agent: true while it holds the
// agent's lease, false while it stands by (or lost the lease, or stopped
// running). Without a Lease it is always true: the worker is the only
// replica for the agent. The command consumer takes the agent's commands
// only while this is true. Safe for concurrent use.
func (w *Worker) Owns() bool {
	return w.cfg.Lease == nil || w.owned.Load()
}

// isLost reports whether the lease was lost.
func (h *hold) isLost() bool {
	return errors.Is(context.Cause(h.lost), errLeaseLost)
}

// end stops renewing and frees the hold; it reports whether the lease was
// lost. A lease not lost stays held until released or expired.
func (h *hold) end() (lost bool) {
	h.stopRenew()
	<-h.renewed
	h.owned.Store(false)
	lost = h.isLost()
	h.cancel()
	h.lose(context.Canceled)
	return lost
}

// newHold starts a hold of the lease acquired at since (nil lease: a hold
// that is never lost) and, with a lease, renews it in the background.
func (w *Worker) newHold(ctx context.Context, since time.Time) *hold {
	h := &hold{renewed: make(chan struct{}), owned: &w.owned}
	h.lost, h.lose = context.WithCancelCause(context.WithoutCancel(ctx))
	h.ctx, h.cancel = context.WithCancel(ctx)
	context.AfterFunc(h.lost, h.cancel)
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h.stopRenew = stop
	if w.cfg.Lease == nil {
		close(h.renewed)
		return h
	}
	w.owned.Store(true)
	go func() {
		defer close(h.renewed)
		w.renew(rctx, h, since)
	}()
	return h
}

// takeLease waits until the worker holds the agent's lease, trying every
// TTL/3 while another replica holds it and doing nothing else meanwhile (no
// login, no publish). It returns false when Stop or Run's context ended the
// wait. Without a Lease it returns a hold at once.
func (w *Worker) takeLease(ctx context.Context) (*hold, bool) {
	if w.cfg.Lease == nil {
		if ctx.Err() != nil || w.stopping() {
			return nil, false
		}
		return w.newHold(ctx, time.Now()), true
	}
	every := w.cfg.Lease.TTL() / 3
	standingBy := false
	for ctx.Err() == nil && !w.stopping() {
		start := time.Now()
		err := w.cfg.Lease.Acquire(ctx)
		switch {
		case err == nil:
			w.log.Info("lease acquired", "ttl", w.cfg.Lease.TTL())
			return w.newHold(ctx, start), true
		case errors.Is(err, state.ErrLeaseHeld):
			// Standing by is this worker's job now: healthy.
			w.lastOK.Store(time.Now().UnixNano())
			if !standingBy {
				w.log.Info("lease held by another replica; standing by", "reason", err)
				standingBy = true
			}
		case ctx.Err() != nil:
		case errors.Is(err, state.ErrInvalidArgument):
			w.log.Error("acquiring the lease failed; check the lease ttl", "err", err)
		default:
			w.log.Warn("acquiring the lease failed; will retry", "err", err)
		}
		w.sleep(ctx, every)
	}
	return nil, false
}

// renew renews the lease every TTL/3 until ctx ends. When the lease is
// lost, or no renewal succeeded for so long that it may have expired before
// the next try, it cancels the hold at once: the worker stops publishing
// before another replica can have taken over.
func (w *Worker) renew(ctx context.Context, h *hold, since time.Time) {
	ttl := w.cfg.Lease.TTL()
	every := ttl / 3
	t := time.NewTicker(every)
	defer t.Stop()
	last := since // start of the last successful write of the lease
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, every/2)
		err := w.cfg.Lease.Renew(rctx)
		cancel()
		switch {
		case err == nil:
			last = start
			continue
		case ctx.Err() != nil:
			return
		case errors.Is(err, state.ErrLeaseLost):
			w.log.Info("lease lost; stopping at once", "reason", err)
		case time.Since(last)+every >= ttl:
			w.log.Info("lease lost: not renewed in time; stopping at once", "err", err, "lastRenewed", last)
		default:
			w.log.Warn("renewing the lease failed; will retry", "err", err)
			continue
		}
		// The agent session is another replica's now: no command may use it.
		w.owned.Store(false)
		w.session.Store(nil)
		h.lose(errLeaseLost)
		return
	}
}

// releaseLease gives the lease up at the end of Run (if it was not lost).
func (w *Worker) releaseLease(ctx context.Context) {
	if w.cfg.Lease == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := w.cfg.Lease.Release(rctx); err != nil {
		w.log.Warn("releasing the lease failed; another replica takes over once it expires", "err", err)
		return
	}
	w.log.Info("lease released")
}

// forget drops everything the worker knew as the agent's owner once the
// lease is lost: the new owner moves the agent state and cursors on, so the
// next holding loads them again from KV. Nothing is published or saved.
func (w *Worker) forget() {
	w.session.Store(nil)
	w.releaseGauges()
	w.loaded = false
	w.chats, w.order = map[string]*chat{}, nil
	w.ignored = map[string]ignoreKind{}
	w.acceptedBy, w.lostSession = "", false
	w.resetSync()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.agent = state.AgentState{}
	w.agentDirty = false
	w.pendingAgent = nil
	w.handed = map[string]string{}
}
