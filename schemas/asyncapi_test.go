package schemas_test

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/schemas"
	"gopkg.in/yaml.v3"
)

// The parts of AsyncAPI 3.0 the tests check.
type asyncDoc struct {
	AsyncAPI string `yaml:"asyncapi"`
	Info     struct {
		Title   string `yaml:"title"`
		Version string `yaml:"version"`
	} `yaml:"info"`
	Servers    map[string]struct{ Host, Protocol string } `yaml:"servers"`
	Channels   map[string]asyncChannel                    `yaml:"channels"`
	Operations map[string]struct {
		Action   string `yaml:"action"`
		Channel  ref    `yaml:"channel"`
		Messages []ref  `yaml:"messages"`
		Reply    *struct {
			Channel  ref   `yaml:"channel"`
			Messages []ref `yaml:"messages"`
		} `yaml:"reply"`
	} `yaml:"operations"`
	Components struct {
		Parameters map[string]struct {
			Description string   `yaml:"description"`
			Enum        []string `yaml:"enum"`
		} `yaml:"parameters"`
		Messages map[string]asyncMessage `yaml:"messages"`
	} `yaml:"components"`
	JetStream map[string]any `yaml:"x-jetstream"`
}

type asyncChannel struct {
	Address    *string        `yaml:"address"`
	Parameters map[string]ref `yaml:"parameters"`
	Messages   map[string]ref `yaml:"messages"`
	JetStream  map[string]any `yaml:"x-jetstream"`
}

type asyncMessage struct {
	Name        string         `yaml:"name"`
	ContentType string         `yaml:"contentType"`
	Payload     ref            `yaml:"payload"`
	Traits      []ref          `yaml:"traits"`
	CloudEvents map[string]any `yaml:"x-cloudevents"`
}

type ref struct {
	Ref string `yaml:"$ref"`
}

func loadAsyncAPI(t *testing.T) asyncDoc {
	t.Helper()
	var doc asyncDoc
	if err := yaml.Unmarshal(schemas.AsyncAPI(), &doc); err != nil {
		t.Fatalf("asyncapi.yaml does not parse: %v", err)
	}
	return doc
}

// target returns the name a local "#/<section>/<name>" reference points to.
func target(t *testing.T, r ref, section string) string {
	t.Helper()
	prefix := "#/" + section + "/"
	if !strings.HasPrefix(r.Ref, prefix) {
		t.Errorf("reference %q does not point into %s", r.Ref, section)
		return ""
	}
	return strings.TrimPrefix(r.Ref, prefix)
}

var addressParam = regexp.MustCompile(`\{([a-z]+)\}`)

