package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/tracing"
	"github.com/lpbridge/lpbridge/schemas"
	"github.com/nats-io/nats.go"
)

// configTable renders the README's configuration table from Config's tags.
func configTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n| --- | --- | --- |\n")
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		def := f.Tag.Get("default")
		if def == "" {
			def = "(empty)"
		}
		b.WriteString("| `" + envPrefix + "_" + f.Tag.Get("envconfig") + "` | `" + def + "` | " + f.Tag.Get("desc") + " |\n")
	}
	return b.String()
}

func TestREADMEConfigTableMatchesConfig(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := configTable()
	if !strings.Contains(string(raw), want) {
		t.Errorf("README's configuration table is out of date; it must contain exactly:\n%s", want)
	}
	// Every BRIDGE_ variable the README names must exist in Config.
	known := map[string]bool{}
	for _, m := range regexp.MustCompile("`"+envPrefix+"_([A-Z_]+)`").FindAllStringSubmatch(want, -1) {
		known[m[1]] = true
	}
	for _, m := range regexp.MustCompile(envPrefix+`_([A-Z][A-Z_]*[A-Z])`).FindAllStringSubmatch(string(raw), -1) {
		if !known[m[1]] {
			t.Errorf("README names %s_%s, which Config does not have", envPrefix, m[1])
		}
	}
}

func TestConfigFieldsAreDocumented(t *testing.T) {
	t.Parallel()
	ty := reflect.TypeFor[Config]()
	for i := range ty.NumField() {
		f := ty.Field(i)
		if f.Tag.Get("envconfig") == "" || f.Tag.Get("desc") == "" {
			t.Errorf("Config.%s needs envconfig and desc tags", f.Name)
		}
	}
}

// clearBridgeEnv unsets every BRIDGE_* variable for the test and restores
// them after. Setting one to "" is not the same: envconfig then reads "" and
// skips the default.
func clearBridgeEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, envPrefix+"_") {
			t.Setenv(k, v) // registers the restore and forbids t.Parallel
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	clearBridgeEnv(t)
	cfg, err := loadConfig()
	if err != nil {
		t.Fatalf("the zero configuration must be valid: %v", err)
	}
	if !cfg.embeddedSim() || cfg.NATSURL != "" {
		t.Errorf("zero configuration should run embedded NATS and the simulator, got %+v", cfg)
	}
}

func TestConfigValidateJoinsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := Config{LPAccount: "1", EventEncoding: "xml", LogFormat: "yaml", ShowEvents: "maybe"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"POLL_INTERVAL", "REFRESH_INTERVAL", "REQUESTS_PER_SECOND", "EVENT_ENCODING", "LOG_FORMAT", "SHOW_EVENTS", "AGENTS_FILE", "DUPLICATE_WINDOW", "NATS_RECONNECT_BUFFER"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// configDefaultOwners maps each Config field with a default tag to the
// exported default of the package that owns the setting: the bridge's
// default must be that package's, or the two drift apart.
func configDefaultOwners() map[string]any {
	return map[string]any{
		"NATSReconnectBuffer":   nats.DefaultReconnectBufSize,
		"LPDomainURL":           lpchat.DefaultDomainURL,
		"PollInterval":          poller.DefaultPollInterval,
		"RefreshInterval":       poller.DefaultRefreshEvery,
		"SubjectPrefix":         events.DefaultPrefix,
		"StreamName":            events.DefaultStreamName,
		"StreamMaxAge":          events.DefaultMaxAge,
		"StreamReplicas":        events.DefaultReplicas,
		"DuplicateWindow":       events.DefaultDuplicateWindow,
		"StateBucket":           state.DefaultBucket,
		"LeaseBucket":           state.DefaultLeaseBucket,
		"EventEncoding":         events.Binary,
		"DataSchemaBase":        events.DefaultDataSchemaBase,
		"CommandsStream":        commands.DefaultStreamName,
		"CommandsDLQStream":     commands.DefaultDLQStreamName,
		"CommandsResultsBucket": commands.DefaultResultsBucket,
		"CommandsResultTTL":     commands.DefaultResultTTL,
		"CommandsTimeout":       commands.DefaultTimeout,
		"CommandsMaxDeliver":    commands.DefaultMaxDeliver,
		"CommandsMaxBodyBytes":  commands.DefaultMaxBodyBytes,
		"TraceSampleRatio":      tracing.DefaultSampleRatio,
		"SimVisitorsPerMinute":  lpsim.DefaultChatsPerMinute,
		"LoginsAtOnce":          poller.DefaultLoginsAtOnce,
	}
}

// bridgeOwnedDefaults are the Config fields whose default only the bridge
// knows, each with the reason no package owns it.
func bridgeOwnedDefaults() map[string]string {
	return map[string]string{
		"LPAllowInsecureHTTP": "a switch of the bridge's wiring; lpchat's zero value is off too",
		"Pprof":               "a switch of the bridge's HTTP server; off unless asked for",
		"AgentGoOnline":       "the single agent from the environment is the bridge's (agents.go)",
		"AgentAutoAccept":     "the single agent from the environment is the bridge's (agents.go)",
		"RequestsPerSecond":   "main.go builds the shared per-account budget",
		"LeaseTTL":            "state takes the TTL per lease and has no default",
		"CommandsDurable":     "a switch of the bridge's wiring; commands' zero value is off too",
		"ShutdownTimeout":     "the bridge's own shutdown (shutdown.go)",
		"AwayOnStop":          "the bridge's own shutdown (shutdown.go)",
		"LogoutOnStop":        "a switch of the bridge's wiring; poller's zero value is off too",
		"StallAfter":          "the bridge's /readyz wiring (main.go)",
		"HTTPAddr":            "the bridge's HTTP server (main.go)",
		"OTLPInsecure":        "a switch of the bridge's wiring; tracing's zero value is off too",
		"LogFormat":           "the bridge's logger (main.go)",
		"LogLevel":            "the bridge's logger (main.go)",
		"ShowEvents":          "the bridge's terminal view (view.go)",

		// The poller's zero value is off too (poller.AgentConfig).
		"AgentRestoreAvailability": "the single agent from the environment is the bridge's (agents.go)",
	}
}

// TestConfigDefaultsMatchOwningPackages reads every default tag of Config
// and compares the value envconfig makes of it with the owning package's
// exported default; a field with a default and no owner must be listed as
// bridge-owned.
func TestConfigDefaultsMatchOwningPackages(t *testing.T) {
	clearBridgeEnv(t)
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	owners, bridgeOwned := configDefaultOwners(), bridgeOwnedDefaults()
	v := reflect.ValueOf(cfg)
	withDefault := map[string]bool{}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		tag, ok := f.Tag.Lookup("default")
		if !ok {
			continue
		}
		withDefault[f.Name] = true
		owner, owned := owners[f.Name]
		_, bridge := bridgeOwned[f.Name]
		switch {
		case owned && bridge:
			t.Errorf("Config.%s is listed both as owned and as bridge-owned", f.Name)
		case bridge:
		case !owned:
			t.Errorf("Config.%s (default %q) has no owning package default: add it to configDefaultOwners or bridgeOwnedDefaults", f.Name, tag)
		default:
			ov := reflect.ValueOf(owner)
			if !ov.CanConvert(f.Type) {
				t.Errorf("Config.%s is %s; its owner's default %v (%T) does not convert", f.Name, f.Type, owner, owner)
				continue
			}
			if got, want := v.Field(i).Interface(), ov.Convert(f.Type).Interface(); got != want {
				t.Errorf("Config.%s default tag %q = %v, owning package's default is %v", f.Name, tag, got, want)
			}
		}
	}
	for name := range owners {
		if !withDefault[name] {
			t.Errorf("configDefaultOwners names %s, which has no default tag", name)
		}
	}
	for name := range bridgeOwned {
		if !withDefault[name] {
			t.Errorf("bridgeOwnedDefaults names %s, which has no default tag", name)
		}
	}
}

// TestDefaultDataSchemaIsTheSchemaID encodes an event of every type the way
// the bridge's publisher does with the default configuration and checks the
// whole dataschema attribute against the $id written in the schema file of
// the event's type.
func TestDefaultDataSchemaIsTheSchemaID(t *testing.T) {
	clearBridgeEnv(t)
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Examples() {
		msg, err := events.Encode(e, events.Encoding(cfg.EventEncoding), cfg.DataSchemaBase)
		if err != nil {
			t.Fatal(err)
		}
		ce, err := events.Decode(msg)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := fs.ReadFile(schemas.FS(), e.Type.SchemaFile())
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", e.Type.SchemaFile(), err)
		}
		if ce.DataSchema() != doc.ID {
			t.Errorf("%s: dataschema %q, want the $id of %s, %q", e.Type, ce.DataSchema(), e.Type.SchemaFile(), doc.ID)
		}
	}
}
