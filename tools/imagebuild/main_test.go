package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// fixture is a small stand-in for the Debian files and the binary, so the
// tests run without ca-certificates or tzdata installed.
type fixture struct {
	binary, certs, zoneinfo string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{
		binary:   filepath.Join(dir, "lpbridge"),
		certs:    filepath.Join(dir, "ca-certificates.crt"),
		zoneinfo: filepath.Join(dir, "zoneinfo"),
	}
	must(t, os.WriteFile(f.binary, []byte("\x7fELF not really"), 0o700))
	must(t, os.WriteFile(f.certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600))
	must(t, os.MkdirAll(filepath.Join(f.zoneinfo, "Europe"), 0o700))
	must(t, os.WriteFile(filepath.Join(f.zoneinfo, "Europe", "Berlin"), []byte("TZif2"), 0o600))
	must(t, os.Symlink("Berlin", filepath.Join(f.zoneinfo, "Europe", "Busingen")))
	must(t, os.Symlink("/etc/localtime", filepath.Join(f.zoneinfo, "localtime")))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// build runs the command as `make image` does and returns its output dir
// and the digest it printed.
func (f fixture) build(t *testing.T, epoch string) (string, string) {
	t.Helper()
	out := t.TempDir()
	var stdout bytes.Buffer
	err := run(context.Background(), []string{
		"-binary", f.binary, "-certs", f.certs, "-zoneinfo", f.zoneinfo, "-out", out,
		"-tag", "1.2.3", "-revision", "abc123", "-version", "v1.2.3", "-epoch", epoch,
	}, &stdout)
	if err != nil {
		t.Fatalf("imagebuild: %v", err)
	}
	fields := strings.Fields(stdout.String())
	if len(fields) != 3 || fields[1] != "ghcr.io/lpbridge/lpbridge:1.2.3" || !strings.HasPrefix(fields[2], "sha256:") {
		t.Fatalf("imagebuild printed %q, want \"image <repo>:<tag> sha256:...\"", stdout.String())
	}
	return out, fields[2]
}

// TestBuildIsReproducible: the digest and the docker-archive depend on the
// inputs' content and the epoch only, not on the host files' times or
// modes, nor on when the build runs.
func TestBuildIsReproducible(t *testing.T) {
	f := newFixture(t)
	out1, d1 := f.build(t, "1700000000")

	later := time.Now().Add(time.Hour)
	must(t, filepath.WalkDir(filepath.Dir(f.binary), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink != 0 { // Chtimes would follow a link out of the fixture
			return err
		}
		return os.Chtimes(p, later, later)
	}))
	must(t, os.Chmod(f.certs, 0o644))
	out2, d2 := f.build(t, "1700000000")
	if d1 != d2 {
		t.Fatalf("two builds of the same inputs: digests %s and %s", d1, d2)
	}
	a1, err := os.ReadFile(filepath.Join(out1, archiveFile))
	must(t, err)
	a2, err := os.ReadFile(filepath.Join(out2, archiveFile))
	must(t, err)
	if !bytes.Equal(a1, a2) {
		t.Fatal("two builds of the same inputs: docker-archives differ")
	}
	if written, err := os.ReadFile(filepath.Join(out2, digestFile)); err != nil || strings.TrimSpace(string(written)) != d2 {
		t.Fatalf("digest file holds %q (%v), want %s", written, err, d2)
	}

	if _, d3 := f.build(t, "1700000001"); d3 == d1 {
		t.Fatal("another SOURCE_DATE_EPOCH gave the same digest: the epoch is not in the image")
	}
}

