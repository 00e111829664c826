package schemas_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/schemas"
)

func compile(t *testing.T) *schemas.Set {
	t.Helper()
	s, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEverySchemaCompilesAndIsNamedForItsFile(t *testing.T) {
	s := compile(t)
	var wantEvents []string
	for _, typ := range events.AllTypes() {
		wantEvents = append(wantEvents, strings.TrimSuffix(strings.TrimPrefix(typ.SchemaFile(), "events/"), ".json"))
	}
	slices.Sort(wantEvents)
	if got := s.EventTypes(); !slices.Equal(got, wantEvents) {
		t.Errorf("event schemas %v, want one per type %v", got, wantEvents)
	}
	// One schema per command of the consumer's table, no more, no less.
	wantCommands := slices.Sorted(slices.Values(commands.Names()))
	if got := s.Commands(); !slices.Equal(got, wantCommands) {
		t.Errorf("command schemas %v, want %v (commands.Names)", got, wantCommands)
	}
	names, err := fs.Glob(schemas.FS(), "*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(schemas.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema %q, want draft 2020-12", name, doc.Schema)
		}
		if doc.ID != schemas.BaseURL+"/"+name {
			t.Errorf("%s: $id %q, want %q", name, doc.ID, schemas.BaseURL+"/"+name)
		}
		if doc.Title == "" {
			t.Errorf("%s: no title", name)
		}
	}
}

