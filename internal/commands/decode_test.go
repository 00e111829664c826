package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
)

var decodeOpts = commands.DecodeOptions{Prefix: "lp", Account: account, MaxBodyBytes: 1024}

func msg(subject, body string, hdr map[string]string) *nats.Msg {
	m := &nats.Msg{Subject: subject, Data: []byte(body), Header: nats.Header{}}
	for k, v := range hdr {
		m.Header.Set(k, v)
	}
	return m
}

func TestDecode(t *testing.T) {
	send := commands.RequestSubject("lp", account, agentOne, commands.ChatSend)
	tests := []struct {
		name   string
		m      *nats.Msg
		want   commands.Command
		wantID string
	}{
		{"plain with id", msg(send, `{"id":"a1","chatId":"C1","text":"hi"}`, nil),
			commands.Command{ID: "a1", IDSource: "body", Body: []byte(`{"chatId":"C1","text":"hi"}`)}, "a1"},
		{"empty body", msg(commands.RequestSubject("lp", account, agentOne, commands.AgentInfo), "", nil),
			commands.Command{Body: []byte(`{}`)}, ""},
		{"header id", msg(send, `{"chatId":"C1","text":"hi"}`, map[string]string{nats.MsgIdHdr: "h1"}),
			commands.Command{ID: "h1", IDSource: "header", Body: []byte(`{"chatId":"C1","text":"hi"}`)}, "h1"},
		{"body id wins over header", msg(send, `{"id":"b1","chatId":"C1","text":"hi"}`, map[string]string{nats.MsgIdHdr: "h1"}),
			commands.Command{ID: "b1", IDSource: "body", Body: []byte(`{"chatId":"C1","text":"hi"}`)}, "b1"},
		{"structured cloudevent without headers",
			msg(send, `{"specversion":"1.0","id":"ce1","source":"bot","type":"x","datacontenttype":"application/json","data":{"chatId":"C1","text":"hi"}}`, nil),
			commands.Command{ID: "ce1", IDSource: "cloudevent", CloudEvent: true, Body: []byte(`{"chatId":"C1","text":"hi"}`)}, "ce1"},
		{"structured cloudevent by content type",
			msg(send, `{"specversion":"1.0","id":"ce2","source":"bot","type":"x","data":{"chatId":"C1","text":"hi"},"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}`,
				map[string]string{"Content-Type": "application/cloudevents+json"}),
			commands.Command{ID: "ce2", IDSource: "cloudevent", CloudEvent: true, Body: []byte(`{"chatId":"C1","text":"hi"}`),
				TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, "ce2"},
		{"binary cloudevent, percent-encoded id",
			msg(send, `{"chatId":"C1","text":"hi"}`, map[string]string{"ce-specversion": "1.0", "ce-id": "bot%20one/7", "ce-source": "bot", "ce-type": "x"}),
			commands.Command{ID: "bot one/7", IDSource: "cloudevent", CloudEvent: true, Body: []byte(`{"chatId":"C1","text":"hi"}`)}, "bot one/7"},
		{"durable subject", msg(commands.DurableSubject("lp", account, agentOne, commands.ChatSend), `{"id":"d1","chatId":"C1","text":"hi"}`, nil),
			commands.Command{ID: "d1", IDSource: "body", Durable: true, Body: []byte(`{"chatId":"C1","text":"hi"}`)}, "d1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := commands.Decode(tc.m, decodeOpts)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.ID != tc.want.ID || got.IDSource != tc.want.IDSource || got.CloudEvent != tc.want.CloudEvent ||
				got.Durable != tc.want.Durable || got.TraceParent != tc.want.TraceParent || !jsonEqual(got.Body, tc.want.Body) {
				t.Errorf("Decode = %+v (body %s), want %+v (body %s)", got, got.Body, tc.want, tc.want.Body)
			}
			if got.Account != account || got.Agent != agentOne {
				t.Errorf("account/agent = %s/%s", got.Account, got.Agent)
			}
		})
	}
}

