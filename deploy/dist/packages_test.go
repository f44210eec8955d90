package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// pkgEntry is a path a package holds and its permissions as ls shows them.
type pkgEntry struct{ path, perms string }

// expectedPackageFiles lists, written out here rather than taken from
// packages.go, every file of a package: the binaries, the plugins, the
// config, the unit, docs, man page and completions. zsh is the only
// difference between the formats.
func expectedPackageFiles(plugins []string, format string) []pkgEntry {
	const exe, doc = "-rwxr-xr-x", "-rw-r--r--"
	zsh := "/usr/share/zsh/site-functions/_heartbeat"
	if format == "deb" {
		zsh = "/usr/share/zsh/vendor-completions/_heartbeat"
	}
	out := []pkgEntry{
		{"/usr/bin/heartbeat", exe},
		{"/etc/heartbeat/heartbeat.yaml", doc},
		{"/usr/lib/systemd/system/heartbeat.service", doc},
		{"/usr/share/doc/heartbeat/LICENSE", doc},
		{"/usr/share/doc/heartbeat/README.md", doc},
		{"/usr/share/man/man1/heartbeat.1.gz", doc},
		{"/usr/share/bash-completion/completions/heartbeat", doc},
		{"/usr/share/fish/vendor_completions.d/heartbeat.fish", doc},
		{zsh, doc},
	}
	for _, p := range plugins {
		out = append(out, pkgEntry{"/usr/lib/heartbeat/plugins/heartbeat-target-" + p, exe})
	}
	return out
}

// expectedPackageDirs are the directories a package lists: the .deb every
// parent, the .rpm only its own (the rest belong to the system).
func expectedPackageDirs(files []pkgEntry, format string) []pkgEntry {
	own := []string{"/etc/heartbeat", "/usr/lib/heartbeat", "/usr/lib/heartbeat/plugins"}
	if format == "rpm" {
		var out []pkgEntry
		for _, d := range own {
			out = append(out, pkgEntry{d, "drwxr-xr-x"})
		}
		return out
	}
	seen := map[string]bool{}
	var out []pkgEntry
	for _, f := range files {
		for d := filepath.Dir(f.path); d != "/"; d = filepath.Dir(d) {
			if !seen[d] {
				seen[d] = true
				out = append(out, pkgEntry{d, "drwxr-xr-x"})
			}
		}
	}
	return out
}

func sortedEntries(es []pkgEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.perms+" "+e.path)
	}
	slices.Sort(out)
	return out
}

// diffLists reports what got misses and what it has too many of.
func diffLists(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing %s", what, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: unexpected %s", what, g)
		}
	}
}

