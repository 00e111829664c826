package events

import (
	"encoding/json"
	"time"
)

// Examples returns one realistic event of every type, in AllTypes order, all
// for account "55500011", agent "helper_bot" and (for chat events) one chat.
// They document the payloads and feed the schema and round-trip tests.
func Examples() []Event {
	const (
		account = "55500011"
		agent   = "helper_bot"
		session = "2038801122"
		chat    = "H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400001"
	)
	start := time.Date(2024, 3, 4, 10, 0, 0, 110_000_000, time.UTC)
	at := start.Add
	info := InfoData{
		VisitorName: "Ada", VisitorID: "1215000000000001", Device: "DESKTOP", OS: "LINUX",
		Browser: "FIREFOX", IP: "192.0.2.10", Language: "en-US", SkillID: "31100810", SkillName: "Support",
		PreChatSurvey:   []SurveyAnswer{{QuestionID: "q1", Label: "Order number", Value: "A-1001"}},
		CustomVariables: map[string]string{"plan": "gold"},
		StartTime:       start,
	}
	visitorLine := LineData{EventID: 4, Text: "hi, my order is late", TextType: "plain", By: "visitor",
		Source: "visitor", SubType: "REGULAR", Time: at(15 * time.Second)}
	systemLine := LineData{EventID: 3, Text: "You are now chatting with Helper Bot", TextType: "plain", By: "info",
		Source: "system", SubType: "REGULAR", SystemMessageID: 3, Time: at(8 * time.Second)}
	richLine := LineData{EventID: 5, TextType: "rich-content", By: "Helper Bot", Source: "agent",
		SubType: "REGULAR", JSON: json.RawMessage(`{"type":"vertical","elements":[{"type":"text","text":"Pick one"}]}`),
		Time: at(20 * time.Second)}

	agentEvent := func(change int64, t Type, d any, when time.Time) Event {
		return Event{ID: IDForAgentChange(account, agent, session, change, t), Type: t,
			Account: account, Agent: agent, Seq: change, Time: when, Data: d}
	}
	chatEvent := func(id string, seq int64, t Type, d any, when time.Time) Event {
		return Event{ID: id, Type: t, Account: account, Agent: agent, ChatID: chat, Seq: seq, Time: when, Data: d,
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	}
	return []Event{
		agentEvent(1, AgentSession, SessionData{State: SessionStarted, AgentSessionID: session}, at(-time.Minute)),
		agentEvent(2, AgentStatus, StatusData{Status: "Online", Previous: "Away", Cause: StatusCauseStartup}, at(-time.Minute)),
		agentEvent(3, AgentRinging, RingingData{Count: 1}, at(-time.Second)),
		chatEvent(IDForChat(account, agent, chat, ChatAccepted), 1, ChatAccepted,
			AcceptedData{ChatID: chat, AcceptedBy: AcceptedByAuto}, at(7*time.Second)),
		chatEvent(IDForChatEvent(account, agent, chat, visitorLine.EventID, ChatLine), 5, ChatLine, visitorLine, visitorLine.Time),
		chatEvent(IDForChatEvent(account, agent, chat, 2, ChatState), 3, ChatState,
			StateData{EventID: 2, State: "chatting"}, at(7500*time.Millisecond)),
		chatEvent(IDForChatVersion(account, agent, chat, ChatTyping, 1), 6, ChatTyping, TypingData{Typing: true}, at(16*time.Second)),
		chatEvent(IDForChatVersion(account, agent, chat, ChatInfo, 1), 2, ChatInfo, info, at(7*time.Second)),
		chatEvent(IDForChatEvent(account, agent, chat, 6, ChatTransferred), 7, ChatTransferred,
			TransferredData{SkillID: "31100811", Text: "Customer needs a refund.", EventID: 6}, at(30*time.Second)),
		chatEvent(IDForChatEvent(account, agent, chat, 7, ChatEnded), 8, ChatEnded,
			EndedData{EndedBy: EndedByAgent, EventID: 7}, at(31*time.Second)),
		chatEvent(IDForChat(account, agent, chat, ChatTranscript), 9, ChatTranscript, TranscriptData{
			ChatID: chat, Info: &info, Lines: []LineData{systemLine, visitorLine, richLine},
			StartTime: start, EndTime: at(31 * time.Second), EndedBy: EndedByAgent,
		}, at(31*time.Second)),
		{ID: IDForCommand(account, agent, "cmd-42"), Type: CommandResult, Account: account, Agent: agent,
			ChatID: chat, Time: at(19 * time.Second), Data: CommandResultData{
				CommandID: "cmd-42", Command: "chat.send", OK: true, Result: json.RawMessage(`{"eventId":5}`)}},
	}
}
