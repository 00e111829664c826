package helm_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// secretLike matches env and config names that hold secrets (OTLP headers
// carry collector credentials).
func secretLike(name string) bool {
	return regexp.MustCompile(`(PASSWORD|TOKEN|SECRET|APP_KEY|CLIENT_ID|NKEY_SEED|OTLP_HEADERS|OTLP_TRACES_HEADERS)$`).MatchString(name)
}

func TestChartLints(t *testing.T) {
	for _, sets := range [][]string{
		nil,
		{"serviceMonitor.enabled=true"},
		{"config.BRIDGE_LP_ACCOUNT=55500011", "config.BRIDGE_NATS_URL=nats://nats:4222"},
		{"config.BRIDGE_LP_ACCOUNT=55500011", "config.BRIDGE_NATS_URL=nats://nats:4222", "replicaCount=3",
			"config.BRIDGE_OTLP_ENDPOINT=otel-collector:4318", "config.BRIDGE_OTLP_INSECURE=true",
			"config.BRIDGE_TRACE_SAMPLE_RATIO=0.1", "tracing.headersSecret.name=otel-auth", "config.BRIDGE_COMMANDS_DURABLE=true"},
	} {
		args := []string{"lint", "--strict", chartDir}
		for _, s := range sets {
			args = append(args, "--set", s)
		}
		if out, err := helm(t, args...); err != nil {
			t.Errorf("lint %v: %v\n%s", sets, err, out)
		}
	}
}

