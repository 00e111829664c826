package lpchat

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// These white-box tests cover the decoding helpers; the documents of the
// reference are tested through the API in docs_test.go.

func TestOneOrMany(t *testing.T) {
	type item struct {
		A int `json:"a"`
	}
	tests := []struct {
		in   string
		want oneOrMany[item]
		err  bool
	}{
		{`[{"a":1},{"a":2}]`, oneOrMany[item]{{1}, {2}}, false},
		{`{"a":1}`, oneOrMany[item]{{1}}, false},
		{`[]`, oneOrMany[item]{}, false},
		{`null`, nil, false},
		{`""`, nil, false},
		{`  {"a":3} `, oneOrMany[item]{{3}}, false},
		{`"x"`, nil, true},
		{`[1]`, nil, true},
	}
	for _, tt := range tests {
		var got oneOrMany[item]
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.in, got, tt.want)
		}
	}
	// Absent: the field stays nil.
	var doc struct {
		Event oneOrMany[item] `json:"event"`
	}
	if err := json.Unmarshal([]byte(`{}`), &doc); err != nil || doc.Event != nil {
		t.Errorf("absent: %v %v", doc.Event, err)
	}
	// Strings: a bare string is one item.
	var ss oneOrMany[string]
	if err := json.Unmarshal([]byte(`"31100810"`), &ss); err != nil || !reflect.DeepEqual(ss, oneOrMany[string]{"31100810"}) {
		t.Errorf("string: %v %v", ss, err)
	}
}

func TestFlexInt(t *testing.T) {
	tests := []struct {
		in   string
		want flexInt
		err  bool
	}{
		{`4`, 4, false},
		{`"4"`, 4, false},
		{`"-1"`, -1, false},
		{`" 28800000 "`, 28800000, false},
		{`1215000000000001`, 1215000000000001, false},
		{`"9007199254740993"`, 9007199254740993, false}, // beyond float64 precision
		{`4.0`, 4, false},
		{`"4.0"`, 4, false},
		{`1e3`, 1000, false},
		{`""`, 0, false},
		{`null`, 0, false},
		{`4.5`, 0, true},
		{`"abc"`, 0, true},
		{`true`, 0, true},
		{`{}`, 0, true},
		{`"NaN"`, 0, true},
		{`1e300`, 0, true},
	}
	for _, tt := range tests {
		var got flexInt
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestFlexString(t *testing.T) {
	tests := []struct {
		in   string
		want flexString
		err  bool
	}{
		{`"31100910"`, "31100910", false},
		{`31100910`, "31100910", false},
		{`1215000000000001`, "1215000000000001", false},
		{`12.5`, "12.5", false},
		{`true`, "true", false},
		{`null`, "", false},
		{`"a\"b"`, `a"b`, false},
		{`{"x":"secret"}`, "", true},
		{`[1]`, "", true},
	}
	for _, tt := range tests {
		var got flexString
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.in, got, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error quotes the value: %v", tt.in, err)
		}
	}
}

func TestFlexTime(t *testing.T) {
	est := time.FixedZone("", -5*3600)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{`"2018-01-29T08:19:43.963-05:00"`, time.Date(2018, 1, 29, 8, 19, 43, 963e6, est), false},
		{`"2024-03-04T10:00:00.100+00:00"`, time.Date(2024, 3, 4, 10, 0, 0, 100e6, time.UTC), false},
		{`"2024-03-04T10:00:00Z"`, time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC), false},
		{`"2024-03-04T10:00:00.100-0500"`, time.Date(2024, 3, 4, 10, 0, 0, 100e6, est), false},
		{`1700000000123`, time.UnixMilli(1700000000123), false},
		{`"1700000000123"`, time.UnixMilli(1700000000123), false},
		{`""`, time.Time{}, false},
		{`null`, time.Time{}, false},
		{`"Jan 02, 2024 1:02:03 PM"`, time.Time{}, true},
		{`{}`, time.Time{}, true},
	}
	for _, tt := range tests {
		var got flexTime
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if !time.Time(got).Equal(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.in, time.Time(got), tt.want)
		}
	}
}

