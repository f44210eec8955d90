package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The image's run-time settings, the same in deploy/docker/Dockerfile
// (oci_dockerfile_test.go holds it to these).
const (
	// imageUser is the non-root user heartbeat of the image's /etc/passwd.
	imageUser = "65532:65532"
	// imageCABundle is where Go's TLS stack looks for roots on Linux first.
	imageCABundle = "/etc/ssl/certs/ca-certificates.crt"
	imageSource   = "https://github.com/seed-e9b80cf6/heartbeat"
	// imageRefAnnotation names the image in the layout's index.json, so
	// that `skopeo copy oci-archive:FILE:VERSION` and loaders find it.
	imageRefAnnotation = "org.opencontainers.image.ref.name"
)

func imageEntrypoint() []string { return []string{installedBinary} }
func imageCmd() []string        { return []string{"run", "--config", installedConfig} }
func imageExposedPort() string  { return listenPort + "/tcp" }

// imagePlatforms are the platforms of the image index, in its order.
func imagePlatforms() []Platform { return []Platform{{"linux", "amd64"}, {"linux", "arm64"}} }

// ociFileName is the artefact's name: heartbeat_0.3.0_oci.tar.
func ociFileName(version string) string { return "heartbeat_" + version + "_oci.tar" }

// imageFile is one entry of the image's only layer.
type imageFile struct {
	path string // absolute, without a trailing slash
	mode fs.FileMode
	dir  bool
	// Exactly one of src (a file on disk) and data is set for a file.
	src  string
	data []byte
}

// imageFiles are the entries of the image's layer for the binaries in
// staged, sorted by path, every parent directory listed before its
// children.
func imageFiles(r *Release, staged string) ([]imageFile, error) {
	src := func(rel string) string { return filepath.Join(r.Root, filepath.FromSlash(rel)) }
	out := []imageFile{
		{path: installedBinary, mode: 0o755, src: filepath.Join(staged, "heartbeat")},
		{path: installedConfig, mode: 0o644, src: src(containerConfig)},
		{path: "/etc/passwd", mode: 0o644, src: src(packagingDir + "/image/passwd")},
		{path: "/etc/group", mode: 0o644, src: src(packagingDir + "/image/group")},
		{path: path.Join(installedDocDir, "LICENSE"), mode: 0o644, src: src("LICENSE")},
		{path: imageCABundle, mode: 0o644, data: caBundle()},
		{path: "/tmp", mode: fs.ModeSticky | 0o777, dir: true},
	}
	for _, p := range r.Plugins {
		exe := "heartbeat-target-" + p
		out = append(out, imageFile{path: path.Join(installedPluginDir, exe), mode: 0o755, src: filepath.Join(staged, "plugins", exe)})
	}
	// Every parent directory explicitly, 0755, owned by root.
	seen := map[string]bool{}
	for _, f := range out {
		seen[f.path] = true
	}
	for _, f := range slices.Clone(out) {
		for d := path.Dir(f.path); d != "/"; d = path.Dir(d) {
			if !seen[d] {
				seen[d] = true
				out = append(out, imageFile{path: d, mode: 0o755, dir: true})
			}
		}
	}
	slices.SortFunc(out, func(a, b imageFile) int { return strings.Compare(a.path, b.path) })
	for _, f := range out {
		if f.src == "" {
			continue
		}
		if _, err := os.Stat(f.src); err != nil {
			return nil, fmt.Errorf("image: %s: %w", f.path, err)
		}
	}
	return out, nil
}

// caBundle is the roots Go's TLS stack trusts in the image: Mozilla's root
// store as golang.org/x/crypto/x509roots/fallback pins it (go.sum), so the
// image does not depend on the build host's certificates. Roots the bundle
// trusts only under a constraint (say, for certificates issued before a
// date) are left out: a PEM file cannot carry the constraint, and trusting
// them without it would trust more than the store does.
func caBundle() []byte {
	var b bytes.Buffer
	b.WriteString("# Mozilla's root store, from golang.org/x/crypto/x509roots/fallback/bundle,\n# without the roots it trusts only under a constraint.\n")
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}) // writes to memory: no error
	}
	return b.Bytes()
}