func TestDefaultRender(t *testing.T) {
	objs := manifests(t)
	for _, kind := range []string{"Deployment", "Service", "ServiceAccount", "ConfigMap", "PodDisruptionBudget"} {
		if objs[kind] == nil {
			t.Errorf("no %s rendered", kind)
		}
	}
	for _, kind := range []string{"ServiceMonitor", "Secret"} {
		if objs[kind] != nil {
			t.Errorf("%s rendered with default values", kind)
		}
	}

	dep := objs["Deployment"]
	if r := get(t, dep, "spec", "replicas"); r != 1 {
		t.Errorf("replicas %v, want 1", r)
	}
	if s := get(t, dep, "spec", "strategy", "type"); s != "Recreate" {
		t.Errorf("strategy %v, want Recreate (the demo's embedded NATS keeps leases per pod: no two pods may run)", s)
	}
	pod := get(t, dep, "spec", "template", "spec")
	podLabels := get(t, dep, "spec", "template", "metadata", "labels")
	c := get(t, pod, "containers", 0)

	// Probes on the bridge's HTTP port.
	for probe, path := range map[string]string{"livenessProbe": "/livez", "readinessProbe": "/readyz"} {
		if p := get(t, c, probe, "httpGet", "path"); p != path {
			t.Errorf("%s path %v, want %s", probe, p, path)
		}
		if p := get(t, c, probe, "httpGet", "port"); p != "http" {
			t.Errorf("%s port %v, want http", probe, p)
		}
	}
	if port := named(t, get(t, c, "ports"), "http"); port == nil || port["containerPort"] != 8080 {
		t.Errorf("container port http = %v, want 8080", port)
	}

	// Configuration: the ConfigMap by envFrom, the chart's own variables by env.
	cm := objs["ConfigMap"]
	if ref := get(t, c, "envFrom", 0, "configMapRef", "name"); ref != get(t, cm, "metadata", "name") {
		t.Errorf("envFrom %v does not name the ConfigMap %v", ref, get(t, cm, "metadata", "name"))
	}
	env := get(t, c, "env")
	for name, want := range map[string]string{"BRIDGE_HTTP_ADDR": ":8080", "BRIDGE_AGENTS_FILE": "/etc/lpbridge/agents.json"} {
		if e := named(t, env, name); e == nil || e["value"] != want {
			t.Errorf("env %s = %v, want %q", name, e, want)
		}
	}
	data, _ := get(t, cm, "data").(map[string]any)
	for k := range data {
		if !strings.HasPrefix(k, "BRIDGE_") {
			t.Errorf("ConfigMap key %s is not a BRIDGE_ variable", k)
		}
	}
	if data["BRIDGE_POLL_INTERVAL"] != "2s" {
		t.Errorf("ConfigMap BRIDGE_POLL_INTERVAL = %v, want 2s", data["BRIDGE_POLL_INTERVAL"])
	}
	if _, ok := data["BRIDGE_LP_ACCOUNT"]; ok {
		t.Error("an empty BRIDGE_LP_ACCOUNT reached the ConfigMap (it must be left out)")
	}
	for k, want := range map[string]string{
		"BRIDGE_LEASE_TTL": "15s", "BRIDGE_SHUTDOWN_TIMEOUT": "20s", "BRIDGE_AWAY_ON_STOP": "false",
		"BRIDGE_LOGOUT_ON_STOP": "false", "BRIDGE_COMMANDS_DURABLE": "false", "BRIDGE_COMMANDS_TIMEOUT": "45s",
		"BRIDGE_OTLP_INSECURE": "false", "BRIDGE_TRACE_SAMPLE_RATIO": "1",
	} {
		if data[k] != want {
			t.Errorf("ConfigMap %s = %v, want %q", k, data[k], want)
		}
	}
	if _, ok := data["BRIDGE_OTLP_ENDPOINT"]; ok {
		t.Error("an empty BRIDGE_OTLP_ENDPOINT reached the ConfigMap (tracing is off by default)")
	}
	if named(t, env, "OTEL_EXPORTER_OTLP_HEADERS") != nil {
		t.Error("OTEL_EXPORTER_OTLP_HEADERS set without tracing.headersSecret")
	}
	// Kubernetes must not kill the bridge before its own shutdown bound.
	if g, ok := get(t, pod, "terminationGracePeriodSeconds").(int); !ok || g <= 20 {
		t.Errorf("terminationGracePeriodSeconds %v, want more than BRIDGE_SHUTDOWN_TIMEOUT 20s", get(t, pod, "terminationGracePeriodSeconds"))
	}

	// The agents file comes from a Secret reference, mounted read-only.
	vol := named(t, get(t, pod, "volumes"), "agents")
	if vol == nil {
		t.Fatal("no agents volume")
	}
	if n := get(t, vol, "secret", "secretName"); n != "rel-lpbridge-agents" {
		t.Errorf("agents secretName %v, want rel-lpbridge-agents", n)
	}
	if p := get(t, vol, "secret", "items", 0, "path"); p != "agents.json" {
		t.Errorf("agents item path %v, want agents.json", p)
	}
	if o := get(t, vol, "secret", "optional"); o != true {
		t.Errorf("agents secret optional = %v in the demo (no account), want true", o)
	}
	mount := named(t, get(t, c, "volumeMounts"), "agents")
	if mount == nil || mount["mountPath"] != "/etc/lpbridge" || mount["readOnly"] != true {
		t.Errorf("agents mount %v, want read-only at /etc/lpbridge", mount)
	}

	// Non-root, read-only root filesystem, resources.
	if v := get(t, pod, "securityContext", "runAsNonRoot"); v != true {
		t.Errorf("pod runAsNonRoot = %v", v)
	}
	for field, want := range map[string]any{"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "runAsNonRoot": true} {
		if v := get(t, c, "securityContext", field); v != want {
			t.Errorf("container %s = %v, want %v", field, v, want)
		}
	}
	if named(t, get(t, c, "volumeMounts"), "tmp") == nil {
		t.Error("no writable /tmp for a read-only root filesystem")
	}
	if get(t, c, "resources", "requests", "memory") == nil || get(t, c, "resources", "limits", "memory") == nil {
		t.Error("container has no memory request or limit")
	}
	if v := get(t, pod, "automountServiceAccountToken"); v != false {
		t.Errorf("automountServiceAccountToken = %v, want false", v)
	}
	if sa := get(t, pod, "serviceAccountName"); sa != get(t, objs["ServiceAccount"], "metadata", "name") {
		t.Errorf("serviceAccountName %v is not the rendered ServiceAccount", sa)
	}

	// Service and PDB select the pod.
	svc := objs["Service"]
	if !matches(get(t, svc, "spec", "selector"), podLabels) {
		t.Errorf("Service selector %v does not select pod labels %v", get(t, svc, "spec", "selector"), podLabels)
	}
	if p := get(t, svc, "spec", "ports", 0); get(t, p, "name") != "http" || get(t, p, "targetPort") != "http" {
		t.Errorf("Service port %v, want http -> http", p)
	}
	pdb := objs["PodDisruptionBudget"]
	if !matches(get(t, pdb, "spec", "selector", "matchLabels"), podLabels) {
		t.Error("PDB selector does not select the pod")
	}
	if v := get(t, pdb, "spec", "maxUnavailable"); v != 1 {
		t.Errorf("PDB maxUnavailable %v, want 1 (a single replica must still drain)", v)
	}
}