func repoScript(t *testing.T, r *Release, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Root, packagingDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDebPackages(t *testing.T) { checkDebPackages(t, builtDist(t)) }
func TestRPMPackages(t *testing.T) { checkRPMPackages(t, builtDist(t)) }

func checkDebPackages(t *testing.T, r *Release) {
	dpkgDeb, err := exec.LookPath("dpkg-deb")
	if err != nil {
		t.Skip("dpkg-deb is not installed: the .deb packages are not checked")
	}
	ver, err := parsePackageVersion(r.Version)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range packageArches() {
		t.Run(a.deb, func(t *testing.T) {
			deb := filepath.Join(r.Out, packageFileName(r.Version, a.platform, "deb"))
			run := func(args ...string) string {
				t.Helper()
				out, err := exec.Command(dpkgDeb, args...).CombinedOutput()
				if err != nil {
					t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}

			t.Run("control", func(t *testing.T) {
				fields := map[string]string{}
				for _, line := range strings.Split(run("-f", deb), "\n") {
					if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, " ") {
						fields[k] = v
					}
				}
				want := map[string]string{
					"Package":      "heartbeat",
					"Version":      debVersion(ver),
					"Architecture": a.deb,
					"Maintainer":   pkgMaintainer,
					"Homepage":     pkgHomepage,
				}
				for k, v := range want {
					if fields[k] != v {
						t.Errorf("%s: %q, want %q", k, fields[k], v)
					}
				}
				for _, k := range []string{"Depends", "Pre-Depends", "Recommends"} {
					if v, ok := fields[k]; ok {
						t.Errorf("%s: %q: static binaries depend on nothing", k, v)
					}
				}
			})

			t.Run("contents", func(t *testing.T) {
				var got []string
				sc := bufio.NewScanner(strings.NewReader(run("-c", deb)))
				for sc.Scan() {
					// drwxr-xr-x root/root 0 2026-01-02 03:04 ./etc/
					f := strings.Fields(sc.Text())
					if len(f) != 6 {
						t.Fatalf("dpkg-deb -c: %q", sc.Text())
					}
					if f[1] != "root/root" {
						t.Errorf("%s owned by %s", f[5], f[1])
					}
					p := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
					if p == "" {
						continue
					}
					got = append(got, f[0]+" "+p)
				}
				files := expectedPackageFiles(r.Plugins, "deb")
				want := sortedEntries(append(files, expectedPackageDirs(files, "deb")...))
				slices.Sort(got)
				diffLists(t, "dpkg-deb -c", got, want)
			})

			t.Run("conffiles and scripts", func(t *testing.T) {
				ctrl := t.TempDir()
				run("-e", deb, ctrl)
				conffiles, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
				if err != nil {
					t.Fatal(err)
				}
				if strings.TrimSpace(string(conffiles)) != "/etc/heartbeat/heartbeat.yaml" {
					t.Errorf("conffiles: %q, want /etc/heartbeat/heartbeat.yaml", conffiles)
				}
				for deb, repo := range map[string]string{"preinst": "preinstall.sh", "postinst": "postinstall.sh", "prerm": "preremove.sh", "postrm": "postremove.sh"} {
					b, err := os.ReadFile(filepath.Join(ctrl, deb))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(b, repoScript(t, r, repo)) {
						t.Errorf("%s is not %s/%s", deb, packagingDir, repo)
					}
					if fi, err := os.Stat(filepath.Join(ctrl, deb)); err != nil || fi.Mode().Perm()&0o111 == 0 {
						t.Errorf("%s is not executable", deb)
					}
				}
			})

			host := Platform{runtime.GOOS, runtime.GOARCH}
			if host != a.platform {
				return // the unpacked binaries run only on their platform
			}
			t.Run("installed", func(t *testing.T) {
				root := t.TempDir()
				run("-x", deb, root)
				checkInstalledRoot(t, r, root, filepath.Join(root, "etc", "heartbeat", "heartbeat.yaml"))
				checkInstalledUnit(t, root)
				checkManPage(t, r, filepath.Join(root, "usr", "share", "man", "man1", "heartbeat.1.gz"))
			})
		})
	}
}

// checkInstalledRoot runs the heartbeat unpacked into root: its version,
// the packaged config, and the bundled plugins found by default in
// <root>/usr/lib/heartbeat/plugins.
func checkInstalledRoot(t *testing.T, r *Release, root, config string) {
	t.Helper()
	bin := filepath.Join(root, "usr", "bin", "heartbeat")
	heartbeat := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "HEARTBEAT_PLUGIN_DIR=", "HEARTBEAT_CONFIG=")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("heartbeat %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := heartbeat("version"); !strings.Contains(out, r.Version) {
		t.Errorf("heartbeat version: %q, want %s", out, r.Version)
	}
	heartbeat("validate", "--config", config)
	out := heartbeat("plugins", "--config", config)
	for _, p := range r.Plugins {
		want := filepath.Join(root, "usr", "lib", "heartbeat", "plugins", "heartbeat-target-"+p)
		if !strings.Contains(out, want) {
			t.Errorf("heartbeat plugins does not find %s:\n%s", want, out)
		}
	}
}

