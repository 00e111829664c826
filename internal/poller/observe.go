package poller

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// Tracing names: the span of one poll tick and its attributes.
const (
	spanPoll      = "lpbridge.poll"
	attrAccount   = attribute.Key("lpbridge.account")
	attrAgent     = attribute.Key("lpbridge.agent")
	attrChatCount = attribute.Key("lpbridge.chat.count")
)

// gauges is one worker's share of the agents_active and chats_active
// gauges. The worker moves the shared gauges only by the difference to what
// it added before, so they stay exact however a session or Run ends. Only
// the Run goroutine touches it.
type gauges struct {
	agent bool // this worker added 1 to agents_active
	chats int  // this worker added chats to chats_active
}

// setChats makes this worker's share of chats_active n.
func (g *gauges) setChats(m *telemetry.Metrics, n int) {
	if d := n - g.chats; d != 0 {
		m.AddChatsActive(d)
		g.chats = n
	}
}

// setAgent makes this worker's share of agents_active 1 (up) or 0.
func (g *gauges) setAgent(m *telemetry.Metrics, up bool) {
	switch {
	case up && !g.agent:
		m.AddAgentsActive(1)
	case !up && g.agent:
		m.AddAgentsActive(-1)
	}
	g.agent = up
}

// agentUp counts the agent active: its agent session started.
func (w *Worker) agentUp() { w.gauges.setAgent(w.cfg.Metrics, true) }

// agentDown counts the agent no longer active: its session ended or Run stops.
func (w *Worker) agentDown() { w.gauges.setAgent(w.cfg.Metrics, false) }

// releaseGauges takes this worker's share out of both gauges (Run stops).
func (w *Worker) releaseGauges() {
	w.gauges.setAgent(w.cfg.Metrics, false)
	w.gauges.setChats(w.cfg.Metrics, 0)
}

// openChats counts the chats being polled (not those on their way out).
func (w *Worker) openChats() int {
	n := 0
	for _, c := range w.chats {
		if !c.retiring {
			n++
		}
	}
	return n
}

// startTick starts the span of one poll tick.
func (w *Worker) startTick(ctx context.Context) (context.Context, trace.Span) {
	return w.tracer.Start(ctx, spanPoll, trace.WithAttributes(
		attrAccount.String(w.cfg.Account), attrAgent.String(w.cfg.Agent.Token)))
}

// endTick records the tick that started at start and ended with err: its
// latency, the chats gauge, and the span's chat count and status. ctx is
// Run's context: a tick cut off by shutdown is not an error.
func (w *Worker) endTick(ctx context.Context, span trace.Span, start time.Time, err error) {
	w.cfg.Metrics.ObservePoll(time.Since(start))
	open := w.openChats()
	w.gauges.setChats(w.cfg.Metrics, open)
	span.SetAttributes(attrChatCount.Int(open))
	if err != nil && ctx.Err() == nil {
		// lpchat's errors never carry secrets (see reason).
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// loginResult classifies a login's outcome for the logins metric.
func loginResult(err error) telemetry.LoginResult {
	switch {
	case err == nil:
		return telemetry.LoginOK
	case errors.Is(err, lpchat.ErrAuth):
		return telemetry.LoginUnauthorized
	case errors.Is(err, lpchat.ErrRateLimited):
		return telemetry.LoginRateLimited
	case errors.Is(err, lpchat.ErrBlocked):
		return telemetry.LoginBlocked
	}
	return telemetry.LoginError
}

// restartReason classifies why an agent session was lost (the worker then
// starts a new one).
func restartReason(err error) telemetry.RestartReason {
	switch {
	case errors.Is(err, lpchat.ErrAuth):
		return telemetry.RestartAuthLost
	case errors.Is(err, ErrSessionLost):
		return telemetry.RestartSessionLost
	}
	return telemetry.RestartError
}

// newestTime is the latest of t and the times of evs.
func newestTime(t time.Time, evs []events.Event) time.Time {
	for _, e := range evs {
		if e.Time.After(t) {
			t = e.Time
		}
	}
	return t
}
