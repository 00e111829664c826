package events

import "strconv"

// Event ids are built from the service's own ids, so the same change seen
// twice — by one replica after a restart, or by two replicas — gets the same
// id, which is also its Nats-Msg-Id and makes JetStream drop the copy.
// The parts are joined with "/" and end with the type suffix, so ids of
// different types never collide. Chat event ids name the agent too: after a
// transfer between two agents the bridge runs, both agents' subjects carry
// the chat's history, and the second copy must not be dropped as a
// duplicate of the first (docs/adr/0001).

// IDForChatEvent is the id of an event derived from one event of a chat
// (line, state, transferred, ended):
// "<account>/<agent>/<chat>/<eventID>/<suffix>",
// e.g. "55500011/bot_one/H55…K84/7/chat.line".
func IDForChatEvent(account, agent, chatID string, eventID int, t Type) string {
	return account + "/" + agent + "/" + chatID + "/" + strconv.Itoa(eventID) + "/" + t.Suffix()
}

// IDForAgentChange is the id of an agent-level event (session, status,
// ringing): the change counter is kept per agent session in the state store,
// "<account>/<agent>/<agentSessionID>/<change>/<suffix>".
func IDForAgentChange(account, agent, agentSessionID string, change int64, t Type) string {
	return account + "/" + agent + "/" + agentSessionID + "/" + strconv.FormatInt(change, 10) + "/" + t.Suffix()
}

// IDForChat is the id of an event that happens once per chat (accepted,
// transcript, or ended when no event id is known):
// "<account>/<agent>/<chat>/<suffix>".
func IDForChat(account, agent, chatID string, t Type) string {
	return account + "/" + agent + "/" + chatID + "/" + t.Suffix()
}

// IDForChatVersion is the id of a per-chat event that may repeat with new
// content (info after it changed, typing): the caller counts versions in
// the chat's cursor, "<account>/<agent>/<chat>/<suffix>/v<version>".
func IDForChatVersion(account, agent, chatID string, t Type, version int64) string {
	return IDForChat(account, agent, chatID, t) + "/v" + strconv.FormatInt(version, 10)
}

// IDForCommand is the id of the CommandResult event of a command:
// "<account>/<agent>/<commandID>/command.result". A command run again with
// the same id yields the same event id.
func IDForCommand(account, agent, commandID string) string {
	return account + "/" + agent + "/" + commandID + "/" + CommandResult.Suffix()
}
