package lpsim

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// An organic 429: LivePerson limits the requests of an account (its
// retry pages ask for no bursts, chat-agent-api.md §9) without publishing
// the numbers. SetRequestBudget gives every account a token bucket; a
// request beyond it is answered 429 with a Retry-After of the whole seconds
// until the next token, before any fault or handler sees it. Off by
// default: the real limits are unknown, and a made-up one would slow every
// test and demo that does not ask for it.

// requestBudget is the per-account token buckets; the zero value is off.
type requestBudget struct {
	mu        sync.Mutex
	perSecond float64 // 0 = off
	burst     float64
	buckets   map[string]*tokenBucket // by account id
	throttled atomic.Int64
}

// tokenBucket is one account's allowance.
type tokenBucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// SetRequestBudget limits every account to perSecond API requests a second
// with bursts of up to burst (at least 1); perSecond <= 0 turns the limit
// off. Control API calls under /sim/ are not limited. Safe for concurrent
// use; the buckets start full.
func (s *Simulator) SetRequestBudget(perSecond float64, burst int) {
	b := &s.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	b.perSecond, b.burst = max(perSecond, 0), float64(max(burst, 1))
	b.buckets = map[string]*tokenBucket{}
}

// Throttled returns how many requests the request budget answered 429.
func (s *Simulator) Throttled() int64 { return s.budget.throttled.Load() }

// overBudget answers 429 when r's account has no token left, and reports
// whether it did.
func (s *Simulator) overBudget(w http.ResponseWriter, r *http.Request) bool {
	acct := accountOf(r.URL.Path)
	if acct == "" {
		return false
	}
	wait, ok := s.budget.take(acct, s.cfg.Now())
	if ok {
		return false
	}
	s.budget.throttled.Add(1)
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeReply(w, errReply(s.cfg.Now(), http.StatusTooManyRequests, "request budget of the account exceeded"))
	return true
}

// take spends one token of acct's bucket, or says how long until one is
// there.
func (b *requestBudget) take(acct string, now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.perSecond <= 0 {
		return 0, true
	}
	tb := b.buckets[acct]
	if tb == nil {
		tb = &tokenBucket{tokens: b.burst, at: now}
		b.buckets[acct] = tb
	}
	if d := now.Sub(tb.at); d > 0 {
		tb.tokens = min(b.burst, tb.tokens+d.Seconds()*b.perSecond)
		tb.at = now
	}
	if tb.tokens >= 1 {
		tb.tokens--
		return 0, true
	}
	return time.Duration((1 - tb.tokens) / b.perSecond * float64(time.Second)), false
}

// accountOf is the account id of an API path (/api/account/{id}/... or
// /csdr/account/{id}/...), "" for any other path.
func accountOf(path string) string {
	segs := strings.SplitN(strings.Trim(path, "/"), "/", 4)
	if len(segs) < 3 || segs[1] != "account" {
		return ""
	}
	return segs[2]
}
