package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
)

// The package's identity, the same in the .deb and the .rpm.
const (
	pkgName        = "heartbeat"
	pkgHomepage    = "https://github.com/seed-e9b80cf6/heartbeat"
	pkgMaintainer  = "heartbeat maintainers <" + pkgHomepage + "/issues>"
	pkgLicense     = "Apache-2.0"
	pkgSummary     = `periodic "I'm alive" signals to monitoring tools`
	pkgDescription = pkgSummary + `
heartbeat sends beats on a schedule (later.js text or cron) to Healthchecks,
Uptime Kuma, Cronitor, Better Stack, Dead Man's Snitch, Sentry Crons, a
Prometheus Pushgateway or any HTTP endpoint, optionally after a health check
of the service it watches. It also wraps cron jobs (heartbeat exec).`
	// pkgBuildHost replaces the build machine's name in the .rpm, which
	// would otherwise differ between two builds of the same commit.
	pkgBuildHost = "reproducible"
)

// pkgArch is a platform the packages are built for, with its names in
// Debian's and RPM's vocabulary.
type pkgArch struct {
	platform Platform
	deb, rpm string
}

func packageArches() []pkgArch {
	return []pkgArch{
		{Platform{"linux", "amd64"}, "amd64", "x86_64"},
		{Platform{"linux", "arm64"}, "arm64", "aarch64"},
	}
}

// packageFileName is the artefact's name, the archives' scheme with the
// packager's extension: heartbeat_0.3.0_linux_amd64.deb.
func packageFileName(version string, p Platform, format string) string {
	return fmt.Sprintf("%s_%s_%s.%s", pkgName, version, p, format)
}

// writePackages writes a .deb and an .rpm for each Linux platform: the
// binaries, the packaged config (kept on upgrade and removal), the systemd
// unit, the maintainer scripts that create the user heartbeat, the docs,
// the man page and the shell completions.
func writePackages(r *Release) ([]string, error) {
	ver, err := parsePackageVersion(r.Version)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "heartbeat-packages-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	gen, err := generateDocs(r, tmp)
	if err != nil {
		return nil, err
	}

	var written []string
	for _, a := range packageArches() {
		staged, ok := r.Staged[a.platform]
		if !ok {
			return nil, fmt.Errorf("packages: no binaries staged for %s", a.platform)
		}
		for _, format := range []string{"deb", "rpm"} {
			info, err := packageInfo(r, ver, a, format, staged, gen)
			if err != nil {
				return nil, err
			}
			name := packageFileName(r.Version, a.platform, format)
			if err := writePackage(filepath.Join(r.Out, name), format, info); err != nil {
				return nil, err
			}
			written = append(written, name)
		}
	}
	return written, nil
}

// writePackage runs nfpm's packager for format; a half-written file is
// removed.
func writePackage(dst, format string, info *nfpm.Info) (err error) {
	packager, err := nfpm.Get(format)
	if err != nil {
		return err
	}
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
	if err := packager.Package(info, f); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(dst), err)
	}
	return nil
}

