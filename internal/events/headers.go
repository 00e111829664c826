package events

import (
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

// ceHeader is one context attribute and its header name, which sdk-go's
// PrefixedName would build again on every call.
type ceHeader struct {
	attr spec.Attribute
	name string
}

// ceHeaders lists the context attributes of each specversion with their
// header names. Built once, read-only.
var ceHeaders = func() map[string][]ceHeader {
	m := map[string][]ceHeader{}
	for _, sv := range ceVersions.Versions() {
		for _, a := range sv.Attributes() {
			m[sv.String()] = append(m[sv.String()], ceHeader{attr: a, name: a.PrefixedName()})
		}
	}
	return m
}()

// extHeaders are the header names of the bridge's extensions, which would
// otherwise be concatenated for every event. Read-only.
var extHeaders = map[string]string{
	ExtAccount: headerPrefix + ExtAccount, ExtAgent: headerPrefix + ExtAgent, ExtChatID: headerPrefix + ExtChatID,
	ExtSeq: headerPrefix + ExtSeq, ExtTraceParent: headerPrefix + ExtTraceParent,
}

func writeBinaryHeaders(ce event.Event, h nats.Header) error {
	attrs, ok := ceHeaders[ce.SpecVersion()]
	if !ok {
		return fmt.Errorf("unknown specversion %q", ce.SpecVersion())
	}
	// Every value in one backing array: one allocation, not one per header.
	values := make([]string, 0, len(attrs)+len(ce.Extensions()))
	set := func(name, v string) {
		values = append(values, PercentEncode(v))
		h[name] = values[len(values)-1 : len(values) : len(values)]
	}
	for _, a := range attrs {
		v := a.attr.Get(ce.Context)
		if v == nil {
			continue
		}
		s, err := types.Format(v)
		if err != nil {
			return fmt.Errorf("attribute %s: %w", a.attr.Name(), err)
		}
		set(a.name, s)
	}
	for name, v := range ce.Extensions() {
		s, err := types.Format(v)
		if err != nil {
			return fmt.Errorf("extension %s: %w", name, err)
		}
		header, ok := extHeaders[name]
		if !ok {
			header = headerPrefix + name
		}
		set(header, s)
	}
	return nil
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
