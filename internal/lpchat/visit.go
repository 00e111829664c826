package lpchat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// The visit resources' bodies are undocumented (chat-agent-api.md §5.22), so
// they are read tolerantly: fields are looked up by a set of plausible names
// anywhere in the document, shallowest first, and the whole body is kept.

// maxWalkDepth bounds the search through an undocumented document.
const maxWalkDepth = 8

// Visit returns the visit: GET {as}/visits/visit/{visitID} (§5.22). Device,
// OS, browser, IP and the pre-chat survey are picked from wherever the
// document holds them; Raw keeps the whole body.
func (s *AgentSession) Visit(ctx context.Context, visitID string) (Visit, error) {
	const op = "visit"
	if visitID == "" {
		return Visit{}, opError(op, ErrBadRequest, fmt.Errorf("empty visit id"))
	}
	as, err := s.asURL(ctx)
	if err != nil {
		return Visit{}, err
	}
	raw, err := s.getRaw(ctx, OpVisit, op, apiURL(as+"/visits/visit/"+url.PathEscape(visitID)))
	if err != nil {
		return Visit{}, err
	}
	v, err := decodeVisit(raw, visitID)
	if err != nil {
		return Visit{}, protocolError(op, "decode", err)
	}
	return v, nil
}

// decodeVisit picks the known details out of a visit document.
func decodeVisit(raw json.RawMessage, visitID string) (Visit, error) {
	root, err := decodeTree(raw)
	if err != nil {
		return Visit{}, err
	}
	v := Visit{ID: visitID, Raw: raw}
	v.Device = findScalar(root, "device", "devicefamily", "devicetype")
	v.OS = findScalar(root, "os", "deviceos", "operatingsystem", "operationsystem")
	v.Browser = findScalar(root, "browser", "browsername", "useragent")
	v.IP = findScalar(root, "ip", "ipaddress", "visitorip", "clientip")
	if node, ok := findNode(root, "prechatsurvey", "prechat", "prechatsurveydata", "prechatlines"); ok {
		v.PreChatSurvey = surveyAnswers(node)
	}
	return v, nil
}

// CustomVariables returns the visit's custom variables: GET
// {as}/visits/visit/{visitID}/customVariables (§5.22). Name/value objects
// anywhere in the body are read, or a flat object of names to values.
func (s *AgentSession) CustomVariables(ctx context.Context, visitID string) ([]CustomVariable, error) {
	const op = "custom variables"
	if visitID == "" {
		return nil, opError(op, ErrBadRequest, fmt.Errorf("empty visit id"))
	}
	as, err := s.asURL(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := s.getRaw(ctx, OpVisitCustomVariables, op, apiURL(as+"/visits/visit/"+url.PathEscape(visitID)+"/customVariables"))
	if err != nil {
		return nil, err
	}
	vars, err := decodeCustomVariables(raw)
	if err != nil {
		return nil, protocolError(op, "decode", err)
	}
	return vars, nil
}

// decodeCustomVariables reads name/value pairs from an undocumented body.
func decodeCustomVariables(raw json.RawMessage) ([]CustomVariable, error) {
	root, err := decodeTree(raw)
	if err != nil {
		return nil, err
	}
	node := root
	if n, ok := findNode(root, "customvariables", "customvariable", "cv"); ok {
		node = n
	}
	var out []CustomVariable
	walk(node, 0, func(obj map[string]any) bool {
		name, okName := scalarOf(obj, "name", "key", "varname", "variablename")
		value, okValue := scalarOf(obj, "value", "varvalue", "variablevalue")
		if okName && okValue && name != "" {
			out = append(out, CustomVariable{Name: name, Value: value})
			return false
		}
		return true
	})
	if len(out) > 0 {
		return out, nil
	}
	if obj, ok := node.(map[string]any); ok { // {"plan": "gold", ...}
		for k, v := range obj {
			if s, ok := scalarString(v); ok && !strings.HasPrefix(k, "@") {
				out = append(out, CustomVariable{Name: k, Value: s})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	}
	return out, nil
}

// surveyAnswers reads question/answer objects under a pre-chat survey node.
func surveyAnswers(node any) []SurveyAnswer {
	var out []SurveyAnswer
	walk(node, 0, func(obj map[string]any) bool {
		value, okValue := scalarOf(obj, "value", "answer", "lastknownvalue", "answertext")
		if !okValue {
			return true
		}
		id, _ := scalarOf(obj, "id", "questionid", "@id")
		label, _ := scalarOf(obj, "label", "question", "name", "questiontext")
		if id == "" && label == "" {
			return true
		}
		out = append(out, SurveyAnswer{QuestionID: id, Label: label, Value: value})
		return false
	})
	return out
}

// decodeTree decodes JSON into maps, slices and json.Number leaves.
func decodeTree(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// normKey folds a key for matching: lower case, letters and digits only
// ("Pre-Chat Survey", "preChatSurvey" → "prechatsurvey").
func normKey(k string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// walk calls fn on every object under v, breadth first; fn returns whether
// to descend into the object.
func walk(v any, depth int, fn func(map[string]any) bool) {
	level := []any{v}
	for d := depth; d <= maxWalkDepth && len(level) > 0; d++ {
		var next []any
		for _, n := range level {
			switch t := n.(type) {
			case map[string]any:
				if fn(t) {
					for _, k := range sortedKeys(t) {
						next = append(next, t[k])
					}
				}
			case []any:
				next = append(next, t...)
			}
		}
		level = next
	}
}

// findNode returns the value of the shallowest key matching one of names.
func findNode(v any, names ...string) (any, bool) {
	var found any
	ok := false
	walk(v, 0, func(obj map[string]any) bool {
		if ok {
			return false
		}
		for _, k := range sortedKeys(obj) {
			nk := normKey(k)
			for _, n := range names {
				if nk == n && !ok {
					found, ok = obj[k], true
				}
			}
		}
		return !ok
	})
	return found, ok
}

// findScalar returns the shallowest scalar value under a key in names.
func findScalar(v any, names ...string) string {
	var out string
	walk(v, 0, func(obj map[string]any) bool {
		if out != "" {
			return false
		}
		if s, ok := scalarOf(obj, names...); ok && s != "" {
			out = s
			return false
		}
		return true
	})
	return out
}

// scalarOf returns obj's scalar value under the first key in names.
func scalarOf(obj map[string]any, names ...string) (string, bool) {
	for _, n := range names {
		for _, k := range sortedKeys(obj) {
			if normKey(k) == normKey(n) {
				if s, ok := scalarString(obj[k]); ok {
					return s, true
				}
			}
		}
	}
	return "", false
}

// scalarString renders a string, number or boolean leaf.
func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return fmt.Sprint(t), true
	}
	return "", false
}

// sortedKeys returns obj's keys in order, so lookups are deterministic.
func sortedKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
