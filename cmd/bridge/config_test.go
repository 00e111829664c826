package main

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
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
	for _, want := range []string{"POLL_INTERVAL", "REFRESH_INTERVAL", "REQUESTS_PER_SECOND", "EVENT_ENCODING", "LOG_FORMAT", "SHOW_EVENTS", "AGENTS_FILE", "DUPLICATE_WINDOW"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
