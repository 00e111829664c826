package lpsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// flexID decodes an id sent as a JSON string or number.
type flexID string

// UnmarshalJSON accepts "123" and 123.
func (f *flexID) UnmarshalJSON(b []byte) error {
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&n); err == nil {
		*f = flexID(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*f = flexID(s)
	return nil
}

// transferable reports whether ag may receive a chat transferred away from
// holder: a live Online or Occupied agent other than holder.
func transferable(ag, holder *agent) bool {
	return ag != holder && len(ag.live) > 0 && (ag.availability == availOnline || ag.availability == availOccupied)
}

// transfer answers GET {chat}/transfer (skills with an agent able to take
// the chat, §5.19) and POST, which moves the chat to a skill or an agent.
func (s *Simulator) transfer(cx *chatCall) reply {
	switch cx.method {
	case http.MethodGet:
		return s.transferSkills(cx)
	case http.MethodPost:
		return s.doTransfer(cx)
	}
	return cx.methodNotAllowed(http.MethodGet, http.MethodPost)
}

func (s *Simulator) transferSkills(cx *chatCall) reply {
	type skillDoc struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		OnlineAgents string `json:"onlineAgents"`
	}
	var skills []skillDoc
	for _, sk := range cx.a.skills {
		n := 0
		for _, ag := range cx.a.agents {
			if ag.hasSkill(sk.id) && transferable(ag, cx.c.holder) {
				n++
			}
		}
		if n > 0 {
			skills = append(skills, skillDoc{sk.id, sk.name, strconv.Itoa(n)})
		}
	}
	body := map[string]any{}
	if v := oneOrMany(skills); v != nil {
		body["skill"] = v
	}
	return answer(http.StatusOK, map[string]any{"transfer": body})
}

// doTransfer: the agent wins over the skill; the text (inside transfer or
// beside it) becomes an ONLY_TO_REP line; then system line #13 (agent) or
// #15 (skill) and state waiting; the chat rings at the target. 200, no body.
func (s *Simulator) doTransfer(cx *chatCall) reply {
	var body struct {
		Transfer *struct {
			Skill *struct {
				ID flexID `json:"id"`
			} `json:"skill"`
			Agent *struct {
				ID flexID `json:"id"`
			} `json:"agent"`
			Text string `json:"text"`
		} `json:"transfer"`
		Text string `json:"text"`
	}
	if rep := cx.decode(&body, false); rep != nil {
		return *rep
	}
	if rep := holding(cx.sessionCall, cx.c); rep != nil {
		return *rep
	}
	t := body.Transfer
	if t == nil || (t.Skill == nil && t.Agent == nil) {
		return cx.fail(http.StatusBadRequest, "transfer needs skill.id or agent.id")
	}
	c, from := cx.c, cx.agent()
	text := t.Text
	if text == "" {
		text = body.Text
	}
	var target *agent
	var sk *skill
	if t.Agent != nil {
		target = cx.a.agentByID(string(t.Agent.ID))
		if target == nil || !transferable(target, from) {
			return cx.fail(http.StatusBadRequest, "agent %q is not available for a transfer", t.Agent.ID)
		}
	} else {
		sk = cx.a.skillByID(string(t.Skill.ID))
		if sk == nil || !skillAvailable(cx.a, sk, from) {
			return cx.fail(http.StatusBadRequest, "skill %q is not available for a transfer", t.Skill.ID)
		}
	}
	now := cx.now
	if text != "" {
		c.appendEvent(now, event{typ: "line", text: text, textType: "plain", by: from.nickname,
			source: "agent", subType: "ONLY_TO_REP"})
	}
	if target != nil {
		c.addSystemLine(now, sysToAgent, "Transferring you to "+target.nickname+". Please wait.")
		c.targetAgent = target
	} else {
		c.addSystemLine(now, sysToSkill, "Transferring you to "+sk.name+". Please wait.")
		c.skillID = sk.id
	}
	c.holder, c.transferred, c.exclude, c.agentTyping = nil, true, from, typingOff
	c.addState(now, stateWaiting)
	s.log.Debug("lpsim: chat transferred", "account", cx.a.id, "chat", c.id, "from", from.login)
	s.route(cx.a, now)
	return reply{status: http.StatusOK}
}

func skillAvailable(a *account, sk *skill, from *agent) bool {
	for _, ag := range a.agents {
		if ag.hasSkill(sk.id) && transferable(ag, from) {
			return true
		}
	}
	return false
}
