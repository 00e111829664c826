package lpchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The API's JSON is a mechanical rendering of XML (chat-agent-api.md §2.3):
// a repeated element is an array, a bare object or absent; numbers come as
// strings or numbers; attributes are spelt with or without "@". The helpers
// here absorb those quirks so the wire structs can stay declarative.

// oneOrMany decodes an element that is an array when it has 2+ items, a bare
// value when it has one, and null or absent when it has none.
type oneOrMany[T any] []T

// UnmarshalJSON accepts an array, a single value, null or "" (an empty
// XML element).
func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case isEmptyElement(b):
		*o = nil
		return nil
	case b[0] == '[':
		var many []T
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*o = many
		return nil
	default:
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*o = oneOrMany[T]{one}
		return nil
	}
}

// maybe decodes an element that is an object when it has content and may be
// null, "" (an empty XML element) or absent when it has none.
type maybe[T any] struct {
	V       T
	Present bool // the element had content
}

// UnmarshalJSON accepts a value, null or "".
func (m *maybe[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyElement(b) {
		*m = maybe[T]{}
		return nil
	}
	m.Present = true
	return json.Unmarshal(b, &m.V)
}

// jsonString decodes a JSON string literal. Literals without escapes (the
// usual case) are sliced directly; the decoder (encoding/json, or the
// token stream of docreader.go) has already validated the value.
func jsonString(b []byte) (string, error) {
	if inner, ok := plainString(b); ok {
		if w, ok := vocabularyWord(inner); ok {
			return w, nil
		}
		return string(inner), nil
	}
	var v string
	err := json.Unmarshal(b, &v)
	return v, err
}

// plainString returns the text of a JSON string literal that holds no
// escape, control character or invalid UTF-8: its bytes are its text.
func plainString(b []byte) ([]byte, bool) {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' {
		inner := b[1 : n-1]
		if bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && utf8.Valid(inner) && !hasControl(inner) {
			return inner, true
		}
	}
	return nil, false
}

// vocabulary are the words of the API that come in every event, link and
// info element (event types, states, sources, text types, subtypes, typing
// values, relations).
var vocabulary = []string{"line", "state", "waiting", "chatting", "ended", "visitor", "agent", "system",
	"info", "plain", "html", "rich-content", "REGULAR", "ONLY_TO_REP", "typing", "not-typing", "unknown",
	"self", "next", "events", "visit-id", "location", "chat-session", "transcript"}

// vocabularyWord returns the word of the API's vocabulary that b spells, if
// it is one, so that the word is shared instead of copied each time.
func vocabularyWord(b []byte) (string, bool) {
	for _, w := range vocabulary {
		if string(b) == w {
			return w, true
		}
	}
	return "", false
}

