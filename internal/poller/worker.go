package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/tracing"
)

// Publisher publishes events in order and returns once JetStream acked all
// of them; events.Publisher satisfies it.
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Store keeps chat cursors and agent state; state.Store satisfies it.
// SaveCursor may be called for several chats at once.
type Store interface {
	Cursor(ctx context.Context, account, agent, chatID string) (state.Cursor, bool, error)
	SaveCursor(ctx context.Context, account, agent, chatID string, c state.Cursor) error
	AgentState(ctx context.Context, account, agent string) (state.AgentState, bool, error)
	SaveAgentState(ctx context.Context, account, agent string, a state.AgentState) error
}

// Worker runs one agent: it keeps the agent's login and agent session alive,
// polls them and publishes every change as events (DESIGN.md §2–§4).
type Worker struct {
	cfg    Config
	client *lpchat.Client
	pub    Publisher
	store  Store
	log    *slog.Logger
	tracer trace.Tracer

	session atomic.Pointer[lpchat.AgentSession]
	lastOK  atomic.Int64 // unix nanoseconds of the last good tick (or lease check while standing by); 0 = never
	running atomic.Bool
	owned   atomic.Bool // holds the lease (see Owns)
	// stopped is closed by Stop.
	stopped  chan struct{}
	stopOnce sync.Once
	// failed says why the login was refused for good (see Failed).
	failed atomic.Pointer[string]

	// mu guards the agent-level state, shared with SetAvailability and Track.
	mu           sync.Mutex
	agent        state.AgentState // desired state; ahead of KV while dirty
	agentDirty   bool
	pendingAgent []events.Event // agent events not yet acked, in order
	statusGen    int64          // counts SetAvailability calls, to drop stale reads
	handed       map[string]string

	// wanted is the availability a command set last (guarded by mu);
	// lastRestore is when RestoreAvailability last set it again (poll loop).
	wanted      lpchat.Availability
	lastRestore time.Time

	// Owned by the Run goroutine.
	loaded      bool
	ownID       string                // the agent's id (§5.5), to tell when a chat moved on
	chats       map[string]*chat      // chats being polled
	order       []*chat               // chats by id (sortedChats); nil when the set changed
	ignored     map[string]ignoreKind // chats not polled although chatSessions may list them
	acceptedBy  string                // acceptedBy for chats found by the next chatSessions read ("" = command)
	lostSession bool                  // the saved agent session is known to be gone
	lastRefresh time.Time
	gauges      gauges // this worker's share of the active agents and chats gauges

	// Owned by the Run goroutine: scratch of pollChats, kept between ticks.
	open    []*chat
	cursors []lpchat.ChatCursor
	docs    map[string]*lpchat.Chat
	built   []*batch       // the chats' batches of the multi-chat read, in order
	evs     []events.Event // their events, in one Publish call (publishChats)

	// Owned by the Run goroutine: the sync reads, which take the ring's
	// place on a tick (tick.go).
	sessionsOwed   bool // read chatSessions (session start, ambiguous accept, schedule, failed read)
	statusOwed     bool // read the availability (schedule, failed read)
	syncStatusNext bool // the next scheduled sync reads the availability, not chatSessions
	ringSkipped    bool // the last tick did not read the ringing count: this one must
	syncedSessions bool // the last sync read was chatSessions
	syncFailing    bool // the last sync read failed with 5xx (serverFailed)

	// Owned by the Run goroutine: the session keeping of lost.go.
	serverFails   int           // session calls failing with 5xx in a row
	loginAt       time.Time     // when the current login was made
	loginTTL      time.Duration // its sessionTTl; 0 = unknown
	nextLogin     time.Time     // no early re-login before this (it failed)
	loginFails    int           // early re-logins failed in a row
	countedFailed bool          // counted in the failed-agents gauge
}

