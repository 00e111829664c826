package commands

// Command names (the last tokens of a command subject).
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
)

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
	_, ok := lookup(name)
	return ok
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
