package commands

import (
	"errors"
	"testing"
)

func TestSubjectsBuildWhatTheyParse(t *testing.T) {
	s := subjects{prefix: "lp.eu", account: stepAccount}
	for _, name := range Names() {
		for _, kind := range []string{kindRequest, kindDurable} {
			subject := s.subject(kind, stepAgent, name)
			k, agent, command, err := s.parse(subject)
			if err != nil || k != kind || agent != stepAgent || command != name {
				t.Errorf("parse(%s) = %s %s %s %v", subject, k, agent, command, err)
			}
			if agent, command, ok := s.split(kind, subject); !ok || agent != stepAgent || command != name {
				t.Errorf("split(%s) = %s %s %v", subject, agent, command, ok)
			}
		}
	}
	for subject, code := range map[string]Code{
		"lp.eu.cmd.999.bot_one.chat.send":       CodeBadRequest, // another account
		"lp.eu.evt.55500011.bot_one.chat.send":  CodeBadRequest, // not a command subject
		"lp.eu.cmd.55500011.bot_one":            CodeUnknownCommand,
		"lp.eu.cmd.55500011.bot_one.chat.dance": CodeUnknownCommand,
	} {
		if _, _, _, err := s.parse(subject); !errors.Is(err, code.sentinel()) {
			t.Errorf("parse(%s) = %v, want %s", subject, err, code)
		}
	}
	if _, _, ok := s.split(kindRequest, "lp.eu.cmd.999.bot_one.chat.send"); ok {
		t.Error("split reads another account's subject")
	}
	for got, want := range map[string]string{
		s.wildcard(kindRequest, ""):        "lp.eu.cmd.55500011.>",
		s.wildcard(kindRequest, stepAgent): "lp.eu.cmd.55500011.bot_one.>",
		s.everyAccount(kindDLQ):            "lp.eu.dlq.>",
		s.deadLetter("", ""):               "lp.eu.dlq.55500011.unknown.unknown",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
