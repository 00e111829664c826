package helm_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"
)

// valuesConfig reads the chart's config: block.
func valuesConfig(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config map[string]string `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	return v.Config
}

// readmeDefaults reads the README's configuration table: variable → default
// ("" for "(empty)").
func readmeDefaults(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(BRIDGE_[A-Z0-9_]+)` \\| `([^`]*)` \\|")
	out := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		def := m[2]
		if def == "(empty)" {
			def = ""
		}
		out[m[1]] = def
	}
	if len(out) == 0 {
		t.Fatal("no configuration table in README.md")
	}
	return out
}

// Every config: key of the chart is a variable the bridge reads, with the
// bridge's own default unless the chart means to differ; the settings the
// chart must expose are there. (No helm needed: it runs in every go test.)
func TestValuesConfigFollowsTheBridge(t *testing.T) {
	cfg, readme := valuesConfig(t), readmeDefaults(t)
	// chartDefaults are the deliberate differences from the bridge's defaults.
	chartDefaults := map[string]string{"BRIDGE_LOG_FORMAT": "json"} // log collectors read JSON
	for k, v := range cfg {
		def, known := readme[k]
		if !known {
			t.Errorf("values.yaml config.%s is no variable of the README's configuration table", k)
			continue
		}
		want, differs := chartDefaults[k]
		if !differs {
			want = def
		}
		if v != want {
			t.Errorf("values.yaml config.%s = %q, want %q", k, v, want)
		}
	}
	for _, k := range []string{
		"BRIDGE_OTLP_ENDPOINT", "BRIDGE_OTLP_INSECURE", "BRIDGE_TRACE_SAMPLE_RATIO",
		"BRIDGE_SHUTDOWN_TIMEOUT", "BRIDGE_AWAY_ON_STOP", "BRIDGE_LOGOUT_ON_STOP",
		"BRIDGE_COMMANDS_DURABLE", "BRIDGE_COMMANDS_STREAM", "BRIDGE_COMMANDS_DLQ_STREAM",
		"BRIDGE_COMMANDS_RESULTS_BUCKET", "BRIDGE_COMMANDS_RESULT_TTL", "BRIDGE_COMMANDS_TIMEOUT",
		"BRIDGE_COMMANDS_MAX_DELIVER", "BRIDGE_COMMANDS_MAX_BODY_BYTES",
	} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("values.yaml config lacks %s", k)
		}
	}
	// The chart sets these itself (from http.port, agents, leaseTTL).
	for _, k := range []string{"BRIDGE_HTTP_ADDR", "BRIDGE_AGENTS_FILE", "BRIDGE_LEASE_TTL"} {
		if _, ok := cfg[k]; ok {
			t.Errorf("values.yaml config holds %s, which the chart sets itself", k)
		}
	}
}
