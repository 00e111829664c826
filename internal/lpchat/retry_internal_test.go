package lpchat

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRetryDecide drives the policy (chat-agent-api.md §9) as a table: each
// row is a sequence of attempt outcomes and the expected decisions.
func TestRetryDecide(t *testing.T) {
	p := DefaultRetryPolicy()
	s := time.Second
	type step struct {
		o    outcome
		want verdict
	}
	net := outcome{netErr: true}
	netSent := outcome{netErr: true, sent: true}
	st := func(code int) outcome { return outcome{status: code, sent: true} }
	ra := func(code int, d time.Duration) outcome {
		return outcome{status: code, sent: true, retryAfter: d, hasRetry: true}
	}
	retry := func(d time.Duration) verdict { return verdict{retry: true, wait: d} }
	fail := func(errs ...error) verdict { return verdict{sentinels: errs} }

	tests := []struct {
		name  string
		kind  callKind
		steps []step
	}{
		{"400 not retried", callKind{}, []step{{st(400), fail(ErrBadRequest)}}},
		{"403 not retried", callKind{}, []step{{st(403), fail(ErrBadRequest)}}},
		{"409 not retried", callKind{once: true}, []step{{st(409), fail(ErrBadRequest)}}},
		{"401 outside login: the session is lost", callKind{}, []step{{st(401), fail(ErrAuth, ErrSessionLost)}}},
		{"401 on login", callKind{login: true}, []step{{st(401), fail(ErrAuth)}}},
		{"404 not found", callKind{}, []step{{st(404), fail(ErrNotFound)}}},
		{"451 login blocked", callKind{login: true}, []step{{st(451), fail(ErrBlocked)}}},
		{"451 elsewhere is a 4xx", callKind{}, []step{{st(451), fail(ErrBadRequest)}}},
		{"3xx is a protocol error", callKind{}, []step{{st(302), fail(ErrProtocol)}}},
		{"5xx retried 5/10/15 s then fails", callKind{}, []step{
			{st(500), retry(5 * s)}, {st(502), retry(10 * s)}, {st(503), retry(15 * s)}, {st(500), fail(ErrServer)}}},
		{"network errors share the 5xx budget", callKind{}, []step{
			{net, retry(5 * s)}, {st(500), retry(10 * s)}, {netSent, retry(15 * s)}, {net, fail(ErrServer)}}},
		{"non-idempotent: a 5xx is ambiguous (a gateway may answer after the service acted)", callKind{once: true}, []step{
			{st(502), fail(ErrServer, ErrAmbiguous)}}},
		{"non-idempotent: a 504 is ambiguous", callKind{once: true}, []step{
			{st(504), fail(ErrServer, ErrAmbiguous)}}},
		{"non-idempotent but reaped: 5xx answers are retried", callKind{once: true, reaped: true}, []step{
			{st(500), retry(5 * s)}, {st(503), retry(10 * s)}}},
		{"non-idempotent: unsent network error retried", callKind{once: true}, []step{
			{net, retry(5 * s)}}},
		{"non-idempotent: sent network error is ambiguous", callKind{once: true}, []step{
			{netSent, fail(ErrServer, ErrAmbiguous)}}},
		{"non-idempotent: ambiguous after a retry", callKind{once: true}, []step{
			{net, retry(5 * s)}, {netSent, fail(ErrServer, ErrAmbiguous)}}},
		{"non-idempotent but reaped: sent network error is ambiguous", callKind{once: true, reaped: true}, []step{
			{st(500), retry(5 * s)}, {netSent, fail(ErrServer, ErrAmbiguous)}}},
		{"429 waits at least 1 s", callKind{}, []step{
			{st(429), retry(s)}, {ra(429, 0), retry(s)}, {ra(429, 3*s), retry(3 * s)}, {st(429), fail(ErrRateLimited)}}},
		{"429 on login waits at least 5 s", callKind{login: true}, []step{
			{st(429), retry(5 * s)}, {ra(429, 2*s), retry(5 * s)}, {ra(429, 7*s), retry(7 * s)}, {st(429), fail(ErrRateLimited)}}},
		{"429 and 5xx budgets are separate", callKind{}, []step{
			{st(429), retry(s)}, {st(500), retry(5 * s)}, {st(429), retry(s)}, {st(500), retry(10 * s)},
			{st(429), retry(s)}, {st(500), retry(15 * s)}, {st(429), fail(ErrRateLimited)}}},
		{"non-idempotent: 429 retried", callKind{once: true}, []step{{st(429), retry(s)}}},
		{"429 beyond MaxRetryAfter fails at once", callKind{}, []step{{ra(429, time.Hour), fail(ErrRateLimited)}}},
		{"503 Retry-After above the backoff is honoured", callKind{}, []step{{ra(503, 30*s), retry(30 * s)}}},
		{"503 Retry-After beyond MaxRetryAfter fails", callKind{}, []step{{ra(503, time.Hour), fail(ErrServer)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs retryState
			for i, s := range tt.steps {
				got := p.decide(tt.kind, s.o, &rs)
				if got.retry != s.want.retry || got.wait != s.want.wait || !sameErrors(got.sentinels, s.want.sentinels) {
					t.Fatalf("step %d: got %+v, want %+v", i, got, s.want)
				}
			}
		})
	}
}

func TestRetryDecideCustomPolicy(t *testing.T) {
	p := RetryPolicy{ServerBackoff: []time.Duration{}, Max429Retries: 1, MinRetryAfter: 0}
	var rs retryState
	if v := p.decide(callKind{}, outcome{status: 500}, &rs); v.retry {
		t.Error("empty ServerBackoff retried a 5xx")
	}
	if v := p.decide(callKind{}, outcome{status: 429}, &rs); !v.retry || v.wait != 0 {
		t.Errorf("first 429: %+v", v)
	}
	if v := p.decide(callKind{}, outcome{status: 429}, &rs); v.retry {
		t.Error("second 429 retried with Max429Retries 1")
	}
}

func sameErrors(a, b []error) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] { //nolint:errorlint // the lists must hold the very same sentinels
			return false
		}
	}
	return true
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 2, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"Tue, 02 Jan 2024 13:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 02-Jan-24 13:01:00 GMT", time.Minute, true}, // RFC 850
		{"Tue Jan  2 13:00:05 2024", 5 * time.Second, true},    // asctime
		{"Tue, 02 Jan 2024 12:00:00 GMT", 0, true},             // past: no wait
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: got %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep on a cancelled context = %v", err)
	}
	if err := sleep(context.Background(), 0); err != nil {
		t.Errorf("zero sleep = %v", err)
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	c := Config{Account: "55500011"}
	c.setDefaults()
	if c.DomainURL != DefaultDomainURL || c.HTTPTimeout != DefaultHTTPTimeout || c.Logger == nil || c.Transport == nil {
		t.Errorf("defaults not set: %+v", c)
	}
	if len(c.Retry.ServerBackoff) != 3 || c.Retry.Max429Retries != 3 {
		t.Errorf("zero retry policy did not take the default: %+v", c.Retry)
	}
	custom := Config{Account: "1", Retry: RetryPolicy{ServerBackoff: []time.Duration{}}}
	custom.setDefaults()
	if len(custom.Retry.ServerBackoff) != 0 || custom.Retry.Max429Retries != 0 {
		t.Errorf("a non-zero policy was changed: %+v", custom.Retry)
	}
}
