// Command imagebuild assembles the lpbridge container image without a
// Docker engine or a base image to pull: a base layer of CA certificates,
// time zones and a non-root user taken from this machine's Debian packages,
// and a layer with the static bridge binary. It writes an OCI layout
// (for `crane push`) and a docker-archive tarball (for `podman load`,
// `kind load image-archive`) and prints the image's digest.
//
// Every time in the image is SOURCE_DATE_EPOCH and every owner is fixed, so
// two builds of one commit on machines with the same Debian packages give
// the same digest. `make image` runs it.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where the image puts things, and what the bridge listens on inside it.
const (
	binaryPath = "/lpbridge"
	// httpPort is the bridge's /livez, /readyz and /metrics port. The
	// image listens on all interfaces (the binary's own default is
	// 127.0.0.1, unreachable from outside a container).
	httpPort = "8080"
	// The names under which the outputs are written in -out.
	layoutDir   = "oci"
	archiveFile = "lpbridge.tar"
	digestFile  = "digest"
)

// options are the command line: inputs, outputs and labels.
type options struct {
	binary, certs, zoneinfo string
	out, repo, tag, arch    string
	source, revision        string
	version                 string
	epoch                   int64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	fs.StringVar(&o.binary, "binary", "", "the static lpbridge binary (required)")
	fs.StringVar(&o.certs, "certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle (Debian's ca-certificates)")
	fs.StringVar(&o.zoneinfo, "zoneinfo", "/usr/share/zoneinfo", "time zone tree (Debian's tzdata)")
	fs.StringVar(&o.out, "out", "bin/image", "output directory: oci/ (OCI layout), lpbridge.tar (docker-archive), digest")
	fs.StringVar(&o.repo, "repo", "ghcr.io/lpbridge/lpbridge", "image repository, as the Helm chart's image.repository")
	fs.StringVar(&o.tag, "tag", "dev", "image tag, as the Helm chart's appVersion")
	fs.StringVar(&o.arch, "arch", "amd64", "GOARCH the binary was built for")
	fs.StringVar(&o.source, "source", "https://github.com/lpbridge/lpbridge", "org.opencontainers.image.source")
	fs.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision (the commit)")
	fs.StringVar(&o.version, "version", "", "org.opencontainers.image.version")
	fs.Int64Var(&o.epoch, "epoch", envEpoch(), "time of every file and of the image (default $SOURCE_DATE_EPOCH, else 0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.binary == "" {
		return errors.New("-binary is required")
	}
	img, err := build(o)
	if err != nil {
		return err
	}
	digest, err := write(ctx, o, img)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "image %s:%s %s\n", o.repo, o.tag, digest)
	return err
}

// envEpoch is SOURCE_DATE_EPOCH (reproducible-builds.org), or 0.
func envEpoch() int64 {
	n, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// build assembles the image in memory.
func build(o options) (v1.Image, error) {
	mtime := time.Unix(o.epoch, 0).UTC()
	base, err := baseFS(mtime, o.certs, o.zoneinfo)
	if err != nil {
		return nil, err
	}
	app := newRootfs(mtime)
	if err := app.copyFile(binaryPath, o.binary, 0o755); err != nil {
		return nil, err
	}

	labels := map[string]string{
		"org.opencontainers.image.title":       "lpbridge",
		"org.opencontainers.image.description": "LivePerson Chat Agent API to NATS JetStream bridge",
		"org.opencontainers.image.source":      o.source,
		"org.opencontainers.image.revision":    o.revision,
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.created":     mtime.Format(time.RFC3339),
	}
	cfg := &v1.ConfigFile{
		Architecture: o.arch,
		OS:           "linux",
		Created:      v1.Time{Time: mtime},
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Entrypoint:   []string{binaryPath},
			User:         fmt.Sprintf("%d:%d", nonrootUID, nonrootUID),
			WorkingDir:   nonrootHome,
			ExposedPorts: map[string]struct{}{httpPort + "/tcp": {}},
			Env: []string{
				"PATH=/",
				"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
				"BRIDGE_HTTP_ADDR=:" + httpPort,
			},
			Labels: labels,
		},
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)

	var adds []mutate.Addendum
	for _, l := range []struct {
		fs  *rootfs
		why string
	}{
		{base, "base: CA certificates, zoneinfo, user nonroot (65532)"},
		{app, "lpbridge " + o.version},
	} {
		layer, err := layerOf(l.fs)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: mtime}, CreatedBy: "imagebuild: " + l.why},
		})
	}
	img, err = mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	return img, nil
}

// layerOf turns a rootfs into a gzip-compressed OCI layer.
func layerOf(r *rootfs) (v1.Layer, error) {
	data, err := r.tar()
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return layer, nil
}

// write replaces the outputs in o.out and returns the image's digest.
func write(ctx context.Context, o options, img v1.Image) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("digest: %w", err)
	}
	ref, err := name.NewTag(o.repo + ":" + o.tag)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image name: %w", err)
	}
	dir := filepath.Join(o.out, layoutDir)
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, fmt.Errorf("clean %s: %w", dir, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("layout %s: %w", dir, err)
	}
	// ref.name is how `podman load`/skopeo name the image taken from the layout.
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.String(),
	})); err != nil {
		return v1.Hash{}, fmt.Errorf("layout %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return v1.Hash{}, err
	}
	archive := filepath.Join(o.out, archiveFile)
	if err := tarball.WriteToFile(archive, ref, img); err != nil {
		return v1.Hash{}, fmt.Errorf("docker-archive %s: %w", archive, err)
	}
	if err := os.WriteFile(filepath.Join(o.out, digestFile), []byte(digest.String()+"\n"), 0o644); err != nil {
		return v1.Hash{}, fmt.Errorf("digest file: %w", err)
	}
	return digest, nil
}
