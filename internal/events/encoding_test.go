package events_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding/spec"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/events"
)

func example(t *testing.T, typ events.Type) events.Event {
	t.Helper()
	for _, e := range events.Examples() {
		if e.Type == typ {
			return e
		}
	}
	t.Fatalf("no example of %s", typ)
	return events.Event{}
}

func TestExamplesCoverAllTypesAndAreValid(t *testing.T) {
	got := map[events.Type]int{}
	for _, e := range events.Examples() {
		got[e.Type]++
		if err := e.Validate(); err != nil {
			t.Errorf("example %s: %v", e.Type, err)
		}
	}
	for _, typ := range events.AllTypes() {
		if got[typ] != 1 {
			t.Errorf("%s: %d examples, want 1", typ, got[typ])
		}
	}
}

func TestEncodeBinaryHeaders(t *testing.T) {
	e := example(t, events.ChatLine)
	msg, err := events.Encode(e, events.Binary, "https://example.test/schemas/")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ce-specversion":     "1.0",
		"ce-id":              e.ID,
		"ce-type":            "lpbridge.chat.line",
		"ce-source":          "lpbridge://55500011/helper_bot",
		"ce-subject":         e.ChatID,
		"ce-time":            "2024-03-04T10:00:15.11Z",
		"ce-datacontenttype": "application/json",
		"ce-dataschema":      "https://example.test/schemas/events/chat.line.json",
		"ce-account":         "55500011",
		"ce-agent":           "helper_bot",
		"ce-chatid":          e.ChatID,
		"ce-seq":             "5",
		"ce-traceparent":     e.TraceParent,
		nats.MsgIdHdr:        e.ID,
	}
	for k, v := range want {
		if got := msg.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if len(msg.Header) != len(want) {
		t.Errorf("headers = %v, want exactly %d", msg.Header, len(want))
	}
	var body map[string]any
	if err := json.Unmarshal(msg.Data, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if body["text"] != "hi, my order is late" || body["eventId"] != float64(4) || body["textType"] != "plain" {
		t.Errorf("body = %s, want the line data", msg.Data)
	}
}

func TestEncodeStructured(t *testing.T) {
	e := example(t, events.AgentStatus)
	msg, err := events.Encode(e, events.Structured, events.DefaultDataSchemaBase)
	if err != nil {
		t.Fatal(err)
	}
	if ct := msg.Header.Get("Content-Type"); ct != "application/cloudevents+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := msg.Header.Get(nats.MsgIdHdr); got != e.ID {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, e.ID)
	}
	if got := msg.Header.Get("ce-id"); got != "" {
		t.Errorf("structured message has ce-id header %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(msg.Data, &body); err != nil {
		t.Fatal(err)
	}
	if body["specversion"] != "1.0" || body["id"] != e.ID || body["type"] != "lpbridge.agent.status" ||
		body["dataschema"] != "https://lpbridge.dev/schemas/events/agent.status.json" ||
		body["account"] != "55500011" || body["seq"] != float64(2) {
		t.Errorf("structured body = %s", msg.Data)
	}
	data, ok := body["data"].(map[string]any)
	if !ok || data["status"] != "Online" || data["cause"] != "startup" {
		t.Errorf("data = %#v, want the status object inline", body["data"])
	}
	if _, ok := body["chatid"]; ok {
		t.Error("agent event carries a chatid extension")
	}
}

func TestRoundTripEveryTypeBothEncodings(t *testing.T) {
	for _, enc := range []events.Encoding{events.Binary, events.Structured} {
		for _, e := range events.Examples() {
			t.Run(string(enc)+"/"+e.Type.Suffix(), func(t *testing.T) {
				msg, err := events.Encode(e, enc, events.DefaultDataSchemaBase)
				if err != nil {
					t.Fatal(err)
				}
				ce, err := events.Decode(msg)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if ce.DataSchema() != events.DataSchema(events.DefaultDataSchemaBase, e.Type) {
					t.Errorf("dataschema = %q", ce.DataSchema())
				}
				if ce.Subject() != e.ChatID {
					t.Errorf("subject = %q, want %q", ce.Subject(), e.ChatID)
				}
				got, err := events.FromCloudEvent(ce)
				if err != nil {
					t.Fatal(err)
				}
				want := e
				want.Time = e.Time.UTC()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

func TestPercentEncodingOfHeaders(t *testing.T) {
	e := example(t, events.ChatTyping)
	e.ChatID = `chat 1 € 😀 "q" 100%`
	e.Agent = "bot één"
	msg, err := events.Encode(e, events.Binary, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := msg.Header.Get("ce-subject"), "chat%201%20%E2%82%AC%20%F0%9F%98%80%20%22q%22%20100%25"; got != want {
		t.Errorf("ce-subject = %q, want %q", got, want)
	}
	// Source path-escapes the agent ("bot%20%C3%A9%C3%A9n"); the header then
	// percent-encodes those '%' signs.
	if got, want := msg.Header.Get("ce-source"), "lpbridge://55500011/bot%2520%25C3%25A9%25C3%25A9n"; got != want {
		t.Errorf("ce-source = %q, want %q", got, want)
	}
	for k, vs := range msg.Header {
		for _, v := range vs {
			for _, c := range []byte(v) {
				if c < 0x21 || c > 0x7E || c == '"' {
					t.Errorf("header %s=%q has byte %#x outside printable ASCII", k, v, c)
				}
			}
		}
	}
	if msg.Header.Get("ce-dataschema") != "" {
		t.Error("dataschema set although base is empty")
	}
	ce, err := events.Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if ce.Subject() != e.ChatID {
		t.Errorf("decoded subject = %q, want %q", ce.Subject(), e.ChatID)
	}
	got, err := events.FromCloudEvent(ce)
	if err != nil {
		t.Fatal(err)
	}
	if ce.Source() != "lpbridge://55500011/bot%20%C3%A9%C3%A9n" {
		t.Errorf("decoded source = %q", ce.Source())
	}
	if got.ChatID != e.ChatID || got.Agent != e.Agent {
		t.Errorf("decoded chat %q agent %q, want %q %q", got.ChatID, got.Agent, e.ChatID, e.Agent)
	}
}

func TestPercentEncodeSpecExample(t *testing.T) {
	if got, want := events.PercentEncode("Euro € 😀"), "Euro%20%E2%82%AC%20%F0%9F%98%80"; got != want {
		t.Errorf("PercentEncode = %q, want %q", got, want)
	}
	if got := events.PercentEncode("a\tb\x7f"); got != "a%09b%7F" {
		t.Errorf("control characters: %q", got)
	}
}

func TestDecodeHeaderValue(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "plain", want: "plain"},
		{in: "Euro%20%e2%82%ac", want: "Euro €"},     // lower-case hex
		{in: "%41%42", want: "AB"},                   // unnecessary encoding
		{in: `"quoted value"`, want: "quoted value"}, // older senders
		{in: `"a \"b\" c"`, want: `a "b" c`},         // backslash escapes
		{in: `"50%25"`, want: "50%"},                 // quoted, then percent
		{in: "%C0%A0", bad: true},                    // overlong U+0020
		{in: "%FF", bad: true},                       // not UTF-8
		{in: "%G1", bad: true},                       // not hex
		{in: "%4", bad: true},                        // truncated
		{in: `"ends with \"`, want: "", bad: true},   // dangling backslash
	}
	for _, tt := range tests {
		got, err := events.DecodeHeaderValue(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("DecodeHeaderValue(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("DecodeHeaderValue(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDecodeBinaryIsCaseInsensitiveAndQuoted(t *testing.T) {
	msg := nats.NewMsg("x")
	msg.Header["CE-SpecVersion"] = []string{"1.0"}
	msg.Header["Ce-Id"] = []string{"id-1"}
	msg.Header["CE-TYPE"] = []string{string(events.ChatTyping)}
	msg.Header["ce-source"] = []string{`"lpbridge://1/bot"`}
	msg.Header["Ce-Account"] = []string{"1"}
	msg.Header["Ce-Agent"] = []string{"bot"}
	msg.Header["Ce-Chatid"] = []string{"c%201"}
	msg.Header["ce-time"] = []string{"2024-03-04T10:00:00Z"}
	msg.Header["CE-DATACONTENTTYPE"] = []string{"application/json"}
	msg.Data = []byte(`{"typing":true}`)
	ce, err := events.Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.FromCloudEvent(ce)
	if err != nil {
		t.Fatal(err)
	}
	want := events.Event{ID: "id-1", Type: events.ChatTyping, Account: "1", Agent: "bot", ChatID: "c 1",
		Time: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC), Data: events.TypingData{Typing: true}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("got %+v, want %+v", e, want)
	}
	if ce.Source() != "lpbridge://1/bot" {
		t.Errorf("source = %q", ce.Source())
	}
}

func TestDecodeRejects(t *testing.T) {
	plain := nats.NewMsg("x")
	plain.Data = []byte(`{"hello":"world"}`)
	if _, err := events.Decode(plain); !errors.Is(err, events.ErrNotCloudEvent) {
		t.Errorf("plain JSON: err = %v, want ErrNotCloudEvent", err)
	}
	if _, err := events.Decode(nil); !errors.Is(err, events.ErrNotCloudEvent) {
		t.Errorf("nil: err = %v, want ErrNotCloudEvent", err)
	}

	noID := nats.NewMsg("x")
	noID.Header.Set("ce-specversion", "1.0")
	noID.Header.Set("ce-type", "t")
	noID.Header.Set("ce-source", "s")
	if _, err := events.Decode(noID); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("binary without id: err = %v, want ErrInvalidEvent", err)
	}

	badVersion := nats.NewMsg("x")
	badVersion.Header.Set("ce-specversion", "9.9")
	if _, err := events.Decode(badVersion); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("unknown specversion: err = %v, want ErrInvalidEvent", err)
	}

	badStructured := nats.NewMsg("x")
	badStructured.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	badStructured.Data = []byte(`{"specversion":"1.0","id":`)
	if _, err := events.Decode(badStructured); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("broken structured: err = %v, want ErrInvalidEvent", err)
	}

	overlong := nats.NewMsg("x")
	overlong.Header.Set("ce-specversion", "1.0")
	overlong.Header.Set("ce-id", "%C0%A0")
	if _, err := events.Decode(overlong); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("overlong UTF-8: err = %v, want ErrInvalidEvent", err)
	}
}

func TestValidateRejectsBadEvents(t *testing.T) {
	line := example(t, events.ChatLine)
	status := example(t, events.AgentStatus)
	tests := map[string]struct {
		e    events.Event
		want string
	}{
		"no id":            {mutate(line, func(e *events.Event) { e.ID = "" }), "id is empty"},
		"unknown type":     {mutate(line, func(e *events.Event) { e.Type = "lpbridge.chat.nope" }), "unknown type"},
		"no account":       {mutate(line, func(e *events.Event) { e.Account = "" }), "account is empty"},
		"no agent":         {mutate(line, func(e *events.Event) { e.Agent = "" }), "agent is empty"},
		"chat without id":  {mutate(line, func(e *events.Event) { e.ChatID = "" }), "chat id is empty"},
		"agent with chat":  {mutate(status, func(e *events.Event) { e.ChatID = "c" }), "chat id set"},
		"negative seq":     {mutate(line, func(e *events.Event) { e.Seq = -1 }), "seq"},
		"seq too big":      {mutate(line, func(e *events.Event) { e.Seq = 1 << 31 }), "seq"},
		"zero time":        {mutate(line, func(e *events.Event) { e.Time = time.Time{} }), "time is zero"},
		"wrong data":       {mutate(line, func(e *events.Event) { e.Data = events.StateData{} }), "does not belong"},
		"nil pointer data": {mutate(line, func(e *events.Event) { e.Data = (*events.LineData)(nil) }), "does not belong"},
		"nil data":         {mutate(line, func(e *events.Event) { e.Data = nil }), "does not belong"},
	}
	for name, tt := range tests {
		err := tt.e.Validate()
		if !errors.Is(err, events.ErrInvalidEvent) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrInvalidEvent mentioning %q", name, err, tt.want)
		}
		if _, err := events.Encode(tt.e, events.Binary, ""); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("%s: Encode err = %v, want ErrInvalidEvent", name, err)
		}
	}
	ptr := line
	d := line.Data.(events.LineData)
	ptr.Data = &d
	if err := ptr.Validate(); err != nil {
		t.Errorf("pointer data: %v", err)
	}
	if _, err := events.Encode(line, "xml", ""); !errors.Is(err, events.ErrInvalidConfig) {
		t.Errorf("unknown encoding: err = %v, want ErrInvalidConfig", err)
	}
}

func mutate(e events.Event, f func(*events.Event)) events.Event {
	f(&e)
	return e
}

func TestTranscriptWithoutLinesHasEmptyArray(t *testing.T) {
	b, err := json.Marshal(events.TranscriptData{ChatID: "c", EndedBy: events.EndedByVisitor})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"chatId":"c","lines":[],"endedBy":"visitor"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func BenchmarkEncode(b *testing.B) {
	e := events.Examples()[4]
	for _, enc := range []events.Encoding{events.Binary, events.Structured} {
		b.Run(string(enc), func(b *testing.B) {
			for b.Loop() {
				if _, err := events.Encode(e, enc, events.DefaultDataSchemaBase); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	e := events.Examples()[4]
	for _, enc := range []events.Encoding{events.Binary, events.Structured} {
		msg, err := events.Encode(e, enc, events.DefaultDataSchemaBase)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(enc), func(b *testing.B) {
			for b.Loop() {
				if _, err := events.Decode(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBinaryHeadersAreTheSpecs: binary mode writes its headers from the
// event itself; they must be exactly what sdk-go's binding spec makes of
// the event's CloudEvent (every attribute and extension under "ce-",
// canonical string, percent-encoded), and the body its data, for every
// type, with and without a dataschema, and with values that need encoding.
func TestBinaryHeadersAreTheSpecs(t *testing.T) {
	odd := example(t, events.ChatTyping)
	odd.ChatID, odd.Agent, odd.TraceParent = ` chat 1 € "q" 100% `, "bot één", ""
	for _, base := range []string{events.DefaultDataSchemaBase, ""} {
		for _, e := range append(events.Examples(), odd) {
			msg, err := events.Encode(e, events.Binary, base)
			if err != nil {
				t.Fatal(err)
			}
			ce, err := events.CloudEvent(e, base)
			if err != nil {
				t.Fatal(err)
			}
			want := nats.Header{nats.MsgIdHdr: {e.ID}}
			for _, a := range spec.WithPrefix("ce-").Version(ce.SpecVersion()).Attributes() {
				if v := a.Get(ce.Context); v != nil {
					want.Set(a.PrefixedName(), events.PercentEncode(mustFormat(t, v)))
				}
			}
			for name, v := range ce.Extensions() {
				want.Set("ce-"+name, events.PercentEncode(mustFormat(t, v)))
			}
			if !maps.EqualFunc(msg.Header, want, slices.Equal) {
				t.Errorf("%s base %q: headers\n got %v\nwant %v", e.Type, base, msg.Header, want)
			}
			if string(msg.Data) != string(ce.Data()) {
				t.Errorf("%s: body\n got %s\nwant %s", e.Type, msg.Data, ce.Data())
			}
		}
	}
}

func mustFormat(t *testing.T, v any) string {
	t.Helper()
	s, err := types.Format(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
