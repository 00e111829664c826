package poller

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// Defaults of Config; chat-agent-api.md §8 and §9 give the reasons.
const (
	// DefaultPollInterval is the gap between poll ticks: the docs advise
	// polling no faster than every 2 s (§5.8, §8).
	DefaultPollInterval = 2 * time.Second
	// DefaultJitter spreads the ticks of many workers so they do not burst:
	// each worker's schedule is delayed once by a random part of the
	// interval, so a fleet started together polls evenly over it.
	DefaultJitter = 1.0
	// DefaultRefreshEvery is the login keepalive period: the KeepAlive table
	// says every 5 minutes (§8).
	DefaultRefreshEvery = 5 * time.Minute
	// DefaultSessionSyncEvery is how many ticks pass between sync reads,
	// chatSessions and availability in turn (each every 10 ticks, 20 s at
	// the default interval): both change rarely, chatSessions should not be
	// polled faster than every 2 s (§5.10), and a sync read takes the place
	// of a tick's ringing-count read.
	DefaultSessionSyncEvery = 5
)

// DefaultReloginBackoff is LivePerson's outer recovery loop (§9): wait 2, 4,
// then 8 minutes (and 8 from then on) between failed re-logins.
func DefaultReloginBackoff() []time.Duration {
	return []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
}

// AgentConfig names the agent a Worker logs in as.
type AgentConfig struct {
	// LoginName is the agent's login name (required).
	LoginName string
	// Credentials log the agent in (password or API key; required).
	// Username defaults to LoginName.
	Credentials lpchat.Credentials
	// Token is the subject-safe agent token [events.Token(LoginName)].
	Token string
	// GoOnline sets availability Online after the session starts [false].
	GoOnline bool
	// AutoAccept accepts ringing chats at once [false]: for bots that must
	// not lose a chat to the 20 s accept window.
	AutoAccept bool
	// RestoreAvailability sets the availability the bridge last set (GoOnline
	// or an agent.status command) again when the service changed it, e.g.
	// Away after a ring was not accepted in time (§5.9); at most once per
	// Config.RestoreMinGap [false: the service's decision stands].
	RestoreAvailability bool
}

// DefaultRestoreMinGap is the least time between two restores of an agent's
// availability: a bot that never answers is rung, set Away after the 20 s
// accept window and restored at most this often, so each visitor it holds
// up waits 20 s and such rings stay rare.
const DefaultRestoreMinGap = time.Minute

// Config of a Worker; zero values get the defaults in brackets.
type Config struct {
	// Account is the LivePerson account id (required).
	Account string
	// Agent is the agent this worker runs (required).
	Agent AgentConfig
	// PollInterval is the gap between poll ticks [2s]; at least 2 s against
	// the real service is polite, tests may use less.
	PollInterval time.Duration
	// Jitter is the largest fraction of PollInterval by which the worker's
	// tick schedule is delayed, once, at random, after the first tick [1:
	// anywhere in the interval]; at most 1; negative means none. Ticks then
	// come every PollInterval, and never sooner.
	Jitter float64
	// RefreshEvery is the login refresh period [5m].
	RefreshEvery time.Duration
	// SessionSyncEvery is the number of ticks between sync reads [5]: in
	// turn chatSessions and the availability, each in place of the tick's
	// ringing-count read, and never on two ticks in a row (1 acts as 2).
	// Both are also read when a session starts.
	SessionSyncEvery int
	// ReloginBackoff are the waits of the outer recovery loop after a failed
	// re-login [2m, 4m, 8m]; the last one repeats. Tests shrink them.
	ReloginBackoff []time.Duration
	// LogoutOnStop logs out and publishes agent.session "ended" when Run's
	// context ends [false]. Leave it off to let a restarted bridge resume
	// the agent session and keep its chats.
	LogoutOnStop bool
	// Metrics records poll latency, logins, session restarts, active
	// agents and chats, and cursor lag [nil = none]. May be shared.
	Metrics *telemetry.Metrics
	// Tracer traces every poll tick as a span "lpbridge.poll"; the events
	// a tick publishes carry its traceparent [nil = no tracing].
	Tracer trace.TracerProvider
	// RestoreMinGap is the least time between two restores of the
	// availability (AgentConfig.RestoreAvailability) [1m]. Tests shrink it.
	RestoreMinGap time.Duration
	// Lease makes the worker the agent's only owner across replicas
	// (DESIGN.md §4.4): it logs in and polls only while it holds the lease,
	// renewing it every TTL/3 [nil = no lease: the only worker of the agent].
	Lease Lease
	// StartGate bounds the workers establishing an agent session at once;
	// the workers of a bridge share it [nil = no bound].
	StartGate *StartGate
}

func (c *Config) setDefaults() {
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	switch {
	case c.Jitter == 0:
		c.Jitter = DefaultJitter
	case c.Jitter < 0:
		c.Jitter = 0
	}
	if c.RefreshEvery == 0 {
		c.RefreshEvery = DefaultRefreshEvery
	}
	if c.SessionSyncEvery == 0 {
		c.SessionSyncEvery = DefaultSessionSyncEvery
	}
	if len(c.ReloginBackoff) == 0 {
		c.ReloginBackoff = DefaultReloginBackoff()
	}
	if c.RestoreMinGap == 0 {
		c.RestoreMinGap = DefaultRestoreMinGap
	}
	if c.Agent.Credentials.Username == "" {
		c.Agent.Credentials.Username = c.Agent.LoginName
	}
	if c.Agent.Token == "" {
		c.Agent.Token = events.Token(c.Agent.LoginName)
	}
}

// Validate reports every problem of the config, joined. New fills the
// defaults first; zero values are valid here too.
func (c *Config) Validate() error {
	var errs []error
	if c.Account == "" {
		errs = append(errs, errors.New("missing Account"))
	}
	if c.Agent.LoginName == "" {
		errs = append(errs, errors.New("missing Agent.LoginName"))
	}
	if c.Agent.Token != "" && c.Agent.Token != events.Token(c.Agent.Token) {
		errs = append(errs, fmt.Errorf("invalid Agent.Token %q: not subject-safe", c.Agent.Token))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("invalid PollInterval %v: must be positive", c.PollInterval))
	}
	if c.Jitter > 1 {
		errs = append(errs, fmt.Errorf("invalid Jitter %v: must be at most 1", c.Jitter))
	}
	if c.RefreshEvery < 0 {
		errs = append(errs, fmt.Errorf("invalid RefreshEvery %v: must be positive", c.RefreshEvery))
	}
	if c.SessionSyncEvery < 0 {
		errs = append(errs, fmt.Errorf("invalid SessionSyncEvery %d: must be positive", c.SessionSyncEvery))
	}
	if c.RestoreMinGap < 0 {
		errs = append(errs, fmt.Errorf("invalid RestoreMinGap %v: must be positive", c.RestoreMinGap))
	}
	if c.Lease != nil && c.Lease.TTL() < 3*time.Millisecond {
		errs = append(errs, fmt.Errorf("invalid Lease TTL %v: too short to renew every TTL/3", c.Lease.TTL()))
	}
	for i, d := range c.ReloginBackoff {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("invalid ReloginBackoff[%d] %v: must be positive", i, d))
		}
	}
	return errors.Join(errs...)
}

// reloginWait is the wait before the n-th (0-based) retry of the outer loop.
func (c *Config) reloginWait(n int) time.Duration {
	if n >= len(c.ReloginBackoff) {
		n = len(c.ReloginBackoff) - 1
	}
	return c.ReloginBackoff[n]
}
