// Package grafana_test keeps the Grafana dashboard (lpbridge-dashboard.json)
// true to the metrics the bridge exports: every name and label a panel
// queries exists, counters and histograms are queried with rate() and
// histogram_quantile(), and every metric the bridge exports has a panel.
package grafana_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// dashboardFile is the dashboard, relative to this package.
const dashboardFile = "lpbridge-dashboard.json"

// datasourceUID is how every panel and query names its data source: the
// dashboard's datasource variable, so it imports into any Grafana.
const datasourceUID = "${datasource}"

// notOnDashboard lists metrics the bridge exports that no panel shows, each
// with the reason. A metric missing from both the dashboard and this list
// fails TestEveryExportedMetricHasAPanel, so a new metric gets a panel.
func notOnDashboard() map[string]string {
	return map[string]string{}
}

// counting calls each method of telemetry.Metrics that records something,
// so every metric has a series with every label value a panel may match
// (a vector without series is not gathered at all).
func counting() map[string]func(*telemetry.Metrics) {
	const op = string(lpchat.OpChatEvents)
	return map[string]func(*telemetry.Metrics){
		"ObserveLPRequest": func(m *telemetry.Metrics) {
			for _, code := range []int{100, 200, 302, 404, 503, 0} { // every status class, and no response
				m.ObserveLPRequest(op, code, 20*time.Millisecond)
			}
		},
		"LPRetry": func(m *telemetry.Metrics) {
			for _, r := range []telemetry.RetryReason{telemetry.RetryRateLimited, telemetry.RetryServerError, telemetry.RetryNetwork} {
				m.LPRetry(op, r)
			}
		},
		"LPRetryRequest":      func(m *telemetry.Metrics) { m.LPRetryRequest(op, 404) }, // reason other
		"LPLogin":             func(m *telemetry.Metrics) { m.LPLogin(telemetry.LoginOK) },
		"AgentSessionRestart": func(m *telemetry.Metrics) { m.AgentSessionRestart(telemetry.RestartSessionLost) },
		"ObservePoll":         func(m *telemetry.Metrics) { m.ObservePoll(150 * time.Millisecond) },
		"EventPublished":      func(m *telemetry.Metrics) { m.EventPublished(events.TypeNames()[0], true, 3*time.Millisecond) },
		"EventPublishFailed":  func(m *telemetry.Metrics) { m.EventPublishFailed(events.TypeNames()[0]) },
		"CommandHandled":      func(m *telemetry.Metrics) { m.CommandHandled(commands.Names()[0], telemetry.CommandOK) },
		"AddAgentsActive":     func(m *telemetry.Metrics) { m.AddAgentsActive(1) },
		"AddAgentsFailed":     func(m *telemetry.Metrics) { m.AddAgentsFailed(1) },
		"AddChatsActive":      func(m *telemetry.Metrics) { m.AddChatsActive(2) },
		"ObserveCursorLag":    func(m *telemetry.Metrics) { m.ObserveCursorLag(2 * time.Second) },
		"LPDecodeSkipped":     func(m *telemetry.Metrics) { m.LPDecodeSkipped("info.startTime") },
		"CommandDeadLettered": func(m *telemetry.Metrics) { m.CommandDeadLettered(commands.Names()[0], "bad_request") },

		// The publisher's busy time, and events stored after a failed one.
		"PublishStarted":           func(m *telemetry.Metrics) { m.PublishStarted()() },
		"EventsStoredAfterFailure": func(m *telemetry.Metrics) { m.EventsStoredAfterFailure(1) },
		"JetStreamRetried":         func(m *telemetry.Metrics) { m.JetStreamRetried(telemetry.JetStreamKV) },
	}
}

// notCounting are the methods of telemetry.Metrics that record nothing.
func notCounting() map[string]string {
	return map[string]string{
		"Registry":          "returns the registry",
		"Handler":           "serves the registry",
		"DeclareEventTypes": "declares label values; bridgeMetrics passes them as options",
		"DeclareCommands":   "declares label values; bridgeMetrics passes them as options",
		"DeclareErrorCodes": "declares label values of the dead-letter code; bridgeMetrics declares them",
	}
}

// bridgeMetrics is what the bridge exports: its Metrics with the label sets
// it declares (cmd/bridge passes lpchat's operations; the events Publisher
// and the commands Consumer declare their types and commands), without the
// Go runtime and process metrics, every counting method called once.
func bridgeMetrics(t *testing.T) exported {
	t.Helper()
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics(),
		telemetry.WithOperations(lpchat.OperationNames()...),
		telemetry.WithEventTypes(events.TypeNames()...),
		telemetry.WithCommands(commands.Names()...))
	for _, count := range counting() {
		count(m)
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return newExported(fams)
}

// dashboard is the part of Grafana's dashboard model the tests read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Datasource *datasource `json:"datasource"`
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *datasource     `json:"datasource"`
}

