package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// errorCase is one way a command fails, with the code it must get and
// whether it is bad input (dead-lettered in both modes).
type errorCase struct {
	name    string
	agent   string
	command string
	body    func(chatID string) any
	setup   func(t *testing.T, e *env) // breaks something before the command
	code    commands.Code
	dead    bool
}

func errorCases() []errorCase {
	big := strings.Repeat("x", commands.DefaultMaxBodyBytes)
	return []errorCase{
		{name: "malformed JSON", agent: agentOne, command: commands.ChatSend,
			body: func(string) any { return `{"chatId": "x", "text": ` }, code: commands.CodeBadRequest, dead: true},
		{name: "not an object", agent: agentOne, command: commands.ChatSend,
			body: func(string) any { return `["chat.send"]` }, code: commands.CodeBadRequest, dead: true},
		{name: "schema violation", agent: agentOne, command: commands.ChatSend,
			body: func(c string) any { return map[string]any{"chatId": c} }, code: commands.CodeBadRequest, dead: true},
		{name: "bad status", agent: agentOne, command: commands.AgentStatus,
			body: func(string) any { return map[string]any{"status": "Asleep"} }, code: commands.CodeBadRequest, dead: true},
		{name: "oversized", agent: agentOne, command: commands.ChatSend,
			body: func(c string) any { return map[string]any{"chatId": c, "text": big} }, code: commands.CodeBadRequest, dead: true},
		{name: "line to an ended chat", agent: agentOne, command: commands.ChatSend,
			body:  func(c string) any { return map[string]any{"chatId": c, "text": "too late"} },
			setup: func(t *testing.T, e *env) { must(t, e.sim.VisitorEnd(account, e.lastChat)) },
			code:  commands.CodeBadRequest}, // the service's answer, not bad input: no dead letter
		{name: "unknown command", agent: agentOne, command: "chat.dance",
			body: func(string) any { return map[string]any{} }, code: commands.CodeUnknownCommand, dead: true},
		{name: "unknown agent", agent: "bot_nobody", command: commands.AgentInfo,
			body: func(string) any { return nil }, code: commands.CodeUnknownAgent, dead: true},
		{name: "chat not found", agent: agentOne, command: commands.ChatSend,
			body: func(string) any {
				return map[string]any{"chatId": "H1234567890123456789-0123456789abcdef0123456789abcdefK1234567", "text": "hi"}
			},
			code: commands.CodeChatNotFound},
		{name: "not ringing", agent: agentTwo, command: commands.ChatAccept,
			body: func(string) any { return map[string]any{} }, code: commands.CodeNotRinging},
		{name: "session lost (expired)", agent: agentOne, command: commands.AgentInfo, body: func(string) any { return nil },
			setup: func(t *testing.T, e *env) { must(t, e.sim.ExpireAgentSession(account, "bot.one")) },
			code:  commands.CodeSessionLost},
		{name: "session lost (refused with 403)", agent: agentOne, command: commands.AgentInfo, body: func(string) any { return nil },
			setup: func(t *testing.T, e *env) {
				e.sim.InjectFault(lpsim.Fault{PathContains: "/info", Status: 403, Count: 10})
			},
			code: commands.CodeSessionLost},
		{name: "session lost (none yet)", agent: agentOne, command: commands.AgentInfo, body: func(string) any { return nil },
			setup: func(t *testing.T, e *env) { e.sessions.set(agentOne, nil) },
			code:  commands.CodeSessionLost},
		{name: "rate limited", agent: agentOne, command: commands.AgentInfo, body: func(string) any { return nil },
			setup: func(t *testing.T, e *env) {
				e.sim.InjectFault(lpsim.Fault{PathContains: "/info", Status: 429, RetryAfter: "0", Count: 10})
			},
			code: commands.CodeRateLimited},
		{name: "upstream error", agent: agentOne, command: commands.ChatSend,
			body: func(c string) any { return map[string]any{"chatId": c, "text": "hi"} },
			setup: func(t *testing.T, e *env) {
				e.sim.InjectFault(lpsim.Fault{PathContains: "/events", Method: "POST", Status: 503, Count: 10})
			},
			code: commands.CodeUpstreamError},
		{name: "timeout", agent: agentOne, command: commands.AgentInfo, body: func(string) any { return nil },
			setup: func(t *testing.T, e *env) {
				e.sim.InjectFault(lpsim.Fault{PathContains: "/info", Latency: 1500 * time.Millisecond, Count: 10})
			},
			code: commands.CodeTimeout},
		{name: "internal", agent: agentTwo, command: commands.AgentInfo, body: func(string) any { return nil },
			setup: func(t *testing.T, e *env) { e.sessions.setPanic(agentTwo) },
			code:  commands.CodeInternal, dead: true},
	}
}

