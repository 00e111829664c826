package telemetry

import (
	"net/http"
	"time"
)

// InstrumentTransport wraps next so that every request it sends is counted
// in m by operation and status class, with its latency (until the response
// headers arrive). opFromRequest names the operation (the bridge passes
// lpchat.OperationOf, whose names it gives NewMetrics with WithOperations);
// telemetry knows no endpoint itself, so nil counts every request as
// "other". A nil next means http.DefaultTransport; a nil m returns next
// unchanged.
//
// Each attempt is one request here: retries of the client's retry policy
// show up as several requests (and in lp_retries_total via Metrics.LPRetry).
// Wrap the transport that an account's clients share once and give them
// all the result: the operation comes from each request, not from the
// wrapper, so one wrapper counts every agent's requests.
func InstrumentTransport(next http.RoundTripper, m *Metrics, opFromRequest func(*http.Request) string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if m == nil {
		return next
	}
	if opFromRequest == nil {
		opFromRequest = func(*http.Request) string { return other }
	}
	return &instrumentedTransport{next: next, m: m, op: opFromRequest}
}

// instrumentedTransport is the RoundTripper InstrumentTransport returns.
type instrumentedTransport struct {
	next http.RoundTripper
	m    *Metrics
	op   func(*http.Request) string
}

// RoundTrip sends req through the wrapped transport and counts it.
func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := t.op(req)
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	t.m.ObserveLPRequest(op, status, time.Since(start))
	return resp, err
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on.
func (t *instrumentedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
