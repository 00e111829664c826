package lpsim

import (
	"cmp"
	"net/http"
	"slices"
	"time"
)

// visit answers GET {as}/visits/visit/{visitId} and .../customVariables
// (§5.22; both bodies are ours, documented in doc.go). The agent must have
// had the visit's chat.
func (s *Simulator) visit(x *sessionCall, visitID string, rest []string) reply {
	if x.method != http.MethodGet {
		return x.methodNotAllowed(http.MethodGet)
	}
	c := x.a.visits[visitID]
	if c == nil || !c.hadAgent(x.agent()) {
		return x.fail(http.StatusNotFound, "unknown visit")
	}
	u := x.asURL + "/visits/visit/" + visitID
	switch {
	case len(rest) == 0:
		return answer(http.StatusOK, map[string]any{"visit": visitDoc(x, c, u)})
	case len(rest) == 1 && rest[0] == "customVariables":
		type variable struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}
		var vars []variable
		for name, v := range c.visitor.CustomVariables {
			vars = append(vars, variable{name, v})
		}
		slices.SortFunc(vars, func(a, b variable) int { return cmp.Compare(a.Name, b.Name) })
		body := map[string]any{"link": link{u + "/customVariables", "self"}}
		if v := oneOrMany(vars); v != nil {
			body["customVariable"] = v
		}
		return answer(http.StatusOK, map[string]any{"customVariables": body})
	}
	return x.notFound()
}

type visitBody struct {
	Link           []link            `json:"link"`
	ID             string            `json:"id"`
	ChatSessionKey string            `json:"chatSessionKey"`
	VisitorID      int64             `json:"visitorId"`
	VisitorName    string            `json:"visitorName"`
	StartTime      string            `json:"startTime"`
	VisitorInfo    map[string]string `json:"visitorInfo"`
	PreChatSurvey  map[string]any    `json:"preChatSurvey"`
}

func visitDoc(x *sessionCall, c *chat, u string) visitBody {
	v := c.visitor
	info := map[string]string{}
	for k, val := range map[string]string{"device": v.Device, "operatingSystem": v.OS, "browser": v.Browser, "ipAddress": v.IP} {
		if val != "" {
			info[k] = val
		}
	}
	type answer struct {
		ID     string `json:"id"`
		Label  string `json:"label"`
		Answer string `json:"answer"`
	}
	var answers []answer
	for _, a := range v.Survey {
		answers = append(answers, answer{a.QuestionID, a.Label, a.Value})
	}
	survey := map[string]any{}
	if q := oneOrMany(answers); q != nil {
		survey["question"] = q
	}
	return visitBody{
		Link: []link{
			{u, "self"},
			{u + "/customVariables", "custom-variables"},
			{x.asURL + "/chat/" + c.id, "chat-session"},
		},
		ID: c.visitID, ChatSessionKey: c.id, VisitorID: c.visitorID, VisitorName: v.Name,
		StartTime: isoTime(c.start), VisitorInfo: info, PreChatSurvey: survey,
	}
}

// participantInfo answers GET {as}/participantExtendedInfo/{participantId}
// (§5.21) for authenticated visitors of the agent's chats; others are 404.
func (s *Simulator) participantInfo(x *sessionCall, pid string) reply {
	if x.method != http.MethodGet {
		return x.methodNotAllowed(http.MethodGet)
	}
	var c *chat
	for _, o := range x.a.chats {
		if o.participantID == pid && o.hadAgent(x.agent()) {
			c = o
			break
		}
	}
	if c == nil || c.visitor.Authenticated == nil {
		return x.fail(http.StatusNotFound, "unknown participant")
	}
	au := c.visitor.Authenticated
	participant := map[string]any{
		"isUserAuthenticated": true, "participantId": pid, "customerId": au.CustomerID,
		"customerStatus": au.CustomerStatus, "customerType": au.CustomerType, "balance": au.Balance,
	}
	if d, err := time.Parse(time.DateOnly, au.RegistrationDate); err == nil {
		participant["registrationDate"] = map[string]int{"year": d.Year(), "month": int(d.Month()), "day": d.Day()}
	}
	contact := map[string]string{}
	if au.Email != "" {
		contact["email"] = au.Email
	}
	if au.Phone != "" {
		contact["phone"] = au.Phone
	}
	return answer(http.StatusOK, map[string]any{
		"authenticatedParticipantInfo": participant,
		"authenticatedPersonalInfo": map[string]any{
			"name": au.Name, "surname": au.Surname, "contacts": []map[string]string{contact},
		},
	})
}
