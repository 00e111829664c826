package lpchat

import (
	"context"
	"net/http"
)

// Operation names one kind of request the client makes: an endpoint of
// chat-agent-api.md and, where one resource is both read and written, the
// method (a GET of {chat}/events is OpChatEvents, a POST OpChatEventsAdd).
// The names hold no ids, so they are a bounded label for metrics
// (lpbridge_lp_requests_total{operation=...}); dashboards rely on them, so
// a name, once out, does not change.
//
// Every request the client makes carries its Operation: OperationOf reads
// it, Config.OnRetry is told it. A new endpoint gets a constant here and a
// row in Operations.
type Operation string

// The operations, with the request each one names.
const (
	OpDomain                 Operation = "domain"                  // §3 GET {domain}/api/account/{account}/service/agentVep/baseURI.json
	OpLogin                  Operation = "login"                   // §4.1 POST {base}/login
	OpRefresh                Operation = "refresh"                 // §4.4 POST {base}/refresh
	OpLogout                 Operation = "logout"                  // §4.5 POST {base}/logout
	OpAgentSessionStart      Operation = "agentSession.start"      // §5.1 POST {base}/agentSession
	OpAgentSession           Operation = "agentSession"            // §5.2 GET {as}
	OpAvailability           Operation = "availability"            // §5.3 GET {as}/availability
	OpAvailabilitySet        Operation = "availability.set"        // §5.4 POST (PUT) {as}/availability
	OpAgentInfo              Operation = "agentInfo"               // §5.5 GET {as}/info
	OpAvailableAgents        Operation = "availableAgents"         // §5.6 GET {as}/availableAgents
	OpAvailableSlots         Operation = "availableSlots"          // §5.7 GET {as}/chat/availableSlots
	OpIncomingRequests       Operation = "incomingRequests"        // §5.8 GET {as}/incomingRequests
	OpIncomingRequestsAccept Operation = "incomingRequests.accept" // §5.9 POST {as}/incomingRequests
	OpChatSessions           Operation = "chatSessions"            // §5.10 GET {as}/chatSessions
	OpChat                   Operation = "chat"                    // §5.11 GET {chat}
	OpChatMulti              Operation = "chat.multi"              // §5.12 GET {as}/chat?chatSessionKeys=...
	OpChatEvents             Operation = "chat.events"             // §5.13 GET {chat}/events
	OpChatEventsAdd          Operation = "chat.events.add"         // §5.14/5.15 POST {chat}/events: a line, the end
	OpChatInfo               Operation = "chat.info"               // §5.16 GET {chat}/info
	OpChatVisitorName        Operation = "chat.visitorName"        // §5.17 GET {chat}/info/visitorName
	OpChatVisitorTyping      Operation = "chat.visitorTyping"      // §5.18 GET {chat}/info/visitorTyping
	OpChatAgentTyping        Operation = "chat.agentTyping"        // §5.18 GET {chat}/info/agentTyping
	OpChatAgentTypingSet     Operation = "chat.agentTyping.set"    // §5.18 POST (PUT) {chat}/info/agentTyping
	OpChatTransfer           Operation = "chat.transfer"           // §5.19 GET {chat}/transfer
	OpChatTransferSubmit     Operation = "chat.transfer.submit"    // §5.19 POST {chat}/transfer
	OpChatSurvey             Operation = "chat.survey"             // §5.20 GET {chat}/survey
	OpChatSurveySubmit       Operation = "chat.survey.submit"      // §5.20 POST (PUT) {chat}/survey
	OpParticipantInfo        Operation = "participantInfo"         // §5.21 GET {as}/participantExtendedInfo/{id}
	OpVisit                  Operation = "visit"                   // §5.22 GET {as}/visits/visit/{visitId}
	OpVisitCustomVariables   Operation = "visit.customVariables"   // §5.22 GET {as}/visits/visit/{visitId}/customVariables
)

// Operations returns every Operation the client makes: the bounded label
// set of its request metrics (telemetry.WithOperations takes their names).
// A function, not a variable: the package holds no mutable state.
func Operations() []Operation {
	return []Operation{
		OpDomain, OpLogin, OpRefresh, OpLogout,
		OpAgentSessionStart, OpAgentSession, OpAvailability, OpAvailabilitySet,
		OpAgentInfo, OpAvailableAgents, OpAvailableSlots,
		OpIncomingRequests, OpIncomingRequestsAccept, OpChatSessions,
		OpChat, OpChatMulti, OpChatEvents, OpChatEventsAdd,
		OpChatInfo, OpChatVisitorName, OpChatVisitorTyping, OpChatAgentTyping, OpChatAgentTypingSet,
		OpChatTransfer, OpChatTransferSubmit, OpChatSurvey, OpChatSurveySubmit,
		OpParticipantInfo, OpVisit, OpVisitCustomVariables,
	}
}

// OperationNames returns the names of Operations, for
// telemetry.WithOperations.
func OperationNames() []string {
	ops := Operations()
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = string(op)
	}
	return names
}

// operationKey is the context key of a request's Operation.
type operationKey struct{}

// withOperation returns ctx carrying op, for the request built on it.
func withOperation(ctx context.Context, op Operation) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// OperationOf returns the name of the Operation of a request the client
// made, "" for a request it did not make. It reads the request's context,
// so a RoundTripper in Config.Transport can label the request without
// parsing its URL; its signature fits telemetry.InstrumentTransport.
func OperationOf(r *http.Request) string {
	op, _ := r.Context().Value(operationKey{}).(Operation)
	return string(op)
}
