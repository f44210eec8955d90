package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The checks of the release itself (make dist-check): they build it with
// builtDist, and skip unless HEARTBEAT_DIST_CHECK=1.

func TestDistSHA256SUMS(t *testing.T) {
	r := builtDist(t)
	names := builtArtefacts(t)
	data, err := os.ReadFile(filepath.Join(r.Out, sumsName))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^([0-9a-f]{64})  ([^/\s]+)$`)
	var listed []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("SHA256SUMS line %q is not in sha256sum's format", sc.Text())
		}
		sum, err := fileSHA256(filepath.Join(r.Out, m[2]))
		if err != nil {
			t.Fatal(err)
		}
		if sum != m[1] {
			t.Errorf("%s: SHA256SUMS says %s, the file's is %s", m[2], m[1], sum)
		}
		listed = append(listed, m[2])
	}
	if !slices.IsSorted(listed) {
		t.Errorf("SHA256SUMS is not sorted by name: %v", listed)
	}
	// Every file of the output directory is listed, and nothing else.
	var files []string
	entries, err := os.ReadDir(r.Out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != sumsName && n != stageDirName {
			files = append(files, n)
		}
	}
	if !slices.Equal(listed, files) || !slices.Equal(listed, names) {
		t.Errorf("SHA256SUMS lists %v;\nthe output directory holds %v;\nthe writers returned %v", listed, files, names)
	}
	for _, p := range Platforms() {
		if !slices.Contains(listed, archiveName(checkVersion, p)) {
			t.Errorf("no archive for %s/%s in SHA256SUMS", p.OS, p.Arch)
		}
	}
	if !slices.Contains(listed, sbomName(checkVersion)) {
		t.Errorf("no SBOM in SHA256SUMS")
	}
	sha256sum, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Log("sha256sum is not installed: checked in Go only")
		return
	}
	cmd := exec.Command(sha256sum, "--strict", "-c", sumsName)
	cmd.Dir = r.Out
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
	}
}

func TestDistIsReproducible(t *testing.T) {
	first := builtDist(t)
	firstNames := builtArtefacts(t)
	var log bytes.Buffer
	out := filepath.Join(t.TempDir(), "dist")
	start := time.Now()
	second, names, err := makeDist(context.Background(), checkOptions(t, out, &log))
	if err != nil {
		t.Fatalf("second build: %v\n%s", err, log.String())
	}
	t.Logf("second build in %s:\n%s", time.Since(start).Round(time.Second), log.String())
	if !slices.Equal(names, firstNames) {
		t.Fatalf("the second build wrote %v; the first %v", names, firstNames)
	}
	// Two builds of a tree that changed in between differ for that reason.
	if changed := treeChanged(built.tree, treeState(t, first.Root)); changed != "" {
		t.Fatalf("the source tree changed while the two builds ran (%s): run the check again on a quiet tree", changed)
	}
	for _, n := range append(names, sumsName) {
		a, errA := os.ReadFile(filepath.Join(first.Out, n))
		b, errB := os.ReadFile(filepath.Join(second.Out, n))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", n, errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of the same tree (%d and %d bytes)%s", n, len(a), len(b), firstStagedDiff(t, first, second))
		}
	}
}

// firstStagedDiff names the first binary that differs between the stages
// of two builds, to tell a compiler difference from a packing one.
func firstStagedDiff(t *testing.T, a, b *Release) string {
	t.Helper()
	for _, p := range Platforms() {
		var diff string
		filepath.WalkDir(a.Staged[p], func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || diff != "" {
				return err
			}
			rel, _ := filepath.Rel(a.Staged[p], path)
			x, _ := os.ReadFile(path)
			y, _ := os.ReadFile(filepath.Join(b.Staged[p], rel))
			if !bytes.Equal(x, y) {
				diff = fmt.Sprintf("; the binaries %s of %s differ too", rel, p)
			}
			return nil
		})
		if diff != "" {
			return diff
		}
	}
	return "; the binaries are the same"
}

// wantEntry is one expected archive entry: name below the top directory,
// its mode, and the file of the tree it must hold.
type wantEntry struct {
	name string
	mode fs.FileMode
	src  string
}

// expectedArchive is what the archive of p must hold, written out here
// from the rules (not from the writer's list).
func expectedArchive(t *testing.T, r *Release, p Platform) []wantEntry {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join(r.Root, "plugins", "*", "main.go"))
	if err != nil || len(mains) < 2 {
		t.Fatalf("bundled plugins: %v, %v", mains, err)
	}
	exe := ""
	if p.OS == "windows" {
		exe = ".exe"
	}
	top := "heartbeat_" + checkVersion + "_" + p.OS + "_" + p.Arch + "/"
	want := []wantEntry{
		{top, 0o755 | fs.ModeDir, ""},
		{top + "LICENSE", 0o644, filepath.Join(r.Root, "LICENSE")},
		{top + "README.md", 0o644, filepath.Join(r.Root, "README.md")},
		{top + "heartbeat" + exe, 0o755, filepath.Join(r.Staged[p], "heartbeat"+exe)},
		{top + "heartbeat.yaml", 0o644, filepath.Join(r.Root, "examples", "heartbeat.yaml")},
		{top + "plugins/", 0o755 | fs.ModeDir, ""},
	}
	if p.OS == "linux" {
		want = append(want, wantEntry{top + "heartbeat.service", 0o644, filepath.Join(r.Root, "examples", "systemd", "heartbeat.service")})
	}
	for _, m := range mains {
		bin := "heartbeat-target-" + filepath.Base(filepath.Dir(m)) + exe
		want = append(want, wantEntry{top + "plugins/" + bin, 0o755, filepath.Join(r.Staged[p], "plugins", bin)})
	}
	slices.SortFunc(want, func(a, b wantEntry) int { return strings.Compare(a.name, b.name) })
	return want
}

func TestDistArchiveContents(t *testing.T) {
	r := builtDist(t)
	for _, p := range Platforms() {
		t.Run(p.String(), func(t *testing.T) {
			f, err := os.Open(filepath.Join(r.Out, archiveName(checkVersion, p)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []archived
			mtime := r.Epoch
			if p.OS == "windows" {
				info, err := f.Stat()
				if err != nil {
					t.Fatal(err)
				}
				zr, err := zip.NewReader(f, info.Size())
				if err != nil {
					t.Fatal(err)
				}
				for _, zf := range zr.File {
					if len(zf.Extra) != 0 {
						t.Errorf("%s: extra fields; want none", zf.Name)
					}
				}
				got, err = readZip(zr)
				if err != nil {
					t.Fatal(err)
				}
				mtime = mtime.Add(-time.Duration(mtime.Second()%2) * time.Second)
			} else {
				zr, err := gzip.NewReader(f)
				if err != nil {
					t.Fatal(err)
				}
				if zr.Name != "" || !zr.ModTime.IsZero() {
					t.Errorf("gzip header: name %q, time %v; want neither", zr.Name, zr.ModTime)
				}
				got, err = readTar(zr) // also checks owner 0:0 and no names
				if err != nil {
					t.Fatal(err)
				}
			}
			want := expectedArchive(t, r, p)
			var gotNames, wantNames []string
			for _, g := range got {
				gotNames = append(gotNames, fmt.Sprintf("%s %v", g.Name, g.Mode))
			}
			for _, w := range want {
				wantNames = append(wantNames, fmt.Sprintf("%s %v", w.name, w.mode))
			}
			if !slices.Equal(gotNames, wantNames) {
				t.Fatalf("entries:\n got %q\nwant %q", gotNames, wantNames)
			}
			for i, g := range got {
				if !g.MTime.Equal(mtime) {
					t.Errorf("%s: time %v; want %v", g.Name, g.MTime, mtime)
				}
				if want[i].src == "" {
					continue
				}
				body, err := os.ReadFile(want[i].src)
				if err != nil {
					t.Fatal(err)
				}
				if g.Body != string(body) {
					t.Errorf("%s: %d bytes, not the %d of %s", g.Name, len(g.Body), len(body), want[i].src)
				}
			}
		})
	}
}

// TestDistArchiveRuns unpacks this machine's archive and runs it as a
// user would, from the unpacked directory.
func TestDistArchiveRuns(t *testing.T) {
	r := builtDist(t)
	p := Platform{runtime.GOOS, runtime.GOARCH}
	if !slices.Contains(Platforms(), p) || p.OS == "windows" {
		t.Skipf("no archive of this machine's platform %s that runs here", p)
	}
	dir := t.TempDir()
	if err := untarGz(filepath.Join(r.Out, archiveName(checkVersion, p)), dir); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, archiveBase(checkVersion, p))
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"version"}, []string{"heartbeat " + checkVersion}},
		{[]string{"validate", "--config", "heartbeat.yaml"}, nil},
		{[]string{"plugins"}, r.Plugins},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(home, "heartbeat"), tc.args...)
			cmd.Dir = home
			cmd.Env = cleanEnv(dir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("heartbeat %s: %v\n%s", strings.Join(tc.args, " "), err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("heartbeat %s does not print %q:\n%s", strings.Join(tc.args, " "), w, out)
				}
			}
		})
	}
}

// cleanEnv is an environment with none of heartbeat's own variables, so
// only the unpacked directory decides what is found.
func cleanEnv(home string) []string {
	env := []string{"HOME=" + home}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	return env
}

// untarGz unpacks a release archive into dir with the modes it records.
func untarGz(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !filepath.IsLocal(h.Name) {
			return fmt.Errorf("entry %q leaves the directory", h.Name)
		}
		dst := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			body, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if err := os.WriteFile(dst, body, 0o600); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q of type %q", h.Name, h.Typeflag)
		}
		// The mode as recorded, whatever the umask.
		if err := os.Chmod(dst, fs.FileMode(h.Mode).Perm()); err != nil {
			return err
		}
	}
}

func TestDistSBOM(t *testing.T) {
	r := builtDist(t)
	data, err := os.ReadFile(filepath.Join(r.Out, sbomName(checkVersion)))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var bom cdxBOM
	if err := dec.Decode(&bom); err != nil {
		t.Fatalf("the SBOM does not decode: %v", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.5" || bom.Version != 1 {
		t.Errorf("bomFormat %q specVersion %q version %d; want CycloneDX 1.5, 1", bom.BOMFormat, bom.SpecVersion, bom.Version)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
		t.Errorf("serialNumber %q is not a UUID URN", bom.SerialNumber)
	}
	if want := "2026-01-02T03:04:05Z"; bom.Metadata.Timestamp != want {
		t.Errorf("timestamp %q; want the epoch, %s", bom.Metadata.Timestamp, want)
	}
	if m := bom.Metadata.Component; m.Name != rootModule || m.Version != checkVersion || m.Type != "application" {
		t.Errorf("metadata.component %+v; want %s %s", m, rootModule, checkVersion)
	}
	// What the binary says it links, read here independently.
	info, err := buildinfo.ReadFile(filepath.Join(r.Staged[Platform{"linux", "amd64"}], "heartbeat"))
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]string{"std": info.GoVersion, sdkPackage: checkVersion}
	for _, d := range info.Deps {
		if d.Replace == nil {
			linked[d.Path] = d.Version
		}
	}
	listed := map[string]string{}
	refs := map[string]bool{}
	for i, c := range bom.Components {
		if c.Version == "" || c.Purl != "pkg:golang/"+purlPath(c.Name)+"@"+purlEscape(c.Version) || refs[c.BOMRef] {
			t.Errorf("component %+v: no version, a wrong purl or a duplicate bom-ref", c)
		}
		refs[c.BOMRef] = true
		if i > 0 && bom.Components[i-1].Name > c.Name {
			t.Errorf("components not sorted: %s before %s", bom.Components[i-1].Name, c.Name)
		}
		listed[c.Name] = c.Version
	}
	for _, mod := range []string{"github.com/hashicorp/go-plugin", "google.golang.org/grpc", "google.golang.org/protobuf", "std", sdkPackage} {
		if listed[mod] == "" {
			t.Errorf("the SBOM does not list %s", mod)
		}
	}
	for mod, v := range linked {
		if listed[mod] != v {
			t.Errorf("heartbeat links %s %s; the SBOM says %q", mod, v, listed[mod])
		}
	}
}

// TestDistBinaries checks every staged binary is built for its platform
// the way a release must be: static, stripped, trimmed paths, stamped.
// This is also where the Windows and macOS builds are checked: they
// compile (staging builds them) and are the right kind of executable.
func TestDistBinaries(t *testing.T) {
	r := builtDist(t)
	for _, p := range Platforms() {
		t.Run(p.String(), func(t *testing.T) {
			bins := []string{filepath.Join(r.Staged[p], p.Exe("heartbeat"))}
			for _, name := range r.Plugins {
				bins = append(bins, filepath.Join(r.Staged[p], "plugins", p.Exe("heartbeat-target-"+name)))
			}
			for _, bin := range bins {
				info, err := os.Stat(bin)
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode().Perm() != 0o755 {
					t.Errorf("%s: mode %v; want 0755", bin, info.Mode().Perm())
				}
				if err := checkExecutable(bin, p); err != nil {
					t.Errorf("%s: %v", bin, err)
				}
				bi, err := buildinfo.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				settings := map[string]string{}
				for _, s := range bi.Settings {
					settings[s.Key] = s.Value
				}
				for k, v := range map[string]string{"GOOS": p.OS, "GOARCH": p.Arch, "CGO_ENABLED": "0", "-trimpath": "true"} {
					if settings[k] != v {
						t.Errorf("%s: %s=%q; want %q", filepath.Base(bin), k, settings[k], v)
					}
				}
				// -trimpath leaves -ldflags out of the build settings: look
				// for the stamped version in the bytes instead.
				data, err := os.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(data, []byte(checkVersion)) {
					t.Errorf("%s: the version %s is not stamped", filepath.Base(bin), checkVersion)
				}
			}
		})
	}
}

// checkExecutable checks the file format and machine of a binary, and on
// Linux that it is static (no interpreter) and stripped.
func checkExecutable(bin string, p Platform) error {
	switch p.OS {
	case "linux":
		f, err := elf.Open(bin)
		if err != nil {
			return err
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.Arch]
		if f.Machine != want {
			return fmt.Errorf("ELF machine %v; want %v", f.Machine, want)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				return fmt.Errorf("dynamically linked (has an interpreter)")
			}
		}
		if f.Section(".symtab") != nil {
			return fmt.Errorf("not stripped (has .symtab)")
		}
	case "darwin":
		f, err := macho.Open(bin)
		if err != nil {
			return err
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[p.Arch]
		if f.Cpu != want {
			return fmt.Errorf("Mach-O CPU %v; want %v", f.Cpu, want)
		}
	case "windows":
		f, err := pe.Open(bin)
		if err != nil {
			return err
		}
		defer f.Close()
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
			return fmt.Errorf("PE machine %#x; want AMD64", f.Machine)
		}
	default:
		return fmt.Errorf("no check for %s", p.OS)
	}
	return nil
}

// treeState is the size and time of every file of the repository that a
// build may read (not .git, bin/, dist/), by path.
func treeState(t *testing.T, root string) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", "bin", "dist", "node_modules":
				return filepath.SkipDir
			}
			if d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile: treeChanged sees it
		}
		state[rel] = fmt.Sprintf("%d %d", info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// treeChanged names a file that differs between two tree states, or "".
func treeChanged(before, after map[string]string) string {
	for _, p := range slices.Sorted(maps.Keys(before)) {
		if after[p] != before[p] {
			return p
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			return p + " (new)"
		}
	}
	return ""
}