// schemaIDs maps the $id of every embedded schema to its file.
func schemaIDs(t *testing.T) map[string]string {
	t.Helper()
	names, err := fs.Glob(schemas.FS(), "*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, name := range names {
		var doc struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(mustRead(t, name), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids[doc.ID] = name
	}
	return ids
}

// TestEmittedDataSchemaIsTheSchemaID encodes an event of every type with the
// events package's default base and checks the whole dataschema attribute,
// as a consumer reads it, against the $id written in the schema files: the
// URL must name exactly the schema of the event's type.
func TestEmittedDataSchemaIsTheSchemaID(t *testing.T) {
	ids := schemaIDs(t)
	for _, e := range events.Examples() {
		for _, enc := range []events.Encoding{events.Binary, events.Structured} {
			msg, err := events.Encode(e, enc, events.DefaultDataSchemaBase)
			if err != nil {
				t.Fatal(err)
			}
			ce, err := events.Decode(msg)
			if err != nil {
				t.Fatal(err)
			}
			if file, ok := ids[ce.DataSchema()]; !ok || file != e.Type.SchemaFile() {
				t.Errorf("%s %s: dataschema %q is the $id of %q, want that of %s",
					enc, e.Type, ce.DataSchema(), file, e.Type.SchemaFile())
			}
		}
	}
}

// TestEventSchemasMatchDataTypes checks every type's schema against its Go
// payload struct: the same members, and required exactly where the struct
// always writes the member (no omitempty or omitzero).
func TestEventSchemasMatchDataTypes(t *testing.T) {
	for _, typ := range events.AllTypes() {
		var doc struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(mustRead(t, typ.SchemaFile()), &doc); err != nil {
			t.Fatalf("%s: %v", typ.SchemaFile(), err)
		}
		data := reflect.TypeOf(typ.ZeroData())
		if data == nil || data.Kind() != reflect.Struct {
			t.Errorf("%s: payload %v is not a struct", typ, data)
			continue
		}
		var members, required []string
		for f := range data.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			members = append(members, name)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
		slices.Sort(members)
		slices.Sort(required)
		if got := slices.Sorted(maps.Keys(doc.Properties)); !slices.Equal(got, members) {
			t.Errorf("%s: schema members %v, %s has %v", typ.SchemaFile(), got, data.Name(), members)
		}
		if got := slices.Sorted(slices.Values(doc.Required)); !slices.Equal(got, required) {
			t.Errorf("%s: schema requires %v, %s always writes %v", typ.SchemaFile(), got, data.Name(), required)
		}
	}
}

// TestEventExamplesValidate checks what the bridge really puts on the wire:
// the binary body and the structured data of every example event.
func TestEventExamplesValidate(t *testing.T) {
	s := compile(t)
	for _, e := range events.Examples() {
		bin, err := events.Encode(e, events.Binary, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ValidateEvent(string(e.Type), bin.Data); err != nil {
			t.Errorf("%s binary body: %v\n%s", e.Type, err, bin.Data)
		}
		st, err := events.Encode(e, events.Structured, "")
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(st.Data, &env); err != nil {
			t.Fatal(err)
		}
		if err := s.ValidateEvent(e.Type.Suffix(), env.Data); err != nil {
			t.Errorf("%s structured data: %v", e.Type, err)
		}
		// Every payload schema is closed: an unknown member is rejected.
		var m map[string]any
		if err := json.Unmarshal(bin.Data, &m); err != nil {
			t.Fatal(err)
		}
		m["unexpectedMember"] = 1
		extra, _ := json.Marshal(m)
		if err := s.ValidateEvent(string(e.Type), extra); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s with an unknown member: err = %v, want ErrInvalid", e.Type, err)
		}
	}
}

// TestMinimalEventsValidate: the least payload of every type (only what the
// schema requires) validates. A type without an entry fails the test.
func TestMinimalEventsValidate(t *testing.T) {
	s := compile(t)
	good := map[events.Type]any{
		events.AgentSession:    events.SessionData{State: events.SessionLost, AgentSessionID: ""},
		events.AgentStatus:     events.StatusData{Status: "Away", Cause: events.StatusCauseService},
		events.AgentRinging:    events.RingingData{},
		events.ChatAccepted:    events.AcceptedData{ChatID: "c", AcceptedBy: events.AcceptedByCommand},
		events.ChatLine:        events.LineData{EventID: 0, TextType: "plain", By: "info", Source: "system"},
		events.ChatState:       events.StateData{State: "waiting"},
		events.ChatInfo:        events.InfoData{},
		events.ChatTyping:      events.TypingData{},
		events.ChatTransferred: events.TransferredData{},
		events.ChatEnded:       events.EndedData{EndedBy: events.EndedByUnknown},
		events.ChatTranscript:  events.TranscriptData{ChatID: "c", EndedBy: events.EndedByUnknown},
		events.CommandResult: events.CommandResultData{CommandID: "x", Command: "chat.close", OK: false,
			Error: &events.CommandError{Code: "chat_not_found", Message: "no chat c"}},
	}
	for _, typ := range events.AllTypes() {
		d, ok := good[typ]
		if !ok {
			t.Errorf("%s: no minimal payload in this test", typ)
			continue
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ValidateEvent(string(typ), b); err != nil {
			t.Errorf("%s %s: %v", typ, b, err)
		}
	}
}

func TestBadEventsFail(t *testing.T) {
	s := compile(t)
	bad := []struct{ typ, data string }{
		{"agent.session", `{"state":"sleeping","agentSessionId":"1"}`},
		{"agent.session", `{"state":"started"}`},
		{"agent.status", `{"status":"online","cause":"command"}`},
		{"agent.status", `{"status":"Online","cause":"because"}`},
		{"agent.ringing", `{"count":-1}`},
		{"agent.ringing", `{"count":"1"}`},
		{"chat.accepted", `{"chatId":"","acceptedBy":"auto"}`},
		{"chat.accepted", `{"chatId":"c","acceptedBy":"magic"}`},
		{"chat.line", `{"eventId":1,"text":"hi","textType":"markdown","by":"visitor","source":"visitor"}`},
		{"chat.line", `{"eventId":1,"text":"hi","textType":"plain","by":"visitor","source":"bot"}`},
		{"chat.line", `{"eventId":-1,"text":"hi","textType":"plain","by":"visitor","source":"visitor"}`},
		{"chat.line", `{"eventId":1,"textType":"plain","by":"visitor","source":"visitor"}`},
		{"chat.line", `{"eventId":1,"text":"hi","textType":"plain","by":"visitor","source":"visitor","time":"yesterday"}`},
		{"chat.state", `{"eventId":1,"state":"closed"}`},
		{"chat.typing", `{"typing":"yes"}`},
		{"chat.info", `{"customVariables":{"a":1}}`},
		{"chat.info", `{"preChatSurvey":[{"label":"x"}]}`},
		{"chat.transferred", `{"skillId":"1"}`},
		{"chat.ended", `{"endedBy":"bot","eventId":3}`},
		{"chat.transcript", `{"chatId":"c","endedBy":"agent"}`},
		{"chat.transcript", `{"chatId":"c","endedBy":"agent","lines":[{"eventId":1}]}`},
		{"chat.transcript", `{"chatId":"c","endedBy":"nobody","lines":[]}`},
		{"command.result", `{"commandId":"1","command":"chat.send","ok":false}`},
		{"command.result", `{"commandId":"1","command":"chat.send","ok":true,"error":{"code":"timeout","message":"m"}}`},
		{"command.result", `{"commandId":"1","command":"chat.send","ok":false,"error":{"code":"oops","message":"m"}}`},
		{"command.result", `{"commandId":"","command":"chat.send","ok":true}`},
		{"chat.line", `not json`},
	}
	for _, tt := range bad {
		if err := s.ValidateEvent(tt.typ, []byte(tt.data)); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s %s: err = %v, want ErrInvalid", tt.typ, tt.data, err)
		}
	}
	if err := s.ValidateEvent("lpbridge.chat.nope", []byte(`{}`)); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("unknown type: err = %v, want ErrUnknownSchema", err)
	}
}

