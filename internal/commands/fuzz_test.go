package commands_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
)

// FuzzDecodeCommand feeds arbitrary subjects, bodies and headers to Decode
// and to the schema check: no input panics, every failure is a typed
// *commands.Error with a known code, and a success yields a JSON object
// body of bounded size for a known command.
func FuzzDecodeCommand(f *testing.F) {
	seeds := []struct{ command, body, ceID, ct string }{
		{commands.ChatSend, `{"id":"a","chatId":"C","text":"hi"}`, "", ""},
		{commands.ChatSend, `{"chatId":"C","textType":"rich-content","json":{"type":"vertical"}}`, "", ""},
		{commands.ChatAccept, ``, "", ""},
		{commands.AgentStatus, `{"status":"Online"}`, "ce%201", ""},
		{commands.ChatTransfer, `{"chatId":"C","skillId":12}`, "", ""},
		{commands.ChatSend, `{"specversion":"1.0","id":"x","source":"s","type":"t","data":{"chatId":"C","text":"x"}}`, "", ""},
		{commands.ChatSend, `{"specversion":"1.0","id":"x","source":"s","type":"t","data_base64":"e30="}`, "", "application/cloudevents+json"},
		{"chat.dance", `{}`, "", ""},
		{commands.ChatSend, `{"id":7}`, "", ""},
		{commands.ChatSend, "{\"text\":\"\xff\"}", "", ""},
		{commands.ChatSend, `[[[[[[[[[[]]]]]]]]]]`, "", ""},
	}
	for _, s := range seeds {
		f.Add("lp.cmd."+account+".bot_one."+s.command, []byte(s.body), s.ceID, s.ct)
	}
	set := compileSchemas(f)
	opts := commands.DecodeOptions{Prefix: "lp", Account: account, MaxBodyBytes: 4096}
	f.Fuzz(func(t *testing.T, subject string, body []byte, ceID, contentType string) {
		m := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
		if ceID != "" {
			m.Header.Set("ce-specversion", "1.0")
			m.Header.Set("ce-id", ceID)
			m.Header.Set("ce-source", "fuzz")
			m.Header.Set("ce-type", "fuzz")
		}
		if contentType != "" {
			m.Header.Set("Content-Type", contentType)
		}
		cmd, err := commands.Decode(m, opts)
		if err != nil {
			var e *commands.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if !strings.Contains(codes(), "|"+string(e.Code)+"|") || e.Message == "" {
				t.Fatalf("error %q with code %q", e.Message, e.Code)
			}
			return
		}
		if !commands.Known(cmd.Name) {
			t.Fatalf("decoded unknown command %q", cmd.Name)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(cmd.Body, &obj); err != nil {
			t.Fatalf("body %q is not a JSON object: %v", cmd.Body, err)
		}
		if _, ok := obj["id"]; ok {
			t.Fatal("the body still holds the id")
		}
		_ = set.ValidateCommand(cmd.Name, cmd.Body) // must not panic
	})
}

func codes() string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range commands.AllCodes() {
		b.WriteString(string(c) + "|")
	}
	return b.String()
}
