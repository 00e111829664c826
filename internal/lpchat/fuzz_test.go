package lpchat

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
)

// Seeds: the reference's documents (chat-agent-api.md §5.11-5.13) and a few
// quirky variants.
var chatSeeds = []string{
	`{ "chat": {
  "link": [
    { "@href": "https://va.agentvep.liveperson.net/api/account/55500011/agentSession/2038801122/chat/H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400001", "@rel": "self" },
    { "@href": "https://va.agentvep.liveperson.net/api/account/55500011/agentSession/2038801122/chat/H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400001?from=3", "@rel": "next" },
    { "@href": "https://va.agentvep.liveperson.net/api/account/55500011/agentSession/2038801122/visits/visit/H5550001112223334445K8400001", "@rel": "visit-id" } ],
  "events": {
    "link": [ { "@href": "https://h/chat/X/events?from=3", "@rel": "next" } ],
    "event": [
      { "@id": "0", "@type": "state", "time": "2024-03-04T10:00:00.100+00:00", "state": "waiting" },
      { "@id": "1", "@type": "line", "time": "2024-03-04T10:00:00.110+00:00", "textType": "plain",
        "text": "Please wait while we connect you.", "by": "info", "source": "system",
        "systemMessageId": 4, "subType": "REGULAR" },
      { "@id": "2", "@type": "state", "time": "2024-03-04T10:00:07.500+00:00", "state": "chatting" } ] },
  "info": { "state": "chatting", "chatSessionKey": "H1-aK2", "agentName": "Helper Bot", "agentId": 31100910,
    "startTime": "2024-03-04T10:00:00.110+00:00", "lastUpdate": "2024-03-04T10:00:09.000+00:00", "chatTimeout": 40,
    "visitorId": 1215000000000001, "rtSessionId": 4295000001, "engagementId": 311098710 } } }`,
	`{"chat":{"link":{"href":"https://h/as/chat/H1-xK2","rel":"self"},"events":{"event":{"id":0,"type":"line","text":"hi","systemMessageId":"4"}}}}`,
	`{"chat":{"error":{"message":"gone"}}}`,
	`{"chat":{"events":"","info":""}}`,
	`{"chat":{"events":{"event":[{"@id":"5","@type":"line","json":{"type":"vertical","elements":[]},"textType":"rich-content","time":1700000000123}]}}}`,
	`{"chat":{"events":{"event":{"@id":"1","@type":"line","text":{"b":"<i>"}}}}}`,
}

var eventSeeds = []string{
	`{ "events": {
  "link": [
    { "@href": "https://h/chat/X/events", "@rel": "self" },
    { "@href": "https://h/chat/X/events?from=5", "@rel": "next" } ],
  "event": { "@id": "4", "@type": "line", "time": "2024-03-04T10:00:15.000+00:00",
    "textType": "plain", "text": "hi, my order is late", "by": "visitor",
    "source": "visitor", "subType": "REGULAR" } } }`,
	`{"events":{"link":{"href":"https://h/e?from=0","rel":"next"}}}`,
	`{"events":{"event":[{"id":"1","type":"state","state":"ended","time":"2018-01-29T08:19:43.963-05:00"},{"id":2.0,"type":"line","text":"x"}]}}`,
	`{"events":null}`,
	`{"events":{"event":[{"@id":{"n":1},"@type":"line"},{"id":"2","type":"line","time":"noon","by":{"a":1},"systemMessageId":"x"}]}}`,
}

func FuzzDecodeChat(f *testing.F) {
	for _, s := range chatSeeds {
		f.Add([]byte(s))
	}
	for _, s := range oddChatSeeds {
		f.Add([]byte(s))
	}
	const as = "https://h/api/account/1/agentSession/2"
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeChat(data, as)
		if err != nil || !utf8.Valid(data) {
			return
		}
		again, err := decodeChat(encodeChat(t, c), as)
		if err != nil {
			t.Fatalf("re-encoded chat does not decode: %v", err)
		}
		assertSameChat(t, c, again)
	})
}

func FuzzDecodeEvents(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, next, err := decodeEvents(data)
		if err != nil || !utf8.Valid(data) {
			return
		}
		doc := map[string]any{"events": encodeEvents(evs, next)}
		b := marshal(t, doc)
		evs2, next2, err := decodeEvents(b)
		if err != nil {
			t.Fatalf("re-encoded events do not decode: %v\n%s", err, b)
		}
		if next != next2 {
			t.Errorf("next %d → %d", next, next2)
		}
		assertSameEvents(t, evs, evs2)
	})
}

