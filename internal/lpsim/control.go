package lpsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// controlPrefix is where the control API lives (documented in doc.go).
const controlPrefix = "/sim/"

// faultWire is a Fault as JSON; latency is a Go duration string ("250ms").
type faultWire struct {
	Method       string  `json:"method"`
	PathContains string  `json:"pathContains"`
	Status       int     `json:"status"`
	RetryAfter   string  `json:"retryAfter"`
	Count        int     `json:"count"`
	Latency      string  `json:"latency"`
	Drop         bool    `json:"drop"`
	AfterHandle  bool    `json:"afterHandle"`
	Rate         float64 `json:"rate"`
}

// scriptWire is a ScriptConfig as JSON; lineInterval is a duration string.
type scriptWire struct {
	ChatsPerMinute float64 `json:"chatsPerMinute"`
	LineInterval   string  `json:"lineInterval"`
	LinesPerChat   int     `json:"linesPerChat"`
	MaxConcurrent  int     `json:"maxConcurrent"`
}

// controlError maps the Go API's errors to statuses.
func controlError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrUnknownAccount), errors.Is(err, ErrUnknownChat), errors.Is(err, ErrUnknownAgent):
		status = http.StatusNotFound
	case errors.Is(err, ErrUnknownSkill), errors.Is(err, ErrInvalidSpec), errors.Is(err, errBadControlBody):
		status = http.StatusBadRequest
	case errors.Is(err, ErrChatEnded), errors.Is(err, ErrAccountExists), errors.Is(err, ErrAgentExists), errors.Is(err, ErrSkillExists):
		status = http.StatusConflict
	}
	writeReply(w, reply{status: status, body: map[string]string{"error": err.Error()}})
}

func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%w: %w", errBadControlBody, err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", errBadControlBody, err)
	}
	return nil
}

func parseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errBadControlBody, err)
	}
	return d, nil
}

// serveControl serves the control API. It is not faulted and not counted.
func (s *Simulator) serveControl(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, controlPrefix), "/"), "/")
	route := r.Method + " " + strings.Join(segs, "/")
	if s.serveConsoleControl(w, r, segs) {
		return
	}
	var err error
	switch {
	case route == "GET stats":
		writeReply(w, answer(http.StatusOK, map[string]int64{"requests": s.Requests()}))
		return
	case route == "POST faults":
		err = s.controlFault(w, r)
	case route == "DELETE faults":
		s.ClearFaults()
		writeReply(w, answer(http.StatusOK, struct{}{}))
		return
	case len(segs) >= 2 && segs[0] == "accounts":
		err = s.controlAccount(w, r, segs[1], segs[2:])
	default:
		writeReply(w, reply{status: http.StatusNotFound, body: map[string]string{"error": "unknown control resource " + route}})
		return
	}
	if err != nil {
		controlError(w, err)
	}
}

func (s *Simulator) controlFault(w http.ResponseWriter, r *http.Request) error {
	var f faultWire
	if err := readJSON(r, &f); err != nil {
		return err
	}
	lat, err := parseDuration(f.Latency)
	if err != nil {
		return err
	}
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("%w: rate %v: want a share from 0 to 1", errBadControlBody, f.Rate)
	}
	s.InjectFault(Fault{Method: f.Method, PathContains: f.PathContains, Status: f.Status, RetryAfter: f.RetryAfter,
		Count: f.Count, Latency: lat, Drop: f.Drop, AfterHandle: f.AfterHandle, Rate: f.Rate})
	writeReply(w, answer(http.StatusCreated, struct{}{}))
	return nil
}

