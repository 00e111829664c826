// Package schemas holds the public contract of lpbridge as files: the JSON
// Schemas (draft 2020-12) of every event payload (events/<type>.json) and
// command body (commands/<command>.json, commands/reply.json), and the
// AsyncAPI 3.0 document of every subject (asyncapi.yaml). They are embedded,
// so the bridge and its tests validate against exactly what is published.
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// BaseURL is the base of every schema's $id; the file events/chat.line.json
// has the $id BaseURL + "/events/chat.line.json".
const BaseURL = "https://lpbridge.dev/schemas"

const (
	eventsDir   = "events"
	commandsDir = "commands"
	replyFile   = "reply.json"
	asyncAPI    = "asyncapi.yaml"
	eventPrefix = "lpbridge."
)

//go:embed asyncapi.yaml events/*.json commands/*.json
var files embed.FS

// FS returns the embedded files (asyncapi.yaml, events/, commands/), e.g.
// to serve them under the data schema base URL.
func FS() fs.FS { return files }

// AsyncAPI returns the AsyncAPI 3.0 document (YAML).
func AsyncAPI() []byte {
	b, err := files.ReadFile(asyncAPI)
	if err != nil { // embedded at build time; cannot happen
		panic(fmt.Sprintf("schemas: %s not embedded: %v", asyncAPI, err))
	}
	return b
}

// Set is the compiled schemas. It is safe for concurrent use.
type Set struct {
	events   map[string]*jsonschema.Schema // by type suffix, e.g. "chat.line"
	commands map[string]*jsonschema.Schema // by command, e.g. "chat.send"
	reply    *jsonschema.Schema
}

// Compile compiles every embedded schema. Schemas refer to each other by
// relative $ref, resolved against their $id within the embedded files; no
// network is used.
func Compile() (*Set, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	urls := map[string]string{} // file → URL
	for _, dir := range []string{eventsDir, commandsDir} {
		names, err := fs.Glob(files, dir+"/*.json")
		if err != nil {
			return nil, fmt.Errorf("schemas: list %s: %w", dir, err)
		}
		for _, name := range names {
			b, err := files.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("schemas: read %s: %w", name, err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("schemas: parse %s: %w", name, err)
			}
			url := BaseURL + "/" + name
			if err := c.AddResource(url, doc); err != nil {
				return nil, fmt.Errorf("schemas: add %s: %w", name, err)
			}
			urls[name] = url
		}
	}
	s := &Set{events: map[string]*jsonschema.Schema{}, commands: map[string]*jsonschema.Schema{}}
	for name, url := range urls {
		sch, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("schemas: compile %s: %w", name, err)
		}
		dir, file := path.Split(name)
		key := strings.TrimSuffix(file, ".json")
		switch {
		case dir == eventsDir+"/":
			s.events[key] = sch
		case file == replyFile:
			s.reply = sch
		default:
			s.commands[key] = sch
		}
	}
	if s.reply == nil {
		return nil, fmt.Errorf("schemas: %s/%s missing", commandsDir, replyFile)
	}
	return s, nil
}

// EventTypes returns the type suffixes that have a schema, e.g. "chat.line",
// sorted.
func (s *Set) EventTypes() []string { return keys(s.events) }

// Commands returns the command names that have a schema, e.g. "chat.send",
// sorted.
func (s *Set) Commands() []string { return keys(s.commands) }

// ValidateEvent checks the data JSON of an event of type t, given as the
// full type ("lpbridge.chat.line") or its suffix ("chat.line").
func (s *Set) ValidateEvent(t string, data []byte) error {
	sch, ok := s.events[strings.TrimPrefix(t, eventPrefix)]
	if !ok {
		return fmt.Errorf("%w: event type %q", ErrUnknownSchema, t)
	}
	return validate(sch, "event "+t, data)
}

// ValidateCommand checks the body of a command, e.g. "chat.send".
func (s *Set) ValidateCommand(name string, body []byte) error {
	sch, ok := s.commands[name]
	if !ok {
		return fmt.Errorf("%w: command %q", ErrUnknownSchema, name)
	}
	return validate(sch, "command "+name, body)
}

// ValidateReply checks a command reply envelope.
func (s *Set) ValidateReply(body []byte) error {
	return validate(s.reply, "reply", body)
}

func validate(sch *jsonschema.Schema, what string, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %s: not JSON: %w", ErrInvalid, what, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
	}
	return nil
}

func keys(m map[string]*jsonschema.Schema) []string {
	return slices.Sorted(maps.Keys(m))
}

// noLoader refuses every URL: all schemas are embedded, and a $ref that
// points elsewhere is a mistake, not something to fetch.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%w: %s is not an embedded schema", ErrUnknownSchema, url)
}
