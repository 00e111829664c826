package lpsim

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Simulator is an in-process LivePerson Chat Agent API, Login Service API
// and Domain API (chat-agent-api.md), plus a control API under /sim/.
// It is an http.Handler and safe for concurrent use.
type Simulator struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex // guards everything below it and the whole model
	ids      *idGen
	accounts map[string]*account
	closed   bool
	scripts  int // scripted-visitor runs started, to seed each one
	moved    movedModes

	fmu       sync.Mutex // guards faults and faultRand
	faults    []faultRule
	faultRand *rand.Rand // draws of faults with a Rate

	bufs sync.Pool // *[]byte scratch buffers of answers (writeReplyWith)

	requests atomic.Int64
	budget   requestBudget // ratelimit.go

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns a running simulator with no accounts; Close stops it.
func New(cfg Config) (*Simulator, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lpsim: invalid config: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Simulator{
		cfg:       cfg,
		log:       cfg.Logger,
		ids:       newIDGen(cfg.Seed),
		faultRand: newStream(cfg.Seed, streamFaults),
		accounts:  map[string]*account{},
		ctx:       ctx,
		cancel:    cancel,
	}
	s.wg.Add(1)
	go s.tick()
	return s, nil
}

// Close stops the background sweep and scripted visitors and waits for them.
// The handler keeps answering requests afterwards; deadlines are then only
// checked when requests arrive.
func (s *Simulator) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.wg.Wait()
	})
}

// Requests returns the number of API requests received (control API calls
// under /sim/ are not counted).
func (s *Simulator) Requests() int64 { return s.requests.Load() }

// tick sweeps deadlines (accept window, idle agent sessions, login TTL) so
// they pass even when no request arrives.
func (s *Simulator) tick() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.tickInterval())
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			s.sweep(s.cfg.Now())
			s.mu.Unlock()
		}
	}
}

// ServeHTTP serves the whole API, the control API under /sim/ and the
// visitor console under /console/.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	if s.serveConsole(w, r) {
		return
	}
	s.requests.Add(1)
	if s.overBudget(w, r) {
		return
	}
	if f, ok := s.takeFault(r); ok {
		s.serveFaulted(w, r, f)
		return
	}
	s.serveAPI(w, r)
}

// serveAPI answers one API request from the model.
func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	c, rep := newCall(r)
	if rep == nil {
		s.mu.Lock()
		c.now = s.cfg.Now()
		s.sweep(c.now)
		res := s.dispatch(c)
		s.mu.Unlock()
		rep = &res
	}
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	writeReplyWith(w, *rep, bp)
	s.bufs.Put(bp)
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("lpsim: request", "method", r.Method, "path", r.URL.Path, "status", rep.status)
	}
}

// dispatch routes an API call; s.mu is held.
func (s *Simulator) dispatch(c *call) reply {
	segs := c.segs
	if len(segs) < 4 || segs[1] != "account" || (segs[0] != "api" && segs[0] != "csdr") {
		return c.notFound()
	}
	a := s.accounts[segs[2]]
	rest := segs[3:]
	if rest[0] == "service" {
		return s.serveDomain(a, c, rest[1:])
	}
	if segs[0] != "api" {
		return c.notFound()
	}
	if a == nil {
		return loginError(c.now, http.StatusUnauthorized, http.StatusUnauthorized, "unknown account (bad site)")
	}
	switch {
	case len(rest) == 1 && rest[0] == "login":
		return s.login(a, c)
	case len(rest) == 1 && rest[0] == "refresh":
		return s.refresh(a, c)
	case len(rest) == 1 && rest[0] == "logout":
		return s.logout(a, c)
	case rest[0] == "agentSession":
		return s.serveAgentAPI(a, c, rest[1:])
	}
	return c.notFound()
}

// serveDomain answers the Domain API (CSDS, §3): every service is on the
// simulator's own host.
func (s *Simulator) serveDomain(a *account, c *call, rest []string) reply {
	if c.method != http.MethodGet {
		return c.methodNotAllowed(http.MethodGet)
	}
	if a == nil {
		return loginError(c.now, http.StatusUnauthorized, http.StatusUnauthorized, "unknown account (bad site)")
	}
	host := c.r.Host
	switch {
	case len(rest) == 1 && rest[0] == "baseURI":
		return answer(http.StatusOK, map[string]any{"baseURIs": baseURIs(a.id, host)})
	case len(rest) == 2 && rest[1] == "baseURI":
		for _, b := range baseURIs(a.id, host) {
			if b.Service == rest[0] {
				return answer(http.StatusOK, b)
			}
		}
		return c.fail(http.StatusNotFound, "unknown service %q", rest[0])
	}
	return c.notFound()
}

// baseURI is one entry of the CSDS map.
type baseURI struct {
	Service string `json:"service"`
	Account string `json:"account"`
	BaseURI string `json:"baseURI"`
}

func baseURIs(acct, host string) []baseURI {
	return []baseURI{
		{Service: "agentVep", Account: acct, BaseURI: host},
		{Service: "smt", Account: acct, BaseURI: host},
	}
}