// packageInfo is the nfpm description of one package. It is built afresh
// for every package: nfpm rewrites Contents while packaging.
func packageInfo(r *Release, ver pkgVersion, a pkgArch, format, staged string, gen generatedDocs) (*nfpm.Info, error) {
	src := func(rel string) string { return filepath.Join(r.Root, filepath.FromSlash(rel)) }
	file := func(from, to string, mode os.FileMode) *files.Content {
		return &files.Content{Source: from, Destination: to, FileInfo: &files.ContentFileInfo{Mode: mode, MTime: r.Epoch}}
	}
	dir := func(to string) *files.Content {
		return &files.Content{Destination: to, Type: files.TypeDir, FileInfo: &files.ContentFileInfo{Mode: 0o755, MTime: r.Epoch}}
	}

	contents := files.Contents{
		dir(path.Dir(installedPluginDir)),
		dir(installedPluginDir),
		dir(path.Dir(installedConfig)),
		file(filepath.Join(staged, "heartbeat"), installedBinary, 0o755),
	}
	for _, p := range r.Plugins {
		exe := "heartbeat-target-" + p
		from := filepath.Join(staged, "plugins", exe)
		if _, err := os.Stat(from); err != nil {
			return nil, fmt.Errorf("packages: plugin %s is not staged for %s: %w", p, a.platform, err)
		}
		contents = append(contents, file(from, path.Join(installedPluginDir, exe), 0o755))
	}
	config := file(src(packagedConfig), installedConfig, 0o644)
	config.Type = files.TypeConfigNoReplace
	contents = append(contents,
		config,
		file(src(packagedUnit), installedUnit, 0o644),
		file(src("LICENSE"), path.Join(installedDocDir, "LICENSE"), 0o644),
		file(src("README.md"), path.Join(installedDocDir, "README.md"), 0o644),
		file(gen.man, "/usr/share/man/man1/heartbeat.1.gz", 0o644),
		file(gen.bash, "/usr/share/bash-completion/completions/heartbeat", 0o644),
		file(gen.fish, "/usr/share/fish/vendor_completions.d/heartbeat.fish", 0o644),
	)
	// zsh looks in a different directory on each family.
	zshDir := "/usr/share/zsh/site-functions"
	if format == "deb" {
		zshDir = "/usr/share/zsh/vendor-completions"
	}
	contents = append(contents, file(gen.zsh, path.Join(zshDir, "_heartbeat"), 0o644))

	info := &nfpm.Info{
		Name:            pkgName,
		Arch:            a.platform.Arch,
		Platform:        "linux",
		Version:         ver.version,
		VersionSchema:   "none",
		Prerelease:      ver.prerelease,
		VersionMetadata: ver.metadata,
		Section:         "admin",
		Priority:        "optional",
		Maintainer:      pkgMaintainer,
		Description:     pkgDescription,
		Vendor:          pkgName,
		Homepage:        pkgHomepage,
		License:         pkgLicense,
		MTime:           r.Epoch,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Umask:    0o022,
			Scripts: nfpm.Scripts{
				PreInstall:  src(packagingDir + "/preinstall.sh"),
				PostInstall: src(packagingDir + "/postinstall.sh"),
				PreRemove:   src(packagingDir + "/preremove.sh"),
				PostRemove:  src(packagingDir + "/postremove.sh"),
			},
			Deb: nfpm.Deb{Arch: a.deb},
			RPM: nfpm.RPM{
				Arch:      a.rpm,
				BuildHost: pkgBuildHost,
				Summary:   pkgSummary,
				Group:     "System Environment/Daemons",
				Packager:  pkgMaintainer,
			},
		},
	}
	if format == "rpm" {
		info.Release = "1"
	}
	return nfpm.WithDefaults(info), nil
}

// pkgVersion is a release version in the parts Debian and RPM order by.
type pkgVersion struct{ version, prerelease, metadata string }