func TestCommands(t *testing.T) {
	s := compile(t)
	good := []struct{ cmd, body string }{
		{"chat.accept", `{}`},
		{"chat.accept", `{"id":"c-1"}`},
		{"chat.send", `{"chatId":"c","text":"hi"}`},
		{"chat.send", `{"id":"x","chatId":"c","text":"<b>hi</b>","textType":"html","subType":"ONLY_TO_REP"}`},
		{"chat.send", `{"chatId":"c","textType":"rich-content","json":{"type":"vertical","elements":[]}}`},
		{"chat.typing", `{"chatId":"c","typing":false}`},
		{"chat.close", `{"chatId":"c"}`},
		{"chat.transfer", `{"chatId":"c","skillId":"31100811"}`},
		{"chat.transfer", `{"chatId":"c","agentId":7,"text":"please take over"}`},
		{"agent.status", `{"status":"Occupied"}`},
		{"agent.info", `{}`},
		{"agent.available-agents", `{"skill":"Support","chatState":"Online"}`},
		{"agent.available-slots", `{"skill":"Support","maxWaitTime":30}`},
		{"agent.available-slots", `{"agent":"ann"}`},
		{"chat.transfer-skills", `{"chatId":"c"}`},
		{"chat.info", `{"chatId":"c"}`},
		{"chat.visitor", `{"chatId":"c"}`},
		{"chat.visitor", `{"id":"v-1","chatId":"c"}`},
	}
	for _, tt := range good {
		if err := s.ValidateCommand(tt.cmd, []byte(tt.body)); err != nil {
			t.Errorf("%s %s: %v", tt.cmd, tt.body, err)
		}
	}
	bad := []struct{ cmd, body string }{
		{"chat.accept", `{"chatId":"c"}`},
		{"chat.accept", `{"id":""}`},
		{"chat.send", `{"text":"hi"}`},
		{"chat.send", `{"chatId":"c"}`},
		{"chat.send", `{"chatId":"c","text":""}`},
		{"chat.send", `{"chatId":"c","text":"hi","textType":"markdown"}`},
		{"chat.send", `{"chatId":"c","textType":"rich-content","text":"no json"}`},
		{"chat.send", `{"chatId":"c","text":"hi","json":{}}`},
		{"chat.send", `{"chatId":"c","text":"hi","subType":"SECRET"}`},
		{"chat.typing", `{"chatId":"c"}`},
		{"chat.close", `{}`},
		{"chat.close", `{"chatId":"c","reason":"x"}`},
		{"chat.transfer", `{"chatId":"c"}`},
		{"chat.transfer", `{"chatId":"c","skillId":"support"}`},
		{"agent.status", `{"status":"Offline"}`},
		{"agent.status", `{}`},
		{"agent.available-agents", `{"chatState":"Busy"}`},
		{"agent.available-slots", `{"agent":"ann","skill":"Support"}`},
		{"agent.available-slots", `{"maxWaitTime":10}`},
		{"agent.available-slots", `{"skill":"S","maxWaitTime":90000}`},
		{"chat.info", `[]`},
		{"chat.visitor", `{}`},
		{"chat.visitor", `{"chatId":""}`},
		{"chat.visitor", `{"chatId":"c","visitorId":"v"}`},
	}
	for _, tt := range bad {
		if err := s.ValidateCommand(tt.cmd, []byte(tt.body)); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s %s: err = %v, want ErrInvalid", tt.cmd, tt.body, err)
		}
	}
	if err := s.ValidateCommand("chat.dance", []byte(`{}`)); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("unknown command: err = %v, want ErrUnknownSchema", err)
	}
}

func TestReply(t *testing.T) {
	s := compile(t)
	codes := []string{"bad_request", "unknown_command", "unknown_agent", "chat_not_found", "not_ringing",
		"session_lost", "rate_limited", "upstream_error", "timeout", "internal"}
	good := []string{`{"ok":true,"result":{}}`, `{"ok":true,"result":{"chatId":"c"}}`}
	for _, code := range codes {
		good = append(good, `{"ok":false,"error":{"code":"`+code+`","message":"m"}}`)
	}
	for _, body := range good {
		if err := s.ValidateReply([]byte(body)); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	bad := []string{
		`{"ok":true}`,
		`{"ok":true,"result":[]}`,
		`{"ok":false}`,
		`{"ok":false,"error":{"code":"teapot","message":"m"}}`,
		`{"ok":false,"error":{"code":"timeout"}}`,
		`{"ok":true,"result":{},"error":{"code":"timeout","message":"m"}}`,
		`{"ok":"yes","result":{}}`,
		`{"ok":true,"result":{},"extra":1}`,
	}
	for _, body := range bad {
		if err := s.ValidateReply([]byte(body)); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", body, err)
		}
	}
	if !strings.Contains(string(mustRead(t, "commands/reply.json")), `"internal"`) {
		t.Error("reply.json does not list the code enum")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
