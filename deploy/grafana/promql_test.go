package grafana_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// The module has no PromQL parser (prometheus/prometheus is not a
// dependency and none is added), so expressions are read with regexps over
// the subset of PromQL a dashboard uses: selectors with matchers, range
// selectors, functions, aggregations with a prefix `by (...)`. String
// literals are blanked out first, so a label value such as
// "lpbridge.chat.line" is never taken for a metric name or a clause.

var (
	// metricRE finds metric names; the group is the name. The character
	// before it must not continue an identifier.
	metricRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_:])(lpbridge_[A-Za-z0-9_:]*)`)
	// matcherRE reads one matcher of a selector's braces.
	matcherRE = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*(?:,|$)`)
	// groupingRE finds label lists of aggregations and vector matching.
	groupingRE = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	// aggregationRE finds aggregations; group 2 is the label list of a
	// prefix by clause, if any.
	aggregationRE = regexp.MustCompile(`\b(?:sum|avg|min|max|count|group|stddev|stdvar)\s*(by\s*\(([^)]*)\))?\s*\(`)
	// rangeFnRE matches the end of the text before a selector that takes a
	// counter's rate (irate ends the same way).
	rangeFnRE = regexp.MustCompile(`\b(?:rate|irate|increase)\s*\(\s*$`)
	// labelValuesRE reads a Grafana variable query label_values(selector, label).
	labelValuesRE = regexp.MustCompile(`^\s*label_values\(\s*(.*?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)
)

// targetLabels are added by Prometheus (job, instance) and the Prometheus
// Operator's ServiceMonitor (the rest) when scraping, not by the bridge:
// any selector may use them, their values are the deployment's.
func targetLabels() []string {
	return []string{"job", "instance", "namespace", "pod", "service", "endpoint", "container"}
}

// histogramSuffixes are the series a histogram family is queried by.
func histogramSuffixes() []string { return []string{"_bucket", "_sum", "_count"} }

// family is one metric the bridge exports: its type and, per label, the
// values its series take.
type family struct {
	kind   dto.MetricType
	labels map[string]map[string]bool
}

// exported is what the bridge exports, by family name.
type exported map[string]*family

// newExported reads gathered families.
func newExported(fams []*dto.MetricFamily) exported {
	e := exported{}
	for _, f := range fams {
		fam := &family{kind: f.GetType(), labels: map[string]map[string]bool{}}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if fam.labels[l.GetName()] == nil {
					fam.labels[l.GetName()] = map[string]bool{}
				}
				fam.labels[l.GetName()][l.GetValue()] = true
			}
		}
		e[f.GetName()] = fam
	}
	return e
}

// series resolves a name as PromQL sees it: a counter's or gauge's family
// name, or a histogram's family name plus one of histogramSuffixes. It
// returns the family name and the suffix ("" for a counter or gauge).
func (e exported) series(name string) (famName, suffix string, err error) {
	if f, ok := e[name]; ok {
		if f.kind == dto.MetricType_HISTOGRAM {
			return "", "", fmt.Errorf("%s is a histogram: query %s_bucket (histogram_quantile), _sum or _count", name, name)
		}
		return name, "", nil
	}
	for _, s := range histogramSuffixes() {
		base, ok := strings.CutSuffix(name, s)
		if f, found := e[base]; ok && found && f.kind == dto.MetricType_HISTOGRAM {
			return base, s, nil
		}
	}
	return "", "", fmt.Errorf("queries %s, which the bridge does not export", name)
}

// selector is one metric name in an expression, with its matchers.
type selector struct {
	name     string // as written, e.g. lpbridge_poll_duration_seconds_bucket
	family   string // the family it resolves to; "" when it does not
	suffix   string
	matchers []matcher
	start    int  // offset of the name in the expression
	ranged   bool // followed by a range, e.g. [5m]
}

// matcher is one label matcher of a selector.
type matcher struct {
	label, op, value string
}

// has reports whether s has a matcher label op value.
func (s selector) has(label, op, value string) bool {
	return slices.Contains(s.matchers, matcher{label, op, value})
}

// parsed is an expression as the checks read it.
type parsed struct {
	expr, masked string
	selectors    []selector
}

// maskStrings blanks the contents of string literals, keeping offsets.
func maskStrings(expr string) string {
	b := []byte(expr)
	in, esc := false, false
	for i, c := range b {
		switch {
		case in && esc:
			esc = false
			b[i] = ' '
		case in && c == '\\':
			esc = true
			b[i] = ' '
		case in && c == '"':
			in = false
		case in:
			b[i] = ' '
		case c == '"':
			in = true
		}
	}
	return string(b)
}

// parse finds the selectors of expr and checks that each names a series
// the bridge exports; problems lists what is wrong.
func parse(expr string, e exported) (parsed, []string) {
	p := parsed{expr: expr, masked: maskStrings(expr)}
	var problems []string
	for _, loc := range metricRE.FindAllStringSubmatchIndex(p.masked, -1) {
		s := selector{name: p.masked[loc[2]:loc[3]], start: loc[2]}
		fam, suffix, err := e.series(s.name)
		if err != nil {
			problems = append(problems, err.Error())
		}
		s.family, s.suffix = fam, suffix
		rest := loc[3]
		for rest < len(p.masked) && p.masked[rest] == ' ' {
			rest++
		}
		if rest < len(p.masked) && p.masked[rest] == '{' {
			end := strings.IndexByte(p.masked[rest:], '}')
			if end < 0 {
				problems = append(problems, s.name+": unclosed {")
				break
			}
			ms, err := readMatchers(expr[rest+1 : rest+end])
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", s.name, err))
			}
			s.matchers = ms
			rest += end + 1
		}
		s.ranged = strings.HasPrefix(strings.TrimLeft(p.masked[rest:], " "), "[")
		p.selectors = append(p.selectors, s)
	}
	if len(p.selectors) == 0 {
		problems = append(problems, "queries no lpbridge_ metric, so nothing checks it")
	}
	return p, problems
}

// readMatchers reads the inside of a selector's braces.
func readMatchers(body string) ([]matcher, error) {
	var out []matcher
	for strings.TrimSpace(body) != "" {
		m := matcherRE.FindStringSubmatch(body)
		if m == nil {
			return out, fmt.Errorf("cannot read matchers at %q", body)
		}
		v, err := strconv.Unquote(m[3])
		if err != nil {
			return out, fmt.Errorf("matcher %s: %w", m[1], err)
		}
		out = append(out, matcher{label: m[1], op: m[2], value: v})
		body = body[len(m[0]):]
	}
	return out, nil
}

// labelsOf are the labels a series of fam carries: the bridge's, the
// scrape's, and le on histogram buckets.
func (e exported) labelsOf(s selector) map[string]bool {
	out := map[string]bool{}
	for _, l := range targetLabels() {
		out[l] = true
	}
	if f := e[s.family]; f != nil {
		for l := range f.labels {
			out[l] = true
		}
	}
	if s.suffix == "_bucket" {
		out["le"] = true
	}
	return out
}

// checkMatchers checks that every matched label exists on the series and
// that a literal value (not a Grafana $variable) is one the bridge exports
// (a regexp must match one), so a typo in a value fails too.
func checkMatchers(s selector, e exported) []string {
	if s.family == "" {
		return nil
	}
	var problems []string
	labels := e.labelsOf(s)
	for _, m := range s.matchers {
		if !labels[m.label] {
			problems = append(problems, fmt.Sprintf("%s has no label %s", s.name, m.label))
			continue
		}
		values := e[s.family].labels[m.label]
		if values == nil || strings.Contains(m.value, "$") {
			continue // a target label or le, or a variable: values are the deployment's
		}
		if m.op == "=" || m.op == "!=" {
			if !values[m.value] {
				problems = append(problems, fmt.Sprintf("%s{%s%s%q}: the bridge exports no such value", s.name, m.label, m.op, m.value))
			}
			continue
		}
		re, err := regexp.Compile("^(?:" + m.value + ")$")
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s{%s%s%q}: %v", s.name, m.label, m.op, m.value, err))
			continue
		}
		if !slices.ContainsFunc(mapKeys(values), re.MatchString) {
			problems = append(problems, fmt.Sprintf("%s{%s%s%q}: matches no value the bridge exports", s.name, m.label, m.op, m.value))
		}
	}
	return problems
}

// checkExpr checks a panel's expression: every name exported, every label
// and literal value real, counters and histograms under rate() or
// increase() with a range, gauges not, buckets only through
// histogram_quantile aggregated by le, and every grouping label present on
// every metric of the expression.
func checkExpr(expr string, e exported) (parsed, []string) {
	p, problems := parse(expr, e)
	buckets := false
	for _, s := range p.selectors {
		problems = append(problems, checkMatchers(s, e)...)
		if s.family == "" {
			continue
		}
		underRate := rangeFnRE.MatchString(p.masked[:s.start])
		switch kind := e[s.family].kind; {
		case kind == dto.MetricType_GAUGE && underRate:
			problems = append(problems, fmt.Sprintf("%s is a gauge: rate() or increase() of it means nothing", s.name))
		case kind != dto.MetricType_GAUGE && (!underRate || !s.ranged):
			problems = append(problems, fmt.Sprintf("%s only grows: query it as rate(%s[...]) or increase(%s[...])", s.name, s.name, s.name))
		}
		buckets = buckets || s.suffix == "_bucket"
	}
	hasQuantile := strings.Contains(p.masked, "histogram_quantile(")
	switch {
	case buckets && !hasQuantile:
		problems = append(problems, "histogram buckets outside histogram_quantile()")
	case !buckets && hasQuantile:
		problems = append(problems, "histogram_quantile() of no _bucket series")
	case buckets:
		for _, m := range aggregationRE.FindAllStringSubmatch(p.masked, -1) {
			if m[1] == "" || !slices.Contains(splitLabels(m[2]), "le") {
				problems = append(problems, fmt.Sprintf("%q under histogram_quantile() must keep le: sum by (le, ...) (...)", strings.TrimSpace(m[0])))
			}
		}
	}
	for _, g := range groupingRE.FindAllStringSubmatch(p.masked, -1) {
		for _, l := range splitLabels(g[2]) {
			for _, s := range p.selectors {
				if s.family != "" && !e.labelsOf(s)[l] {
					problems = append(problems, fmt.Sprintf("%s (%s): %s has no label %s", g[1], g[2], s.name, l))
				}
			}
		}
	}
	return p, problems
}

// checkVariableQuery checks a Grafana variable query label_values(selector, label).
func checkVariableQuery(query string, e exported) (parsed, []string) {
	m := labelValuesRE.FindStringSubmatch(query)
	if m == nil {
		return parsed{expr: query}, []string{fmt.Sprintf("variable query %q is not label_values(selector, label)", query)}
	}
	p, problems := parse(m[1], e)
	for _, s := range p.selectors {
		problems = append(problems, checkMatchers(s, e)...)
		if s.family != "" && !e.labelsOf(s)[m[2]] {
			problems = append(problems, fmt.Sprintf("label_values: %s has no label %s", s.name, m[2]))
		}
	}
	return p, problems
}

// uncovered lists the families the bridge exports that no panel queries
// and that notShown does not excuse, and the entries of notShown that are
// stale (not exported, or shown after all).
func uncovered(e exported, shown map[string]bool, notShown map[string]string) []string {
	var problems []string
	for name := range e {
		_, excused := notShown[name]
		switch {
		case shown[name] && excused:
			problems = append(problems, fmt.Sprintf("%s is listed as not on the dashboard, but a panel shows it", name))
		case !shown[name] && !excused:
			problems = append(problems, fmt.Sprintf("the bridge exports %s but no panel shows it: add a panel, or list it in notOnDashboard with the reason", name))
		}
	}
	for name := range notShown {
		if e[name] == nil {
			problems = append(problems, fmt.Sprintf("notOnDashboard lists %s, which the bridge does not export", name))
		}
	}
	slices.Sort(problems)
	return problems
}

func splitLabels(list string) []string {
	var out []string
	for l := range strings.SplitSeq(list, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