func TestLinkSpellings(t *testing.T) {
	var ls links
	in := `[{"@href":"https://h/a","@rel":"self"},{"href":"https://h/b?from=3","rel":"next"},{"href":"https://h/c"}]`
	if err := json.Unmarshal([]byte(in), &ls); err != nil {
		t.Fatal(err)
	}
	if h, ok := findLink(ls, "next"); !ok || h != "https://h/b?from=3" {
		t.Errorf("next = %q %v", h, ok)
	}
	m := linkMap(ls)
	if !reflect.DeepEqual(m, map[string]string{"self": "https://h/a", "next": "https://h/b?from=3"}) {
		t.Errorf("linkMap = %v", m)
	}
	if n, ok := fromParam(m["next"]); !ok || n != 3 {
		t.Errorf("fromParam = %d %v", n, ok)
	}
	if _, ok := fromParam("https://h/b?from=-1"); ok {
		t.Error("negative from accepted")
	}
}

func TestLastSegment(t *testing.T) {
	tests := map[string]string{
		"https://va.agentvep.liveperson.net/api/account/55500011/agentSession/2038801122": "2038801122",
		"https://h/x/chat/H1-abcK2/":    "H1-abcK2",
		"https://h/x/events/7?from=3":   "7",
		"https://h/x/agentSession.json": "agentSession",
		"https://h/x/chat/a%2Fb":        "a/b",
		"":                              "",
		// A link that does not parse as a URL still names its resource.
		"://bad":                        "bad",
		"https://h:bad/x/chat/H1-aK2":   "H1-aK2",
		"https://h/x/chat/H1%zz?from=3": "H1%zz",
	}
	for in, want := range tests {
		if got := lastSegment(in); got != want {
			t.Errorf("lastSegment(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStringish(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`{"visitorName": "visitor"}`, "visitor", true},
		{`{"visitorName": {"visitorName": "Ann"}}`, "Ann", true},
		{`{"visitorName": {"#text": "Bob"}}`, "Bob", true},
		{`"Cy"`, "Cy", true},
		{`{"other": "x"}`, "", false},
		{`[1]`, "", false},
	}
	for _, tt := range tests {
		got, ok := stringish(json.RawMessage(tt.in), "visitorName")
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %q %v, want %q %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEventBothSpellings(t *testing.T) {
	docs := []string{
		`{"events":{"event":{"@id":"3","@type":"line","text":"a","systemMessageId":"4"}}}`,
		`{"events":{"event":{"id":3,"type":"line","text":"a","systemMessageId":4}}}`,
		`{"events":{"event":[{"id":"3.0","type":"line","text":"a","systemMessageId":4.0}]}}`,
	}
	for _, d := range docs {
		evs, next, err := decodeEvents([]byte(d))
		if err != nil || len(evs) != 1 || evs[0].ID != 3 || evs[0].Type != "line" || evs[0].SystemMessageID != 4 || next != -1 {
			t.Errorf("%s: %+v %d %v", d, evs, next, err)
		}
	}
	// An event without an id is left out; the others stay.
	evs, _, err := decodeEvents([]byte(`{"events":{"event":[{"@type":"line"},{"@id":"abc"},{"@id":"4","@type":"line"}]}}`))
	if err != nil || len(evs) != 1 || evs[0].ID != 4 {
		t.Errorf("events without id: %+v %v", evs, err)
	}
	if _, _, err := decodeEvents([]byte(`{"other":{}}`)); err == nil {
		t.Error("document without events accepted")
	}
	evs, _, err = decodeEvents([]byte(`{"events":""}`))
	if err != nil || len(evs) != 0 {
		t.Errorf("empty events element: %v %v", evs, err)
	}
}

func TestChatErrorMember(t *testing.T) {
	for doc, want := range map[string]string{
		`{"chat":{"error":"chat not found"}}`:                                  "chat not found",
		`{"chat":{"error":{"message":"gone","internalCode":3}}}`:               "gone",
		`{"chat":{"error":{"internalCode":3}}}`:                                `{"internalCode":3}`,
		`{"chat":{"link":{"@href":"https://h/c/X","@rel":"self"}}}`:            "",
		`{"chat":{"error":"","link":{"@href":"https://h/c/X","@rel":"self"}}}`: "",
	} {
		c, err := decodeChat([]byte(doc), "https://h/as")
		if err != nil || c.Error != want {
			t.Errorf("%s: Error = %q (%v), want %q", doc, c.Error, err, want)
		}
	}
}

func TestDecodeTransferTextPlacement(t *testing.T) { // §5.19: text inside or beside transfer
	for _, doc := range []string{
		`{ "transfer": { "skill": { "id": 31100811 }, "text": "Customer needs a refund." } }`,
		`{ "transfer": { "skill": { "id": "31100811" } }, "text": "Customer needs a refund." }`,
	} {
		tr, err := decodeTransfer([]byte(doc))
		if err != nil || tr != (Transfer{SkillID: "31100811", Text: "Customer needs a refund."}) {
			t.Errorf("%s: %+v %v", doc, tr, err)
		}
	}
	tr, err := decodeTransfer([]byte(`{ "transfer": { "agent": { "id": 7 }, "text": "Please take over." } }`))
	if err != nil || tr != (Transfer{AgentID: "7", Text: "Please take over."}) {
		t.Errorf("agent: %+v %v", tr, err)
	}
	// What the client sends decodes back to the same transfer.
	for _, in := range []Transfer{{SkillID: "31100811", Text: "x"}, {AgentID: "ann", Text: "y"}} {
		body, err := transferBody(in)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(body)
		out, err := decodeTransfer(b)
		if err != nil || out != in {
			t.Errorf("round trip %+v → %s → %+v %v", in, b, out, err)
		}
	}
}

func TestDecodeVisit(t *testing.T) {
	doc := `{"visit":{"id":"H1K2","visitorInfo":{"device":"DESKTOP","operatingSystem":"WINDOWS","browser":"CHROME","ip":"192.0.2.7"},
	  "preChatSurvey":{"question":[{"id":"1","label":"Name","value":"Ada"},{"id":"2","label":"Order","value":"42"}]},
	  "link":[{"@href":"https://h/x","@rel":"self"}]}}`
	v, err := decodeVisit(json.RawMessage(doc), "H1K2")
	if err != nil {
		t.Fatal(err)
	}
	want := Visit{ID: "H1K2", Device: "DESKTOP", OS: "WINDOWS", Browser: "CHROME", IP: "192.0.2.7",
		PreChatSurvey: []SurveyAnswer{{QuestionID: "1", Label: "Name", Value: "Ada"}, {QuestionID: "2", Label: "Order", Value: "42"}},
		Raw:           json.RawMessage(doc)}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("visit = %+v\nwant %+v", v, want)
	}
	// Other spellings: deviceFamily / deviceOS / ipAddress (Visit Information API).
	v, err = decodeVisit(json.RawMessage(`{"deviceFamily":"MOBILE","deviceOS":"IOS","userAgent":"Safari","ipAddress":"198.51.100.1"}`), "V")
	if err != nil || v.Device != "MOBILE" || v.OS != "IOS" || v.Browser != "Safari" || v.IP != "198.51.100.1" {
		t.Errorf("alt spellings: %+v %v", v, err)
	}
	if _, err := decodeVisit(json.RawMessage(`{`), "V"); err == nil {
		t.Error("broken JSON accepted")
	}
}

func TestDecodeCustomVariables(t *testing.T) {
	want := []CustomVariable{{Name: "plan", Value: "gold"}, {Name: "tier", Value: "2"}}
	for _, doc := range []string{
		`{"customVariables":{"customVariable":[{"name":"plan","value":"gold"},{"name":"tier","value":2}]}}`,
		`{"customVariables":[{"@name":"plan","@value":"gold"},{"key":"tier","value":"2"}]}`,
		`{"customVariables":{"plan":"gold","tier":"2"}}`,
	} {
		got, err := decodeCustomVariables(json.RawMessage(doc))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v %v", doc, got, err)
		}
	}
	got, err := decodeCustomVariables(json.RawMessage(`{"customVariables":""}`))
	if err != nil || len(got) != 0 {
		t.Errorf("empty: %+v %v", got, err)
	}
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{`""`, `"plain"`, `"a\"b"`, `"\u00e9t\u00e9"`, `"été"`, `"tab\there"`,
		"\"bad \xff utf8\"", `"slash\/"`, `"\ud800"`} {
		got, err := jsonString([]byte(in))
		var want string
		wantErr := json.Unmarshal([]byte(in), &want)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("%s: got %q %v, want %q %v", in, got, err, want, wantErr)
		}
	}
}
