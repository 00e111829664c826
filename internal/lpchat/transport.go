package lpchat

import (
	"crypto/tls"
	"net/http"
	"time"
)

// DefaultIdleConnTimeout is how long an idle connection to LivePerson stays
// in the pool: longer than the 2 s poll interval (§8) by far, so a polling
// agent never dials again, and as Go's default otherwise.
const DefaultIdleConnTimeout = 90 * time.Second

// connsPerAgent is how many connections one agent may hold open to a host:
// its poll and one command (chat.send, agent.status, ...) at the same time.
// More would be a burst the request budget smooths anyway (DESIGN.md §4.5).
const connsPerAgent = 2

// TransportConfig configures NewTransport.
type TransportConfig struct {
	// Agents is how many clients (one per agent) share the transport; it
	// sizes the connection pool. Default 1.
	Agents int
	// TLS is the TLS configuration towards LivePerson, e.g. RootCAs that
	// trust a private CA; it is cloned, and a session cache is added when
	// it has none. Default Go's (the system's roots).
	TLS *tls.Config
}

// NewTransport returns the HTTP transport that the clients of one account
// share (Config.Transport): one connection pool and one TLS session cache
// for all its agents, instead of one per agent. Cookies stay per agent:
// they live in each Client's jar, not in the transport (§10).
//
// The pool keeps an idle connection per agent to each host
// (MaxIdleConnsPerHost = Agents), so a tick of polls by every agent finds
// its connections warm, and allows connsPerAgent per agent at once
// (MaxConnsPerHost). New connections resume a TLS session (a shared
// ClientSessionCache) rather than doing a full handshake.
//
// It speaks HTTP/1.1 only. The Chat Agent API is a REST API of short
// requests with no server push or streaming (§8); HTTP/2 would put every
// agent of the account on one TCP connection, where one loss stalls or
// fails them all together, and in BenchmarkPollShared (100 agents over
// TLS) a tick over one HTTP/2 connection took 10-20 % more CPU and 15 %
// more memory than over pooled HTTP/1.1 connections. A server that offers
// only HTTP/1.1 (ALPN) is spoken to the same either way.
func NewTransport(cfg TransportConfig) *http.Transport {
	agents := max(cfg.Agents, 1)
	t := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		t.TLSClientConfig = cfg.TLS.Clone()
	} else {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if t.TLSClientConfig.ClientSessionCache == nil {
		// Keyed by server name: the Domain API host and the agentVep host.
		t.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	t.ForceAttemptHTTP2 = false
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	t.MaxIdleConnsPerHost = agents
	t.MaxConnsPerHost = connsPerAgent * agents
	// The Domain API (login) and agentVep hosts each keep their own idle
	// connections; the total bounds both.
	t.MaxIdleConns = connsPerAgent * agents
	t.IdleConnTimeout = DefaultIdleConnTimeout
	return t
}
