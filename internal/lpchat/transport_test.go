package lpchat_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

func TestNewTransportIsSizedForTheAgents(t *testing.T) {
	roots := &tls.Config{MinVersion: tls.VersionTLS12}
	tr := lpchat.NewTransport(lpchat.TransportConfig{Agents: 40, TLS: roots})
	if tr.MaxIdleConnsPerHost != 40 || tr.MaxConnsPerHost != 80 || tr.MaxIdleConns != 80 {
		t.Errorf("pool: idle per host %d, per host %d, idle %d; want 40, 80, 80",
			tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost, tr.MaxIdleConns)
	}
	if tr.IdleConnTimeout != lpchat.DefaultIdleConnTimeout {
		t.Errorf("IdleConnTimeout = %s", tr.IdleConnTimeout)
	}
	if tr.Protocols == nil || !tr.Protocols.HTTP1() || tr.Protocols.HTTP2() || tr.ForceAttemptHTTP2 {
		t.Errorf("protocols = %v (force h2 %v), want HTTP/1.1 only", tr.Protocols, tr.ForceAttemptHTTP2)
	}
	if tr.TLSClientConfig == roots || tr.TLSClientConfig.ClientSessionCache == nil {
		t.Error("the TLS config must be a clone with a session cache")
	}
	if roots.ClientSessionCache != nil {
		t.Error("NewTransport wrote to the caller's TLS config")
	}
	one := lpchat.NewTransport(lpchat.TransportConfig{})
	if one.MaxIdleConnsPerHost != 1 || one.MaxConnsPerHost != 2 || one.TLSClientConfig.ClientSessionCache == nil {
		t.Errorf("default: idle per host %d, per host %d", one.MaxIdleConnsPerHost, one.MaxConnsPerHost)
	}
}

// A new connection of the shared transport resumes the TLS session of an
// earlier one instead of a full handshake, and speaks HTTP/1.1 to a server
// that offers HTTP/2 too.
func TestNewTransportResumesTLSSessions(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	hc := &http.Client{Transport: lpchat.NewTransport(lpchat.TransportConfig{Agents: 2, TLS: &tls.Config{RootCAs: roots}})}
	// get returns what a GET's connection did: its protocol and TLS state.
	get := func() (proto int, state *tls.ConnectionState) {
		t.Helper()
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.ProtoMajor, resp.TLS
	}
	proto, first := get()
	if first == nil || first.DidResume || proto != 1 {
		t.Fatalf("first connection: HTTP/%d, resumed %v", proto, first != nil && first.DidResume)
	}
	hc.CloseIdleConnections()
	// TLS 1.3 tickets arrive after the handshake; the first read took it.
	if _, second := get(); second == nil || !second.DidResume {
		t.Errorf("second connection did a full handshake (%+v)", second)
	}
}

// Agents that share one transport keep their own cookies: the simulator in
// StrictCookies mode, over TLS, refuses a session call without its own
// session's cookie.
func TestSharedTransportKeepsCookiesPerAgent(t *testing.T) {
	sim, err := lpsim.New(lpsim.Config{Seed: 5, StrictCookies: true})
	must(t, err)
	t.Cleanup(sim.Close)
	must(t, sim.AddAccount(simAccount))
	must(t, sim.AddSkill(simAccount, lpsim.SkillSpec{ID: skillSup, Name: "Support"}))
	for _, login := range []string{simBot, simAnn} {
		must(t, sim.AddAgent(simAccount, lpsim.AgentSpec{LoginName: login, Password: simPass, MaxChats: 3, SkillIDs: []string{skillSup}}))
	}
	srv := httptest.NewTLSServer(sim)
	t.Cleanup(srv.Close)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	shared := lpchat.NewTransport(lpchat.TransportConfig{Agents: 2, TLS: &tls.Config{RootCAs: roots}})
	ctx := testCtx(t)
	var sessions []*lpchat.AgentSession
	for _, login := range []string{simBot, simAnn} {
		c, err := lpchat.New(lpchat.Config{DomainURL: srv.URL, Account: simAccount, Retry: fastRetry(),
			HTTPTimeout: 5 * time.Second, Transport: shared})
		must(t, err)
		_, err = c.Login(ctx, lpchat.Credentials{Username: login, Password: simPass})
		must(t, err)
		s, err := c.StartAgentSession(ctx)
		must(t, err)
		sessions = append(sessions, s)
	}
	if sessions[0].ID == sessions[1].ID {
		t.Fatalf("both agents got session %s", sessions[0].ID)
	}
	for round := range 3 {
		for i, s := range sessions {
			st, err := s.SetAvailability(ctx, lpchat.Online)
			if err != nil || st.Chat != lpchat.Online {
				t.Fatalf("round %d agent %d: SetAvailability = %+v, %v", round, i, st, err)
			}
			if _, err := s.IncomingRequests(ctx); err != nil {
				t.Fatalf("round %d agent %d: IncomingRequests: %v", round, i, err)
			}
		}
	}
	for i, s := range sessions {
		if len(s.Client().CookieNames()) == 0 {
			t.Errorf("agent %d has no cookies", i)
		}
	}
}
