package telemetry_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// The URL templates of chat-agent-api.md, with ids filled in as the real
// service and the sample app write them.
func TestLPOperation(t *testing.T) {
	const (
		base = "/api/account/55500011"
		as   = base + "/agentSession/2038801122"
		chat = as + "/chat/H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400001"
	)
	tests := []struct {
		path, want string
	}{
		{"/api/account/55500011/service/agentVep/baseURI.json", telemetry.OpDomain},
		{"/api/account/55500011/service/baseURI.json", telemetry.OpDomain},
		{"/csdr/account/55500011/service/agentVep/baseURI.json", telemetry.OpDomain},
		{base + "/login", telemetry.OpLogin},
		{base + "/refresh", telemetry.OpRefresh},
		{base + "/logout", telemetry.OpLogout},
		{base + "/agentSession", telemetry.OpAgentSession},
		{base + "/agentSession.json", telemetry.OpAgentSession},
		{as, telemetry.OpAgentSession},
		{as + "/availability", telemetry.OpAvailability},
		{as + "/availability.json", telemetry.OpAvailability},
		{as + "/info", telemetry.OpAgentInfo},
		{as + "/availableAgents", telemetry.OpAvailableAgents},
		{as + "/chat/availableSlots", telemetry.OpAvailableSlots},
		{as + "/incomingRequests", telemetry.OpIncomingRequests},
		{as + "/incomingRequests.json", telemetry.OpIncomingRequests},
		{as + "/chatSessions", telemetry.OpChatSessions},
		{as + "/chat", telemetry.OpChatMulti},
		{chat, telemetry.OpChat},
		{chat + ".json", telemetry.OpChat},
		{chat + "/events", telemetry.OpChatEvents},
		{chat + "/events.json", telemetry.OpChatEvents},
		{chat + "/events/7", telemetry.OpChatEvent},
		{chat + "/info", telemetry.OpChatInfo},
		{chat + "/info/visitorName", telemetry.OpChatVisitorName},
		{chat + "/info/visitorTyping", telemetry.OpChatVisitorTyping},
		{chat + "/info/agentTyping", telemetry.OpChatAgentTyping},
		{chat + "/transfer", telemetry.OpChatTransfer},
		{chat + "/transferAccount", telemetry.OpChatTransferAccount},
		{chat + "/survey", telemetry.OpChatSurvey},
		{chat + "/collaborationChannels", telemetry.OpChatCollaboration},
		{as + "/participantExtendedInfo/0b0c0d0e-1111-2222-3333-444455556666", telemetry.OpParticipantInfo},
		{as + "/visits/visit/H5550001112223334445K8400001", telemetry.OpVisit},
		{as + "/visits/visit/H5550001112223334445K8400001/customVariables", telemetry.OpVisitCustomVariables},
		{base + "/monitoring/visitors/1215000000000001/visits/current/state", telemetry.OpVisitorState},
		// Below a prefix: a simulator or test double mounted under a path.
		{"/lpsim/api/account/acct-1/login", telemetry.OpLogin},
		{"/lpsim/api/account/acct-1/agentSession/1/incomingRequests/", telemetry.OpIncomingRequests},
		// Anything else.
		{"", telemetry.OpOther},
		{"/", telemetry.OpOther},
		{"/metrics", telemetry.OpOther},
		{"/api/account", telemetry.OpOther},
		{"/api/account/55500011", telemetry.OpOther},
		{base + "/login/extra", telemetry.OpOther},
		{as + "/unknown", telemetry.OpOther},
		{chat + "/unknown", telemetry.OpOther},
		{chat + "/info/unknown", telemetry.OpOther},
		{as + "/a/b/c/d/e", telemetry.OpOther},
		{"/account/55500011/login", telemetry.OpOther},
	}
	for _, tt := range tests {
		if got := telemetry.LPOperation(tt.path); got != tt.want {
			t.Errorf("LPOperation(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestLPRequestOperationSplitsWrites(t *testing.T) {
	const (
		as   = "https://va.agentvep.liveperson.net/api/account/1/agentSession/2"
		chat = as + "/chat/H1-abcK2"
	)
	tests := []struct {
		method, url, want string
	}{
		{http.MethodGet, chat + "/events?from=3&v=1&NC=true", telemetry.OpChatEvents},
		{http.MethodPost, chat + "/events?v=1&NC=true", telemetry.OpChatEventsAdd},
		{http.MethodGet, as + "/incomingRequests?v=1&NC=true", telemetry.OpIncomingRequests},
		{http.MethodPost, as + "/incomingRequests?v=1&NC=true", telemetry.OpIncomingRequestsAccept},
		{http.MethodPost, "https://h/api/account/1/agentSession?v=1&NC=true", telemetry.OpAgentSessionStart},
		{http.MethodGet, as + "?v=1&NC=true", telemetry.OpAgentSession},
		{http.MethodPost, as + "/availability?v=1&NC=true", telemetry.OpAvailabilitySet},
		{http.MethodPost, chat + "/info/agentTyping", telemetry.OpChatAgentTypingSet},
		{http.MethodPost, chat + "/transfer", telemetry.OpChatTransferSubmit},
		{http.MethodGet, chat + "/transfer", telemetry.OpChatTransfer},
		{http.MethodPost, chat + "/survey", telemetry.OpChatSurveySubmit},
		{http.MethodPost, chat + "/transferAccount", telemetry.OpChatTransferAccountSubmit},
		{http.MethodPost, "https://h/api/account/1/login?v=1.3", telemetry.OpLogin},
		{http.MethodHead, as + "/chatSessions", telemetry.OpChatSessions},
		{http.MethodPost, "https://h/elsewhere", telemetry.OpOther},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.url, nil)
		if got := telemetry.LPRequestOperation(r); got != tt.want {
			t.Errorf("LPRequestOperation(%s %s) = %q, want %q", tt.method, tt.url, got, tt.want)
		}
	}
}

// No id ever leaks into an operation name, whatever the path holds.
func FuzzLPOperation(f *testing.F) {
	f.Add("/api/account/1/agentSession/2/chat/H1-aK3/events")
	f.Add("/api/account/1/agentSession/2/visits/visit/H1K3/customVariables")
	f.Add("/csdr/account/x/service/agentVep/baseURI.json")
	known := map[string]bool{}
	for _, op := range []string{
		telemetry.OpDomain, telemetry.OpLogin, telemetry.OpRefresh, telemetry.OpLogout,
		telemetry.OpAgentSession, telemetry.OpAvailability, telemetry.OpAgentInfo,
		telemetry.OpAvailableAgents, telemetry.OpAvailableSlots, telemetry.OpIncomingRequests,
		telemetry.OpChatSessions, telemetry.OpChat, telemetry.OpChatMulti, telemetry.OpChatEvents,
		telemetry.OpChatEvent, telemetry.OpChatInfo, telemetry.OpChatVisitorName,
		telemetry.OpChatVisitorTyping, telemetry.OpChatAgentTyping, telemetry.OpChatTransfer,
		telemetry.OpChatTransferAccount, telemetry.OpChatSurvey, telemetry.OpChatCollaboration,
		telemetry.OpParticipantInfo, telemetry.OpVisit, telemetry.OpVisitCustomVariables,
		telemetry.OpVisitorState, telemetry.OpOther,
	} {
		known[op] = true
	}
	f.Fuzz(func(t *testing.T, path string) {
		if op := telemetry.LPOperation(path); !known[op] {
			t.Fatalf("LPOperation(%q) = %q: not a known operation", path, op)
		}
	})
}

func TestLPMethodOperationMatchesRequests(t *testing.T) {
	const chat = "/api/account/1/agentSession/2/chat/H1-abcK2"
	for _, tt := range []struct{ method, path, want string }{
		{http.MethodGet, chat + "/events", telemetry.OpChatEvents},
		{http.MethodPost, chat + "/events", telemetry.OpChatEventsAdd},
		{"", chat + "/info", telemetry.OpChatInfo},
		{http.MethodPost, "/api/account/1/login", telemetry.OpLogin},
		{http.MethodPost, "/api/account/1/agentSession", telemetry.OpAgentSessionStart},
	} {
		if got := telemetry.LPMethodOperation(tt.method, tt.path); got != tt.want {
			t.Errorf("LPMethodOperation(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}