// TestImageContents checks the layers and the config of an image: the one
// `make image` wrote when LPBRIDGE_IMAGE_DIR names its directory (CI), else
// one built here from a fixture.
func TestImageContents(t *testing.T) {
	dir := os.Getenv("LPBRIDGE_IMAGE_DIR")
	zone := "usr/share/zoneinfo/Europe/Berlin"
	if dir == "" {
		dir, _ = newFixture(t).build(t, "1700000000")
	}
	img := readLayout(t, filepath.Join(dir, layoutDir))
	cfg, err := img.ConfigFile()
	must(t, err)

	c := cfg.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/lpbridge"}) || cfg.OS != "linux" {
		t.Errorf("config: user %q, entrypoint %q, os %q; want 65532:65532, [/lpbridge], linux", c.User, c.Entrypoint, cfg.OS)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || !slices.Contains(c.Env, "BRIDGE_HTTP_ADDR=:8080") {
		t.Errorf("config: exposed %v, env %q; want 8080/tcp and BRIDGE_HTTP_ADDR=:8080", c.ExposedPorts, c.Env)
	}
	for _, l := range []string{"source", "revision", "version"} {
		if c.Labels["org.opencontainers.image."+l] == "" {
			t.Errorf("config: label org.opencontainers.image.%s is empty", l)
		}
	}

	files := readFiles(t, img, cfg.Created.Time)
	binary, err := os.ReadFile(filepath.Join(dir, "lpbridge"))
	if errors.Is(err, os.ErrNotExist) { // a fixture build: no binary beside the image
		binary = []byte("\x7fELF not really")
	} else {
		must(t, err)
	}
	checks := []struct {
		name string
		mode int64
		want func(*tar.Header, []byte) bool
	}{
		{"lpbridge", 0o755, func(_ *tar.Header, b []byte) bool { return bytes.Equal(b, binary) }},
		{"etc/ssl/certs/ca-certificates.crt", 0o644, func(_ *tar.Header, b []byte) bool {
			return bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----"))
		}},
		{zone, 0o644, func(_ *tar.Header, b []byte) bool { return bytes.HasPrefix(b, []byte("TZif")) }},
		{"etc/passwd", 0o644, func(_ *tar.Header, b []byte) bool {
			return bytes.Contains(b, []byte("\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
		}},
		{"etc/group", 0o644, func(_ *tar.Header, b []byte) bool { return bytes.Contains(b, []byte("\nnonroot:x:65532:\n")) }},
		{"tmp/", 0o1777, func(h *tar.Header, _ []byte) bool { return h.Typeflag == tar.TypeDir }},
		{"home/nonroot/", 0o700, func(h *tar.Header, _ []byte) bool { return h.Uid == 65532 && h.Gid == 65532 }},
	}
	for _, ck := range checks {
		f, ok := files[ck.name]
		switch {
		case !ok:
			t.Errorf("image lacks /%s", ck.name)
		case f.hdr.Mode != ck.mode:
			t.Errorf("/%s: mode %o, want %o", ck.name, f.hdr.Mode, ck.mode)
		case !ck.want(&f.hdr, f.data):
			t.Errorf("/%s: unexpected content or owner (uid %d)", ck.name, f.hdr.Uid)
		}
	}
	if _, ok := files["usr/share/zoneinfo/localtime"]; ok {
		t.Error("image has zoneinfo/localtime, an absolute link to a file it lacks")
	}
}

// readLayout returns the one image of an OCI layout.
func readLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	must(t, err)
	m, err := idx.IndexManifest()
	must(t, err)
	if len(m.Manifests) != 1 {
		t.Fatalf("layout %s holds %d manifests, want 1", dir, len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	must(t, err)
	return img
}

// readFiles returns every entry of every layer by name, and fails on an
// entry whose time is not the image's or whose owner has a name: those
// would make the layer differ between two builds.
func readFiles(t *testing.T, img v1.Image, created time.Time) map[string]*entry {
	t.Helper()
	layers, err := img.Layers()
	must(t, err)
	files := map[string]*entry{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		must(t, err)
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			must(t, err)
			if !hdr.ModTime.Equal(created) || hdr.Uname != "" || hdr.Gname != "" {
				t.Errorf("/%s: mtime %s owner %q:%q; want %s, numeric owner", hdr.Name, hdr.ModTime, hdr.Uname, hdr.Gname, created)
			}
			data, err := io.ReadAll(tr)
			must(t, err)
			files[hdr.Name] = &entry{hdr: *hdr, data: data}
		}
		must(t, rc.Close())
	}
	return files
}
