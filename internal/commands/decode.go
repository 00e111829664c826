package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/events"
)

// DecodeOptions say what Decode accepts.
type DecodeOptions struct {
	Prefix       string // subject prefix [lp]
	Account      string // the only account accepted (required)
	MaxBodyBytes int    // bound of the message body [DefaultMaxBodyBytes]
}

// maxIDBytes bounds a command id: it is stored and echoed, and a real id
// (a UUID, a ULID, "bot-42/7") is far shorter.
const maxIDBytes = 256

// Header names read from a command message.
const (
	headerContentType = "Content-Type"
	headerTraceParent = "traceparent"
	ceSpecVersion     = "ce-specversion"
	cloudEventsMedia  = "application/cloudevents"
)

// Decode reads a command message: its subject
// (<prefix>.cmd|dcmd.<account>.<agent>.<command>), and its body, which is a
// JSON object (empty means {}) or a CloudEvent whose data is that object,
// structured (application/cloudevents+json, or a JSON object with a
// "specversion" member) or binary (ce-* headers). It never panics; a failure
// is an *Error (bad_request or unknown_command) and the returned Command
// holds whatever could be read, for the reply, the command.result and the
// dead letter. A body within the size limit is read even when the subject
// fails (an unknown command, another account), so such a command is still
// answered under its own id; an unreadable body leaves the Nats-Msg-Id.
func Decode(m *nats.Msg, o DecodeOptions) (Command, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	var cmd Command
	if m == nil {
		return cmd, failf(CodeBadRequest, "no message")
	}
	cmd.Account = o.Account
	// The header id is known before anything can fail, so even a command
	// whose body cannot be read is answered and dead-lettered under its id.
	if id := headerGet(m.Header, nats.MsgIdHdr); id != "" && checkID(id) == nil {
		cmd.ID, cmd.IDSource = id, "header"
	}
	kind, agent, name, subjectErr := subjects{o.Prefix, o.Account}.parse(m.Subject)
	cmd.Agent, cmd.Name, cmd.Durable = agent, name, kind == kindDurable
	bodyErr := decodeBody(m, o, &cmd)
	if subjectErr != nil {
		// The body was read for its id (best effort); the subject decides.
		return cmd, subjectErr
	}
	return cmd, bodyErr
}

// decodeBody reads m's body into cmd: its size, CloudEvent envelope,
// traceparent, "id" member and the body without it. The id is the body's
// "id", else the header's (already in cmd), else the CloudEvent id.
func decodeBody(m *nats.Msg, o DecodeOptions, cmd *Command) error {
	if len(m.Data) > o.MaxBodyBytes {
		return failf(CodeBadRequest, "body of %d bytes is larger than the limit of %d bytes", len(m.Data), o.MaxBodyBytes)
	}
	data := m.Data
	var ceID string
	if isCloudEvent(m) {
		cmd.CloudEvent = true
		var err error
		if data, ceID, cmd.TraceParent, err = cloudEventData(m); err != nil {
			return err
		}
	}
	if cmd.TraceParent == "" {
		cmd.TraceParent = headerGet(m.Header, headerTraceParent)
	}
	body, bodyID, err := splitID(data)
	if err != nil {
		return err
	}
	cmd.Body = body
	switch {
	case bodyID != "":
		cmd.ID, cmd.IDSource = bodyID, "body"
	case cmd.ID != "": // from the header
	case ceID != "":
		cmd.ID, cmd.IDSource = ceID, "cloudevent"
	}
	if err := checkID(cmd.ID); err != nil {
		cmd.ID, cmd.IDSource = "", ""
		return err
	}
	return nil
}

// isCloudEvent reports whether m is a CloudEvent: a ce-specversion header
// (binary), a cloudevents content type, or a JSON object with a top-level
// "specversion" member (structured, sent without headers, e.g. by nats pub).
func isCloudEvent(m *nats.Msg) bool {
	if headerGet(m.Header, ceSpecVersion) != "" {
		return true
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(headerGet(m.Header, headerContentType))), cloudEventsMedia) {
		return true
	}
	trimmed := bytes.TrimSpace(m.Data)
	if len(trimmed) == 0 || trimmed[0] != '{' || !bytes.Contains(trimmed, []byte(`"specversion"`)) {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(trimmed, &probe) != nil {
		return false
	}
	_, ok := probe["specversion"]
	return ok
}

// cloudEventData decodes the CloudEvent in m (events.Decode, the same
// binding the bridge's events use) and returns its data, id and traceparent.
func cloudEventData(m *nats.Msg) (data []byte, id, traceParent string, err error) {
	cm := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
	for k, v := range m.Header {
		cm.Header[k] = v
	}
	if headerGet(m.Header, ceSpecVersion) == "" && headerGet(m.Header, headerContentType) == "" {
		cm.Header.Set(headerContentType, events.StructuredContentType)
	}
	ce, err := events.Decode(cm)
	if err != nil {
		return nil, "", "", &Error{Code: CodeBadRequest, Message: "invalid CloudEvent: " + trimError(err), cause: err}
	}
	if ct := ce.DataContentType(); ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		return nil, "", "", failf(CodeBadRequest, "CloudEvent datacontenttype %q: want application/json", ct)
	}
	if tp, ok := ce.Extensions()[events.ExtTraceParent].(string); ok {
		traceParent = tp
	}
	return ce.Data(), ce.ID(), traceParent, nil
}

// splitID checks that data is one JSON object (empty means {}) and takes
// its "id" member out: the rest is the body the schema validates.
func splitID(data []byte) (body []byte, id string, err error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return []byte("{}"), "", nil
	}
	if !utf8.Valid(trimmed) {
		return nil, "", failf(CodeBadRequest, "body is not valid UTF-8")
	}
	if trimmed[0] != '{' {
		return nil, "", failf(CodeBadRequest, "body is not a JSON object")
	}
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&members); err != nil {
		return nil, "", &Error{Code: CodeBadRequest, Message: "body is not valid JSON: " + trimError(err), cause: err}
	}
	// dec.More is false before a stray '}' or ']', so look at what is left.
	if rest := bytes.TrimSpace(trimmed[dec.InputOffset():]); len(rest) > 0 {
		return nil, "", failf(CodeBadRequest, "body holds more than one JSON value")
	}
	raw, ok := members["id"]
	if !ok {
		return trimmed, "", nil
	}
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, "", failf(CodeBadRequest, `"id" must be a string`)
	}
	if id == "" {
		return nil, "", failf(CodeBadRequest, `"id" must not be empty`)
	}
	delete(members, "id")
	body, err = json.Marshal(members)
	if err != nil {
		return nil, "", fail(CodeInternal, err)
	}
	return body, id, nil
}

// checkID rejects ids that cannot be stored or echoed safely.
func checkID(id string) error {
	if len(id) > maxIDBytes {
		return failf(CodeBadRequest, "command id of %d bytes is longer than %d", len(id), maxIDBytes)
	}
	if !utf8.ValidString(id) {
		return failf(CodeBadRequest, "command id is not valid UTF-8")
	}
	for _, r := range id {
		if r < ' ' || r == 0x7f {
			return failf(CodeBadRequest, "command id holds a control character")
		}
	}
	return nil
}

// headerGet is a case-insensitive header lookup (nats.Header is a plain map).
func headerGet(h nats.Header, name string) string {
	if h == nil {
		return ""
	}
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// trimError shortens an error text for a reply: decoders may quote input.
func trimError(err error) string {
	const maxLen = 300
	s := err.Error()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		s = se.Error()
	}
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "..."
	}
	return s
}