func TestServiceMonitorOnlyWhenEnabled(t *testing.T) {
	if objs := manifests(t, "serviceMonitor.enabled=false"); objs["ServiceMonitor"] != nil {
		t.Error("ServiceMonitor rendered while disabled")
	}
	objs := manifests(t, "serviceMonitor.enabled=true", "serviceMonitor.labels.release=kps")
	sm := objs["ServiceMonitor"]
	if sm == nil {
		t.Fatal("no ServiceMonitor while enabled")
	}
	if v := get(t, sm, "apiVersion"); v != "monitoring.coreos.com/v1" {
		t.Errorf("apiVersion %v", v)
	}
	ep := get(t, sm, "spec", "endpoints", 0)
	if get(t, ep, "port") != "http" || get(t, ep, "path") != "/metrics" {
		t.Errorf("endpoint %v, want port http path /metrics", ep)
	}
	if !matches(get(t, sm, "spec", "selector", "matchLabels"), get(t, objs["Service"], "metadata", "labels")) {
		t.Error("ServiceMonitor does not select the Service")
	}
	if v := get(t, sm, "metadata", "labels", "release"); v != "kps" {
		t.Errorf("extra label release = %v, want kps", v)
	}
	if ns := get(t, sm, "spec", "namespaceSelector", "matchNames", 0); ns != "bots" {
		t.Errorf("namespaceSelector %v, want the release namespace bots", ns)
	}
}

// With every secret option set, secrets still only travel by reference.
func TestNoSecretsInPlainText(t *testing.T) {
	out, err := render(t, chartDir,
		"config.BRIDGE_LP_ACCOUNT=55500011", "config.BRIDGE_NATS_URL=nats://nats:4222",
		"agents.secretName=bot-agents",
		"nats.credsSecret.name=nats-creds", "nats.nkeySecret.name=nats-nkey",
		"nats.authSecret.name=nats-auth", "nats.tlsSecret.name=nats-tls", "nats.tlsSecret.clientCert=true",
		"extraEnv[0].name=BRIDGE_AGENT_APP_KEY", "extraEnv[0].valueFrom.secretKeyRef.name=k",
		"extraEnv[0].valueFrom.secretKeyRef.key=appKey",
		"config.BRIDGE_OTLP_ENDPOINT=https://otel.example:4318", "tracing.headersSecret.name=otel-auth")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "kind: Secret\n") {
		t.Error("the chart renders a Secret: secrets must be created outside it")
	}
	objs := manifests(t, "config.BRIDGE_LP_ACCOUNT=55500011", "agents.secretName=bot-agents",
		"nats.credsSecret.name=nats-creds", "nats.nkeySecret.name=nats-nkey",
		"nats.authSecret.name=nats-auth", "nats.tlsSecret.name=nats-tls", "nats.tlsSecret.clientCert=true",
		"config.BRIDGE_OTLP_ENDPOINT=https://otel.example:4318", "tracing.headersSecret.name=otel-auth",
		"tracing.headersSecret.key=otlp-headers")
	data, _ := get(t, objs["ConfigMap"], "data").(map[string]any)
	for k := range data {
		if secretLike(k) {
			t.Errorf("ConfigMap holds %s", k)
		}
	}
	pod := get(t, objs["Deployment"], "spec", "template", "spec")
	c := get(t, pod, "containers", 0)
	env, _ := get(t, c, "env").([]any)
	refs := map[string]bool{}
	for _, e := range env {
		m := e.(map[string]any)
		name := m["name"].(string)
		if secretLike(name) {
			if _, plain := m["value"]; plain {
				t.Errorf("env %s has a plain value", name)
			}
			refs[name] = get(t, m, "valueFrom", "secretKeyRef", "name") == "nats-auth"
		}
	}
	for _, name := range []string{"BRIDGE_NATS_PASSWORD", "BRIDGE_NATS_TOKEN"} {
		if !refs[name] {
			t.Errorf("env %s is not a secretKeyRef to nats-auth", name)
		}
	}
	if h := named(t, env, "OTEL_EXPORTER_OTLP_HEADERS"); get(t, h, "valueFrom", "secretKeyRef", "name") != "otel-auth" ||
		get(t, h, "valueFrom", "secretKeyRef", "key") != "otlp-headers" {
		t.Errorf("env OTEL_EXPORTER_OTLP_HEADERS = %v, want a secretKeyRef to otel-auth/otlp-headers", h)
	}
	for vol, file := range map[string]string{"nats-creds": "BRIDGE_NATS_CREDS_FILE", "nats-nkey": "BRIDGE_NATS_NKEY_FILE", "nats-tls": "BRIDGE_NATS_CA_FILE"} {
		v := named(t, get(t, pod, "volumes"), vol)
		if v == nil || get(t, v, "secret", "secretName") != vol {
			t.Errorf("volume %s = %v, want a Secret volume of %s", vol, v, vol)
		}
		if named(t, env, file) == nil {
			t.Errorf("no %s for volume %s", file, vol)
		}
	}
	agents := named(t, get(t, pod, "volumes"), "agents")
	if get(t, agents, "secret", "secretName") != "bot-agents" || get(t, agents, "secret", "optional") != false {
		t.Errorf("agents volume %v, want the required Secret bot-agents once an account is set", agents)
	}
}

