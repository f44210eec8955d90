package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct{ cmd, args string }

// dockerStages parses a Dockerfile into its stages' instructions.
func dockerStages(t *testing.T, text string) [][]dockerInstr {
	t.Helper()
	var stages [][]dockerInstr
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := dockerInstr{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s before the first FROM", in.cmd)
			}
			return
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments, inside continuations too
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

// dockerEntry is a path the Dockerfile's build stage installs into the
// image's file system.
type dockerEntry struct {
	path string
	mode string // octal, as install -m has it
	dir  bool
	src  string // for files
}

func (e dockerEntry) String() string {
	kind := "file " + e.src
	if e.dir {
		kind = "dir"
	}
	return fmt.Sprintf("%s %s %s", e.path, e.mode, kind)
}

// installedEntries collects the `install` commands of the RUN instructions
// that write under /rootfs.
func installedEntries(t *testing.T, stage []dockerInstr) []dockerEntry {
	t.Helper()
	var out []dockerEntry
	for _, in := range stage {
		if in.cmd != "RUN" {
			continue
		}
		for _, part := range strings.FieldsFunc(in.args, func(r rune) bool { return r == ';' }) {
			f := strings.Fields(part)
			i := slices.Index(f, "install")
			if i < 0 || !slices.ContainsFunc(f, func(s string) bool { return strings.HasPrefix(s, "/rootfs") }) {
				continue
			}
			f = f[i+1:]
			dir, mode := false, ""
			var operands []string
			for j := 0; j < len(f); j++ {
				switch f[j] {
				case "-d":
					dir = true
				case "-m":
					j++
					mode = f[j]
				default:
					operands = append(operands, strings.Trim(f[j], `"`))
				}
			}
			if mode == "" {
				t.Errorf("install without -m: %s", part)
			}
			if dir {
				for _, o := range operands {
					out = append(out, dockerEntry{path: strings.TrimPrefix(o, "/rootfs"), mode: mode, dir: true})
				}
				continue
			}
			if len(operands) != 2 {
				t.Fatalf("install of a file takes a source and a destination: %s", part)
			}
			dst := strings.TrimPrefix(operands[1], "/rootfs")
			if strings.HasSuffix(dst, "/") {
				dst += "*" // a loop over the plugins
			}
			out = append(out, dockerEntry{path: dst, mode: mode, src: operands[0]})
		}
	}
	return out
}

// imageEntriesForDockerfile is the layer of the release's image as the
// Dockerfile should write it: the plugins as one glob, sources relative to
// the repository (or where the build stage puts them).
func imageEntriesForDockerfile(t *testing.T) []dockerEntry {
	t.Helper()
	root := repoRootForTest(t)
	staged := t.TempDir()
	if err := os.MkdirAll(filepath.Join(staged, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"heartbeat", "plugins/heartbeat-target-log"} {
		if err := os.WriteFile(filepath.Join(staged, name), []byte("#!/bin/true\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r := &Release{Root: root, Plugins: []string{"log"}}
	files, err := imageFiles(r, staged)
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerEntry
	for _, f := range files {
		mode := fmt.Sprintf("%04o", f.mode.Perm())
		if f.mode&fs.ModeSticky != 0 {
			mode = fmt.Sprintf("1%03o", f.mode.Perm())
		}
		e := dockerEntry{path: f.path, mode: mode, dir: f.dir}
		switch {
		case f.dir:
		case f.path == installedBinary:
			e.src = "/out/heartbeat"
		case strings.HasPrefix(f.path, installedPluginDir+"/"):
			e.path, e.src = installedPluginDir+"/*", "$plugin"
		case f.path == imageCABundle:
			e.src = imageCABundle // the builder's own bundle
		default:
			rel, err := filepath.Rel(root, f.src)
			if err != nil {
				t.Fatal(err)
			}
			e.src = filepath.ToSlash(rel)
		}
		out = append(out, e)
	}
	return out
}

// TestDockerfile holds deploy/docker/Dockerfile to the release's image: the
// same files with the same modes, user, entrypoint, command and port.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRootForTest(t), "deploy", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := dockerStages(t, string(raw))
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, then scratch)", len(stages))
	}
	build, final := stages[0], stages[1]

	t.Run("final stage", func(t *testing.T) {
		got := map[string][]string{}
		for _, in := range final {
			got[in.cmd] = append(got[in.cmd], in.args)
		}
		want := map[string][]string{
			"FROM":   {"scratch"},
			"COPY":   {"--from=build /rootfs/ /"},
			"USER":   {imageUser},
			"EXPOSE": {imageExposedPort()},
		}
		for cmd, w := range want {
			if !slices.Equal(got[cmd], w) {
				t.Errorf("%s: %q, want %q", cmd, got[cmd], w)
			}
		}
		for cmd, w := range map[string][]string{"ENTRYPOINT": imageEntrypoint(), "CMD": imageCmd()} {
			if len(got[cmd]) != 1 {
				t.Errorf("%d %s instructions, want 1", len(got[cmd]), cmd)
				continue
			}
			var args []string
			if err := json.Unmarshal([]byte(got[cmd][0]), &args); err != nil {
				t.Errorf("%s %s: not the exec (JSON) form: %v", cmd, got[cmd][0], err)
			}
			if !slices.Equal(args, w) {
				t.Errorf("%s %q, want %q", cmd, args, w)
			}
		}
		for _, cmd := range []string{"RUN", "ADD", "WORKDIR", "VOLUME"} {
			if len(got[cmd]) > 0 {
				t.Errorf("%s in the final stage: everything comes from /rootfs", cmd)
			}
		}
	})

	t.Run("build stage", func(t *testing.T) {
		if !strings.Contains(build[0].args, "golang:") || !strings.HasSuffix(build[0].args, " AS build") {
			t.Errorf("FROM %s: want a golang image named build", build[0].args)
		}
		var runs []string
		for _, in := range build {
			if in.cmd == "RUN" {
				runs = append(runs, in.args)
			}
		}
		all := strings.Join(runs, " ")
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "plugins/*/main.go", "/out/plugins/heartbeat-target-$name"} {
			if !strings.Contains(all, want) {
				t.Errorf("the build does not use %s", want)
			}
		}
	})

	t.Run("file system", func(t *testing.T) {
		got := installedEntries(t, build)
		want := imageEntriesForDockerfile(t)
		key := func(e dockerEntry) string { return e.String() }
		gs, ws := sortedKeys(got, key), sortedKeys(want, key)
		for _, w := range ws {
			if !slices.Contains(gs, w) {
				t.Errorf("the Dockerfile does not install %s", w)
			}
		}
		for _, g := range gs {
			if !slices.Contains(ws, g) {
				t.Errorf("the Dockerfile installs %s, which the release's image does not have", g)
			}
		}
	})
}

func sortedKeys[T any](xs []T, key func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, key(x))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