// writeImageLayer writes the layer's tar, gzipped, to w: fixed times,
// owner root (0:0, no names), the entries in the order given.
func writeImageLayer(w io.Writer, files []imageFile, epoch time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		name := strings.TrimPrefix(f.path, "/")
		hdr := &tar.Header{
			Name:    name,
			Mode:    int64(f.mode.Perm()),
			ModTime: epoch,
		}
		if f.mode&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		if f.dir {
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		hdr.Typeflag = tar.TypeReg
		data := f.data
		if data == nil {
			if data, err = os.ReadFile(f.src); err != nil {
				return err
			}
		}
		hdr.Size = int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// buildImage is the image of one platform: OCI media types throughout (the
// empty image is Docker-typed), from scratch, one layer.
func buildImage(r *Release, p Platform, layerFile string) (v1.Image, error) {
	layer, err := tarball.LayerFromFile(layerFile, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: r.Epoch.UTC()}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   created,
			CreatedBy: "heartbeat release tool (deploy/dist)",
			Comment:   "heartbeat, its bundled plugins, the config, a non-root user, CA roots",
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Arch
	cf.Created = created
	cf.Config = v1.Config{
		User:         imageUser,
		Entrypoint:   imageEntrypoint(),
		Cmd:          imageCmd(),
		Env:          []string{"PATH=/usr/bin:/bin"},
		WorkingDir:   "/",
		ExposedPorts: map[string]struct{}{imageExposedPort(): {}},
		StopSignal:   "SIGTERM",
		Labels:       imageLabels(r),
	}
	return mutate.ConfigFile(img, cf)
}

func imageLabels(r *Release) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "heartbeat",
		"org.opencontainers.image.description": pkgSummary,
		"org.opencontainers.image.version":     r.Version,
		"org.opencontainers.image.source":      imageSource,
		"org.opencontainers.image.licenses":    pkgLicense,
		"org.opencontainers.image.created":     r.Epoch.UTC().Format(time.RFC3339),
	}
}

// writeOCI writes heartbeat_<version>_oci.tar: an OCI image layout whose
// index.json names (by the version) an image index of a linux/amd64 and a
// linux/arm64 image, packed as a tar with sorted entries and fixed times.
// No Docker daemon and no base image are involved: nothing needs a network.
func writeOCI(r *Release) ([]string, error) {
	tmp, err := os.MkdirTemp("", "heartbeat-oci-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	var adds []mutate.IndexAddendum
	for _, p := range imagePlatforms() {
		staged, ok := r.Staged[p]
		if !ok {
			return nil, fmt.Errorf("image: no binaries staged for %s", p)
		}
		files, err := imageFiles(r, staged)
		if err != nil {
			return nil, err
		}
		layerFile := filepath.Join(tmp, "layer-"+p.String()+".tar.gz")
		if err := writeFileWith(layerFile, func(w io.Writer) error { return writeImageLayer(w, files, r.Epoch) }); err != nil {
			return nil, fmt.Errorf("image: layer for %s: %w", p, err)
		}
		img, err := buildImage(r, p, layerFile)
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", p, err)
		}
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch}},
		})
	}
	index := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)

	dir := filepath.Join(tmp, "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, err
	}
	if err := lp.AppendIndex(index, layout.WithAnnotations(map[string]string{imageRefAnnotation: r.Version})); err != nil {
		return nil, fmt.Errorf("image: writing the layout: %w", err)
	}
	name := ociFileName(r.Version)
	if err := writeFileWith(filepath.Join(r.Out, name), func(w io.Writer) error { return tarDir(w, dir, r.Epoch) }); err != nil {
		return nil, fmt.Errorf("image: %s: %w", name, err)
	}
	return []string{name}, nil
}

// tarDir packs the layout in dir as a tar: entries sorted by name, parent
// directories first, 0755 and 0644, owner root, every time epoch.
func tarDir(w io.Writer, dir string, epoch time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(names)
	tw := tar.NewWriter(w)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: name, ModTime: epoch}
		switch {
		case fi.IsDir():
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, name+"/", 0o755
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		case fi.Mode().IsRegular():
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, fi.Size()
		default:
			return fmt.Errorf("%s: not a regular file", name)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// writeFileWith creates dst and fills it with write; a half-written file is
// removed.
func writeFileWith(dst string, write func(io.Writer) error) (err error) {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	return write(f)
}