// hasControl reports bytes below 0x20, which JSON strings may not hold raw.
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// isEmptyElement reports null, "" or nothing: how an empty element comes.
func isEmptyElement(b []byte) bool {
	return len(b) == 0 || bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`))
}

// errNotInteger reports a numeric value that is not a whole number.
var errNotInteger = errors.New("not an integer")

// flexInt decodes an integer sent as a JSON number or a numeric string
// ("4", 4, "4.0", 4.0); null and "" decode to 0.
type flexInt int64

// UnmarshalJSON accepts a number, a numeric string, "" or null.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*n = 0
		return nil
	}
	s := ""
	if b[0] == '"' {
		// A plain string is parsed where it lies (s does not escape).
		if inner, ok := plainString(b); ok {
			s = string(inner)
		} else {
			var err error
			if s, err = jsonString(b); err != nil {
				return err
			}
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	} else {
		s = string(b)
	}
	v, err := parseFlexInt(s)
	if err != nil {
		return fmt.Errorf("number %q: %w", strings.Clone(s), err) // a copy: s stays off the heap
	}
	*n = flexInt(v)
	return nil
}

// parseFlexInt parses a decimal integer, or a float whose value is whole.
func parseFlexInt(s string) (int64, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) ||
		f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, errNotInteger
	}
	return int64(f), nil
}

// flexString decodes a string that may be sent as a JSON string, number or
// boolean (ids such as "31100910" and 31100910); null decodes to "".
type flexString string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*s = ""
		return nil
	}
	switch b[0] {
	case '"':
		v, err := jsonString(b)
		if err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	case '{', '[':
		// The value is not quoted: it may hold something secret.
		return errors.New("want a string or number, got an object or array")
	default:
		// true, false or a number, its text as sent: the decoder that
		// hands b over has validated it.
		*s = flexString(b)
		return nil
	}
}

// flexTime decodes an ISO-8601 time (with offset and milliseconds) or epoch
// milliseconds sent as a number or a numeric string; null and "" are zero.
type flexTime time.Time

// UnmarshalJSON accepts an ISO-8601 string, epoch millis or null.
func (t *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*t = flexTime{}
		return nil
	}
	s := ""
	if b[0] == '"' {
		// A plain string is parsed where it lies (s does not escape).
		if inner, ok := plainString(b); ok {
			s = string(inner)
		} else {
			var err error
			if s, err = jsonString(b); err != nil {
				return err
			}
		}
		s = strings.TrimSpace(s)
	} else {
		s = string(b)
	}
	v, err := parseFlexTime(s)
	if err != nil {
		return err
	}
	*t = flexTime(v)
	return nil
}

// parseFlexTime parses epoch millis or one of isoLayouts.
func parseFlexTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if !strings.ContainsRune(s, 'T') { // ISO times have a T; epoch millis do not
		if ms, err := parseFlexInt(s); err == nil {
			return time.UnixMilli(ms), nil
		}
	}
	// The documented spelling is 2018-01-29T08:19:43.963-05:00 (§2.3 rule 6);
	// an offset without colon and a time without zone (read as UTC) also pass.
	for _, layout := range [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999",
	} {
		if v, err := time.Parse(layout, s); err == nil {
			return v, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: not ISO-8601 or epoch millis", strings.Clone(s)) // a copy: s stays off the heap
}

// link is a relation link, spelt {"@href","@rel"} or {"href","rel"} (§2.3
// rule 2). An odd value (an object, say) leaves that spelling empty instead
// of failing the document.
type link struct {
	AtHref softString `json:"@href"`
	AtRel  softString `json:"@rel"`
	Href   softString `json:"href"`
	Rel    softString `json:"rel"`
}

// target returns the link target whichever spelling carried it.
func (l link) target() string {
	if l.AtHref.V != "" {
		return string(l.AtHref.V)
	}
	return string(l.Href.V)
}

// relation returns the relation whichever spelling carried it.
func (l link) relation() string {
	if l.AtRel.V != "" {
		return string(l.AtRel.V)
	}
	return string(l.Rel.V)
}

// note records the values of the link that did not decode.
func (l link) note(s *skips) {
	for _, v := range []struct {
		field string
		err   error
	}{{"link.href", l.AtHref.Err}, {"link.rel", l.AtRel.Err}, {"link.href", l.Href.Err}, {"link.rel", l.Rel.Err}} {
		s.note(v.field, v.err)
	}
}

// links is a link element: one link, several or none.
type links = oneOrMany[link]

// findLink returns the href of the first link with the relation rel.
func findLink(ls links, rel string) (string, bool) {
	for _, l := range ls {
		if l.relation() == rel && l.target() != "" {
			return l.target(), true
		}
	}
	return "", false
}

// linkMap returns rel → href of every link that has both; the first wins.
func linkMap(ls links) map[string]string {
	if len(ls) == 0 {
		return nil
	}
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		if r, h := l.relation(), l.target(); r != "" && h != "" {
			if _, dup := m[r]; !dup {
				m[r] = h
			}
		}
	}
	return m
}

// lastSegment returns the last non-empty path segment of an absolute or
// relative URL, unescaped; "" when there is none. A link whose host or path
// does not parse as a URL still names its resource: the text after its last
// "/" (query and fragment cut off) is the id.
func lastSegment(href string) string {
	p := href
	if u, err := url.Parse(href); err == nil {
		p = u.EscapedPath()
	} else if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimRight(p, "/")
	seg := p[strings.LastIndexByte(p, '/')+1:]
	if s, err := url.PathUnescape(seg); err == nil {
		seg = s
	}
	// A ".json" format suffix (§2.1) is not part of the id.
	return strings.TrimSuffix(seg, ".json")
}

// fromParam returns the from= query value of a next link.
func fromParam(href string) (int, bool) {
	u, err := url.Parse(href)
	if err != nil {
		return 0, false
	}
	v := u.Query().Get("from")
	if v == "" {
		return 0, false
	}
	n, err := parseFlexInt(v)
	if err != nil || n < 0 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// stringish extracts a string from an element whose wrapper is unconfirmed:
// a bare string or number, or an object holding key (possibly nested once
// more under key), "#text", "$" or "value".
func stringish(raw json.RawMessage, key string) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	if raw[0] != '{' {
		var s flexString
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return string(s), true
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", false
	}
	for _, k := range []string{key, "#text", "$", "value"} {
		if v, ok := obj[k]; ok {
			return stringish(v, key)
		}
	}
	return "", false
}