// queryText is a query variable's query: Grafana 10 stores an object, older
// versions a string.
func (v variable) queryText(t *testing.T) string {
	t.Helper()
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &q); err != nil {
		t.Fatalf("variable %s: query: %v", v.Name, err)
	}
	return q.Query
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatalf("read dashboard: %v", err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// leaves are the panels that query something, rows' panels included.
func (d dashboard) leaves() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	return out
}

// Every method of Metrics is either called by counting or known to record
// nothing, so a new metric's method cannot be missed and its metric left
// ungathered (and so unchecked).
func TestCountingCallsEveryMethod(t *testing.T) {
	typ := reflect.TypeFor[*telemetry.Metrics]()
	calls, skip := counting(), notCounting()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		_, c := calls[name]
		_, s := skip[name]
		if !c && !s {
			t.Errorf("telemetry.Metrics.%s is new: call it in counting() (or list it in notCounting with why)", name)
		}
	}
	for name := range calls {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("counting() calls %s, which Metrics no longer has", name)
		}
	}
}

func TestPanelsQueryExportedMetrics(t *testing.T) {
	e := bridgeMetrics(t)
	for _, p := range loadDashboard(t).leaves() {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			parsed, problems := checkExpr(tg.Expr, e)
			for _, pr := range problems {
				t.Errorf("panel %q %s: %s\n\t%s", p.Title, tg.RefID, pr, tg.Expr)
			}
			for _, s := range parsed.selectors {
				if !s.has("job", "=~", "$job") || !s.has("instance", "=~", "$instance") {
					t.Errorf("panel %q %s: %s does not filter by $job and $instance", p.Title, tg.RefID, s.name)
				}
			}
		}
	}
}

func TestEveryExportedMetricHasAPanel(t *testing.T) {
	e := bridgeMetrics(t)
	shown := map[string]bool{}
	for _, p := range loadDashboard(t).leaves() {
		for _, tg := range p.Targets {
			parsed, _ := parse(tg.Expr, e) // TestPanelsQueryExportedMetrics reports the problems
			for _, s := range parsed.selectors {
				shown[s.family] = true
			}
		}
	}
	for _, pr := range uncovered(e, shown, notOnDashboard()) {
		t.Error(pr)
	}
}