func TestAsyncAPIStructure(t *testing.T) {
	doc := loadAsyncAPI(t)
	if doc.AsyncAPI != "3.0.0" {
		t.Errorf("asyncapi = %q, want 3.0.0", doc.AsyncAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info = %+v, want title and version", doc.Info)
	}
	if len(doc.Servers) == 0 {
		t.Error("no servers")
	}
	for name, srv := range doc.Servers {
		if srv.Protocol != "nats" || srv.Host == "" {
			t.Errorf("server %s = %+v", name, srv)
		}
	}
	if doc.JetStream["stream"] != events.DefaultStreamName || doc.JetStream["msgIdHeader"] != "Nats-Msg-Id" {
		t.Errorf("x-jetstream = %v", doc.JetStream)
	}
	// The stream's durations are the events package's defaults, which the
	// bridge's config defaults are tested against in turn.
	for key, want := range map[string]time.Duration{
		"duplicateWindow": events.DefaultDuplicateWindow,
		"maxAge":          events.DefaultMaxAge,
	} {
		s, _ := doc.JetStream[key].(string)
		if got, err := time.ParseDuration(s); err != nil || got != want {
			t.Errorf("x-jetstream %s = %q, want %s (events' default)", key, s, want)
		}
	}
	if len(doc.Channels) == 0 || len(doc.Operations) == 0 || len(doc.Components.Messages) == 0 {
		t.Fatal("channels, operations and components.messages must not be empty")
	}

	for name, ch := range doc.Channels {
		for _, m := range ch.Messages {
			if _, ok := doc.Components.Messages[target(t, m, "components/messages")]; !ok {
				t.Errorf("channel %s: message %q not in components.messages", name, m.Ref)
			}
		}
		if len(ch.Messages) == 0 {
			t.Errorf("channel %s has no messages", name)
		}
		if ch.Address == nil {
			continue // a reply channel: the address is the request's reply subject
		}
		used := map[string]bool{}
		for _, m := range addressParam.FindAllStringSubmatch(*ch.Address, -1) {
			used[m[1]] = true
			p, ok := ch.Parameters[m[1]]
			if !ok {
				t.Errorf("channel %s: address parameter {%s} not declared", name, m[1])
				continue
			}
			if _, ok := doc.Components.Parameters[target(t, p, "components/parameters")]; !ok {
				t.Errorf("channel %s: parameter %q not in components.parameters", name, p.Ref)
			}
		}
		for p := range ch.Parameters {
			if !used[p] {
				t.Errorf("channel %s: parameter %s not in address %q", name, p, *ch.Address)
			}
		}
	}

	operated := map[string]bool{}
	for name, op := range doc.Operations {
		if op.Action != "send" && op.Action != "receive" {
			t.Errorf("operation %s: action %q", name, op.Action)
		}
		chName := target(t, op.Channel, "channels")
		ch, ok := doc.Channels[chName]
		if !ok {
			t.Errorf("operation %s: channel %q not found", name, op.Channel.Ref)
			continue
		}
		operated[chName] = true
		checkOperationMessages(t, name, chName, ch, op.Messages)
		if op.Reply != nil {
			replyName := target(t, op.Reply.Channel, "channels")
			reply, ok := doc.Channels[replyName]
			if !ok {
				t.Errorf("operation %s: reply channel %q not found", name, op.Reply.Channel.Ref)
				continue
			}
			operated[replyName] = true
			checkOperationMessages(t, name+" reply", replyName, reply, op.Reply.Messages)
		}
	}
	for name := range doc.Channels {
		if !operated[name] {
			t.Errorf("channel %s has no operation", name)
		}
	}

	for name, m := range doc.Components.Messages {
		if name == "deadLetter" {
			// A dead letter keeps the original body, whatever it was.
			if m.Payload.Ref != "" {
				t.Errorf("message deadLetter: payload %q, want any body", m.Payload.Ref)
			}
			continue
		}
		if m.ContentType != "application/json" {
			t.Errorf("message %s: contentType %q", name, m.ContentType)
		}
		file := strings.TrimPrefix(m.Payload.Ref, "./")
		if _, err := fs.Stat(schemas.FS(), file); err != nil || file == m.Payload.Ref {
			t.Errorf("message %s: payload %q is not a schema file next to the document", name, m.Payload.Ref)
		}
	}
}

func checkOperationMessages(t *testing.T, op, chName string, ch asyncChannel, msgs []ref) {
	t.Helper()
	if len(msgs) == 0 {
		t.Errorf("operation %s: no messages", op)
	}
	for _, m := range msgs {
		name := target(t, m, "channels/"+chName+"/messages")
		if _, ok := ch.Messages[name]; !ok {
			t.Errorf("operation %s: message %q is not a message of channel %s", op, m.Ref, chName)
		}
	}
}

// TestAsyncAPIMatchesCode fails when the subjects in code and the channels of
// the document drift apart: every event type has exactly one channel whose
// address (parameters as '*') is events.SubjectPatterns, with the type's
// schema as payload; every command schema has exactly one command channel.
func TestAsyncAPIMatchesCode(t *testing.T) {
	doc := loadAsyncAPI(t)
	patterns := events.SubjectPatterns(events.DefaultPrefix)

	eventChannels := map[string]string{}   // pattern → channel
	commandChannels := map[string]string{} // command → channel
	var durable, deadLetter string         // channels
	for name, ch := range doc.Channels {
		if ch.Address == nil {
			continue
		}
		addr := addressParam.ReplaceAllString(*ch.Address, "*")
		switch {
		case strings.HasPrefix(addr, events.DefaultPrefix+".evt."):
			if prev, dup := eventChannels[addr]; dup {
				t.Errorf("channels %s and %s share address %q", prev, name, addr)
			}
			eventChannels[addr] = name
		case strings.HasPrefix(addr, events.DefaultPrefix+".cmd.*.*."):
			commandChannels[strings.TrimPrefix(addr, events.DefaultPrefix+".cmd.*.*.")] = name
		case addr == commands.DurableSubject(events.DefaultPrefix, "*", "*", "*"):
			durable = name
		case addr == commands.DeadLetterSubject(events.DefaultPrefix, "*", "*", "*"):
			deadLetter = name
		default:
			t.Errorf("channel %s: address %q is neither an event nor a command subject", name, *ch.Address)
		}
	}

	for typ, pattern := range patterns {
		name, ok := eventChannels[pattern]
		if !ok {
			t.Errorf("type %s: no channel with address %q", typ, pattern)
			continue
		}
		delete(eventChannels, pattern)
		for _, m := range doc.Channels[name].Messages {
			msg := doc.Components.Messages[strings.TrimPrefix(m.Ref, "#/components/messages/")]
			if msg.Name != string(typ) {
				t.Errorf("channel %s carries message %q, want %q", name, msg.Name, typ)
			}
			if want := "./" + typ.SchemaFile(); msg.Payload.Ref != want {
				t.Errorf("message %s: payload %q, want %q", msg.Name, msg.Payload.Ref, want)
			}
			if msg.CloudEvents["type"] != string(typ) ||
				msg.CloudEvents["dataschema"] != events.DataSchema(events.DefaultDataSchemaBase, typ) {
				t.Errorf("message %s: x-cloudevents %v", msg.Name, msg.CloudEvents)
			}
			if len(msg.Traits) != 1 || msg.Traits[0].Ref != "#/components/messageTraits/cloudEvent" {
				t.Errorf("message %s: traits %v, want the cloudEvent trait", msg.Name, msg.Traits)
			}
		}
		if js := doc.Channels[name].JetStream; js["stream"] != events.DefaultStreamName {
			t.Errorf("channel %s: x-jetstream %v", name, js)
		}
	}
	for pattern, name := range eventChannels {
		t.Errorf("channel %s (%q) has no event type in code", name, pattern)
	}

	var docCommands []string
	for cmd, name := range commandChannels {
		docCommands = append(docCommands, cmd)
		for _, m := range doc.Channels[name].Messages {
			msg := doc.Components.Messages[strings.TrimPrefix(m.Ref, "#/components/messages/")]
			if want := "./commands/" + cmd + ".json"; msg.Payload.Ref != want {
				t.Errorf("command %s: payload %q, want %q", cmd, msg.Payload.Ref, want)
			}
		}
	}
	slices.Sort(docCommands)
	set, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(docCommands, set.Commands()) {
		t.Errorf("command channels %v, command schemas %v", docCommands, set.Commands())
	}
	if want := slices.Sorted(slices.Values(commands.Names())); !slices.Equal(docCommands, want) {
		t.Errorf("command channels %v, want %v (commands.Names)", docCommands, want)
	}

	// The durable subjects carry every command, and the dead letters exist.
	if durable == "" || deadLetter == "" {
		t.Fatalf("no channel for %q or %q", commands.DurableSubject(events.DefaultPrefix, "{account}", "{agent}", "{command}"),
			commands.DeadLetterSubject(events.DefaultPrefix, "{account}", "{agent}", "{command}"))
	}
	var durablePayloads []string
	for _, m := range doc.Channels[durable].Messages {
		msg := doc.Components.Messages[strings.TrimPrefix(m.Ref, "#/components/messages/")]
		durablePayloads = append(durablePayloads, strings.TrimSuffix(strings.TrimPrefix(msg.Payload.Ref, "./commands/"), ".json"))
	}
	slices.Sort(durablePayloads)
	if !slices.Equal(durablePayloads, set.Commands()) {
		t.Errorf("durable channel %s carries %v, want every command %v", durable, durablePayloads, set.Commands())
	}
	param := doc.Components.Parameters[strings.TrimPrefix(doc.Channels[durable].Parameters["command"].Ref, "#/components/parameters/")]
	enum := slices.Sorted(slices.Values(param.Enum))
	if !slices.Equal(enum, set.Commands()) {
		t.Errorf("the command parameter lists %v, want %v", enum, set.Commands())
	}
	for _, c := range set.Commands() {
		if !commands.Known(c) {
			t.Errorf("schema for command %s, which the consumer does not know", c)
		}
	}
	if js := doc.Channels[durable].JetStream; js["stream"] != "LP_COMMANDS" {
		t.Errorf("durable channel: x-jetstream %v", js)
	}
	if js := doc.Channels[deadLetter].JetStream; js["stream"] != "LP_COMMANDS_DLQ" {
		t.Errorf("dead-letter channel: x-jetstream %v", js)
	}
}
