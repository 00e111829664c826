package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The non-root user the bridge runs as: the uid and gid distroless calls
// "nonroot", which the Helm chart's securityContext expects.
const (
	nonrootUID  = 65532
	nonrootName = "nonroot"
	nonrootHome = "/home/nonroot"
)

// entry is one file of a layer, held in memory: the image is a few
// megabytes, and sorting whole entries is what makes the layer's bytes
// depend on nothing but their content.
type entry struct {
	hdr  tar.Header
	data []byte
}

// rootfs collects a layer's entries with fixed mtimes and owners, so that
// two builds of the same inputs give the same tar, byte for byte.
type rootfs struct {
	mtime   time.Time
	entries map[string]*entry
}

func newRootfs(mtime time.Time) *rootfs {
	return &rootfs{mtime: mtime.UTC(), entries: map[string]*entry{}}
}

// dir adds a directory (and its parents, root-owned 0755).
func (r *rootfs) dir(name string, mode int64, uid int) {
	name = strings.Trim(path.Clean(name), "/")
	if name == "" || name == "." {
		return
	}
	r.dir(path.Dir(name), 0o755, 0)
	if _, ok := r.entries[name+"/"]; ok && uid == 0 && mode == 0o755 {
		return // a parent seen before keeps the mode it was given
	}
	r.entries[name+"/"] = &entry{hdr: tar.Header{
		Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid,
	}}
}

// file adds a regular file owned by root.
func (r *rootfs) file(name string, mode int64, data []byte) {
	name = strings.Trim(path.Clean(name), "/")
	r.dir(path.Dir(name), 0o755, 0)
	r.entries[name] = &entry{
		hdr:  tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))},
		data: data,
	}
}

// symlink adds a symbolic link owned by root.
func (r *rootfs) symlink(name, target string) {
	name = strings.Trim(path.Clean(name), "/")
	r.dir(path.Dir(name), 0o755, 0)
	r.entries[name] = &entry{hdr: tar.Header{
		Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777,
	}}
}

// copyFile adds the host file src at name, with mode.
func (r *rootfs) copyFile(name, src string, mode int64) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	r.file(name, mode, data)
	return nil
}

// copyTree adds the host tree src under name: directories, regular files
// (0644) and relative symlinks. Absolute symlinks are left out: Debian's
// zoneinfo/localtime points at /etc/localtime, which the image has not.
func (r *rootfs) copyTree(name, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return fmt.Errorf("walk %s: %w", src, err)
		}
		dst := path.Join(name, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			r.dir(dst, 0o755, 0)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("readlink %s: %w", p, err)
			}
			if !filepath.IsAbs(target) {
				r.symlink(dst, target)
			}
		case d.Type().IsRegular():
			return r.copyFile(dst, p, 0o644)
		}
		return nil
	})
}

// tar returns the layer: entries sorted by name (a directory sorts before
// what it holds), every time set to the build's mtime, no user or group
// names, so the bytes depend on the content alone.
func (r *rootfs) tar() ([]byte, error) {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := r.entries[n]
		hdr := e.hdr
		hdr.ModTime = r.mtime
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(&hdr); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", n, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar write %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar close: %w", err)
	}
	return buf.Bytes(), nil
}

// baseFS is what a static Go binary needs from an OS: CA certificates for
// https, time zones for time.LoadLocation, a user and group to run as with
// a home, and a world-writable /tmp (the embedded NATS store's default).
func baseFS(mtime time.Time, certs, zoneinfo string) (*rootfs, error) {
	r := newRootfs(mtime)
	if err := r.copyFile("etc/ssl/certs/ca-certificates.crt", certs, 0o644); err != nil {
		return nil, err
	}
	if err := r.copyTree("usr/share/zoneinfo", zoneinfo); err != nil {
		return nil, fmt.Errorf("zoneinfo: %w", err)
	}
	r.file("etc/passwd", 0o644, fmt.Appendf(nil,
		"root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n",
		nonrootName, nonrootUID, nonrootUID, nonrootName, nonrootHome))
	r.file("etc/group", 0o644, fmt.Appendf(nil, "root:x:0:\n%s:x:%d:\n", nonrootName, nonrootUID))
	r.dir("root", 0o700, 0)
	r.dir(nonrootHome, 0o700, nonrootUID)
	r.dir("tmp", 0o1777, 0)
	return r, nil
}
