package lpconformance

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// node is a decoded JSON value and the path it was found at, so that a
// failure names the place in the document. Numbers stay json.Number, so
// "a string or a number" (§2.3 rule 5) can be told apart.
type node struct {
	v    any
	path string
}

func decodeNode(raw []byte) (node, error) {
	n := node{path: "$"}
	if len(bytes.TrimSpace(raw)) == 0 {
		return n, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	err := dec.Decode(&n.v)
	return n, err
}

// key returns the first member present of the names: the alternative
// spellings the reference allows ("@href" or "href", §2.3 rule 2).
func (n node) key(names ...string) node {
	if m, ok := n.v.(map[string]any); ok {
		for _, k := range names {
			if v, ok := m[k]; ok {
				return node{v: v, path: n.path + "." + k}
			}
		}
	}
	return node{path: n.path + "." + strings.Join(names, "|")}
}

func (n node) present() bool  { return n.v != nil }
func (n node) isArray() bool  { _, ok := n.v.([]any); return ok }
func (n node) isObject() bool { _, ok := n.v.(map[string]any); return ok }

// items reads a repeated element (§2.3 rules 3 and 4): an array, a bare
// object for one, absent (or null, or []) for none.
func (n node) items() []node {
	switch v := n.v.(type) {
	case []any:
		out := make([]node, len(v))
		for i, e := range v {
			out[i] = node{v: e, path: n.path + "[" + strconv.Itoa(i) + "]"}
		}
		return out
	case nil:
		return nil
	default:
		return []node{n}
	}
}

func (n node) text() (string, bool) {
	s, ok := n.v.(string)
	return s, ok
}

// number reads a number written as a JSON number or as a string (§2.3 rule 5).
func (n node) number() (int64, bool) {
	var s string
	switch v := n.v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, false
	}
	i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return i, err == nil
}

func (n node) String() string {
	b, err := json.Marshal(n.v)
	if err != nil {
		return "<unprintable>"
	}
	const maxShown = 600
	if len(b) > maxShown {
		return string(b[:maxShown]) + "…"
	}
	return string(b)
}

// mustText fails t unless n is a non-empty string.
func mustText(t testing.TB, n node) string {
	t.Helper()
	s, ok := n.text()
	if !ok || s == "" {
		t.Fatalf("%s: want a non-empty string, got %s", n.path, n)
	}
	return s
}

// mustNumber fails t unless n is an integer, as a string or a JSON number.
func mustNumber(t testing.TB, n node) int64 {
	t.Helper()
	i, ok := n.number()
	if !ok {
		t.Fatalf("%s: want an integer (a string or a number, §2.3 rule 5), got %s", n.path, n)
	}
	return i
}

// mustOneOf fails t unless n is one of the documented string values.
func mustOneOf(t testing.TB, n node, values ...string) string {
	t.Helper()
	s, _ := n.text()
	for _, v := range values {
		if s == v {
			return s
		}
	}
	t.Fatalf("%s = %s: want one of %q", n.path, n, values)
	return ""
}

// timeLayout is the reference's time: ISO-8601 with milliseconds and a
// numeric offset (§2.3 rule 6), e.g. 2018-01-29T08:19:43.963-05:00.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// mustTime fails t unless n is a time in the documented layout.
func mustTime(t testing.TB, n node) time.Time {
	t.Helper()
	s := mustText(t, n)
	tm, err := time.Parse(timeLayout, s)
	if err != nil {
		t.Fatalf("%s = %q: want ISO-8601 with milliseconds and offset (§2.3 rule 6): %v", n.path, s, err)
	}
	return tm
}