// A command the bridge itself encoded as a CloudEvent (both modes) decodes.
func TestDecodeBridgeEncodedCloudEvent(t *testing.T) {
	for _, enc := range []events.Encoding{events.Binary, events.Structured} {
		ev := events.Event{ID: "enc-1", Type: events.CommandResult, Account: account, Agent: agentOne, Time: time.Now(),
			Data: events.CommandResultData{CommandID: "x", Command: "chat.send", OK: true}}
		m, err := events.Encode(ev, enc, "")
		must(t, err)
		m.Subject = commands.RequestSubject("lp", account, agentOne, commands.AgentInfo)
		m.Header.Del(nats.MsgIdHdr)
		got, err := commands.Decode(m, decodeOpts)
		if err != nil || !got.CloudEvent || got.ID != "enc-1" {
			t.Errorf("%s: Decode = %+v, %v", enc, got, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	send := commands.RequestSubject("lp", account, agentOne, commands.ChatSend)
	tests := []struct {
		name string
		m    *nats.Msg
		code commands.Code
	}{
		{"unknown command", msg("lp.cmd."+account+".bot_one.chat.dance", `{}`, nil), commands.CodeUnknownCommand},
		{"no command", msg("lp.cmd."+account+".bot_one", `{}`, nil), commands.CodeUnknownCommand},
		{"other account", msg("lp.cmd.999.bot_one.chat.send", `{}`, nil), commands.CodeBadRequest},
		{"other prefix", msg("xx.cmd."+account+".bot_one.chat.send", `{}`, nil), commands.CodeBadRequest},
		{"not json", msg(send, `hello`, nil), commands.CodeBadRequest},
		{"truncated", msg(send, `{"chatId":`, nil), commands.CodeBadRequest},
		{"two values", msg(send, `{} {}`, nil), commands.CodeBadRequest},
		{"array", msg(send, `[1]`, nil), commands.CodeBadRequest},
		{"id not a string", msg(send, `{"id":7}`, nil), commands.CodeBadRequest},
		{"empty id", msg(send, `{"id":""}`, nil), commands.CodeBadRequest},
		{"id with newline", msg(send, `{"id":"a\nb"}`, nil), commands.CodeBadRequest},
		{"id too long", msg(send, `{"id":"`+strings.Repeat("i", 300)+`"}`, nil), commands.CodeBadRequest},
		{"oversized", msg(send, `{"text":"`+strings.Repeat("x", 2000)+`"}`, nil), commands.CodeBadRequest},
		{"invalid utf-8", msg(send, "{\"text\":\"\xff\"}", nil), commands.CodeBadRequest},
		{"cloudevent without id", msg(send, `{}`, map[string]string{"ce-specversion": "1.0", "ce-source": "x", "ce-type": "y"}), commands.CodeBadRequest},
		{"cloudevent with xml data", msg(send, `<x/>`, map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "x", "ce-type": "y",
			"ce-datacontenttype": "application/xml"}), commands.CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := commands.Decode(tc.m, decodeOpts)
			var e *commands.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("Decode error = %v, want code %s", err, tc.code)
			}
			if e.Message == "" {
				t.Error("error without a message")
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := commands.New(commands.Config{Account: "a.b", MaxDeliver: -1, Backoff: []time.Duration{-time.Second}}, nil, nil, nil, nil, nil, nil)
	if !errors.Is(err, commands.ErrInvalidConfig) {
		t.Fatalf("New = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"account", "maxDeliver", "backoff[0]", "nats connection", "session source"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// Every command has a schema in schemas/commands, and every schema there is
// a command.
func TestEveryCommandHasASchema(t *testing.T) {
	set := compileSchemas(t)
	have := map[string]bool{}
	for _, name := range set.Commands() {
		have[name] = true
		if !commands.Known(name) {
			t.Errorf("schemas/commands/%s.json names no command of the consumer", name)
		}
	}
	for _, name := range commands.Names() {
		if !have[name] {
			t.Errorf("command %s has no schema in schemas/commands", name)
		}
	}
}
