package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// rootModule is the module path of the repository root's go.mod.
const rootModule = "github.com/seed-e9b80cf6/heartbeat"

// sdkPackage receives the version and commit with -X at link time.
const sdkPackage = rootModule + "/plugins/sdk"

// buildJobs is how many platforms are built at the same time; each go
// command already compiles packages in parallel.
const buildJobs = 2

// findRoot walks up from dir to the directory whose go.mod declares the
// root module (deploy/ has a go.mod of its own, so the nearest is not it).
func findRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modulePath(data) == rootModule {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of module %s in %s or above it: run from the repository or pass -root", rootModule, dir)
		}
	}
}

// modulePath is the path on the module line of a go.mod file.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// bundledPlugins are the names of the plugins built with heartbeat: every
// plugins/<name>/main.go, as the Makefile finds them.
func bundledPlugins(root string) ([]string, error) {
	mains, err := filepath.Glob(filepath.Join(root, "plugins", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(m))
		if name == "heartbeat" {
			// Its binary would overwrite the core's in the build directory.
			return nil, fmt.Errorf("plugins/heartbeat: a plugin may not be named like the core; rename the directory")
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no plugins/*/main.go under %s: is -root the repository root?", root)
	}
	slices.Sort(names)
	return names, nil
}

// gitOutput runs git in root and returns its trimmed output.
func gitOutput(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, tail(stderr.Bytes(), 512))
	}
	return strings.TrimSpace(string(out)), nil
}

// tail is the end of b, at most n bytes, trimmed, for error messages.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = append([]byte("…"), b[len(b)-n:]...)
	}
	return strings.TrimSpace(string(b))
}

// buildEnv is the environment of the go command: the caller's, with every
// variable that changes the output bytes pinned, so two runs on two
// machines with the same toolchain agree.
func buildEnv(p Platform) []string {
	pinned := map[string]string{
		"CGO_ENABLED":  "0",
		"GOOS":         p.OS,
		"GOARCH":       p.Arch,
		"GOAMD64":      "v1",
		"GOARM64":      "v8.0",
		"GOFLAGS":      "",    // the flags are all on the command line
		"GOWORK":       "off", // a go.work above the repository must not change the modules
		"GOEXPERIMENT": "",
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := pinned[k]; !ok {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(pinned)) {
		env = append(env, k+"="+pinned[k])
	}
	return env
}

// ldflags strips the binaries, empties the build ID and stamps the
// version and commit the binaries print.
func ldflags(version, commit string) string {
	return fmt.Sprintf("-s -w -buildid= -X %s.version=%s -X %s.commit=%s", sdkPackage, version, sdkPackage, commit)
}

// stage builds heartbeat and every bundled plugin for every platform into
// stageDir/<os>_<arch>/: heartbeat[.exe] and plugins/heartbeat-target-<name>[.exe],
// mode 0755. It returns the directory of each platform.
func stage(ctx context.Context, goCmd string, r *Release, commit, stageDir string, log io.Writer) (map[Platform]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu     sync.Mutex
		staged = map[Platform]string{}
		errs   []error
		wg     sync.WaitGroup
		slots  = make(chan struct{}, buildJobs)
	)
	for _, p := range Platforms() {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			dir := filepath.Join(stageDir, p.String())
			err := buildPlatform(ctx, goCmd, r, commit, p, dir, log)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("build %s/%s: %w", p.OS, p.Arch, err))
				cancel() // the release fails anyway: stop the other builds
				return
			}
			staged[p] = dir
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return staged, nil
}

// buildPlatform builds every binary of one platform with one go command,
// which shares the compiled packages between them, then moves each to its
// place in the release layout.
func buildPlatform(ctx context.Context, goCmd string, r *Release, commit string, p Platform, dir string, log io.Writer) error {
	tmp := filepath.Join(dir, ".build")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	pkgs := []string{"./cmd/heartbeat"}
	for _, name := range r.Plugins {
		pkgs = append(pkgs, "./plugins/"+name)
	}
	args := append([]string{"build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags(r.Version, commit), "-o", tmp + string(filepath.Separator)}, pkgs...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = r.Root
	cmd.Env = buildEnv(p)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	fmt.Fprintf(log, "building %s/%s: heartbeat and %d plugins\n", p.OS, p.Arch, len(r.Plugins))
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s %s: %w\n%s", goCmd, strings.Join(args[:len(args)-len(pkgs)], " "), err, tail(out.Bytes(), 4096))
	}
	if err := os.MkdirAll(filepath.Join(dir, "plugins"), 0o755); err != nil {
		return err
	}
	moves := map[string]string{p.Exe("heartbeat"): p.Exe("heartbeat")}
	for _, name := range r.Plugins {
		moves[p.Exe(name)] = filepath.Join("plugins", p.Exe("heartbeat-target-"+name))
	}
	for from, to := range moves {
		dst := filepath.Join(dir, to)
		if err := os.Rename(filepath.Join(tmp, from), dst); err != nil {
			return fmt.Errorf("go build did not write %s: %w", from, err)
		}
		// heartbeat refuses plugins that group or others may write: the
		// mode must not depend on the umask of whoever builds the release.
		if err := os.Chmod(dst, 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, "plugins")} {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("unexpected files from go build in %s: %w", tmp, err)
	}
	return nil
}
