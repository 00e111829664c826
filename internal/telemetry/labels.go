package telemetry

import (
	"net/http"
	"sync"
)

// other is the label value of anything outside a known set: it keeps every
// label bounded whatever a caller (or a publisher on a command subject)
// passes in.
const other = "other"

// RetryReason says why a LivePerson request was retried (label "reason").
type RetryReason string

// Retry reasons, after chat-agent-api.md §9.
const (
	RetryRateLimited RetryReason = "rate_limited" // 429
	RetryServerError RetryReason = "server_error" // 5xx
	RetryNetwork     RetryReason = "network"      // no response: connection failure or timeout
)

// RetryReasonFor classifies the failed attempt a retry follows: status 0
// means no response arrived.
func RetryReasonFor(status int) RetryReason {
	switch {
	case status == 0:
		return RetryNetwork
	case status == http.StatusTooManyRequests:
		return RetryRateLimited
	case status >= 500 && status <= 599:
		return RetryServerError
	}
	return other
}

// LoginResult is the outcome of one login (label "result").
type LoginResult string

// Login results, after the status codes of chat-agent-api.md §4.3.
const (
	LoginOK           LoginResult = "ok"
	LoginUnauthorized LoginResult = "unauthorized" // 401: bad credentials
	LoginRateLimited  LoginResult = "rate_limited" // 429
	LoginBlocked      LoginResult = "blocked"      // 451: blocked by LivePerson support
	LoginError        LoginResult = "error"        // 5xx, network, anything else
)

// RestartReason says why an agent session was started again (label "reason").
type RestartReason string

// Agent session restart reasons.
const (
	// RestartAuthLost: the bearer was refused (401); the agent logged in again.
	RestartAuthLost RestartReason = "auth_lost"
	// RestartSessionLost: the agent session was gone (404, reaped after 400 s).
	RestartSessionLost RestartReason = "session_lost"
	// RestartError: any other failure that made the worker start over.
	RestartError RestartReason = "error"
)

// CommandOutcome is how a command ended (label "outcome").
type CommandOutcome string

// Command outcomes.
const (
	CommandOK        CommandOutcome = "ok"        // ran, replied ok
	CommandInvalid   CommandOutcome = "invalid"   // rejected: bad body, unknown command or chat
	CommandDuplicate CommandOutcome = "duplicate" // id seen before: stored result replayed, not run
	CommandError     CommandOutcome = "error"     // ran, LivePerson or the bridge failed
)

// DefaultCommands are the commands of DESIGN.md §2; WithCommands adds the
// read-only queries.
func DefaultCommands() []string {
	return []string{"chat.accept", "chat.send", "chat.typing", "chat.close", "chat.transfer", "agent.status"}
}

// labelSet is a bounded set of label values.
type labelSet map[string]struct{}

func newLabelSet(groups ...[]string) labelSet {
	s := labelSet{other: {}}
	for _, g := range groups {
		for _, v := range g {
			s[v] = struct{}{}
		}
	}
	return s
}

// norm returns v when it is in the set, "other" otherwise.
func (s labelSet) norm(v string) string {
	if _, ok := s[v]; ok {
		return v
	}
	return other
}

// values lists the set (for pre-creating series).
func (s labelSet) values() []string {
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	return out
}

// declaredSet is a labelSet that grows when a component declares the values
// it will use (DeclareEventTypes, DeclareCommands) and is read on every
// count, hence the lock.
type declaredSet struct {
	mu  sync.RWMutex
	set labelSet
}

func newDeclaredSet(values []string) *declaredSet {
	return &declaredSet{set: newLabelSet(values)}
}

func (d *declaredSet) norm(v string) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.set.norm(v)
}

func (d *declaredSet) values() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.set.values()
}

// add makes vs known and returns those that were not.
func (d *declaredSet) add(vs []string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var added []string
	for _, v := range vs {
		if _, ok := d.set[v]; !ok {
			d.set[v] = struct{}{}
			added = append(added, v)
		}
	}
	return added
}

// DeclareEventTypes makes types known values of the event "type" label,
// their series created at 0. The event types belong to the events package,
// which imports this one: its Publisher declares them to the Metrics it is
// given, so no list of them is kept here and none can be forgotten. Safe
// for concurrent use with the counting methods; a nil *Metrics ignores it.
func (m *Metrics) DeclareEventTypes(types ...string) {
	if m == nil {
		return
	}
	for _, t := range m.eventTypes.add(types) {
		m.eventsPublished.WithLabelValues(t)
		m.eventsDup.WithLabelValues(t)
		m.eventsFail.WithLabelValues(t)
	}
}

// DeclareCommands makes names known values of the command label, their
// series created at 0 for every outcome. The command names belong to the
// commands package, whose Consumer declares its table to the Metrics it is
// given, as the events Publisher does for event types. Safe for concurrent
// use with the counting methods; a nil *Metrics ignores it.
func (m *Metrics) DeclareCommands(names ...string) {
	if m == nil {
		return
	}
	for _, c := range m.commands.add(names) {
		for _, o := range m.outcomes.values() {
			m.commandCount.WithLabelValues(c, o)
		}
	}
}

// DeclareErrorCodes makes codes known values of the dead-letter counter's
// "code" label. The codes belong to the commands package, whose Consumer
// declares them with its command names. Safe for concurrent use with the
// counting methods; a nil *Metrics ignores it.
func (m *Metrics) DeclareErrorCodes(codes ...string) {
	if m == nil {
		return
	}
	m.errorCodes.add(codes)
}

// statusClass turns an HTTP status into the "code" label: "2xx" ... "5xx",
// "error" when no response arrived (status 0), "other" for nonsense.
func statusClass(status int) string {
	switch {
	case status == 0:
		return "error"
	case status >= 100 && status <= 599:
		// A constant per class: this runs on every request.
		return [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}[status/100-1]
	}
	return other
}
