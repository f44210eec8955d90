package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// The release tool's inputs, output directory, checksums and bill of
// materials: always run (no release build).

func TestCleanVersion(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "1.2.3", want: "1.2.3"},
		{in: "v1.2.3", want: "1.2.3"},
		{in: "v0.3.0-5-gabc1234-dirty", want: "0.3.0-5-gabc1234-dirty"},
		{in: "188a4f2-dirty", want: "188a4f2-dirty"},
		{in: "vacation", want: "vacation"},
		{in: " 1.0.0\n", want: "1.0.0"},
		{in: "", err: "want letters"},
		{in: "1.0/../../x", err: "want letters"},
		{in: "-1", err: "want letters"},
		{in: "1 2", err: "want letters"},
		{in: strings.Repeat("9", 65), err: "at most 64"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cleanVersion(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("cleanVersion(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("cleanVersion(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestResolveEpochAndVersion(t *testing.T) {
	root, err := findRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	o := options{Version: "v2.0.0", Root: root, Out: t.TempDir()}
	if err := o.resolve(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	if o.Version != "2.0.0" || !o.Epoch.Equal(time.Unix(1700000000, 0)) || o.Epoch.Location() != time.UTC {
		t.Errorf("resolved version %q epoch %v; want 2.0.0 and SOURCE_DATE_EPOCH in UTC", o.Version, o.Epoch)
	}
	o = options{Version: "2.0.0", Root: root}
	if err := o.resolve(t.Context(), "1600000000"); err != nil {
		t.Fatal(err)
	}
	if !o.Epoch.Equal(time.Unix(1600000000, 0)) {
		t.Errorf("-epoch did not win over SOURCE_DATE_EPOCH: %v", o.Epoch)
	}
	if o.Out != filepath.Join(root, "dist") {
		t.Errorf("default out %s; want %s", o.Out, filepath.Join(root, "dist"))
	}
	for _, bad := range []string{"yesterday", "-5", "1e9"} {
		o = options{Version: "2.0.0", Root: root}
		if err := o.resolve(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "Unix seconds") {
			t.Errorf("epoch %q: %v; want an error asking for Unix seconds", bad, err)
		}
	}
	o = options{Version: "2.0.0", Root: filepath.Join(root, "deploy")}
	if err := o.resolve(t.Context(), "1"); err == nil || !strings.Contains(err.Error(), "not the repository root") {
		t.Errorf("-root deploy/: %v; want an error", err)
	}
}

func TestRunRejectsArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"-version", "1.0.0", "extra"}, &stdout, &stderr)
	if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), "every input is a flag") {
		t.Errorf("run with an argument: %v; want a usage error", err)
	}
	err = run([]string{"-version", "1.0.0", "-epoch", "soon", "-out", t.TempDir()}, &stdout, &stderr)
	if _, ok := err.(usageError); !ok {
		t.Errorf("run with a bad epoch: %v; want a usage error", err)
	}
	err = run([]string{"-version", "1.0.0", "-epoch", "1", "-commit", "abc -X main.evil=1", "-out", t.TempDir()}, &stdout, &stderr)
	if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), "commit") {
		t.Errorf("run with a commit holding linker flags: %v; want a usage error", err)
	}
}