// New returns a Worker for cfg.Agent. client must be the agent's own Client
// (it holds the agent's cookies, its Config.Budget the account's request
// budget); pub and store may be shared by many workers. logger (nil =
// discard) should already name the account and agent; the worker adds only
// chat and session ids.
func New(cfg Config, client *lpchat.Client, pub Publisher, store Store, logger *slog.Logger) (*Worker, error) {
	cfg.setDefaults()
	err := cfg.Validate()
	var missing []error
	if client == nil {
		missing = append(missing, errors.New("client is required"))
	}
	if pub == nil {
		missing = append(missing, errors.New("publisher is required"))
	}
	if store == nil {
		missing = append(missing, errors.New("store is required"))
	}
	if err = errors.Join(append([]error{err}, missing...)...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{
		cfg:     cfg,
		client:  client,
		pub:     pub,
		store:   store,
		log:     logger,
		tracer:  tracing.Tracer(cfg.Tracer),
		handed:  map[string]string{},
		chats:   map[string]*chat{},
		ignored: map[string]ignoreKind{},
		stopped: make(chan struct{}),
	}, nil
}

// Session returns the current agent session, nil while none runs (before the
// first start and between losing one and starting the next). Safe for
// concurrent use.
func (w *Worker) Session() *lpchat.AgentSession {
	return w.session.Load()
}

// Healthy reports whether a poll tick succeeded within the last `within`
// or, with a Lease, whether the worker stands by (another replica holds the
// lease) and last saw that within `within`.
func (w *Worker) Healthy(within time.Duration) bool {
	last := w.lastOK.Load()
	return last != 0 && time.Since(time.Unix(0, last)) <= within
}

// Track tells the worker that the agent took chatID by a command (so it
// need not wait for the next chatSessions read): the worker publishes
// chat.accepted with acceptedBy "command" once and polls the chat from the
// next tick. Safe for concurrent use.
func (w *Worker) Track(chatID string) {
	if chatID == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.handed[chatID]; !ok {
		w.handed[chatID] = acceptedByCommand
	}
}

// Run keeps the agent's session alive and polls it until Stop is called or
// ctx is done, then returns nil. API and NATS failures never end it: it
// backs off and goes on (§9: re-login in an outer loop waiting
// ReloginBackoff). With a Lease it logs in and polls only while it holds
// the lease: it waits for it first, and goes back to waiting when it is
// lost. A second Run while one runs returns ErrRunning.
//
// Stop is the graceful end: the tick in progress completes (its HTTP calls
// and publishes run on ctx), then the cursors are saved and the lease
// released. Cancelling ctx is the hard abort: the tick in progress is cut
// off, and then the same saving runs, bounded by stopTimeout.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer w.running.Store(false)
	defer w.failedGauge(false)
	for {
		h, ok := w.takeLease(ctx)
		if !ok {
			return nil // not the owner: nothing to save or release
		}
		w.runHeld(h.ctx)
		if h.isLost() {
			h.end()
			w.forget() // no publish after the loss: the new owner goes on
			continue
		}
		sctx, cancel := context.WithTimeout(h.lost, stopTimeout)
		w.stop(sctx)
		cancel()
		if h.end() {
			w.forget()
			return nil
		}
		w.releaseLease(ctx)
		return nil
	}
}

// Stop asks Run to return after the tick in progress: the tick completes,
// the cursors are saved and the lease is released. It does not wait; Run
// returns when done. A stopped Worker does not run again (Run returns at
// once). Safe for concurrent use and to call more than once.
func (w *Worker) Stop() {
	w.stopOnce.Do(func() { close(w.stopped) })
}

// stopping reports whether Stop was called.
func (w *Worker) stopping() bool {
	select {
	case <-w.stopped:
		return true
	default:
		return false
	}
}