// The dashboard imports into any Grafana 10+: it names its data source by
// a variable, and has job and instance variables every panel filters by.
func TestDashboardIsPortable(t *testing.T) {
	d := loadDashboard(t)
	e := bridgeMetrics(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed to import and link the dashboard", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 { // Grafana 9.0 moved to data source references; 10.x writes 37-39
		t.Errorf("schemaVersion %d, want that of Grafana 10 (>= 36)", d.SchemaVersion)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if ds := vars["datasource"]; ds.Type != "datasource" || ds.queryText(t) != "prometheus" {
		t.Errorf("datasource variable: type %q query %q, want a datasource variable of type prometheus", ds.Type, ds.queryText(t))
	}
	for _, name := range []string{"job", "instance"} {
		v, ok := vars[name]
		if !ok {
			t.Errorf("no %s variable", name)
			continue
		}
		if v.Type != "query" || v.Datasource == nil || v.Datasource.UID != datasourceUID {
			t.Errorf("variable %s: type %q datasource %+v, want a query on %s", name, v.Type, v.Datasource, datasourceUID)
		}
		q := v.queryText(t)
		if _, problems := checkVariableQuery(q, e); len(problems) > 0 {
			t.Errorf("variable %s: %v", name, problems)
		}
		if !strings.Contains(q, ", "+name+")") {
			t.Errorf("variable %s lists %q, not its own label", name, q)
		}
	}
	ids := map[int]bool{}
	for _, p := range d.leaves() {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside Grafana's 24 columns", p.Title, g)
		}
		if p.Datasource == nil || p.Datasource.UID != datasourceUID {
			t.Errorf("panel %q: datasource %+v, want uid %s", p.Title, p.Datasource, datasourceUID)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.Type != "prometheus" || tg.Datasource.UID != datasourceUID {
				t.Errorf("panel %q %s: datasource %+v, want prometheus %s", p.Title, tg.RefID, tg.Datasource, datasourceUID)
			}
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("panel %q: refId %q empty or used twice", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
		}
	}
}

// The checks themselves: each bad expression is caught with the reason,
// each good one passes.
func TestCheckExprFindsMistakes(t *testing.T) {
	e := bridgeMetrics(t)
	tests := []struct {
		name, expr string
		want       string // a problem contains it; "" for none
	}{
		{"counter rate", `sum by (operation, code) (rate(lpbridge_lp_requests_total{job=~"$job"}[5m]))`, ""},
		{"gauge", `sum by (instance) (lpbridge_agents_active)`, ""},
		{"quantile", `histogram_quantile(0.95, sum by (le, operation) (rate(lpbridge_lp_request_duration_seconds_bucket[5m])))`, ""},
		{"mean", `sum(rate(lpbridge_publish_duration_seconds_sum[5m])) / sum(rate(lpbridge_publish_duration_seconds_count[5m]))`, ""},
		{"known values", `increase(lpbridge_commands_total{outcome=~"invalid|error", command="chat.send", outcome!="ok"}[1h])`, ""},
		{"name in a string is no name", `rate(lpbridge_events_published_total{type=~"lpbridge_nope|lpbridge.chat.line"}[5m])`, ""},
		{"unknown name", `sum(rate(lpbridge_dead_letters_total[5m]))`, "lpbridge_dead_letters_total, which the bridge does not export"},
		{"typo", `sum(lpbridge_agent_active)`, "does not export"},
		{"bucket of a counter", `rate(lpbridge_commands_total_bucket[5m])`, "does not export"},
		{"histogram without suffix", `rate(lpbridge_poll_duration_seconds[5m])`, "is a histogram"},
		{"no lpbridge metric", `sum(rate(http_requests_total[5m]))`, "queries no lpbridge_ metric"},
		{"grouping label of another metric", `sum by (type) (rate(lpbridge_commands_total[5m]))`, "has no label type"},
		{"matcher label of another metric", `lpbridge_agents_active{operation="login"}`, "has no label operation"},
		{"unknown value", `rate(lpbridge_commands_total{outcome="dead_letter"}[5m])`, "no such value"},
		{"unknown value, not equal", `rate(lpbridge_lp_logins_total{result!="okay"}[5m])`, "no such value"},
		{"regexp matching nothing", `rate(lpbridge_lp_requests_total{code=~"6xx"}[5m])`, "matches no value"},
		{"counter without rate", `sum(lpbridge_commands_total)`, "only grows"},
		{"rate without range", `rate(lpbridge_commands_total)`, "only grows"},
		{"gauge under rate", `rate(lpbridge_agents_active[5m])`, "is a gauge"},
		{"quantile without le", `histogram_quantile(0.9, sum by (operation) (rate(lpbridge_lp_request_duration_seconds_bucket[5m])))`, "must keep le"},
		{"quantile summed away", `histogram_quantile(0.9, sum(rate(lpbridge_cursor_lag_seconds_bucket[5m])))`, "must keep le"},
		{"buckets without quantile", `sum by (le) (rate(lpbridge_cursor_lag_seconds_bucket[5m]))`, "outside histogram_quantile"},
		{"quantile of a counter", `histogram_quantile(0.9, sum by (le) (rate(lpbridge_commands_total[5m])))`, "of no _bucket series"},
		{"le on a counter", `sum by (le) (rate(lpbridge_cursor_lag_seconds_count[5m]))`, "has no label le"},
		{"bad matcher", `lpbridge_agents_active{job~"x"}`, "cannot read matchers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := checkExpr(tt.expr, e)
			if tt.want == "" {
				if len(problems) > 0 {
					t.Errorf("%s: unexpected problems %q", tt.expr, problems)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("%s: problems %q, want one with %q", tt.expr, problems, tt.want)
			}
		})
	}
}

func TestCheckVariableQuery(t *testing.T) {
	e := bridgeMetrics(t)
	for q, want := range map[string]string{
		`label_values(lpbridge_agents_active{job=~"$job"}, instance)`: "",
		`label_values(lpbridge_agents_active, job)`:                   "",
		`label_values(lpbridge_agent_active, job)`:                    "does not export",
		`label_values(lpbridge_agents_active, operation)`:             "has no label operation",
		`query_result(lpbridge_agents_active)`:                        "not label_values",
	} {
		_, problems := checkVariableQuery(q, e)
		got := strings.Join(problems, "; ")
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: problems %q, want %q", q, got, want)
		}
	}
}

func TestUncoveredNamesMissingPanels(t *testing.T) {
	e := exported{"lpbridge_a_total": {}, "lpbridge_b": {}}
	tests := []struct {
		name     string
		shown    map[string]bool
		notShown map[string]string
		want     []string // substrings, one per problem
	}{
		{"all shown", map[string]bool{"lpbridge_a_total": true, "lpbridge_b": true}, nil, nil},
		{"one excused", map[string]bool{"lpbridge_a_total": true}, map[string]string{"lpbridge_b": "why"}, nil},
		{"one missing", map[string]bool{"lpbridge_a_total": true}, nil, []string{"exports lpbridge_b but no panel"}},
		{"excused but shown", map[string]bool{"lpbridge_a_total": true, "lpbridge_b": true}, map[string]string{"lpbridge_b": "why"},
			[]string{"lpbridge_b is listed as not on the dashboard, but a panel shows it"}},
		{"stale excuse", map[string]bool{"lpbridge_a_total": true, "lpbridge_b": true}, map[string]string{"lpbridge_gone": "why"},
			[]string{"lists lpbridge_gone, which the bridge does not export"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := uncovered(e, tt.shown, tt.notShown)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q, want %q", got[i], w)
				}
			}
		})
	}
}
