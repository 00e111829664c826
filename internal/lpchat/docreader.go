package lpchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// The chat documents (§5.11-5.13, §5.16) are read as one stream of tokens:
// every byte is scanned once. Decoding them with encoding/json into types
// whose UnmarshalJSON decode again (oneOrMany, maybe, soft, ...) validated
// and skipped the same bytes once per level of nesting. The quirks of
// decode.go are kept: an element is an array, one bare object or null/""
// for none; scalars are decoded by the same flex types, from the raw value;
// member names match as encoding/json matches them (exactly, else without
// regard to case); duplicate names are allowed (the last one wins) and
// invalid UTF-8 is replaced, as encoding/json does.

// docReader reads one document.
type docReader struct {
	dec  *jsontext.Decoder
	name []byte  // the unquoted name of the member being read
	link rawLink // the link being read (readLinks)
}

// docOptions make the decoder as lenient as encoding/json: duplicate names
// pass (the last wins), invalid UTF-8 is mended. Built once: each option is
// an allocation.
var docOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// newDocReader reads b, which it does not copy.
func newDocReader(b []byte) *docReader {
	return &docReader{dec: jsontext.NewDecoder(bytes.NewBuffer(b), docOptions...)}
}

// shapeError reports a value of the wrong kind where an element was
// expected: an error of the document's meaning, not of its syntax, so the
// caller may skip the element and go on.
type shapeError struct {
	want string
	got  jsontext.Kind
}

func (e *shapeError) Error() string { return "want " + e.want + ", got " + kindName(e.got) }

// isShape reports whether err is a shapeError (and not a syntax error).
func isShape(err error) bool {
	var se *shapeError
	return errors.As(err, &se)
}

// kindName names a kind of JSON value.
func kindName(k jsontext.Kind) string {
	switch k {
	case jsontext.KindBeginObject:
		return "object"
	case jsontext.KindBeginArray:
		return "array"
	case jsontext.KindString:
		return "string"
	case jsontext.KindNumber:
		return "number"
	case jsontext.KindTrue, jsontext.KindFalse:
		return "boolean"
	case jsontext.KindNull:
		return "null"
	}
	return "nothing"
}

// errTrailing reports data after the document's value.
var errTrailing = errors.New("data after the top-level value")

