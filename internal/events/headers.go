package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/binding/spec"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"
)

// Binary mode of the CloudEvents NATS protocol binding (§3.1): every
// attribute, extensions included, is a header named "ce-<attribute>", whose
// value is the attribute's canonical string, percent-encoded (§3.1.3.2).
// sdk-go has no NATS binding in our module set, so the mapping is here; the
// attribute list and conversions come from sdk-go's binding/spec package.

// headerPrefix starts the name of every CloudEvent header.
const headerPrefix = "ce-"

// ceVersions maps each specversion to its attributes under headerPrefix.
// Built once: building it is a tenth of an event's encoding. Read-only.
var ceVersions = spec.WithPrefix(headerPrefix)

// maxHeaders is the most headers an event's message carries: Nats-Msg-Id,
// the context attributes and the extensions the bridge sets.
const maxHeaders = 16

// Header names of the attributes and extensions the bridge sets.
const (
	hdrSpecVersion     = headerPrefix + "specversion"
	hdrID              = headerPrefix + "id"
	hdrSource          = headerPrefix + "source"
	hdrType            = headerPrefix + "type"
	hdrSubject         = headerPrefix + "subject"
	hdrTime            = headerPrefix + "time"
	hdrDataContentType = headerPrefix + "datacontenttype"
	hdrDataSchema      = headerPrefix + "dataschema"
	hdrAccount         = headerPrefix + ExtAccount
	hdrAgent           = headerPrefix + ExtAgent
	hdrChatID          = headerPrefix + ExtChatID
	hdrSeq             = headerPrefix + ExtSeq
	hdrTraceParent     = headerPrefix + ExtTraceParent
)

// binaryMessage is the binary-mode message of e, which Validate passed:
// the headers sdk-go's binding spec gives e's CloudEvent (CloudEvent),
// written from e itself, and e's data as sdk-go's JSON codec encodes it
// (json.Marshal). Building the sdk-go event first, then reading every
// attribute back boxed in an interface and the extensions copied, was
// half of an event's encoding; TestBinaryHeadersAreTheSpecs holds the two
// equal for every type.
func binaryMessage(e Event, uris eventURIs) (*nats.Msg, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: event %q: data: %w", ErrInvalidEvent, e.ID, err)
	}
	h := make(nats.Header, maxHeaders) // every header an event carries: the map never grows
	// Every value in one backing array: one allocation, not one per header.
	values := make([]string, 0, maxHeaders)
	set := func(name, v string) {
		values = append(values, v)
		h[name] = values[len(values)-1 : len(values) : len(values)]
	}
	set(nats.MsgIdHdr, e.ID)
	set(hdrSpecVersion, event.CloudEventsVersionV1)
	set(hdrID, PercentEncode(e.ID))
	set(hdrSource, uris.sourceHeader)
	set(hdrType, PercentEncode(string(e.Type)))
	if subject := strings.TrimSpace(e.ChatID); subject != "" { // as SetSubject
		set(hdrSubject, PercentEncode(subject))
	}
	set(hdrTime, PercentEncode(types.FormatTime(e.Time)))
	set(hdrDataContentType, PercentEncode(DataContentType))
	if uris.schema != nil {
		set(hdrDataSchema, uris.schemaHeader)
	}
	if e.ChatID != "" {
		set(hdrChatID, PercentEncode(e.ChatID))
	}
	set(hdrAccount, PercentEncode(e.Account))
	set(hdrAgent, PercentEncode(e.Agent))
	set(hdrSeq, types.FormatInteger(int32(e.Seq))) // range checked by Validate
	if e.TraceParent != "" {
		set(hdrTraceParent, PercentEncode(e.TraceParent))
	}
	return &nats.Msg{Header: h, Data: data}, nil
}

func readBinary(msg *nats.Msg) (event.Event, error) {
	specVersion, ok := headerValue(msg.Header, headerPrefix+"specversion")
	if !ok {
		return event.Event{}, fmt.Errorf("%w: no content type and no %sspecversion header", ErrNotCloudEvent, headerPrefix)
	}
	sv := ceVersions.Version(strings.TrimSpace(specVersion))
	if sv == nil {
		return event.Event{}, fmt.Errorf("%w: unknown specversion %q", ErrInvalidEvent, specVersion)
	}
	ctx := sv.NewContext()
	for name, values := range msg.Header {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, headerPrefix) || lower == headerPrefix+"specversion" || len(values) == 0 {
			continue
		}
		v, err := DecodeHeaderValue(values[0])
		if err != nil {
			return event.Event{}, fmt.Errorf("%w: header %s: %w", ErrInvalidEvent, name, err)
		}
		if err := sv.SetAttribute(ctx, lower, v); err != nil {
			return event.Event{}, fmt.Errorf("%w: header %s: %w", ErrInvalidEvent, name, err)
		}
	}
	ce := event.Event{Context: ctx}
	if len(msg.Data) > 0 {
		ce.DataEncoded = msg.Data
	}
	if err := ce.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("%w: binary: %w", ErrInvalidEvent, err)
	}
	return ce, nil
}

// headerValue is a case-insensitive header lookup (NATS header names are
// case-insensitive per ADR-4, but nats.Header is a plain map).
func headerValue(h nats.Header, name string) (string, bool) {
	if v, ok := h[name]; ok && len(v) > 0 {
		return v[0], true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// PercentEncode encodes a header value as the binding requires: space, '"',
// '%' and every byte outside printable ASCII (U+0021–U+007E) become %XX of
// their UTF-8 bytes, upper-case.
func PercentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	plain := 0 // bytes before the first one to encode
	for plain < len(s) && !needsEscape(s[plain]) {
		plain++
	}
	if plain == len(s) {
		return s // most values: nothing to encode, nothing to copy
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:plain])
	for i := plain; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// needsEscape says whether PercentEncode encodes byte c.
func needsEscape(c byte) bool { return c <= ' ' || c >= 0x7F || c == '"' || c == '%' }

// DecodeHeaderValue undoes PercentEncode: it first unescapes a double-quoted
// value (RFC 7230 §3.2.6, for older senders), then percent-decodes once
// (either case), and rejects results that are not valid UTF-8.
func DecodeHeaderValue(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var err error
		if v, err = unquote(v[1 : len(v)-1]); err != nil {
			return "", err
		}
	}
	s, err := url.PathUnescape(v)
	if err != nil {
		return "", fmt.Errorf("percent-decoding: %w", err)
	}
	if !utf8.ValidString(s) {
		return "", errors.New("percent-decoded value is not valid UTF-8")
	}
	return s, nil
}

// unquote processes the backslash escapes of an RFC 7230 quoted-string body.
func unquote(s string) (string, error) {
	if !strings.ContainsRune(s, '\\') {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				return "", errors.New("quoted value ends with a backslash")
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}