func TestPrepareOut(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		name  string
		out   string
		files []string
		err   string
	}{
		{name: "new", out: filepath.Join(root, "dist")},
		{name: "previous release", out: filepath.Join(root, "dist"), files: []string{"SHA256SUMS", "heartbeat_1_linux_amd64.tar.gz", ".stage/linux_amd64/heartbeat"}},
		{name: "the repository", out: root, err: "would wipe the repository"},
		{name: "its parent", out: filepath.Dir(root), err: "would wipe the repository"},
		{name: "the file system root", out: "/", err: "would wipe"},
		{name: "someone's files", out: filepath.Join(root, "docs"), files: []string{"heartbeat_1.tar.gz", "notes.txt"}, err: "holds notes.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range tc.files {
				p := filepath.Join(tc.out, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := prepareOut(tc.out, root)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("prepareOut(%s): %v; want an error with %q", tc.out, err, tc.err)
				}
				for _, f := range tc.files {
					if _, err := os.Stat(filepath.Join(tc.out, f)); err != nil {
						t.Errorf("a refused -out lost %s: %v", f, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(tc.out)
			if err != nil || len(entries) != 0 {
				t.Fatalf("out after prepareOut: %v, %v; want an empty directory", entries, err)
			}
		})
	}
}

func TestWriteSums(t *testing.T) {
	out := t.TempDir()
	for name, body := range map[string]string{"b.tar.gz": "bee", "a.zip": "", "c.json": "{}\n"} {
		if err := os.WriteFile(filepath.Join(out, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeSums(out, []string{"c.json", "b.tar.gz", "a.zip"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, sumsName))
	if err != nil {
		t.Fatal(err)
	}
	// sha256sum's line for the empty file.
	wantFirst := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.zip\n"
	if !strings.HasPrefix(string(got), wantFirst) {
		t.Errorf("SHA256SUMS starts %q; want %q", got, wantFirst)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	re := regexp.MustCompile(`^[0-9a-f]{64}  (a\.zip|b\.tar\.gz|c\.json)$`)
	for i, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("line %d %q is not in sha256sum's format", i+1, l)
		}
	}
	if len(lines) != 3 || !strings.HasSuffix(lines[1], "  b.tar.gz") || !strings.HasSuffix(lines[2], "  c.json") {
		t.Errorf("lines %q; want a.zip, b.tar.gz, c.json in that order", lines)
	}
	for _, bad := range [][]string{{"a.zip", "a.zip"}, {sumsName}, {"../x"}, {".stage"}} {
		if err := writeSums(out, bad); err == nil {
			t.Errorf("writeSums(%q) succeeded; want an error", bad)
		}
	}
}

func TestCheckOnly(t *testing.T) {
	out := t.TempDir()
	for _, n := range []string{"a.tar.gz", "leftover.tmp"} {
		if err := os.WriteFile(filepath.Join(out, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(out, stageDirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkOnly(out, []string{"a.tar.gz"}); err == nil || !strings.Contains(err.Error(), "leftover.tmp") {
		t.Errorf("checkOnly with a stray file: %v; want an error naming it", err)
	}
	if err := checkOnly(out, []string{"a.tar.gz", "leftover.tmp", "missing.deb"}); err == nil || !strings.Contains(err.Error(), "missing.deb") {
		t.Errorf("checkOnly with a missing artefact: %v; want an error naming it", err)
	}
	if err := checkOnly(out, []string{"a.tar.gz", "leftover.tmp"}); err != nil {
		t.Errorf("checkOnly: %v", err)
	}
}

func TestComponent(t *testing.T) {
	// The go.sum line of go-plugin v1.8.0 would give the same hash in hex.
	c := moduleComponent("1.2.3", &debug.Module{Path: "github.com/hashicorp/go-plugin", Version: "v1.8.0", Sum: "h1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})
	if c.Purl != "pkg:golang/github.com/hashicorp/go-plugin@v1.8.0" || c.BOMRef != c.Purl || c.Version != "v1.8.0" || c.Type != "library" {
		t.Errorf("component %+v", c)
	}
	if len(c.Hashes) != 1 || c.Hashes[0].Alg != "SHA-256" || c.Hashes[0].Content != "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" {
		t.Errorf("hashes %+v; want the h1 sum in hex", c.Hashes)
	}
	local := moduleComponent("1.2.3", &debug.Module{Path: sdkPackage, Version: "v0.0.0", Replace: &debug.Module{Path: "./plugins/sdk", Version: "(devel)"}})
	if local.Version != "1.2.3" || local.Purl != "pkg:golang/"+sdkPackage+"@1.2.3" || len(local.Hashes) != 0 {
		t.Errorf("a module replaced by a directory of the repository: %+v; want the release version", local)
	}
	fork := moduleComponent("1.2.3", &debug.Module{Path: "example.com/a", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/Fork", Version: "v1.0.1+incompatible"}})
	if fork.Name != "example.com/Fork" || fork.Purl != "pkg:golang/example.com/Fork@v1.0.1%2Bincompatible" {
		t.Errorf("a replaced module: %+v; want the replacement, + escaped", fork)
	}
	if got := contentUUID([]byte("x")); !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got) {
		t.Errorf("contentUUID = %s; want a version 5 UUID URN", got)
	}
	if contentUUID([]byte("x")) == contentUUID([]byte("y")) {
		t.Error("contentUUID ignores its content")
	}
}

func TestBuildSBOMRefusesOtherBinaries(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary is built from the deploy module, not the root one.
	if _, err := buildSBOM("1.0.0", testEpoch, []string{exe}); err == nil || !strings.Contains(err.Error(), "not "+rootModule) {
		t.Errorf("buildSBOM of another module's binary: %v; want an error", err)
	}
	if _, err := buildSBOM("1.0.0", testEpoch, []string{filepath.Join(t.TempDir(), "none")}); err == nil {
		t.Error("buildSBOM of a missing file succeeded")
	}
}
