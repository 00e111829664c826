package events

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/schemas"
)

// Encoding is how an event is laid out in a NATS message (CloudEvents NATS
// protocol binding, §3).
type Encoding string

const (
	// Binary puts the attributes in ce-* headers and the data JSON in the
	// body: a plain NATS client in any language reads the payload directly.
	// It is the default.
	Binary Encoding = "binary"
	// Structured puts the whole CloudEvent in the body as
	// application/cloudevents+json.
	Structured Encoding = "structured"
)

// Valid reports whether enc is Binary or Structured.
func (enc Encoding) Valid() bool { return enc == Binary || enc == Structured }

// DefaultDataSchemaBase is where the JSON Schemas of the payloads are
// published: the base of their $id, owned by the schemas package, so that
// dataschema = base + "/" + Type.SchemaFile() is the $id of that file.
const DefaultDataSchemaBase = schemas.BaseURL

// Names of the CloudEvent extension attributes the bridge sets.
const (
	ExtAccount     = "account"
	ExtAgent       = "agent"
	ExtChatID      = "chatid"
	ExtSeq         = "seq"
	ExtTraceParent = "traceparent"
)

// Media types and header names on the wire.
const (
	DataContentType        = "application/json"
	StructuredContentType  = "application/cloudevents+json"
	contentTypeHeader      = "Content-Type"
	cloudEventsMediaPrefix = "application/cloudevents"
)

// Source is the CloudEvent source of an agent's events:
// "lpbridge://<account>/<agent>" with both parts path-escaped.
func Source(account, agent string) string {
	return "lpbridge://" + url.PathEscape(account) + "/" + url.PathEscape(agent)
}

// DataSchema is the dataschema URL of type t under base.
func DataSchema(base string, t Type) string {
	return strings.TrimSuffix(base, "/") + "/" + t.SchemaFile()
}

// CloudEvent builds the CloudEvent of e. dataSchemaBase "" leaves out
// dataschema.
func CloudEvent(e Event, dataSchemaBase string) (event.Event, error) {
	uris, err := parseURIs(e, dataSchemaBase)
	if err != nil {
		return event.Event{}, err
	}
	return cloudEvent(e, uris)
}

// eventURIs are the parsed source and dataschema of an event, and their
// binary-mode header values.
type eventURIs struct {
	source       types.URIRef
	schema       *types.URI // nil: no dataschema
	sourceHeader string
	schemaHeader string
}

// parseURIs parses the source and dataschema of e, as sdk-go's setters do.
func parseURIs(e Event, dataSchemaBase string) (eventURIs, error) {
	var u eventURIs
	src, err := url.Parse(Source(e.Account, e.Agent))
	if err != nil {
		return u, fmt.Errorf("%w: event %q: source: %w", ErrInvalidEvent, e.ID, err)
	}
	u.source = types.URIRef{URL: *src}
	u.sourceHeader = PercentEncode(u.source.String())
	if dataSchemaBase != "" {
		schema, err := url.Parse(DataSchema(dataSchemaBase, e.Type))
		if err != nil {
			return u, fmt.Errorf("%w: event %q: dataschema: %w", ErrInvalidEvent, e.ID, err)
		}
		u.setSchema(&types.URI{URL: *schema})
	}
	return u, nil
}

// setSchema sets the dataschema and its header value.
func (u *eventURIs) setSchema(schema *types.URI) {
	u.schema, u.schemaHeader = schema, PercentEncode(schema.String())
}

// cloudEvent builds the CloudEvent of e with its parsed URIs. The context
// is filled in directly: sdk-go's setters parse each URI again and check
// each extension's name, which was a fifth of an event's encoding; the
// names here are constants and ce.Validate checks the result.
func cloudEvent(e Event, uris eventURIs) (event.Event, error) {
	if err := e.Validate(); err != nil {
		return event.Event{}, err
	}
	ext := make(map[string]any, 5)
	ctx := &event.EventContextV1{
		ID: e.ID, Type: string(e.Type), Source: uris.source, DataSchema: uris.schema,
		Time: &types.Timestamp{Time: e.Time.UTC()}, Extensions: ext,
	}
	if e.ChatID != "" {
		if subject := strings.TrimSpace(e.ChatID); subject != "" { // as SetSubject
			ctx.Subject = &subject
		}
		ext[ExtChatID] = e.ChatID
	}
	ext[ExtAccount] = e.Account
	ext[ExtAgent] = e.Agent
	ext[ExtSeq] = int32(e.Seq) // range checked by Validate
	if e.TraceParent != "" {
		ext[ExtTraceParent] = e.TraceParent
	}
	ce := event.Event{Context: ctx}
	if err := ce.SetData(DataContentType, e.Data); err != nil {
		return event.Event{}, fmt.Errorf("%w: event %q: data: %w", ErrInvalidEvent, e.ID, err)
	}
	if err := ce.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("%w: event %q: %w", ErrInvalidEvent, e.ID, err)
	}
	return ce, nil
}

