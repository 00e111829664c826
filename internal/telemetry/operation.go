package telemetry

import (
	"net/http"
	"strings"
)

// Operation names of LivePerson requests, derived from the URL templates of
// chat-agent-api.md. They are the values of the "operation" label.
const (
	OpDomain               = "domain"                     // §3 GET .../service/{svc}/baseURI.json
	OpLogin                = "login"                      // §4.1 POST {base}/login
	OpRefresh              = "refresh"                    // §4.4 POST {base}/refresh
	OpLogout               = "logout"                     // §4.5 POST {base}/logout
	OpAgentSession         = "agentSession"               // §5.1/5.2 {base}/agentSession[/{id}]
	OpAvailability         = "availability"               // §5.3/5.4 {as}/availability
	OpAgentInfo            = "agentInfo"                  // §5.5 {as}/info
	OpAvailableAgents      = "availableAgents"            // §5.6 {as}/availableAgents
	OpAvailableSlots       = "availableSlots"             // §5.7 {as}/chat/availableSlots
	OpIncomingRequests     = "incomingRequests"           // §5.8/5.9 {as}/incomingRequests
	OpChatSessions         = "chatSessions"               // §5.10 {as}/chatSessions
	OpChat                 = "chat"                       // §5.11 {chat}
	OpChatMulti            = "chat.multi"                 // §5.12 {as}/chat?chatSessionKeys=...
	OpChatEvents           = "chat.events"                // §5.13-5.15 {chat}/events
	OpChatEvent            = "chat.event"                 // {chat}/events/{n} (location of a created event)
	OpChatInfo             = "chat.info"                  // §5.16 {chat}/info
	OpChatVisitorName      = "chat.visitorName"           // §5.17 {chat}/info/visitorName
	OpChatVisitorTyping    = "chat.visitorTyping"         // §5.18 {chat}/info/visitorTyping
	OpChatAgentTyping      = "chat.agentTyping"           // §5.18 {chat}/info/agentTyping
	OpChatTransfer         = "chat.transfer"              // §5.19 {chat}/transfer
	OpChatTransferAccount  = "chat.transferAccount"       // §2.5 {chat}/transferAccount
	OpChatSurvey           = "chat.survey"                // §5.20 {chat}/survey
	OpChatCollaboration    = "chat.collaborationChannels" // §2.5 {chat}/collaborationChannels
	OpParticipantInfo      = "participantInfo"            // §5.21 {as}/participantExtendedInfo/{id}
	OpVisit                = "visit"                      // §5.22 {as}/visits/visit/{visitId}
	OpVisitCustomVariables = "visit.customVariables"      // §5.22 .../customVariables
	OpVisitorState         = "visitorState"               // §5.22 .../monitoring/visitors/{id}/visits/current/state
	OpOther                = "other"                      // anything else
)

// Write operations: the same resource as its read operation, changed by a
// POST (or POST + X-HTTP-Method-Override). LPRequestOperation returns them.
const (
	OpAgentSessionStart         = "agentSession.start"          // §5.1 POST {base}/agentSession
	OpAvailabilitySet           = "availability.set"            // §5.4
	OpIncomingRequestsAccept    = "incomingRequests.accept"     // §5.9
	OpChatEventsAdd             = "chat.events.add"             // §5.14/5.15 send a line, end the chat
	OpChatAgentTypingSet        = "chat.agentTyping.set"        // §5.18
	OpChatTransferSubmit        = "chat.transfer.submit"        // §5.19
	OpChatSurveySubmit          = "chat.survey.submit"          // §5.20
	OpChatTransferAccountSubmit = "chat.transferAccount.submit" // §2.5 (undocumented)
)

// knownOperations is every name LPOperation and LPRequestOperation return.
func knownOperations() []string {
	return []string{
		OpDomain, OpLogin, OpRefresh, OpLogout, OpAgentSession, OpAvailability,
		OpAgentInfo, OpAvailableAgents, OpAvailableSlots, OpIncomingRequests,
		OpChatSessions, OpChat, OpChatMulti, OpChatEvents, OpChatEvent, OpChatInfo,
		OpChatVisitorName, OpChatVisitorTyping, OpChatAgentTyping, OpChatTransfer,
		OpChatTransferAccount, OpChatSurvey, OpChatCollaboration, OpParticipantInfo,
		OpVisit, OpVisitCustomVariables, OpVisitorState, OpOther,
		OpAgentSessionStart, OpAvailabilitySet, OpIncomingRequestsAccept, OpChatEventsAdd,
		OpChatAgentTypingSet, OpChatTransferSubmit, OpChatSurveySubmit, OpChatTransferAccountSubmit,
	}
}

