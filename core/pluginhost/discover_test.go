package pluginhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	write := func(path string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // umask must not decide
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	realBinary := filepath.Join(elsewhere, "real-binary")
	write(realBinary, 0o755)
	realText := filepath.Join(elsewhere, "real-text")
	write(realText, 0o644)

	tests := []struct {
		file  string
		make  func(name string)
		found string // plugin name when found, "" when skipped
		// reason is part of the reason Scan gives for skipping the file; ""
		// when the file is not named like a plugin at all.
		reason string
	}{
		{"heartbeat-target-http", func(n string) { write(filepath.Join(dir, n), 0o755) }, "http", ""},
		{"heartbeat-target-owner-only", func(n string) { write(filepath.Join(dir, n), 0o700) }, "owner-only", ""},
		{"heartbeat-target-noexec", func(n string) { write(filepath.Join(dir, n), 0o644) }, "", "not executable: run chmod +x " + filepath.Join(dir, "heartbeat-target-noexec")},
		{"heartbeat-target-adir", func(n string) {
			if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "", "a directory"},
		{"other-binary", func(n string) { write(filepath.Join(dir, n), 0o755) }, "", ""},
		{"heartbeat-target-", func(n string) { write(filepath.Join(dir, n), 0o755) }, "", ""},
		{"heartbeat-target-old~", func(n string) { write(filepath.Join(dir, n), 0o755) }, "", ""},
		{"heartbeat-target-linked", func(n string) { link(realBinary, n) }, "linked", ""},
		{"heartbeat-target-broken", func(n string) { link(filepath.Join(elsewhere, "missing"), n) }, "", "a symlink to " + filepath.Join(elsewhere, "missing")},
		{"heartbeat-target-linktext", func(n string) { link(realText, n) }, "", "not executable"},
		{"heartbeat-target-linkdir", func(n string) { link(elsewhere, n) }, "", "a directory"},
	}
	for _, tc := range tests {
		tc.make(tc.file)
	}
	found, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	scanned, skipped, err := Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(Names(scanned), ",") != strings.Join(Names(found), ",") {
		t.Errorf("Scan found %v, Discover %v", Names(scanned), Names(found))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var got *Found
			for i := range found {
				if filepath.Base(found[i].Path) == tc.file {
					got = &found[i]
				}
			}
			switch {
			case tc.found == "" && got != nil:
				t.Errorf("found %+v; want it skipped", *got)
			case tc.found != "" && got == nil:
				t.Errorf("not found; want plugin %q", tc.found)
			case got != nil:
				if got.Name != tc.found || got.Path != filepath.Join(dir, tc.file) {
					t.Errorf("found %+v; want name %q at %s", *got, tc.found, filepath.Join(dir, tc.file))
				}
				if !filepath.IsAbs(got.Path) {
					t.Errorf("path %s is not absolute", got.Path)
				}
			}
			var skip *Skipped
			for i := range skipped {
				if filepath.Base(skipped[i].Path) == tc.file {
					skip = &skipped[i]
				}
			}
			switch {
			case tc.reason == "" && skip != nil:
				t.Errorf("reported as skipped (%+v); want it ignored or found", *skip)
			case tc.reason != "" && skip == nil:
				t.Errorf("not reported as skipped; want a reason with %q", tc.reason)
			case skip != nil && !strings.Contains(skip.Reason, tc.reason):
				t.Errorf("reason %q lacks %q", skip.Reason, tc.reason)
			case skip != nil && WhyNotFound(dir, skip.Name) != skip.Path+" is "+skip.Reason:
				t.Errorf("WhyNotFound(%s) = %q; want %q", skip.Name, WhyNotFound(dir, skip.Name), skip.Path+" is "+skip.Reason)
			}
			if tc.found != "" && WhyNotFound(dir, tc.found) != "" {
				t.Errorf("WhyNotFound(%s) = %q for a usable plugin", tc.found, WhyNotFound(dir, tc.found))
			}
		})
	}
	if got := strings.Join(Names(found), ","); got != "http,linked,owner-only" {
		t.Errorf("Names = %s, want them sorted: http,linked,owner-only", got)
	}
	if f, ok := Lookup(found, "linked"); !ok || f.Name != "linked" {
		t.Errorf("Lookup(linked) = %+v, %v", f, ok)
	}
	if _, ok := Lookup(found, "noexec"); ok {
		t.Error("Lookup found a skipped file")
	}
}

func TestDiscoverRelativeDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "heartbeat-target-log"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	found, err := Discover(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !filepath.IsAbs(found[0].Path) {
		t.Errorf("Discover(.) = %+v; want one plugin with an absolute path", found)
	}
}

func TestDiscoverMissingDir(t *testing.T) {
	_, err := Discover(filepath.Join(t.TempDir(), "nope"))
	if err == nil {
		t.Fatal("no error for a missing plugin directory")
	}
	for _, want := range []string{"plugin directory", "--plugin-dir", "HEARTBEAT_PLUGIN_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestWhyNotFoundOnlyLooksInDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "heartbeat-target-x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "missing", "../x", "..", ".", "a/b"} {
		if got := WhyNotFound(dir, name); got != "" {
			t.Errorf("WhyNotFound(%q) = %q, want \"\"", name, got)
		}
	}
}