// Values that would break a promise make helm fail, with a reason and
// without echoing the secret.
func TestChartRefusesUnsafeValues(t *testing.T) {
	const sentinel = "hunter2-sentinel"
	tests := []struct {
		name string
		sets []string
		want string
	}{
		{"two replicas on embedded NATS", []string{"replicaCount=2"}, "needs config.BRIDGE_NATS_URL"},
		{"two replicas without lease", []string{"replicaCount=2", "leaseTTL=0", "config.BRIDGE_NATS_URL=nats://nats:4222"}, "needs the ownership lease"},
		{"rolling update without lease", []string{"strategy.type=RollingUpdate", "leaseTTL=0", "config.BRIDGE_NATS_URL=nats://nats:4222"}, "strategy RollingUpdate"},
		{"rolling update on embedded NATS", []string{"strategy.type=RollingUpdate"}, "strategy RollingUpdate"},
		{"grace period within shutdown", []string{"config.BRIDGE_SHUTDOWN_TIMEOUT=30s", "terminationGracePeriodSeconds=30"}, "terminationGracePeriodSeconds 30 must be larger"},
		{"lease ttl in config", []string{"config.BRIDGE_LEASE_TTL=5s"}, "leaseTTL"},
		{"lease ttl not a duration", []string{"leaseTTL=soon"}, "leaseTTL"},
		{"sample ratio zero", []string{"config.BRIDGE_TRACE_SAMPLE_RATIO=0"}, "BRIDGE_TRACE_SAMPLE_RATIO"},
		{"otlp headers in extraEnv", []string{"extraEnv[0].name=OTEL_EXPORTER_OTLP_HEADERS", "extraEnv[0].value=authorization=Bearer " + sentinel}, "use valueFrom.secretKeyRef"},
		{"credentials in otlp endpoint", []string{"config.BRIDGE_OTLP_ENDPOINT=https://bot:" + sentinel + "@otel:4318"}, "BRIDGE_OTLP_ENDPOINT"},
		{"key in otlp endpoint query", []string{"config.BRIDGE_OTLP_ENDPOINT=https://otel:4318/v1/traces?api_key=" + sentinel}, "BRIDGE_OTLP_ENDPOINT"},
		{"secret in config", []string{"config.BRIDGE_NATS_PASSWORD=" + sentinel}, "BRIDGE_NATS_PASSWORD looks like a secret"},
		{"agent secret in config", []string{"config.BRIDGE_AGENT_SECRET=" + sentinel}, "BRIDGE_AGENT_SECRET looks like a secret"},
		{"plain secret in extraEnv", []string{"extraEnv[0].name=BRIDGE_AGENT_PASSWORD", "extraEnv[0].value=" + sentinel}, "use valueFrom.secretKeyRef"},
		{"http addr in config", []string{"config.BRIDGE_HTTP_ADDR=:9"}, "http.port"},
		{"non-bridge config", []string{"config.HOME=/x"}, "HOME"},
		{"typo", []string{"serviceMonitr.enabled=true"}, "serviceMonitr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := render(t, chartDir, tt.sets...)
			if err == nil {
				t.Fatalf("rendered, want a failure naming %q", tt.want)
			}
			var he *helmError
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not helm's", err)
			}
			if !strings.Contains(he.stderr, tt.want) {
				t.Errorf("helm said %q, want it to name %q", he.stderr, tt.want)
			}
			if strings.Contains(out+he.stderr, sentinel) {
				t.Error("the secret value shows in helm's output")
			}
		})
	}
	// The template guards hold even when schema validation is skipped.
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"replicaCount=2", "leaseTTL=0s", "config.BRIDGE_NATS_URL=nats://nats:4222"}, "ownership lease"},
		{[]string{"config.BRIDGE_SHUTDOWN_TIMEOUT=1m30s", "terminationGracePeriodSeconds=90"}, "terminationGracePeriodSeconds"},
		{[]string{"config.BRIDGE_SHUTDOWN_TIMEOUT=soon"}, "is not a duration"},
		{[]string{"config.BRIDGE_OTLP_ENDPOINT=https://bot:" + sentinel + "@otel:4318"}, "must not carry credentials"},
	} {
		args := []string{"template", "rel", chartDir, "--kube-version", kubeVersion, "--skip-schema-validation"}
		for _, s := range tc.sets {
			args = append(args, "--set", s)
		}
		out, err := helm(t, args...)
		var he *helmError
		if !errors.As(err, &he) || !strings.Contains(he.stderr, tc.want) {
			t.Errorf("%v without schema: %v, want %q", tc.sets, err, tc.want)
			continue
		}
		if strings.Contains(out+he.stderr, sentinel) {
			t.Errorf("%v without schema: the secret value shows in helm's output", tc.sets)
		}
	}
}