// LPOperation maps the path of a Domain, Login or Chat Agent API URL to a
// bounded operation name (the Op* constants), OpOther when it matches no
// documented template. Ids in the path (account, agent session, chat,
// visit) never reach the result. The path may sit under any prefix (a
// simulator or test double mounted below "/"), and the ".json" format
// suffix of the sample app is accepted.
func LPOperation(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	i := accountIndex(segs)
	if i < 0 {
		return OpOther
	}
	rest := segs[i+2:]
	if n := len(rest); n > 0 {
		rest[n-1] = strings.TrimSuffix(rest[n-1], ".json")
	}
	if len(rest) == 0 {
		return OpOther
	}
	switch rest[0] {
	case "login", "refresh", "logout":
		if len(rest) == 1 {
			return rest[0]
		}
	case "service":
		if (len(rest) == 2 || len(rest) == 3) && rest[len(rest)-1] == "baseURI" {
			return OpDomain
		}
	case "agentSession":
		if len(rest) <= 2 {
			return OpAgentSession
		}
		return sessionOperation(rest[2:])
	case "monitoring":
		if len(rest) == 6 && rest[1] == "visitors" && rest[3] == "visits" && rest[4] == "current" && rest[5] == "state" {
			return OpVisitorState
		}
	}
	return OpOther
}

// accountIndex finds the "account" segment of ".../api/account/{id}/..." or
// the CSDS host's ".../csdr/account/{id}/...", -1 when there is none.
func accountIndex(segs []string) int {
	for i := 1; i+1 < len(segs); i++ {
		if segs[i] == "account" && (segs[i-1] == "api" || segs[i-1] == "csdr") && segs[i+1] != "" {
			return i
		}
	}
	return -1
}

// sessionOperation names the resources below {as} = .../agentSession/{id}.
func sessionOperation(sub []string) string {
	switch len(sub) {
	case 1:
		switch sub[0] {
		case "availability":
			return OpAvailability
		case "info":
			return OpAgentInfo
		case "availableAgents":
			return OpAvailableAgents
		case "incomingRequests":
			return OpIncomingRequests
		case "chatSessions":
			return OpChatSessions
		case "chat":
			return OpChatMulti
		}
	case 2:
		switch {
		case sub[0] == "chat" && sub[1] == "availableSlots":
			return OpAvailableSlots
		case sub[0] == "chat":
			return OpChat
		case sub[0] == "participantExtendedInfo":
			return OpParticipantInfo
		}
	case 3:
		switch {
		case sub[0] == "visits" && sub[1] == "visit":
			return OpVisit
		case sub[0] == "chat":
			return chatOperation(sub[2])
		}
	case 4:
		switch {
		case sub[0] == "visits" && sub[1] == "visit" && sub[3] == "customVariables":
			return OpVisitCustomVariables
		case sub[0] == "chat" && sub[2] == "events":
			return OpChatEvent
		case sub[0] == "chat" && sub[2] == "info":
			switch sub[3] {
			case "visitorName":
				return OpChatVisitorName
			case "visitorTyping":
				return OpChatVisitorTyping
			case "agentTyping":
				return OpChatAgentTyping
			}
		}
	}
	return OpOther
}

// chatOperation names the sub-resources of one chat, {chat}/<name>.
func chatOperation(name string) string {
	switch name {
	case "events":
		return OpChatEvents
	case "info":
		return OpChatInfo
	case "transfer":
		return OpChatTransfer
	case "transferAccount":
		return OpChatTransferAccount
	case "survey":
		return OpChatSurvey
	case "collaborationChannels":
		return OpChatCollaboration
	}
	return OpOther
}

// LPRequestOperation is LPOperation of the request's path, told apart by
// method where one resource is both read and written: a GET of
// {chat}/events is OpChatEvents (a poll), a POST is OpChatEventsAdd (a line
// or the end of the chat). Login, refresh and logout keep their names.
// It is InstrumentTransport's default.
func LPRequestOperation(r *http.Request) string {
	return LPMethodOperation(r.Method, r.URL.Path)
}

// LPMethodOperation is LPRequestOperation of a request given by its method
// and URL path, for callers that have no *http.Request (lpchat's retry hook).
func LPMethodOperation(method, path string) string {
	op := LPOperation(path)
	if method == http.MethodGet || method == http.MethodHead || method == "" {
		return op
	}
	switch op {
	case OpAgentSession:
		return OpAgentSessionStart
	case OpAvailability:
		return OpAvailabilitySet
	case OpIncomingRequests:
		return OpIncomingRequestsAccept
	case OpChatEvents:
		return OpChatEventsAdd
	case OpChatAgentTyping:
		return OpChatAgentTypingSet
	case OpChatTransfer:
		return OpChatTransferSubmit
	case OpChatSurvey:
		return OpChatSurveySubmit
	case OpChatTransferAccount:
		return OpChatTransferAccountSubmit
	}
	return op
}
