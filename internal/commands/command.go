package commands

import "context"

// Command names (the last tokens of a command subject). Each has a row in
// commandTable below.
const (
	ChatAccept          = "chat.accept"
	ChatSend            = "chat.send"
	ChatTyping          = "chat.typing"
	ChatClose           = "chat.close"
	ChatTransfer        = "chat.transfer"
	AgentStatus         = "agent.status"
	AgentInfo           = "agent.info"
	AgentAvailable      = "agent.available-agents"
	AgentAvailableSlots = "agent.available-slots"
	ChatTransferSkills  = "chat.transfer-skills"
	ChatInfo            = "chat.info"
	ChatVisitor         = "chat.visitor"
	ChatResync          = "chat.resync"
)

// spec is one row of the command table.
type spec struct {
	name string  // the last tokens of its subjects, e.g. chat.send
	run  handler // decodes the body and runs the command
}

// command makes the row of a command whose body is A: the body is decoded
// strictly into A and checked (args.go) before h runs.
func command[A checker](name string, h func(ctx context.Context, r *run, args A) (any, error)) spec {
	return spec{name: name, run: func(ctx context.Context, r *run) (any, error) {
		a, err := decodeArgs[A](r.cmd.Body)
		if err != nil {
			return nil, err
		}
		return h(ctx, r, a)
	}}
}

// commandTable is every command the consumer runs, in a fixed order: its
// name, the type its body decodes into and its handler. Names, Known and the
// dispatch all read it. A new command is a constant above and a row here,
// its handler, its body type (args.go) unless one fits, and its schema in
// schemas/commands (which the AsyncAPI document and README list too).
func commandTable() []spec {
	return []spec{
		command[noArgs](ChatAccept, accept),
		command[sendArgs](ChatSend, send),
		command[typingArgs](ChatTyping, typing),
		command[chatArgs](ChatClose, closeChat),
		command[transferArgs](ChatTransfer, transfer),
		command[statusArgs](AgentStatus, setStatus),
		// Read-only queries (queries.go).
		command[noArgs](AgentInfo, agentInfo),
		command[availableAgentsArgs](AgentAvailable, availableAgents),
		command[availableSlotsArgs](AgentAvailableSlots, availableSlots),
		command[chatArgs](ChatTransferSkills, transferSkills),
		command[chatArgs](ChatInfo, chatInfo),
		command[chatArgs](ChatVisitor, chatVisitor),
		// Reads the stream and the service, publishes events (handlers.go).
		command[chatArgs](ChatResync, resync),
	}
}

// dispatch maps each command of the table to its handler.
func dispatch() map[string]handler {
	m := make(map[string]handler)
	for _, s := range commandTable() {
		m[s.name] = s.run
	}
	return m
}

// Names returns every command the consumer runs, in a fixed order (that
// of the command table).
func Names() []string {
	table := commandTable()
	names := make([]string, len(table))
	for i, s := range table {
		names[i] = s.name
	}
	return names
}

// Known reports whether name is a command the consumer runs.
func Known(name string) bool {
	for _, s := range commandTable() {
		if s.name == name {
			return true
		}
	}
	return false
}

// Command is one decoded command message.
type Command struct {
	// ID identifies the command for deduplication: the body's "id", else the
	// Nats-Msg-Id header, else the CloudEvent id. "" when none was given.
	ID string
	// IDSource says where ID came from: "body", "header", "cloudevent" or "".
	IDSource string
	// Name is the command, e.g. "chat.send".
	Name string
	// Account and Agent are the subject's account and agent tokens.
	Account, Agent string
	// Durable is true for commands of the durable stream (<prefix>.dcmd.>).
	Durable bool
	// Body is the command's JSON object without its "id" member ("{}" when
	// the message had no body).
	Body []byte
	// CloudEvent is true when the message was a CloudEvent (either mode).
	CloudEvent bool
	// TraceParent is the W3C traceparent of a CloudEvent or header, if any.
	TraceParent string
}
