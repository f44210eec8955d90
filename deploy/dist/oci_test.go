package main

import (
	"archive/tar"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestOCIImage(t *testing.T) { checkOCIImage(t, builtDist(t)) }

// untar unpacks the tar in r into dir (regular files and directories only),
// checking that every entry is owned by root and dated epoch, and returns
// the entries' names and modes in their order.
func untar(t *testing.T, r io.Reader, dir string, epoch time.Time) []string {
	t.Helper()
	tr := tar.NewReader(r)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		mode := hdr.FileInfo().Mode()
		names = append(names, hdr.Name+" "+mode.String())
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: owner %d:%d (%q:%q), want 0:0 without names", hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname)
		}
		if !hdr.ModTime.Equal(epoch) {
			t.Errorf("%s: time %s, want %s", hdr.Name, hdr.ModTime, epoch)
		}
		if strings.Contains(hdr.Name, "..") || strings.HasPrefix(hdr.Name, "/") {
			t.Fatalf("entry %q leaves the directory", hdr.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode.Perm()|mode&os.ModeSticky); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if _, err := os.Stat(filepath.Dir(p)); err != nil {
				t.Errorf("%s comes before its directory", hdr.Name)
				os.MkdirAll(filepath.Dir(p), 0o755)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode.Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		default:
			t.Errorf("%s: type %c, want only files and directories", hdr.Name, hdr.Typeflag)
		}
	}
}

func checkOCIImage(t *testing.T, r *Release) {
	tarball := filepath.Join(r.Out, ociFileName(r.Version))
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	names := untar(t, f, dir, r.Epoch)
	if !slices.IsSorted(names) {
		t.Errorf("the layout's tar is not sorted: %q", names)
	}

	// No Docker media type anywhere: every JSON blob and index.json.
	blobs, err := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range append(blobs, filepath.Join(dir, "index.json")) {
		fi, err := os.Stat(b)
		if err != nil || fi.Size() > 1<<20 {
			continue // layers
		}
		raw, _ := os.ReadFile(b)
		if strings.Contains(string(raw), "vnd.docker") {
			t.Errorf("%s has a Docker media type:\n%s", filepath.Base(b), raw)
		}
	}

	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].MediaType != types.OCIImageIndex ||
		im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != r.Version {
		t.Fatalf("index.json: %+v, want one OCI image index named %s", im.Manifests, r.Version)
	}
	idx, err := top.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("image index media type %s", mt)
	}
	multi, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, d := range multi.Manifests {
		if d.Platform == nil {
			t.Fatalf("manifest %s has no platform", d.Digest)
		}
		platforms = append(platforms, d.Platform.OS+"/"+d.Platform.Architecture)
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: media type %s", d.Platform, d.MediaType)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		checkImage(t, r, img, Platform{d.Platform.OS, d.Platform.Architecture})
	}
	if !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %q, want linux/amd64 and linux/arm64", platforms)
	}
}