func FuzzDecodeLogin(f *testing.F) {
	f.Add([]byte(`{"csrf":"c","bearer":"b","sessionTTl":"28800000","config":{"userId":"1","serverCurrentTime":1700000000000},
	  "csdsCollectionResponse":{"baseURIs":{"service":"agentVep","baseURI":"va.agentvep.liveperson.net"}}}`))
	f.Add([]byte(`{"csrf":"c"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ls, err := decodeLogin(data)
		if err != nil {
			return
		}
		if ls.Bearer == "" || ls.CSRF == "" {
			t.Fatal("login decoded without bearer or csrf")
		}
		for _, s := range []string{ls.String(), ls.GoString()} {
			if bytes.Contains([]byte(s), []byte(ls.Bearer)) && len(ls.Bearer) > 12 {
				t.Fatalf("rendering reveals the bearer: %s", s)
			}
		}
	})
}

// marshal encodes v without HTML escaping (so raw JSON survives as is).
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return buf.Bytes()
}

// encodeTime renders a time so that flexTime reads back the same instant.
func encodeTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if t.Equal(time.UnixMilli(t.UnixMilli())) {
		return t.UnixMilli()
	}
	return t.Format(time.RFC3339Nano)
}

// encodeEvents renders events in the reference's spelling.
func encodeEvents(evs []Event, next int) map[string]any {
	out := make([]map[string]any, 0, len(evs))
	for _, e := range evs {
		m := map[string]any{"@id": strconv.Itoa(e.ID), "@type": e.Type, "text": e.Text,
			"textType": e.TextType, "by": e.By, "source": e.Source, "subType": e.SubType,
			"state": e.State, "systemMessageId": e.SystemMessageID}
		if t := encodeTime(e.Time); t != nil {
			m["time"] = t
		}
		if e.JSON != nil {
			m["json"] = e.JSON
		}
		out = append(out, m)
	}
	doc := map[string]any{"event": out}
	if next >= 0 {
		doc["link"] = map[string]string{"@href": "https://h/e?from=" + strconv.Itoa(next), "@rel": "next"}
	}
	return doc
}

// encodeChat renders a decoded chat back into a chat document.
func encodeChat(t *testing.T, c *Chat) []byte {
	t.Helper()
	w := map[string]any{}
	var ls []map[string]string
	for rel, href := range c.Links {
		ls = append(ls, map[string]string{"@rel": rel, "@href": href})
	}
	if ls != nil {
		w["link"] = ls
	}
	w["events"] = encodeEvents(c.Events, c.NextFrom)
	if c.Error != "" {
		w["error"] = c.Error
	}
	if i := c.Info; i != nil {
		info := map[string]any{"state": i.State, "chatSessionKey": i.ChatSessionKey, "agentName": i.AgentName,
			"agentId": i.AgentID, "chatTimeout": i.ChatTimeout, "visitorId": i.VisitorID,
			"visitorName": i.VisitorName, "agentTyping": i.AgentTyping, "visitorTyping": i.VisitorTyping,
			"rtSessionId": i.RTSessionID, "participantId": i.ParticipantID, "engagementId": i.EngagementID,
			"campaignId": i.CampaignID, "language": i.Language, "skillId": i.SkillID, "skillName": i.SkillName}
		if v := encodeTime(i.StartTime); v != nil {
			info["startTime"] = v
		}
		if v := encodeTime(i.LastUpdate); v != nil {
			info["lastUpdate"] = v
		}
		w["info"] = info
	}
	return marshal(t, map[string]any{"chat": w})
}

// assertSameChat compares two decodings of the same chat.
func assertSameChat(t *testing.T, a, b *Chat) {
	t.Helper()
	assertSameEvents(t, a.Events, b.Events)
	if a.ID != b.ID || a.URL != b.URL || a.NextFrom != b.NextFrom || a.VisitID != b.VisitID || a.Error != b.Error {
		t.Errorf("chat %q %q %d %q %q → %q %q %d %q %q", a.ID, a.URL, a.NextFrom, a.VisitID, a.Error,
			b.ID, b.URL, b.NextFrom, b.VisitID, b.Error)
	}
	if len(a.Links) != len(b.Links) || (len(a.Links) > 0 && !reflect.DeepEqual(a.Links, b.Links)) {
		t.Errorf("links %v → %v", a.Links, b.Links)
	}
	if (a.Info == nil) != (b.Info == nil) {
		t.Fatalf("info %v → %v", a.Info, b.Info)
	}
	if a.Info != nil {
		x, y := *a.Info, *b.Info
		if !x.StartTime.Equal(y.StartTime) || !x.LastUpdate.Equal(y.LastUpdate) {
			t.Errorf("info times %v %v → %v %v", x.StartTime, x.LastUpdate, y.StartTime, y.LastUpdate)
		}
		x.StartTime, x.LastUpdate, y.StartTime, y.LastUpdate = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if x != y {
			t.Errorf("info %+v → %+v", x, y)
		}
	}
}

// assertSameEvents compares events (times by instant, JSON by value).
func assertSameEvents(t *testing.T, a, b []Event) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d events → %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Time.Equal(y.Time) {
			t.Errorf("event %d time %v → %v", i, x.Time, y.Time)
		}
		if !sameJSON(x.JSON, y.JSON) {
			t.Errorf("event %d json %s → %s", i, x.JSON, y.JSON)
		}
		x.Time, y.Time, x.JSON, y.JSON = time.Time{}, time.Time{}, nil, nil
		if !reflect.DeepEqual(x, y) {
			t.Errorf("event %d %+v → %+v", i, x, y)
		}
	}
}

// sameJSON compares JSON texts by value.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}
