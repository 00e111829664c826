package lpsim

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault makes the next matching API requests misbehave. Control API calls
// under /sim/ are never faulted.
type Fault struct {
	Method       string        // "" = any; matches the real method or X-HTTP-Method-Override
	PathContains string        // substring of the request path ("" = any)
	Status       int           // respond with this status (0 = don't change status)
	RetryAfter   string        // Retry-After header value, if non-empty
	Count        int           // apply to the next Count matching requests (0 = 1); with Rate, to Count faulted ones
	Rate         float64       // fault this share of the matching requests, at random (0 = every one)
	Latency      time.Duration // delay before handling
	Drop         bool          // hijack and close the connection without a response
	AfterHandle  bool          // run the real handler first (state changes!), then drop/replace the response
}

type faultRule struct {
	f    Fault
	left int
}

// InjectFault adds a fault rule; rules match in the order they were added.
func (s *Simulator) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = append(s.faults, faultRule{f: f, left: f.Count})
}

// ClearFaults removes every fault rule.
func (s *Simulator) ClearFaults() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = nil
}

// takeFault returns the first rule matching r and uses one of its count.
func (s *Simulator) takeFault(r *http.Request) (Fault, bool) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	override := r.Header.Get("X-HTTP-Method-Override")
	for i := range s.faults {
		fr := &s.faults[i]
		f := fr.f
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) && !strings.EqualFold(f.Method, override) {
			continue
		}
		if !strings.Contains(r.URL.Path, f.PathContains) {
			continue
		}
		if f.Rate > 0 && s.faultRand.Float64() >= f.Rate {
			continue // spared: a later rule may still match
		}
		fr.left--
		if fr.left == 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return f, true
	}
	return Fault{}, false
}

// serveFaulted applies f around the real handler.
func (s *Simulator) serveFaulted(w http.ResponseWriter, r *http.Request, f Fault) {
	s.log.Debug("lpsim: fault", "method", r.Method, "path", r.URL.Path, "status", f.Status, "drop", f.Drop)
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.AfterHandle {
		buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		s.serveAPI(buf, r)
		if !f.Drop && f.Status == 0 {
			buf.copyTo(w)
			return
		}
	}
	switch {
	case f.Drop:
		dropConnection(w)
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeReply(w, errReply(s.now(), f.Status, "injected fault"))
	default:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		s.serveAPI(w, r)
	}
}

func (s *Simulator) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Now()
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server aborts the response instead
	}
	_ = conn.Close()
}

// bufferedWriter holds a response so that a fault can still replace it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }

func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	for k, vs := range b.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// ExpireLogin ends every login of the agent: their bearers get 401 from now
// on. Agent sessions stay until reaped; a new login may keep using them.
func (s *Simulator) ExpireLogin(accountID, loginName string) error {
	err := s.locked(accountID, func(a *account, now time.Time) error {
		ag := a.agentByLogin(loginName)
		if ag == nil {
			return fmt.Errorf("agent %q: %w", loginName, ErrUnknownAgent)
		}
		for _, ls := range a.logins {
			if ls.agent == ag {
				s.endLogin(a, ls, now, false)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("expire login: %w", err)
	}
	return nil
}

// ExpireAgentSession ends every agent session of the agent (401 on calls to
// them); its chats go back to the queue and are routed again.
func (s *Simulator) ExpireAgentSession(accountID, loginName string) error {
	err := s.locked(accountID, func(a *account, now time.Time) error {
		ag := a.agentByLogin(loginName)
		if ag == nil {
			return fmt.Errorf("agent %q: %w", loginName, ErrUnknownAgent)
		}
		for _, as := range slices.Clone(ag.live) {
			s.endSession(a, as, now, "expired")
		}
		s.route(a, now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("expire agent session: %w", err)
	}
	return nil
}