func checkImage(t *testing.T, r *Release, img v1.Image, p Platform) {
	t.Run(p.String(), func(t *testing.T) {
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.MediaType != types.OCIConfigJSON {
			t.Errorf("config media type %s", m.Config.MediaType)
		}
		if len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
			t.Fatalf("layers %+v, want one %s", m.Layers, types.OCILayer)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != p.OS || cf.Architecture != p.Arch {
			t.Errorf("config platform %s/%s", cf.OS, cf.Architecture)
		}
		if !cf.Created.Time.Equal(r.Epoch) {
			t.Errorf("created %s, want %s", cf.Created.Time, r.Epoch)
		}
		for _, h := range cf.History {
			if !h.Created.Time.Equal(r.Epoch) {
				t.Errorf("history created %s, want %s", h.Created.Time, r.Epoch)
			}
		}
		c := cf.Config
		if c.User != "65532:65532" {
			t.Errorf("User %q, want 65532:65532", c.User)
		}
		if !slices.Equal(c.Entrypoint, []string{"/usr/bin/heartbeat"}) {
			t.Errorf("Entrypoint %q", c.Entrypoint)
		}
		if !slices.Equal(c.Cmd, []string{"run", "--config", "/etc/heartbeat/heartbeat.yaml"}) {
			t.Errorf("Cmd %q", c.Cmd)
		}
		if _, ok := c.ExposedPorts["9464/tcp"]; !ok || len(c.ExposedPorts) != 1 {
			t.Errorf("ExposedPorts %v, want 9464/tcp", c.ExposedPorts)
		}
		for k, want := range map[string]string{
			"org.opencontainers.image.version":  r.Version,
			"org.opencontainers.image.licenses": "Apache-2.0",
			"org.opencontainers.image.source":   "https://github.com/seed-e9b80cf6/heartbeat",
			"org.opencontainers.image.created":  r.Epoch.UTC().Format(time.RFC3339),
		} {
			if c.Labels[k] != want {
				t.Errorf("label %s=%q, want %q", k, c.Labels[k], want)
			}
		}

		layer := m.Layers[0]
		l, err := img.LayerByDigest(layer.Digest)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		root := t.TempDir()
		entries := untar(t, rc, root, r.Epoch)
		want := []string{
			"etc/ drwxr-xr-x", "etc/group -rw-r--r--", "etc/heartbeat/ drwxr-xr-x",
			"etc/heartbeat/heartbeat.yaml -rw-r--r--", "etc/passwd -rw-r--r--",
			"etc/ssl/ drwxr-xr-x", "etc/ssl/certs/ drwxr-xr-x", "etc/ssl/certs/ca-certificates.crt -rw-r--r--",
			"tmp/ dtrwxrwxrwx",
			"usr/ drwxr-xr-x", "usr/bin/ drwxr-xr-x", "usr/bin/heartbeat -rwxr-xr-x",
			"usr/lib/ drwxr-xr-x", "usr/lib/heartbeat/ drwxr-xr-x", "usr/lib/heartbeat/plugins/ drwxr-xr-x",
			"usr/share/ drwxr-xr-x", "usr/share/doc/ drwxr-xr-x", "usr/share/doc/heartbeat/ drwxr-xr-x",
			"usr/share/doc/heartbeat/LICENSE -rw-r--r--",
		}
		for _, p := range r.Plugins {
			want = append(want, "usr/lib/heartbeat/plugins/heartbeat-target-"+p+" -rwxr-xr-x")
		}
		slices.Sort(want)
		if !slices.Equal(entries, want) {
			t.Errorf("layer entries (in order):\n  %s\nwant:\n  %s", strings.Join(entries, "\n  "), strings.Join(want, "\n  "))
		}
		if fi, err := os.Stat(filepath.Join(root, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 {
			t.Errorf("/tmp is not sticky")
		}

		passwd, _ := os.ReadFile(filepath.Join(root, "etc", "passwd"))
		if !strings.Contains(string(passwd), "\nheartbeat:x:65532:65532:") {
			t.Errorf("/etc/passwd has no user heartbeat 65532:\n%s", passwd)
		}
		group, _ := os.ReadFile(filepath.Join(root, "etc", "group"))
		if !strings.Contains(string(group), "\nheartbeat:x:65532:") {
			t.Errorf("/etc/group has no group heartbeat 65532:\n%s", group)
		}
		checkCABundle(t, filepath.Join(root, "etc", "ssl", "certs", "ca-certificates.crt"))

		if host := (Platform{runtime.GOOS, runtime.GOARCH}); host != p {
			return
		}
		checkInstalledRoot(t, r, root, filepath.Join(root, "etc", "heartbeat", "heartbeat.yaml"))
	})
}

// checkCABundle parses the image's roots: many, all CA certificates.
func checkCABundle(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rest := raw; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", n, err)
		}
		if !cert.IsCA {
			t.Errorf("%s is not a CA", cert.Subject)
		}
		n++
	}
	pool := x509.NewCertPool()
	if n < 50 || !pool.AppendCertsFromPEM(raw) {
		t.Errorf("%d roots in %s, want Mozilla's store", n, path)
	}
}