// errorConfig has a short command timeout, so the timeout case is quick.
func errorConfig() commands.Config {
	cfg := baseConfig()
	cfg.Timeout = 500 * time.Millisecond
	return cfg
}

func TestRequestReplyErrorCodes(t *testing.T) {
	seen := map[commands.Code]bool{}
	for _, tc := range errorCases() {
		seen[tc.code] = true
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.start(t, errorConfig())
			chatID := e.chattingChat(t, agentOne, skillA)
			e.lastChat = chatID
			if tc.setup != nil {
				tc.setup(t, e)
			}
			msg := &nats.Msg{Subject: commands.RequestSubject("lp", account, tc.agent, tc.command), Data: toJSON(t, tc.body(chatID)), Header: nats.Header{}}
			msg.Header.Set(nats.MsgIdHdr, "err-"+tc.name)
			wantCode(t, e.requestMsg(t, msg), tc.code)

			res := e.result(t, "err-"+tc.name)
			if res.OK || res.Error == nil || res.Error.Code != string(tc.code) {
				t.Errorf("command.result = %+v, want error %s", res, tc.code)
			}
			dlq := commands.DeadLetterSubject("lp", account, tc.agent, tc.command)
			if tc.dead {
				dl := e.deadLetter(t, dlq)
				if dl.Header.Get(commands.HeaderDLQCode) != string(tc.code) || dl.Header.Get(commands.HeaderDLQReason) == "" {
					t.Errorf("dead letter headers %v, want code %s and a reason", dl.Header, tc.code)
				}
				if dl.Header.Get(commands.HeaderDLQSubject) != msg.Subject || string(dl.Data) != string(msg.Data) {
					t.Errorf("dead letter does not carry the original subject and body")
				}
			} else if n := e.deadLettersOn(dlq); n != 0 {
				t.Errorf("%d dead letters for a %s outcome, want none", n, tc.code)
			}

			// The consumer keeps working.
			e.sim.ClearFaults()
			e.sessions.setPanic("")
			okResult[map[string]any](t, e.request(t, agentTwo, commands.AgentStatus, map[string]any{"status": "Online"}))
		})
	}
	for _, c := range commands.AllCodes() {
		if !seen[c] {
			t.Errorf("no test case for code %s", c)
		}
	}
}

// A stored final error is returned again for the same id, without running.
func TestRequestReplyStoredError(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	body := map[string]any{"id": "close-missing", "chatId": "H1234567890123456789-0123456789abcdef0123456789abcdefK1234567"}
	wantCode(t, e.request(t, agentOne, commands.ChatClose, body), commands.CodeChatNotFound)
	before := e.sim.Requests()
	wantCode(t, e.request(t, agentOne, commands.ChatClose, body), commands.CodeChatNotFound)
	if n := e.sim.Requests() - before; n != 0 {
		t.Errorf("the repeated command made %d API requests, want 0 (stored result)", n)
	}
	// The same id for another command is refused.
	wantCode(t, e.request(t, agentOne, commands.AgentInfo, map[string]any{"id": "close-missing"}), commands.CodeBadRequest)
}

func TestCodeTransient(t *testing.T) {
	transient := map[commands.Code]bool{commands.CodeSessionLost: true, commands.CodeRateLimited: true,
		commands.CodeUpstreamError: true, commands.CodeTimeout: true}
	for _, c := range commands.AllCodes() {
		if c.Transient() != transient[c] {
			t.Errorf("%s.Transient() = %v", c, c.Transient())
		}
	}
	err := error(&commands.Error{Code: commands.CodeChatNotFound, Message: "gone"})
	if !errors.Is(err, commands.ErrChatNotFound) || errors.Is(err, commands.ErrNotRinging) {
		t.Errorf("errors.Is does not follow the code: %v", err)
	}
}
