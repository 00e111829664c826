// Package helm_test renders the lpbridge Helm chart with helm itself and
// checks what Kubernetes would receive. Building helm takes minutes the
// first time, so the tests only run with LPBRIDGE_HELM=1 (deploy/helm/check.sh
// sets it); HELM may name a helm binary to use instead of go run.
package helm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// helmModule is the helm version the chart is checked with; it is run from
// the module cache, never added to go.mod.
const helmModule = "helm.sh/helm/v3/cmd/helm@v3.22.0"

// kubeVersion is passed to helm template: a helm built from source reports
// Kubernetes v1.20 (releases set the real one with ldflags), which the
// chart's kubeVersion (>=1.23) refuses.
const kubeVersion = "1.31.0"

// chartDir is the chart, relative to this package.
const chartDir = "lpbridge"

// helmCommand is how to run helm: $HELM when set (check.sh installs helm
// once and passes it), else go run of helmModule. It skips the test unless
// LPBRIDGE_HELM=1.
func helmCommand(t *testing.T) []string {
	t.Helper()
	if os.Getenv("LPBRIDGE_HELM") != "1" {
		t.Skip("set LPBRIDGE_HELM=1 (deploy/helm/check.sh does) to render the chart with helm")
	}
	if bin := os.Getenv("HELM"); bin != "" {
		return []string{bin}
	}
	return []string{"go", "run", helmModule}
}

// helm runs helm with args and returns its stdout; err carries stderr.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmdline := append(helmCommand(t), args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(cmdline[0], cmdline[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &helmError{args: args, stderr: stderr.String(), err: err}
	}
	return stdout.String(), nil
}

// helmError is a failed helm run.
type helmError struct {
	args   []string
	stderr string // what helm itself said
	err    error
}

func (e *helmError) Error() string {
	return fmt.Sprintf("helm %s: %v: %s", strings.Join(e.args, " "), e.err, e.stderr)
}

func (e *helmError) Unwrap() error { return e.err }

// render runs helm template on dir with --set values.
func render(t *testing.T, dir string, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", "rel", dir, "--namespace", "bots", "--kube-version", kubeVersion}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return helm(t, args...)
}

// object is one rendered Kubernetes object.
type object = map[string]any

// manifests renders the chart and decodes every object, by kind.
func manifests(t *testing.T, sets ...string) map[string]object {
	t.Helper()
	out, err := render(t, chartDir, sets...)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]object{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v", err)
		}
		if o == nil {
			continue
		}
		kind, _ := o["kind"].(string)
		if _, dup := objs[kind]; dup {
			t.Fatalf("two objects of kind %s", kind)
		}
		objs[kind] = o
	}
	return objs
}

// get walks o along path: string keys into maps, ints into lists.
func get(t *testing.T, o any, path ...any) any {
	t.Helper()
	cur := o
	for i, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a map at %v", path[:i+1], path[:i])
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path[:i+1], k)
			}
			cur = l[k]
		}
	}
	return cur
}

// named finds the item of a list of maps whose "name" is name.
func named(t *testing.T, list any, name string) map[string]any {
	t.Helper()
	items, _ := list.([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

// matches reports whether every selector label is among labels.
func matches(selector, labels any) bool {
	sel, _ := selector.(map[string]any)
	lab, _ := labels.(map[string]any)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if lab[k] != v {
			return false
		}
	}
	return true
}
