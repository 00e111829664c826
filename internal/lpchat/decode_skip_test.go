package lpchat

import (
	"slices"
	"testing"
	"time"
)

// oddChatSeeds are chat documents with one odd scalar each (DESIGN.md
// §4.6): each must decode, keep everything else and report the odd value.
var oddChatSeeds = map[string]string{
	"info.startTime": `{"chat":{"link":{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting"},{"@id":"1","@type":"line","text":"hi","source":"visitor"}]},
	  "info":{"startTime":"yesterday at noon","visitorName":"Ann","agentId":"7"}}}`,
	"info.visitorName": `{"chat":{"link":{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting"},{"@id":"1","@type":"line","text":"hi","source":"visitor"}]},
	  "info":{"visitorName":{"first":"Ann"},"agentId":"7","startTime":"2024-03-04T10:00:00.110+00:00"}}}`,
	"event.time": `{"chat":{"link":{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting","time":"04/03/2024"},{"@id":"1","@type":"line","text":"hi","source":"visitor"}]},
	  "info":{"visitorName":"Ann","agentId":"7"}}}`,
	"event.id": `{"chat":{"link":{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting"},{"@type":"line","text":"lost"},{"@id":"1","@type":"line","text":"hi","source":"visitor"}]},
	  "info":{"visitorName":"Ann","agentId":"7"}}}`,
	"event.by": `{"chat":{"link":{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting"},{"@id":"1","@type":"line","text":"hi","source":"visitor","by":["x"]}]},
	  "info":{"visitorName":"Ann","agentId":"7"}}}`,
	"link.href": `{"chat":{"link":[{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},{"@href":{"x":1},"@rel":"next"}],
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting"},{"@id":"1","@type":"line","text":"hi","source":"visitor"}]},
	  "info":{"visitorName":"Ann","agentId":"7"}}}`,
	"event": `{"chat":{"link":{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting"},42,{"@id":"1","@type":"line","text":"hi","source":"visitor"}]},
	  "info":{"visitorName":"Ann","agentId":"7"}}}`,
	"info": `{"chat":{"link":{"@href":"https://h/as/chat/H1-aK2","@rel":"self"},
	  "events":{"event":[{"@id":"0","@type":"state","state":"chatting"},{"@id":"1","@type":"line","text":"hi","source":"visitor"}]},
	  "info":[1,2]}}`,
}

func TestDecodeChatKeepsWhatDecodes(t *testing.T) {
	for field, doc := range oddChatSeeds {
		t.Run(field, func(t *testing.T) {
			c, err := decodeChat([]byte(doc), "https://h/as")
			if err != nil {
				t.Fatalf("one odd %s sank the document: %v", field, err)
			}
			if c.ID != "H1-aK2" {
				t.Errorf("id %q", c.ID)
			}
			if len(c.Events) != 2 || c.Events[0].State != ChatChatting || c.Events[1].Text != "hi" || c.Events[1].Source != SourceVisitor {
				t.Errorf("events %+v", c.Events)
			}
			if field != "info" && (c.Info == nil || c.Info.AgentID != "7") {
				t.Errorf("info %+v", c.Info)
			}
			i := slices.IndexFunc(c.Skipped, func(s Skipped) bool { return s.Field == field })
			if i < 0 || c.Skipped[i].Reason == "" || len(c.Skipped) != 1 {
				t.Errorf("skipped %+v, want one %s", c.Skipped, field)
			}
		})
	}
}

func TestDecodeChatsOddScalarInOneChat(t *testing.T) {
	doc := `{"chats":{"chat":[
	  {"link":{"href":"https://h/as/chat/A","rel":"self"},"events":{"event":{"id":3,"type":"line","text":"a","time":"soon"}}},
	  {"link":{"href":"https://h/as/chat/B","rel":"self"},"events":{"event":{"id":5,"type":"line","text":"b","time":"2024-03-04T10:00:00.110+00:00"}}}]}}`
	chats, err := decodeChats([]byte(doc), "https://h/as")
	if err != nil || len(chats) != 2 {
		t.Fatalf("decodeChats: %v %v", chats, err)
	}
	a, b := chats[0], chats[1]
	if a.ID != "A" || len(a.Events) != 1 || a.Events[0].Text != "a" || !a.Events[0].Time.IsZero() || len(a.Skipped) != 1 || a.Skipped[0].Field != "event.time" {
		t.Errorf("chat A: %+v", a)
	}
	if b.ID != "B" || len(b.Events) != 1 || !b.Events[0].Time.Equal(time.Date(2024, 3, 4, 10, 0, 0, 110e6, time.UTC)) || len(b.Skipped) != 0 {
		t.Errorf("chat B: %+v", b)
	}
}
