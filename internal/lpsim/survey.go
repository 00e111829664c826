package lpsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// agentSurveyID is the id of the one agent survey every chat has.
const agentSurveyID = "2001"

type surveyQuestion struct {
	id, label, typ string
	mandatory      bool
	entries        []string
}

// agentSurveyQuestions is the agent survey (§5.20): one question of each
// agent-survey type.
func agentSurveyQuestions() []surveyQuestion {
	return []surveyQuestion{
		{id: "3001", label: "Chat topic", typ: "Dropdown Box", mandatory: true,
			entries: []string{"Orders", "Billing", "Technical", "Other"}},
		{id: "3002", label: "Was the issue resolved?", typ: "Radio Button", mandatory: true,
			entries: []string{"Yes", "No"}},
		{id: "3003", label: "Follow-up", typ: "Checkbox",
			entries: []string{"Call back", "Send e-mail", "Escalate"}},
	}
}

// survey answers GET {chat}/survey and PUT (POST + override) with the
// answers. Any agent that had the chat may use it, also after it ended.
func (s *Simulator) survey(cx *chatCall) reply {
	switch cx.method {
	case http.MethodGet:
		return answer(http.StatusOK, surveyDoc(cx))
	case http.MethodPut:
		return s.submitSurvey(cx)
	}
	return cx.methodNotAllowed(http.MethodGet, http.MethodPut)
}

func surveyDoc(cx *chatCall) map[string]any {
	type logic struct {
		ShowLogicID string `json:"showLogicId"`
	}
	type entry struct {
		Checked string `json:"checked"`
		Value   string `json:"value"`
		Logic   logic  `json:"logic"`
	}
	type question struct {
		ID             string `json:"id"`
		LogicID        string `json:"logicId"`
		Order          string `json:"order"`
		Mandatory      string `json:"mandatory"`
		Type           string `json:"type"`
		ValidationType string `json:"validationType"`
		Label          string `json:"label"`
		LastKnownValue string `json:"lastKnownValue"`
		Entry          any    `json:"entry,omitempty"`
	}
	var qs []question
	for i, q := range agentSurveyQuestions() {
		answers := cx.c.survey[q.id]
		var entries []entry
		for _, v := range q.entries {
			entries = append(entries, entry{strconv.FormatBool(slices.Contains(answers, v)), v, logic{"-1"}})
		}
		qs = append(qs, question{
			ID: q.id, LogicID: strconv.Itoa(i + 1), Order: strconv.Itoa(i + 1),
			Mandatory: strconv.FormatBool(q.mandatory), Type: q.typ, ValidationType: "alpha_numeric",
			Label: q.label, LastKnownValue: strings.Join(answers, ","), Entry: oneOrMany(entries),
		})
	}
	return map[string]any{"survey": map[string]any{
		"id": agentSurveyID, "title": "Agent survey", "header": "Please fill in this survey for every chat",
		"link":      link{cx.url + "/survey", "self"},
		"questions": map[string]any{"question": oneOrMany(qs)},
	}}
}

// submitSurvey takes {"survey": {"id", "questions": {"question": [{"id",
// "answer"}]}}}; question may be one object, answer a string or a list.
// Unknown questions or values and missing mandatory answers are 400.
func (s *Simulator) submitSurvey(cx *chatCall) reply {
	var body struct {
		Survey *struct {
			ID        flexID `json:"id"`
			Questions struct {
				Question json.RawMessage `json:"question"`
			} `json:"questions"`
		} `json:"survey"`
	}
	if rep := cx.decode(&body, false); rep != nil {
		return *rep
	}
	if body.Survey == nil {
		return cx.fail(http.StatusBadRequest, "survey element is required")
	}
	if body.Survey.ID != "" && body.Survey.ID != agentSurveyID {
		return cx.fail(http.StatusBadRequest, "unknown survey id %q", body.Survey.ID)
	}
	type answered struct {
		ID     flexID          `json:"id"`
		Answer json.RawMessage `json:"answer"`
	}
	list, err := decodeOneOrMany[answered](body.Survey.Questions.Question)
	if err != nil {
		return cx.fail(http.StatusBadRequest, "survey questions: %v", err)
	}
	answers := map[string][]string{}
	for _, a := range list {
		vals, err := decodeOneOrMany[string](a.Answer)
		if err != nil {
			return cx.fail(http.StatusBadRequest, "answer of question %q: %v", a.ID, err)
		}
		answers[string(a.ID)] = vals
	}
	questions := agentSurveyQuestions()
	for id := range answers {
		if !slices.ContainsFunc(questions, func(q surveyQuestion) bool { return q.id == id }) {
			return cx.fail(http.StatusBadRequest, "unknown survey question %q", id)
		}
	}
	for _, q := range questions {
		vals := answers[q.id]
		if q.mandatory && len(vals) == 0 {
			return cx.fail(http.StatusBadRequest, "question %q (%s) is mandatory", q.id, q.label)
		}
		if q.typ != "Checkbox" && len(vals) > 1 {
			return cx.fail(http.StatusBadRequest, "question %q takes one answer", q.id)
		}
		for _, v := range vals {
			if !slices.Contains(q.entries, v) {
				return cx.fail(http.StatusBadRequest, "%q is not an answer of question %q", v, q.id)
			}
		}
	}
	cx.c.survey = answers
	return reply{status: http.StatusOK}
}

// decodeOneOrMany reads an XML-style element: absent, one value or a list.
func decodeOneOrMany[T any](raw json.RawMessage) ([]T, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '[' {
		var out []T
		err := json.Unmarshal(raw, &out)
		return out, err
	}
	var one T
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	return []T{one}, nil
}
