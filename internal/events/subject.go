package events

import (
	"strings"
	"unicode"
)

// Subject layout (DESIGN.md §2):
//
//	<prefix>.evt.<account>.<agent>.agent.<session|status|ringing>
//	<prefix>.evt.<account>.<agent>.chat.<chat>.<accepted|line|state|...>
//	<prefix>.evt.<account>.<agent>.command.result

// DefaultPrefix is the subject prefix when none is configured.
const DefaultPrefix = "lp"

// Token makes s usable as one subject token: '.', '*', '>', whitespace and
// control characters become '_'; an empty s becomes "_". Different inputs can
// map to the same token ("a.b" and "a_b"); ids keep the raw values.
func Token(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '.', r == '*', r == '>', unicode.IsSpace(r), unicode.IsControl(r):
			return '_'
		}
		return r
	}, s)
}

// Subject is the subject e is published on, or "" when e.Type is unknown.
// The prefix is used as given; account, agent and chat are passed through
// Token.
func Subject(prefix string, e Event) string {
	if !e.Type.Valid() {
		return ""
	}
	return subject(prefix, Token(e.Account), Token(e.Agent), Token(e.ChatID), e.Type)
}

func subject(prefix, account, agent, chat string, t Type) string {
	base := prefix + ".evt." + account + "." + agent + "."
	if t.IsChat() {
		return base + "chat." + chat + "." + strings.TrimPrefix(t.Suffix(), "chat.")
	}
	return base + t.Suffix()
}

// StreamSubjects are the subjects the stream captures: every event subject.
func StreamSubjects(prefix string) []string {
	return []string{prefix + ".evt.>"}
}

// SubjectPatterns maps every type to its subject with '*' for account, agent
// and chat, e.g. ChatLine → "lp.evt.*.*.chat.*.line". Consumers filter on
// these; tests check the AsyncAPI document against them.
func SubjectPatterns(prefix string) map[Type]string {
	m := make(map[Type]string, len(AllTypes()))
	for _, t := range AllTypes() {
		m[t] = subject(prefix, "*", "*", "*", t)
	}
	return m
}
