package lpchat

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// outcome is what one HTTP attempt produced, as far as retrying cares.
type outcome struct {
	status     int           // HTTP status; 0 when netErr is set
	retryAfter time.Duration // parsed Retry-After; valid when hasRetryAfter
	hasRetry   bool          // the response carried a usable Retry-After
	netErr     bool          // no response: network failure or timeout
	sent       bool          // the request may have reached the service
}

// callKind says how a request may be retried.
type callKind struct {
	login bool // login rules: 429 waits LoginMinRetryAfter, 451 is ErrBlocked
	once  bool // non-idempotent: never retried after it may have been sent
	// reaped marks a once call whose double the service cleans up by itself
	// (a second agent session, reaped when idle, §8): a 5xx is retried.
	reaped bool
}

// retryState counts the retries spent so far, per budget.
type retryState struct {
	n429 int
	n5xx int // 5xx answers and network failures share ServerBackoff
}

// verdict is the policy's decision on a failed attempt.
type verdict struct {
	retry     bool
	wait      time.Duration
	sentinels []error // why the call failed, when it is not retried
}

// decide applies the policy (chat-agent-api.md §9) to a failed attempt and
// advances st when it retries. It is pure: tests drive it with tables.
func (p RetryPolicy) decide(k callKind, o outcome, st *retryState) verdict {
	if o.netErr {
		if k.once && o.sent {
			return verdict{sentinels: []error{ErrServer, ErrAmbiguous}}
		}
		return p.serverRetry(o, st)
	}
	switch s := o.status; {
	case s == http.StatusUnauthorized && k.login:
		return verdict{sentinels: []error{ErrAuth}} // bad credentials, final (§4.3)
	case s == http.StatusUnauthorized:
		return verdict{sentinels: []error{ErrAuth, ErrSessionLost}}
	case s == http.StatusNotFound:
		return verdict{sentinels: []error{ErrNotFound}}
	case s == http.StatusUnavailableForLegalReasons && k.login:
		return verdict{sentinels: []error{ErrBlocked}}
	case s == http.StatusTooManyRequests:
		return p.rateLimitRetry(k, o, st)
	case s >= 500 && s <= 599:
		if k.once && !k.reaped {
			// A gateway's 502/504 may come after the service acted: a blind
			// retry would post twice. The caller checks first (verify.go).
			return verdict{sentinels: []error{ErrServer, ErrAmbiguous}}
		}
		return p.serverRetry(o, st)
	case s >= 400 && s <= 499:
		return verdict{sentinels: []error{ErrBadRequest}}
	default: // 1xx, 3xx (redirects are not followed), nonsense
		return verdict{sentinels: []error{ErrProtocol}}
	}
}

// serverRetry retries a 5xx or network failure while ServerBackoff lasts.
// A 503's Retry-After longer than the backoff step is honoured.
func (p RetryPolicy) serverRetry(o outcome, st *retryState) verdict {
	if st.n5xx >= len(p.ServerBackoff) {
		return verdict{sentinels: []error{ErrServer}}
	}
	wait := p.ServerBackoff[st.n5xx]
	if o.hasRetry && o.retryAfter > wait {
		wait = o.retryAfter
	}
	if p.MaxRetryAfter > 0 && wait > p.MaxRetryAfter && wait > p.ServerBackoff[st.n5xx] {
		return verdict{sentinels: []error{ErrServer}}
	}
	st.n5xx++
	return verdict{retry: true, wait: wait}
}

// rateLimitRetry retries a 429 after max(Retry-After, the minimum wait).
func (p RetryPolicy) rateLimitRetry(k callKind, o outcome, st *retryState) verdict {
	if st.n429 >= p.Max429Retries {
		return verdict{sentinels: []error{ErrRateLimited}}
	}
	least := p.MinRetryAfter
	if k.login {
		least = p.LoginMinRetryAfter
	}
	wait := least
	if o.hasRetry && o.retryAfter > wait {
		wait = o.retryAfter
	}
	if p.MaxRetryAfter > 0 && wait > p.MaxRetryAfter && wait > least {
		return verdict{sentinels: []error{ErrRateLimited}}
	}
	st.n429++
	return verdict{retry: true, wait: wait}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). A date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		if secs > maxSecs {
			secs = maxSecs
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// sleep waits d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
