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

// secretLike matches env and config names that hold secrets.
func secretLike(name string) bool {
	return regexp.MustCompile(`(PASSWORD|TOKEN|SECRET|APP_KEY|NKEY_SEED)$`).MatchString(name)
}

func TestChartLints(t *testing.T) {
	for _, sets := range [][]string{
		nil,
		{"serviceMonitor.enabled=true"},
		{"config.BRIDGE_LP_ACCOUNT=55500011", "config.BRIDGE_NATS_URL=nats://nats:4222"},
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
		t.Errorf("strategy %v, want Recreate (no two pods may poll the same agents)", s)
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
		"extraEnv[0].valueFrom.secretKeyRef.key=appKey")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "kind: Secret\n") {
		t.Error("the chart renders a Secret: secrets must be created outside it")
	}
	objs := manifests(t, "config.BRIDGE_LP_ACCOUNT=55500011", "agents.secretName=bot-agents",
		"nats.credsSecret.name=nats-creds", "nats.nkeySecret.name=nats-nkey",
		"nats.authSecret.name=nats-auth", "nats.tlsSecret.name=nats-tls", "nats.tlsSecret.clientCert=true")
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
		{"two replicas", []string{"replicaCount=2"}, "replicaCount"},
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
	// The template guard holds even when schema validation is skipped.
	if _, err := helm(t, "template", "rel", chartDir, "--kube-version", kubeVersion, "--skip-schema-validation",
		"--set", "replicaCount=2"); err == nil || !strings.Contains(err.Error(), "ownership lease") {
		t.Errorf("replicaCount=2 without schema: %v, want the lease explanation", err)
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
	real := notes(t, "config.BRIDGE_LP_ACCOUNT=55500011", "config.BRIDGE_NATS_URL=nats://nats:4222",
		"serviceMonitor.enabled=true")
	for _, want := range []string{"create secret generic rel-lpbridge-agents --from-file=agents.json=", "ServiceMonitor"} {
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