// Encode returns the NATS message of e in encoding enc ("" means Binary),
// with the Nats-Msg-Id header set to e.ID. The caller sets msg.Subject
// (see Subject).
func Encode(e Event, enc Encoding, dataSchemaBase string) (*nats.Msg, error) {
	if enc == "" {
		enc = Binary
	}
	if !enc.Valid() {
		return nil, fmt.Errorf("%w: unknown encoding %q", ErrInvalidConfig, enc)
	}
	uris, err := parseURIs(e, dataSchemaBase)
	if err != nil {
		return nil, err
	}
	return encode(e, enc, uris)
}

// encode is Encode with e's URIs parsed.
func encode(e Event, enc Encoding, uris eventURIs) (*nats.Msg, error) {
	if enc == Binary {
		if err := e.Validate(); err != nil {
			return nil, err
		}
		return binaryMessage(e, uris)
	}
	ce, err := cloudEvent(e, uris)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(ce)
	if err != nil {
		return nil, fmt.Errorf("%w: event %q: %w", ErrInvalidEvent, e.ID, err)
	}
	msg := &nats.Msg{Header: make(nats.Header, 2), Data: body}
	msg.Header.Set(nats.MsgIdHdr, e.ID)
	msg.Header.Set(contentTypeHeader, StructuredContentType)
	return msg, nil
}

// Decode reads the CloudEvent in msg, in either encoding: structured when
// its Content-Type header starts with application/cloudevents, binary
// otherwise (which needs a ce-specversion header).
func Decode(msg *nats.Msg) (event.Event, error) {
	if msg == nil {
		return event.Event{}, fmt.Errorf("%w: nil message", ErrNotCloudEvent)
	}
	if ct, ok := headerValue(msg.Header, contentTypeHeader); ok &&
		strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), cloudEventsMediaPrefix) {
		if strings.HasPrefix(strings.ToLower(ct), "application/cloudevents-batch") {
			return event.Event{}, fmt.Errorf("%w: batch mode is not supported", ErrInvalidEvent)
		}
		ce := event.New()
		if err := json.Unmarshal(msg.Data, &ce); err != nil {
			return event.Event{}, fmt.Errorf("%w: structured: %w", ErrInvalidEvent, err)
		}
		if err := ce.Validate(); err != nil {
			return event.Event{}, fmt.Errorf("%w: structured: %w", ErrInvalidEvent, err)
		}
		return ce, nil
	}
	return readBinary(msg)
}

// FromCloudEvent turns a decoded CloudEvent of the bridge back into an Event,
// with Data as the value struct of its type (e.g. LineData).
func FromCloudEvent(ce event.Event) (Event, error) {
	e := Event{
		ID:   ce.ID(),
		Type: Type(ce.Type()),
		Time: ce.Time(),
	}
	if !e.Type.Valid() {
		return Event{}, fmt.Errorf("%w: unknown type %q", ErrInvalidEvent, ce.Type())
	}
	ext := ce.Extensions()
	var err error
	if e.Account, err = stringExt(ext, ExtAccount); err != nil {
		return Event{}, err
	}
	if e.Agent, err = stringExt(ext, ExtAgent); err != nil {
		return Event{}, err
	}
	if e.ChatID, err = stringExt(ext, ExtChatID); err != nil {
		return Event{}, err
	}
	if e.TraceParent, err = stringExt(ext, ExtTraceParent); err != nil {
		return Event{}, err
	}
	if v, ok := ext[ExtSeq]; ok {
		seq, err := types.ToInteger(v)
		if err != nil {
			return Event{}, fmt.Errorf("%w: extension %s: %w", ErrInvalidEvent, ExtSeq, err)
		}
		e.Seq = int64(seq)
	}
	if e.Data, err = DecodeData(e.Type, ce.Data()); err != nil {
		return Event{}, err
	}
	return e, nil
}

func stringExt(ext map[string]any, name string) (string, error) {
	v, ok := ext[name]
	if !ok {
		return "", nil
	}
	s, err := types.ToString(v)
	if err != nil {
		return "", fmt.Errorf("%w: extension %s: %w", ErrInvalidEvent, name, err)
	}
	return s, nil
}