// runHeld runs the agent while the worker owns it: ctx ends when Run's
// context ends or the lease is lost. It returns then, or after Stop.
//
// It is the one restart path: however the session was lost (lpchat's
// ErrSessionLost, 5xx past the retry policy, a refused resume), the next
// runSession logs in, starts a new agent session and takes the chats over
// from chatSessions and the cursors. A session that polled, or that the
// service declared lost, is restarted at once (§9 mapping), but when
// sessions keep dying within the first
// ReloginBackoff of starting, the second such death counts as a failed
// attempt, so that restarts back off instead of hammering the service.
// A login refused for good (loginFinal) ends the attempts: the worker waits,
// failed, for Stop or the end of ctx.
func (w *Worker) runHeld(ctx context.Context) {
	failures := 0
	quick := false // the last session that polled died soon after it started
	for {
		if w.Failed() != "" {
			w.waitFailed(ctx)
			return
		}
		polled, lived, err := w.runSession(ctx)
		if ctx.Err() != nil || w.stopping() {
			return
		}
		if errors.Is(err, errLoginFinal) {
			w.fail(ctx, err)
			continue
		}
		if polled && lived >= w.cfg.reloginWait(0) {
			failures, quick = 0, false
			continue
		}
		// One immediate restart per backoff window, also for a session lost
		// before its first tick completed (a login that expired then).
		if (polled || errors.Is(err, lpchat.ErrSessionLost)) && !quick {
			quick = true
			continue
		}
		wait := w.cfg.reloginWait(failures)
		failures++
		w.log.Warn("agent session could not be started; retrying", "err", err, "wait", wait, "attempt", failures)
		if !w.sleep(ctx, wait) {
			return
		}
	}
}

// runSession logs in, starts or resumes an agent session and polls it until
// it is lost, ctx ends or Stop is called. polled says whether at least one
// tick succeeded, lived how long the session ran.
func (w *Worker) runSession(ctx context.Context) (polled bool, lived time.Duration, err error) {
	if err := w.load(ctx); err != nil {
		return false, 0, err
	}
	leave, err := w.cfg.StartGate.enter(ctx, w.stopped)
	if err != nil {
		return false, 0, err
	}
	as, err := w.establish(ctx)
	leave()
	if err != nil {
		return false, 0, err
	}
	started := time.Now()
	err = w.poll(ctx, as, &polled)
	lived = time.Since(started)
	w.session.Store(nil)
	w.agentDown()
	if ctx.Err() != nil || errors.Is(err, errStopped) {
		return polled, lived, nil
	}
	w.log.Warn("agent session lost", "agentSessionId", as.ID, "err", err)
	w.cfg.Metrics.AgentSessionRestart(restartReason(err))
	w.lostSession = true
	w.mu.Lock()
	w.emitAgent(events.AgentSession, func(*state.AgentState) any {
		return events.SessionData{State: events.SessionLost, AgentSessionID: as.ID, Reason: reason(err)}
	})
	if ferr := w.flushAgentLocked(ctx); ferr != nil {
		w.log.Warn("publishing agent events failed; will retry", "err", ferr)
	}
	w.mu.Unlock()
	return polled, lived, err
}

// stop runs when Run ends as the agent's owner: it saves the cursors of
// events already published, publishes pending agent events and, with
// LogoutOnStop, logs out and publishes agent.session "ended". ctx bounds it
// (stopTimeout) and ends when the lease is lost.
func (w *Worker) stop(ctx context.Context) {
	for _, c := range w.sortedChats() {
		if err := w.saveChat(ctx, c); err != nil {
			w.log.Warn("saving a cursor at shutdown failed; its events will be published again", "chatId", c.id, "err", err)
		}
	}
	w.releaseGauges()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cfg.LogoutOnStop && w.agent.AgentSessionID != "" {
		if err := w.client.Logout(ctx); err != nil {
			w.log.Warn("logout failed", "err", err)
		}
		id := w.agent.AgentSessionID
		w.emitAgent(events.AgentSession, func(a *state.AgentState) any {
			a.AgentSessionID = ""
			return events.SessionData{State: events.SessionEnded, AgentSessionID: id, Reason: "shutdown"}
		})
	}
	if err := w.flushAgentLocked(ctx); err != nil {
		w.log.Warn("publishing agent events at shutdown failed", "err", err)
	}
}

// stopTimeout bounds the work done after Run's context ended.
const stopTimeout = 10 * time.Second

// sleep waits d, or until ctx ends or Stop is called; it reports whether d
// passed.
func (w *Worker) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-w.stopped:
		return false
	case <-t.C:
		return true
	}
}

// reason renders err for an event's Reason field. Errors of lpchat never
// carry secrets, so their text is safe to publish.
func reason(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