var (
	pkgVersionRE  = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+){0,3})(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.]+))?$`)
	pkgDescribeRE = regexp.MustCompile(`^([0-9]+)-g([0-9a-f]{4,40})(-dirty)?$`)
	pkgPartRE     = regexp.MustCompile(`^[0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*$`)
)

// parsePackageVersion maps a release version onto package versions that
// dpkg and rpm accept and order as the releases are ordered:
//   - "0.3.0": 0.3.0;
//   - a pre-release, "0.3.0-rc.1" or "0.0.0-check": 0.3.0~rc.1, before 0.3.0;
//   - git describe's "0.3.0-5-gabc1234[-dirty]", 5 commits after v0.3.0:
//     0.3.0+5.gabc1234[.dirty], after 0.3.0 and before 0.3.1.
func parsePackageVersion(v string) (pkgVersion, error) {
	bad := fmt.Errorf("version %.80q cannot be a package version: use MAJOR.MINOR.PATCH, optionally followed by -PRERELEASE or by git describe's -N-gHASH (0.3.0, 0.3.0-rc.1, 0.3.0-5-gabc1234)", v)
	m := pkgVersionRE.FindStringSubmatch(v)
	if m == nil {
		return pkgVersion{}, bad
	}
	out := pkgVersion{version: m[1], metadata: m[3]}
	rest := m[2]
	switch d := pkgDescribeRE.FindStringSubmatch(rest); {
	case rest == "":
	case d != nil:
		out.metadata = pkgJoin(d[1]+".g"+d[2], strings.TrimPrefix(d[3], "-"), out.metadata)
	case rest == "dirty":
		out.metadata = pkgJoin("dirty", out.metadata)
	case pkgPartRE.MatchString(rest):
		// rpm allows no "-" in a version; "." orders the same way in both.
		out.prerelease = strings.ReplaceAll(rest, "-", ".")
	default:
		return pkgVersion{}, bad
	}
	return out, nil
}

func pkgJoin(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

// generatedDocs are the paths of the man page (gzipped) and the shell
// completions, generated by heartbeat itself.
type generatedDocs struct{ man, bash, zsh, fish string }

// generateDocs has heartbeat write its man page and completions into dir.
// It runs the release's own binary for this host when one is staged (the
// man page shows its version), else builds one from r.Root with the same
// version. The text depends on the source and the version, and on the
// operating system only in Windows' defaults: built on Linux or macOS the
// packages are the same; a Windows host is refused rather than packaging
// Windows paths.
func generateDocs(r *Release, dir string) (generatedDocs, error) {
	if runtime.GOOS == "windows" {
		return generatedDocs{}, errors.New("packages: the man page and completions would show Windows paths: build the release on Linux or macOS (WSL works)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	exe := ""
	host := Platform{runtime.GOOS, runtime.GOARCH}
	if staged, ok := r.Staged[host]; ok {
		exe = filepath.Join(staged, "heartbeat")
	} else {
		exe = filepath.Join(dir, "heartbeat-docs")
		build := exec.CommandContext(ctx, "go", "build", "-trimpath",
			"-ldflags", "-X github.com/seed-e9b80cf6/heartbeat/plugins/sdk.version="+r.Version,
			"-o", exe, "./cmd/heartbeat")
		build.Dir = r.Root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return generatedDocs{}, fmt.Errorf("packages: building heartbeat for its man page: %w\n%s", err, pkgBound(out))
		}
	}

	gen := generatedDocs{
		man:  filepath.Join(dir, "heartbeat.1.gz"),
		bash: filepath.Join(dir, "heartbeat.bash"),
		zsh:  filepath.Join(dir, "_heartbeat"),
		fish: filepath.Join(dir, "heartbeat.fish"),
	}
	run := func(args ...string) ([]byte, error) {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(r.Epoch.Unix(), 10))
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("packages: heartbeat %s: %w\n%s", strings.Join(args, " "), err, pkgBound(stderr.Bytes()))
		}
		if stdout.Len() == 0 {
			return nil, fmt.Errorf("packages: heartbeat %s wrote nothing", strings.Join(args, " "))
		}
		return stdout.Bytes(), nil
	}
	man, err := run("man")
	if err != nil {
		return generatedDocs{}, err
	}
	if err := os.WriteFile(gen.man, pkgGzip(man), 0o644); err != nil {
		return generatedDocs{}, err
	}
	for _, c := range []struct{ shell, dst string }{{"bash", gen.bash}, {"zsh", gen.zsh}, {"fish", gen.fish}} {
		out, err := run("completion", c.shell)
		if err != nil {
			return generatedDocs{}, err
		}
		if err := os.WriteFile(c.dst, out, 0o644); err != nil {
			return generatedDocs{}, err
		}
	}
	return gen, nil
}

// pkgGzip compresses b with an empty gzip header (no name, no time), so
// the bytes depend on b only.
func pkgGzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// pkgBound cuts a command's output for an error message.
func pkgBound(b []byte) string {
	const max = 4 << 10
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}
