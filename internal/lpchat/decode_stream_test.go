package lpchat

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The chat documents are read as one token stream (docreader.go). These
// cases pin down how it treats what encoding/json also accepted, or
// refused: the same answers as decoding with encoding/json gave.

func TestDecodeChatStreamQuirks(t *testing.T) {
	const as = "https://h/as"
	tests := []struct {
		name, doc string
		check     func(t *testing.T, c *Chat)
	}{
		{"names match without regard to case", `{"CHAT":{"Link":{"HREF":"https://h/as/chat/A","Rel":"self"},
		  "EVENTS":{"Event":{"ID":"3","TYPE":"line","Text":"hi"}}}}`, func(t *testing.T, c *Chat) {
			if c.ID != "A" || len(c.Events) != 1 || c.Events[0].ID != 3 || c.Events[0].Text != "hi" {
				t.Errorf("chat %+v", c)
			}
		}},
		{"escaped names", `{"ch\u0061t":{"link":{"\u0040href":"https://h/as/chat/A","@rel":"self"}}}`, func(t *testing.T, c *Chat) {
			if c.ID != "A" {
				t.Errorf("id %q", c.ID)
			}
		}},
		{"the last of duplicate members wins", `{"chat":{"events":{"event":{"@id":"1"},"event":[{"@id":"2"},{"@id":"3"}]}}}`, func(t *testing.T, c *Chat) {
			if len(c.Events) != 2 || c.Events[0].ID != 2 || c.Events[1].ID != 3 {
				t.Errorf("events %+v", c.Events)
			}
		}},
		{"an odd link costs the events element only", `{"chat":{"link":{"@href":"https://h/as/chat/A","@rel":"self"},
		  "events":{"event":{"@id":"1","@type":"line"},"link":[{"@href":"https://h/e?from=9","@rel":"next"},5],"event":{"@id":"2"}},
		  "info":{"agentId":"7"}}}`, func(t *testing.T, c *Chat) {
			// What came before the odd link is kept, what came after is not.
			if c.ID != "A" || len(c.Events) != 1 || c.Events[0].ID != 1 || c.NextFrom != -1 || c.Info == nil || c.Info.AgentID != "7" {
				t.Errorf("chat %+v", c)
			}
			assertSkipped(t, c.Skipped, "events")
		}},
		{"events not an object", `{"chat":{"link":[{"@href":"https://h/as/chat/A","@rel":"self"},{"@href":"https://h/as/chat/A?from=4","@rel":"next"}],"events":5}}`, func(t *testing.T, c *Chat) {
			if len(c.Events) != 0 || c.NextFrom != 4 {
				t.Errorf("chat %+v", c)
			}
			assertSkipped(t, c.Skipped, "events")
		}},
		{"null and odd event elements", `{"chat":{"events":{"event":[null,"x",{"@id":null,"id":"3"},""]}}}`, func(t *testing.T, c *Chat) {
			if len(c.Events) != 1 || c.Events[0].ID != 3 {
				t.Errorf("events %+v", c.Events)
			}
			if got := fields(c.Skipped); !slices.Equal(got, []string{"event.id", "event", "event"}) {
				t.Errorf("skipped %v", got)
			}
		}},
		{"a bare string is one odd event", `{"chat":{"events":{"event":"x"}}}`, func(t *testing.T, c *Chat) {
			assertSkipped(t, c.Skipped, "event")
		}},
		{"empty elements", `{"chat":{"link":"","events":{"event":"","link":null},"info":null}}`, func(t *testing.T, c *Chat) {
			if len(c.Events) != 0 || c.Info != nil || len(c.Skipped) != 0 || c.NextFrom != -1 {
				t.Errorf("chat %+v", c)
			}
		}},
		{"invalid UTF-8 is mended", "{\"chat\":{\"events\":{\"event\":{\"@id\":\"1\",\"text\":\"a\xffb\"}}}}", func(t *testing.T, c *Chat) {
			if len(c.Events) != 1 || c.Events[0].Text != "a\uFFFDb" {
				t.Errorf("events %+v", c.Events)
			}
		}},
		{"odd text is kept as JSON", `{"chat":{"events":{"event":{"@id":"1","text":{ "b" : [1, 2] },"json":{"a": 1}}}}}`, func(t *testing.T, c *Chat) {
			if len(c.Events) != 1 || c.Events[0].Text != `{"b":[1,2]}` || string(c.Events[0].JSON) != `{"a": 1}` {
				t.Errorf("events %+v", c.Events)
			}
		}},
		{"whitespace around the document", " \n{\"chat\":{\"error\":\"gone\"}}\n ", func(t *testing.T, c *Chat) {
			if c.Error != "gone" {
				t.Errorf("error %q", c.Error)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := decodeChat([]byte(tt.doc), as)
			if err != nil {
				t.Fatalf("decodeChat: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestDecodeChatStreamRefuses(t *testing.T) {
	for _, doc := range []string{
		``,
		`null`,
		`[]`,
		`"chat"`,
		`{"chat":null}`,
		`{"chat":""}`,
		`{"chat":5}`,
		`{"chat":{}} {}`,
		`{"chat":{}} x`,
		`{"chat":{"unknown":[1,}}}`,
		`{"chat":{"link":5}}`,
		`{"chat":{"link":[{"@href":"x"},"y"]}}`,
		"{\"chat\":{\"error\":\"a\x01b\"}}",
		`{"chat":{"events":{"event":[{"@id":"1"}`,
	} {
		if c, err := decodeChat([]byte(doc), "https://h/as"); err == nil {
			t.Errorf("%q: accepted as %+v", doc, c)
		}
	}
}

func TestDecodeChatsStreamShapes(t *testing.T) {
	for doc, want := range map[string]int{
		`{"chats":""}`:                      0,
		`{"chats":{}}`:                      0,
		`{"chats":{"chat":[]}}`:             0,
		`{"chats":{"chat":null}}`:           0,
		`{"chats":{"chat":[null]}}`:         1,
		`{"chats":{"chat":{}}}`:             1,
		`{"Chats":{"CHAT":[{},{}]}}`:        2,
		`{"chats":{"chat":[{}],"chat":{}}}`: 1,
	} {
		chats, err := decodeChats([]byte(doc), "https://h/as")
		if err != nil || len(chats) != want || chats == nil {
			t.Errorf("%s: %d chats (%v), want %d", doc, len(chats), err, want)
			continue
		}
		for _, c := range chats {
			if c.NextFrom != -1 || len(c.Events) != 0 {
				t.Errorf("%s: chat %+v", doc, c)
			}
		}
	}
	for _, doc := range []string{`{}`, `{"chats":null}`, `{"chats":5}`, `{"chats":{"chat":"x"}}`,
		`{"chats":{"chat":[{},""]}}`, `{"chats":{"chat":[{"link":{"@href":5}},{"link":7}]}}`} {
		if chats, err := decodeChats([]byte(doc), "https://h/as"); err == nil {
			t.Errorf("%s: accepted as %+v", doc, chats)
		}
	}
}

func TestDecodeEventsStreamShapes(t *testing.T) {
	evs, next, err := decodeEvents([]byte(`{"events":{"event":{"@id":"1"},"link":{"@href":"https://h/e?from=2","@rel":"next"}},"events":{"event":{"@id":"7"}}}`))
	if err != nil || len(evs) != 1 || evs[0].ID != 7 || next != -1 {
		t.Errorf("duplicate events: %+v %d %v", evs, next, err)
	}
	for _, doc := range []string{`{"events":5}`, `{"events":{"link":5}}`, `{"events":null}`, `{"events":{}}x`} {
		if evs, _, err := decodeEvents([]byte(doc)); err == nil {
			t.Errorf("%s: accepted as %+v", doc, evs)
		}
	}
}

// assertSkipped checks that skipped holds one value, of field.
func assertSkipped(t *testing.T, skipped []Skipped, field string) {
	t.Helper()
	if len(skipped) != 1 || skipped[0].Field != field || skipped[0].Reason == "" {
		t.Errorf("skipped %+v, want one %s", skipped, field)
	}
}

// fields lists the fields of skipped values.
func fields(skipped []Skipped) []string {
	out := make([]string, len(skipped))
	for i, s := range skipped {
		out[i] = s.Field
	}
	return out
}

func TestDecodeChatInfoShapes(t *testing.T) {
	info, present, err := decodeChatInfo([]byte(`{"info":{"chatTimeout":"40","visitorName":"Ann","startTime":"noon","Language":"en"}}`))
	if err != nil || !present || info.ChatTimeout != 40 || info.VisitorName != "Ann" || !info.StartTime.IsZero() || info.Language != "en" {
		t.Errorf("info %+v %v %v", info, present, err)
	}
	for _, doc := range []string{`{"info":""}`, `{"info":null}`, `{}`, `null`} {
		if _, present, err := decodeChatInfo([]byte(doc)); err != nil || present {
			t.Errorf("%s: present %v, %v", doc, present, err)
		}
	}
	for _, doc := range []string{`{"info":[1]}`, `{"info":"x"}`, `[]`, `{"info":{}}{}`} {
		if _, _, err := decodeChatInfo([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", doc)
		}
	}
}

// TestChatKeepsTheLinksItReads: of a chat's links the decoder keeps self,
// next and visit-id, in either spelling, with the relation before or after
// the target, escaped or not; the others are dropped unless a value of
// theirs did not decode, which the chat reports.
func TestChatKeepsTheLinksItReads(t *testing.T) {
	const doc = `{"chat":{"link":[` +
		`{"@rel":"self","@href":"https://h/as/chat/C1"},` +
		`{"href":"https://h/as/visits/visit/V\u00e91","rel":"visit-\u0069d"},` +
		`{"@href":"https://h/as/chat/C1?from=7","@rel":"next"},` +
		`{"@href":"https://h/as/chat/C1/transfer","@rel":"transfer"},` +
		`{"@href":{"secret":"x"},"@rel":"agent-survey"},` +
		`{"@href":"https://h/as/chat/C1/info","@rel":null,"rel":"info"}]}}`
	c, err := decodeChat([]byte(doc), "https://h/as")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"self": "https://h/as/chat/C1", "visit-id": "https://h/as/visits/visit/Vé1", "next": "https://h/as/chat/C1?from=7"}
	if !reflect.DeepEqual(c.Links, want) {
		t.Errorf("links %v, want %v", c.Links, want)
	}
	if c.ID != "C1" || c.VisitID != "Vé1" || c.NextFrom != 7 {
		t.Errorf("chat %q visit %q next %d, want C1, Vé1, 7", c.ID, c.VisitID, c.NextFrom)
	}
	if len(c.Skipped) != 1 || c.Skipped[0].Field != "link.href" || strings.Contains(c.Skipped[0].Reason, "secret") {
		t.Errorf("skipped %+v, want the odd href reported without its value", c.Skipped)
	}
}