func TestAgentsFromEnvInstead(t *testing.T) {
	objs := manifests(t, "agents.enabled=false")
	pod := get(t, objs["Deployment"], "spec", "template", "spec")
	if named(t, get(t, pod, "volumes"), "agents") != nil {
		t.Error("agents volume rendered with agents.enabled=false")
	}
	if named(t, get(t, pod, "containers", 0, "env"), "BRIDGE_AGENTS_FILE") != nil {
		t.Error("BRIDGE_AGENTS_FILE set with agents.enabled=false (the bridge refuses it next to BRIDGE_AGENT_LOGIN)")
	}
}

// notes renders NOTES.txt, which helm template leaves out: a copy of the
// chart renders it through tpl as a YAML string.
func notes(t *testing.T, sets ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lpbridge")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "templates", "NOTES.txt"), filepath.Join(dir, "notes.tpl")); err != nil {
		t.Fatal(err)
	}
	wrapper := `notes: {{ tpl (.Files.Get "notes.tpl") . | quote }}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "zz-notes.yaml"), []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"template", "rel", dir, "--namespace", "bots", "--kube-version", kubeVersion,
		"--show-only", "templates/zz-notes.yaml"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Notes string }
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil || doc.Notes == "" {
		t.Fatalf("notes did not render: %v\n%s", err, out)
	}
	return doc.Notes
}

func TestNotes(t *testing.T) {
	demo := notes(t)
	for _, want := range []string{"DEMO MODE", "EMBEDDED NATS", "port-forward svc/rel-lpbridge 8080", "/readyz"} {
		if !strings.Contains(demo, want) {
			t.Errorf("demo notes lack %q:\n%s", want, demo)
		}
	}
	if strings.Contains(demo, "REPLICAS") {
		t.Errorf("single-replica notes talk about replicas:\n%s", demo)
	}
	real := notes(t, "config.BRIDGE_LP_ACCOUNT=55500011", "config.BRIDGE_NATS_URL=nats://nats:4222",
		"serviceMonitor.enabled=true", "replicaCount=3", "config.BRIDGE_OTLP_ENDPOINT=otel:4318", "tracing.headersSecret.name=otel-auth")
	for _, want := range []string{"create secret generic rel-lpbridge-agents --from-file=agents.json=", "ServiceMonitor",
		"REPLICAS: 3 pods share the agents", "within 15s", `Traces go to otel:4318 (OTLP/HTTP), with the headers of the Secret "otel-auth"`} {
		if !strings.Contains(real, want) {
			t.Errorf("notes lack %q:\n%s", want, real)
		}
	}
	for _, unwanted := range []string{"DEMO MODE", "EMBEDDED NATS"} {
		if strings.Contains(real, unwanted) {
			t.Errorf("notes of a real deployment say %q", unwanted)
		}
	}
}
