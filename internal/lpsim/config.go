package lpsim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	// DefaultSeed makes runs reproducible when the caller does not care.
	DefaultSeed int64 = 1
	// DefaultAcceptWindow is the documented 20 s a ringing chat waits for its
	// agent before the agent is set Away (chat-agent-api.md §5.9).
	DefaultAcceptWindow = 20 * time.Second
	// DefaultSessionIdleTimeout is the legacy docs' 400 s after which an agent
	// session without requests is logged out (§8).
	DefaultSessionIdleTimeout = 400 * time.Second
	// DefaultLoginTTL is the documented example sessionTTl of 8 h (§4.3).
	DefaultLoginTTL = 8 * time.Hour
)

// Config of a Simulator; zero values get the defaults in brackets.
type Config struct {
	// Seed drives every generated id and scripted-visitor choice [1].
	Seed int64
	// AcceptWindow is how long a chat rings at an agent before the agent is
	// set Away and the chat is rerouted [20s].
	AcceptWindow time.Duration
	// SessionIdleTimeout reaps an agent session after this long without a
	// request [400s].
	SessionIdleTimeout time.Duration
	// LoginTTL expires a login session (its bearer) after this long without a
	// refresh; it is the sessionTTl of the login response [8h].
	LoginTTL time.Duration
	// StrictCookies rejects unsigned agent-session calls that lack the
	// agent-session cookie with 401 [false].
	StrictCookies bool
	// PlainTextAuthErrors answers a rejected login, bearer or OAuth
	// signature as the real service does at times: 401 with a text/plain
	// "oauth_problem=...&oauth_problem_advice=..." body, not JSON [false].
	PlainTextAuthErrors bool
	// ReapedStatus is what calls on an ended (reaped) agent session answer:
	// 401, 403, 404, 410 or 400 [401] (lifetime.go).
	ReapedStatus int
	// FixedLoginTTL makes a login end LoginTTL after it was made, however
	// often it is refreshed [false: refresh extends it] (lifetime.go).
	FixedLoginTTL bool
	// Now is the clock [time.Now]; tests may inject a fake one.
	Now func() time.Time
	// Logger receives debug logs of requests and state changes [discard].
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.AcceptWindow == 0 {
		c.AcceptWindow = DefaultAcceptWindow
	}
	if c.SessionIdleTimeout == 0 {
		c.SessionIdleTimeout = DefaultSessionIdleTimeout
	}
	if c.LoginTTL == 0 {
		c.LoginTTL = DefaultLoginTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Validate reports every invalid field of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.AcceptWindow < 0 {
		errs = append(errs, fmt.Errorf("AcceptWindow %v: %w", c.AcceptWindow, ErrNegativeDuration))
	}
	if c.SessionIdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("SessionIdleTimeout %v: %w", c.SessionIdleTimeout, ErrNegativeDuration))
	}
	if c.LoginTTL < 0 {
		errs = append(errs, fmt.Errorf("LoginTTL %v: %w", c.LoginTTL, ErrNegativeDuration))
	}
	errs = append(errs, c.validateLifetime())
	return errors.Join(errs...)
}

// tickInterval is how often the background sweep runs: often enough that the
// shortest deadline is met within a quarter of its length, never busier than
// every 5 ms nor lazier than every second.
func (c Config) tickInterval() time.Duration {
	d := min(c.AcceptWindow, c.SessionIdleTimeout, c.LoginTTL) / 4
	return max(5*time.Millisecond, min(d, time.Second))
}
