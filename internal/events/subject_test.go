package events_test

import (
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
)

func TestToken(t *testing.T) {
	tests := map[string]string{
		"helper.bot@acme.test": "helper_bot@acme_test",
		"a*b>c":                "a_b_c",
		"with space\tand\ttab": "with_space_and_tab",
		"nbsp\u00a0x":          "nbsp_x",
		"ctl\x00x":             "ctl_x",
		"":                     "_",
		"H555-abcK84":          "H555-abcK84",
		"één":                  "één",
	}
	for in, want := range tests {
		got := events.Token(in)
		if got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
		if again := events.Token(got); again != got {
			t.Errorf("Token is not idempotent on %q: %q", got, again)
		}
	}
}

func TestSubjects(t *testing.T) {
	want := map[events.Type]string{
		events.AgentSession:    "lp.evt.55500011.helper_bot.agent.session",
		events.AgentStatus:     "lp.evt.55500011.helper_bot.agent.status",
		events.AgentRinging:    "lp.evt.55500011.helper_bot.agent.ringing",
		events.ChatAccepted:    "lp.evt.55500011.helper_bot.chat.C.accepted",
		events.ChatLine:        "lp.evt.55500011.helper_bot.chat.C.line",
		events.ChatState:       "lp.evt.55500011.helper_bot.chat.C.state",
		events.ChatTyping:      "lp.evt.55500011.helper_bot.chat.C.typing",
		events.ChatInfo:        "lp.evt.55500011.helper_bot.chat.C.info",
		events.ChatTransferred: "lp.evt.55500011.helper_bot.chat.C.transferred",
		events.ChatEnded:       "lp.evt.55500011.helper_bot.chat.C.ended",
		events.ChatTranscript:  "lp.evt.55500011.helper_bot.chat.C.transcript",
		events.CommandResult:   "lp.evt.55500011.helper_bot.command.result",
	}
	patterns := events.SubjectPatterns("lp")
	if len(patterns) != len(events.AllTypes()) {
		t.Errorf("%d patterns for %d types", len(patterns), len(events.AllTypes()))
	}
	for _, e := range events.Examples() {
		chat := strings.ReplaceAll(want[e.Type], ".C.", "."+e.ChatID+".")
		got := events.Subject("lp", e)
		if got != chat {
			t.Errorf("Subject(%s) = %q, want %q", e.Type, got, chat)
		}
		if !subjectMatches(patterns[e.Type], got) {
			t.Errorf("pattern %q does not match %q", patterns[e.Type], got)
		}
		if !subjectMatches(events.StreamSubjects("lp")[0], got) {
			t.Errorf("stream subjects do not capture %q", got)
		}
		for other, p := range patterns {
			if other != e.Type && subjectMatches(p, got) {
				t.Errorf("pattern of %s also matches %s subject %q", other, e.Type, got)
			}
		}
	}
	e := events.Examples()[4]
	e.Account, e.Agent, e.ChatID = "1.2", "a b", "c*d"
	if got := events.Subject("acme.lp", e); got != "acme.lp.evt.1_2.a_b.chat.c_d.line" {
		t.Errorf("sanitised subject = %q", got)
	}
	e.Type = "lpbridge.bogus"
	if got := events.Subject("lp", e); got != "" {
		t.Errorf("unknown type subject = %q, want empty", got)
	}
}

// subjectMatches is NATS subject matching for '*' and a trailing '>'.
func subjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(p) == len(s)
}

func TestTypes(t *testing.T) {
	for _, typ := range events.AllTypes() {
		if !typ.Valid() {
			t.Errorf("%s not valid", typ)
		}
		if typ.IsChat() == typ.IsAgent() && typ != events.CommandResult {
			t.Errorf("%s: IsChat %v IsAgent %v", typ, typ.IsChat(), typ.IsAgent())
		}
	}
	if events.CommandResult.IsChat() || events.CommandResult.IsAgent() {
		t.Error("command.result is neither chat nor agent level")
	}
	if events.Type("chat.line").Valid() || events.Type("").Valid() {
		t.Error("invalid types reported valid")
	}
	if got := events.ChatLine.Suffix(); got != "chat.line" {
		t.Errorf("suffix = %q", got)
	}
}

func TestIDsAreDeterministicAndDistinct(t *testing.T) {
	const acct, chat, agent = "55500011", "H1-xK2", "bot"
	if got := events.IDForChatEvent(acct, agent, chat, 7, events.ChatLine); got != "55500011/bot/H1-xK2/7/chat.line" {
		t.Errorf("IDForChatEvent = %q", got)
	}
	if got := events.IDForAgentChange(acct, agent, "2038801122", 3, events.AgentStatus); got != "55500011/bot/2038801122/3/agent.status" {
		t.Errorf("IDForAgentChange = %q", got)
	}
	if got := events.IDForChat(acct, agent, chat, events.ChatTranscript); got != "55500011/bot/H1-xK2/chat.transcript" {
		t.Errorf("IDForChat = %q", got)
	}
	if got := events.IDForChatVersion(acct, agent, chat, events.ChatInfo, 2); got != "55500011/bot/H1-xK2/chat.info/v2" {
		t.Errorf("IDForChatVersion = %q", got)
	}
	if got := events.IDForCommand(acct, agent, "c-1"); got != "55500011/bot/c-1/command.result" {
		t.Errorf("IDForCommand = %q", got)
	}
	seen := map[string]string{}
	add := func(what, id string) {
		if prev, ok := seen[id]; ok {
			t.Errorf("id %q of %s collides with %s", id, what, prev)
		}
		seen[id] = what
	}
	for _, typ := range events.AllTypes() {
		add("chat event "+string(typ), events.IDForChatEvent(acct, agent, chat, 1, typ))
		add("chat event 2 "+string(typ), events.IDForChatEvent(acct, agent, chat, 2, typ))
		add("agent change "+string(typ), events.IDForAgentChange(acct, agent, "s", 1, typ))
		add("chat "+string(typ), events.IDForChat(acct, agent, chat, typ))
		add("chat version "+string(typ), events.IDForChatVersion(acct, agent, chat, typ, 1))
	}
}