// document reads a whole document {"top": ...}: value reads the member top
// each time it occurs. A null document has no member; any other value that
// is not an object is an error, and so is anything after the value.
func (r *docReader) document(top string, value func() error) error {
	var err error
	switch k := r.dec.PeekKind(); k {
	case jsontext.KindBeginObject:
		err = r.object([]string{top}, func(string) error { return value() })
	case jsontext.KindNull:
		err = r.dec.SkipValue()
	default:
		if err = r.dec.SkipValue(); err == nil {
			err = &shapeError{want: "an object", got: k}
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	_, err = r.dec.ReadToken()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return errTrailing
	default:
		return err
	}
}

// object reads the members of an object, which must come next. member reads
// the value of each member named one of fields (given as spelt in fields);
// the others are skipped. An error of member ends the object: when it is a
// shapeError, the rest of the object is skipped before it is returned.
func (r *docReader) object(fields []string, member func(field string) error) error {
	if _, err := r.dec.ReadToken(); err != nil {
		return err
	}
	depth := r.dec.StackDepth()
	for r.dec.PeekKind() != jsontext.KindEndObject {
		raw, err := r.dec.ReadValue()
		if err != nil {
			return err
		}
		// An invalid UTF-8 name is mended as encoding/json does; no field's
		// name holds U+FFFD, so the error is of no further interest.
		r.name, _ = jsontext.AppendUnquote(r.name[:0], raw)
		f := fieldOf(r.name, fields)
		if f == "" {
			if err := r.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if err := member(f); err != nil {
			if isShape(err) {
				if serr := r.skipTo(depth); serr != nil {
					return serr
				}
			}
			return err
		}
	}
	_, err := r.dec.ReadToken()
	return err
}

// skipTo skips the rest of the object or array at depth (a StackDepth),
// its end included.
func (r *docReader) skipTo(depth int) error {
	for r.dec.StackDepth() >= depth {
		var err error
		switch r.dec.PeekKind() {
		case jsontext.KindEndObject, jsontext.KindEndArray:
			_, err = r.dec.ReadToken()
		default:
			err = r.dec.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fieldOf returns the field that name spells, matched as encoding/json
// matches struct fields: exactly, else without regard to case; "" if none.
func fieldOf(name []byte, fields []string) string {
	for _, f := range fields {
		if string(name) == f {
			return f
		}
	}
	for _, f := range fields {
		if strings.EqualFold(string(name), f) {
			return f
		}
	}
	return ""
}

// objectOrNull reads an object as object does, or a null as an object
// without members.
func (r *docReader) objectOrNull(fields []string, member func(field string) error) error {
	if r.dec.PeekKind() == jsontext.KindNull {
		return r.dec.SkipValue()
	}
	return r.object(fields, member)
}

// emptyValue reads the next value whole and reports whether it is an
// empty element: null or "".
func (r *docReader) emptyValue() (bool, error) {
	v, err := r.dec.ReadValue()
	return string(v) == "null" || string(v) == `""`, err
}

// emptyOrOdd reads the next value unless it is an object (done false, the
// object left unread): nil for an empty element (null or ""), else a
// shapeError that names what was wanted.
func (r *docReader) emptyOrOdd(want string) (done bool, err error) {
	k := r.dec.PeekKind()
	if k == jsontext.KindBeginObject {
		return false, nil
	}
	empty, err := r.emptyValue()
	if empty || err != nil {
		return true, err
	}
	return true, &shapeError{want: want, got: k}
}

// str reads a soft string. Like the soft readers below, it calls the flex
// type itself, not through an interface, so that what it fills stays off
// the heap.
func (r *docReader) str(s *softString) error {
	v, err := r.dec.ReadValue()
	if err != nil {
		return err
	}
	var f flexString
	if err := f.UnmarshalJSON(v); err != nil {
		*s = softString{Err: err}
		return nil
	}
	*s = softString{V: f}
	return nil
}

// int reads a soft integer.
func (r *docReader) int(n *softInt) error {
	v, err := r.dec.ReadValue()
	if err != nil {
		return err
	}
	var f flexInt
	if err := f.UnmarshalJSON(v); err != nil {
		*n = softInt{Err: err}
		return nil
	}
	*n = softInt{V: f}
	return nil
}

// time reads a soft time.
func (r *docReader) time(t *softTime) error {
	v, err := r.dec.ReadValue()
	if err != nil {
		return err
	}
	var f flexTime
	if err := f.UnmarshalJSON(v); err != nil {
		*t = softTime{Err: err}
		return nil
	}
	*t = softTime{V: f}
	return nil
}

// rawValue returns a copy of the next value, nil for null.
func (r *docReader) rawValue() (json.RawMessage, error) {
	v, err := r.dec.ReadValue()
	if err != nil || string(v) == "null" {
		return nil, err
	}
	return append(json.RawMessage(nil), v...), nil
}

// each reads an element that comes as an array of items, one bare item,
// or null or "" for none (§2.3 rule 1). item reads one item: an object or
// (in an array) null. An item of another kind is skipped and handed to odd,
// which may make it an error.
func (r *docReader) each(item func() error, odd func(jsontext.Kind) error) error {
	switch k := r.dec.PeekKind(); k {
	case jsontext.KindBeginArray:
	case jsontext.KindBeginObject:
		return item()
	default:
		empty, err := r.emptyValue()
		if empty || err != nil {
			return err
		}
		return odd(k)
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return err
	}
	for {
		var err error
		switch k := r.dec.PeekKind(); k {
		case jsontext.KindEndArray:
			_, err := r.dec.ReadToken()
			return err
		case jsontext.KindBeginObject, jsontext.KindNull:
			err = item()
		default:
			if err = r.dec.SkipValue(); err == nil {
				err = odd(k)
			}
		}
		if err != nil {
			return err
		}
	}
}

// linkFields are the members of a link that are read.
var linkFields = []string{"@href", "@rel", "href", "rel"}

// readLinks reads a link element: one link, several or none, and keeps
// those whose relation is one of rels, and those with a value that did not
// decode (for the report). A link that is not an object is a shapeError.
// A chat brings nine links and its events and info six more (§5.11), of
// which the client reads three: decoding them all was a third of what a
// poll allocated, so each link's values are held raw until its relation
// says whether it is kept.
func (r *docReader) readLinks(rels ...string) (links, error) {
	var ls links
	err := r.each(func() error {
		raw := &r.link
		raw.reset()
		err := r.objectOrNull(linkFields, func(f string) error {
			v, err := r.dec.ReadValue()
			if err != nil {
				return err
			}
			switch f {
			case "@href":
				raw.atHref = append(raw.atHref[:0], v...)
			case "@rel":
				raw.atRel = append(raw.atRel[:0], v...)
			case "href":
				raw.href = append(raw.href[:0], v...)
			default:
				raw.rel = append(raw.rel[:0], v...)
			}
			return nil
		})
		if raw.odd() || raw.relationIn(rels) {
			if ls == nil {
				ls = make(links, 0, len(rels)) // one of each, as a rule
			}
			ls = append(ls, raw.decode())
		}
		return err
	}, func(k jsontext.Kind) error {
		return &shapeError{want: "a link object", got: k}
	})
	return ls, err
}

// rawLink is a link's values as read, nil when absent; readLinks reuses
// one for every link.
type rawLink struct{ atHref, atRel, href, rel []byte }

func (l *rawLink) reset() {
	l.atHref, l.atRel, l.href, l.rel = l.atHref[:0], l.atRel[:0], l.href[:0], l.rel[:0]
}

// odd reports a value flexString refuses: an object or an array.
func (l *rawLink) odd() bool {
	return composite(l.atHref) || composite(l.atRel) || composite(l.href) || composite(l.rel)
}

func composite(v []byte) bool { return len(v) > 0 && (v[0] == '{' || v[0] == '[') }

// relationIn reports whether the link's relation (as link.relation reads
// it: @rel, else rel) is one of rels. Plain strings and null are compared
// as they are; any other value is decoded first.
func (l *rawLink) relationIn(rels []string) bool {
	rel, ok := plainOrNull(l.atRel)
	if ok && len(rel) == 0 {
		rel, ok = plainOrNull(l.rel)
	}
	if !ok {
		return slices.Contains(rels, l.decode().relation())
	}
	for _, r := range rels {
		if string(rel) == r {
			return true
		}
	}
	return false
}

// plainOrNull returns the text of a plain JSON string, or nothing for an
// absent value or null; ok is false for any other value.
func plainOrNull(v []byte) (text []byte, ok bool) {
	if len(v) == 0 || string(v) == "null" {
		return nil, true
	}
	return plainString(v)
}

// decode decodes the values as str would have.
func (l *rawLink) decode() link {
	return link{AtHref: softOf(l.atHref), AtRel: softOf(l.atRel), Href: softOf(l.href), Rel: softOf(l.rel)}
}

// softOf decodes a raw value as str does; an absent one is zero.
func softOf(raw []byte) softString {
	if len(raw) == 0 {
		return softString{}
	}
	var v flexString
	if err := v.UnmarshalJSON(raw); err != nil {
		return softString{Err: err}
	}
	return softString{V: v}
}