// checkInstalledUnit runs systemd-analyze verify on the unpacked unit,
// its ExecStart pointed at the unpacked binary (verify wants it to exist).
func checkInstalledUnit(t *testing.T, root string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit is not verified")
		return
	}
	raw, err := os.ReadFile(filepath.Join(root, "usr", "lib", "systemd", "system", "heartbeat.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "\nExecStart=/usr/bin/heartbeat run ") {
		t.Errorf("ExecStart is not /usr/bin/heartbeat run ...")
	}
	for _, want := range []string{"\nRestartPreventExitStatus=2\n", "\nUser=heartbeat\n", "\nGroup=heartbeat\n", "\nReadOnlyPaths=/usr/lib/heartbeat /etc/heartbeat\n"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the unit lacks %s", strings.TrimSpace(want))
		}
	}
	if strings.Contains(string(raw), "DynamicUser=yes") {
		t.Error("DynamicUser=yes: the package has a user of its own")
	}
	path := filepath.Join(t.TempDir(), "heartbeat.service")
	patched := strings.ReplaceAll(string(raw), "/usr/bin/heartbeat", filepath.Join(root, "usr", "bin", "heartbeat"))
	if err := os.WriteFile(path, []byte(patched), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func checkManPage(t *testing.T, r *Release, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	// Dated by the release's epoch, not by the day of the build.
	th := fmt.Sprintf(".TH HEARTBEAT 1 %q %q", r.Epoch.UTC().Format("2006-01-02"), "heartbeat "+r.Version)
	if !bytes.Contains(b, []byte("\n"+th+" ")) {
		t.Errorf("man page: %.200q", b)
	}
}

func checkRPMPackages(t *testing.T, r *Release) {
	ver, err := parsePackageVersion(r.Version)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range packageArches() {
		t.Run(a.rpm, func(t *testing.T) {
			file := filepath.Join(r.Out, packageFileName(r.Version, a.platform, "rpm"))
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h, err := readRPMHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			for tag, want := range map[int]string{
				rpmTagName:    "heartbeat",
				rpmTagVersion: debVersion(ver), // the same string: no "-" in either
				rpmTagRelease: "1",
				rpmTagArch:    a.rpm,
			} {
				if got := h.str(tag); got != want {
					t.Errorf("tag %d: %q, want %q", tag, got, want)
				}
			}
			for _, req := range h.strs(rpmTagRequires) {
				if !strings.HasPrefix(req, "rpmlib(") && !strings.HasPrefix(req, "/bin/sh") {
					t.Errorf("requires %s: static binaries depend on nothing", req)
				}
			}
			files, err := h.files()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, os.FileMode(f.mode & 0o777).String()[1:]+" "+f.path)
				if f.user != "root" || f.group != "root" {
					t.Errorf("%s owned by %s:%s", f.path, f.user, f.group)
				}
				isConfig := f.path == "/etc/heartbeat/heartbeat.yaml"
				switch {
				case isConfig && f.flags&(rpmFileConfig|rpmFileNoReplace) != rpmFileConfig|rpmFileNoReplace:
					t.Errorf("%s: flags %#x, want %%config(noreplace)", f.path, f.flags)
				case !isConfig && f.flags&rpmFileConfig != 0:
					t.Errorf("%s is marked %%config", f.path)
				}
			}
			// perms as ls shows them: the type letter from the mode's top bits.
			for i, f := range files {
				kind := "-"
				if f.mode&0o170000 == 0o040000 {
					kind = "d"
				}
				got[i] = kind + got[i]
			}
			slices.Sort(got)
			want := expectedPackageFiles(r.Plugins, "rpm")
			diffLists(t, "rpm files", got, sortedEntries(append(want, expectedPackageDirs(want, "rpm")...)))

			for tag, repo := range map[int]string{rpmTagPreIn: "preinstall.sh", rpmTagPostIn: "postinstall.sh", rpmTagPreUn: "preremove.sh", rpmTagPostUn: "postremove.sh"} {
				if got := h.str(tag); got != string(repoScript(t, r, repo)) {
					t.Errorf("scriptlet %d is not %s/%s:\n%s", tag, packagingDir, repo, got)
				}
			}

			if rpm, err := exec.LookPath("rpm"); err == nil {
				// rpm itself: digests, and the flags as it reads them.
				if out, err := exec.Command(rpm, "-K", file).CombinedOutput(); err != nil || !strings.Contains(string(out), "digests OK") {
					t.Errorf("rpm -K: %v\n%s", err, out)
				}
				out, err := exec.Command(rpm, "-qp", "--configfiles", file).CombinedOutput()
				if err != nil || strings.TrimSpace(string(out)) != "/etc/heartbeat/heartbeat.yaml" {
					t.Errorf("rpm -qp --configfiles: %v\n%s", err, out)
				}
			} else {
				t.Log("rpm is not installed: checked with the header reader only")
			}
		})
	}
}
