package helm_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDefaultImageIsMakeImage: with default values the chart runs the image
// that `make image` builds and names (IMAGE_REPO:IMAGE_TAG, the tag being
// the chart's appVersion), with a pull policy that uses an image loaded into
// the cluster by hand (kind load image-archive) instead of pulling it.
func TestDefaultImageIsMakeImage(t *testing.T) {
	c := get(t, manifests(t)["Deployment"], "spec", "template", "spec", "containers", 0)

	// The Makefile's own variables, evaluated by make itself.
	out, err := exec.Command("make", "-C", "../..", "-s", "--no-print-directory",
		"--eval", "print-image: ; @echo $(IMAGE_REPO):$(IMAGE_TAG)", "print-image").CombinedOutput()
	if err != nil {
		t.Fatalf("make print-image: %v: %s", err, out)
	}
	want := strings.TrimSpace(string(out))
	if strings.HasSuffix(want, ":") {
		t.Fatalf("make image has no tag (%q): it reads appVersion from Chart.yaml", want)
	}
	if img := get(t, c, "image"); img != want {
		t.Errorf("chart image %v, want %s (what make image builds)", img, want)
	}
	if p := get(t, c, "imagePullPolicy"); p != "IfNotPresent" {
		t.Errorf("imagePullPolicy %v, want IfNotPresent: a loaded image must not be pulled", p)
	}
}