// controlAccount serves /sim/accounts/{acct}/...
func (s *Simulator) controlAccount(w http.ResponseWriter, r *http.Request, acct string, rest []string) error {
	route := r.Method + " " + strings.Join(rest, "/")
	switch {
	case route == "POST ":
		if err := s.AddAccount(acct); err != nil {
			return err
		}
		writeReply(w, answer(http.StatusCreated, map[string]string{"accountId": acct}))
	case route == "POST skills":
		var sk SkillSpec
		if err := readJSON(r, &sk); err != nil {
			return err
		}
		if err := s.AddSkill(acct, sk); err != nil {
			return err
		}
		writeReply(w, answer(http.StatusCreated, struct{}{}))
	case route == "POST agents":
		var spec AgentSpec
		if err := readJSON(r, &spec); err != nil {
			return err
		}
		if err := s.AddAgent(acct, spec); err != nil {
			return err
		}
		writeReply(w, answer(http.StatusCreated, struct{}{}))
	case route == "POST scripted-visitors":
		var sw scriptWire
		if err := readJSON(r, &sw); err != nil {
			return err
		}
		gap, err := parseDuration(sw.LineInterval)
		if err != nil {
			return err
		}
		if err := s.locked(acct, func(*account, time.Time) error { return nil }); err != nil {
			return err
		}
		s.StartScriptedVisitors(s.ctx, acct, ScriptConfig{ChatsPerMinute: sw.ChatsPerMinute, LineInterval: gap,
			LinesPerChat: sw.LinesPerChat, MaxConcurrent: sw.MaxConcurrent})
		writeReply(w, answer(http.StatusAccepted, struct{}{}))
	case len(rest) >= 2 && rest[0] == "agents":
		return s.controlAgent(w, r, acct, rest[1], rest[2:])
	case route == "POST chats":
		var v VisitorSpec
		if err := readJSON(r, &v); err != nil {
			return err
		}
		id, err := s.StartChat(acct, v)
		if err != nil {
			return err
		}
		writeReply(w, answer(http.StatusCreated, map[string]string{"chatId": id}))
	case len(rest) >= 2 && rest[0] == "chats":
		return s.controlChat(w, r, acct, rest[1], rest[2:])
	default:
		writeReply(w, reply{status: http.StatusNotFound, body: map[string]string{"error": "unknown control resource"}})
	}
	return nil
}

// controlAgent serves /sim/accounts/{acct}/agents/{login}/...
func (s *Simulator) controlAgent(w http.ResponseWriter, r *http.Request, acct, login string, rest []string) error {
	switch r.Method + " " + strings.Join(rest, "/") {
	case "GET ":
		state, err := s.AgentAvailability(acct, login)
		if err != nil {
			return err
		}
		writeReply(w, answer(http.StatusOK, map[string]string{"loginName": login, "availability": state}))
	case "POST expire-login":
		if err := s.ExpireLogin(acct, login); err != nil {
			return err
		}
		writeReply(w, answer(http.StatusOK, struct{}{}))
	case "POST expire-sessions":
		if err := s.ExpireAgentSession(acct, login); err != nil {
			return err
		}
		writeReply(w, answer(http.StatusOK, struct{}{}))
	default:
		writeReply(w, reply{status: http.StatusNotFound, body: map[string]string{"error": "unknown control resource"}})
	}
	return nil
}

// controlChat serves /sim/accounts/{acct}/chats/{chatId}/...
func (s *Simulator) controlChat(w http.ResponseWriter, r *http.Request, acct, chatID string, rest []string) error {
	switch r.Method + " " + strings.Join(rest, "/") {
	case "GET ":
		state, agentLogin, err := s.ChatState(acct, chatID)
		if err != nil {
			return err
		}
		writeReply(w, answer(http.StatusOK, map[string]string{"chatId": chatID, "state": state, "agent": agentLogin}))
	case "GET events":
		events, err := s.ChatEvents(acct, chatID)
		if err != nil {
			return err
		}
		writeReply(w, answer(http.StatusOK, map[string][]EventView{"events": events}))
	case "POST lines":
		var body struct {
			Text string `json:"text"`
		}
		if err := readJSON(r, &body); err != nil {
			return err
		}
		id, err := s.VisitorLine(acct, chatID, body.Text)
		if err != nil {
			return err
		}
		writeReply(w, answer(http.StatusCreated, map[string]int{"eventId": id}))
	case "POST typing":
		var body struct {
			Typing bool `json:"typing"`
		}
		if err := readJSON(r, &body); err != nil {
			return err
		}
		if err := s.VisitorTyping(acct, chatID, body.Typing); err != nil {
			return err
		}
		writeReply(w, answer(http.StatusOK, struct{}{}))
	case "POST end":
		if err := s.VisitorEnd(acct, chatID); err != nil {
			return err
		}
		writeReply(w, answer(http.StatusOK, struct{}{}))
	default:
		writeReply(w, reply{status: http.StatusNotFound, body: map[string]string{"error": "unknown control resource"}})
	}
	return nil
}
