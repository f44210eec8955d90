// Package build compiles the programs a bench measures the way the
// Makefile does (-trimpath, the same -ldflags), into a work directory.
package build

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Version is what the bench binaries are stamped with.
const Version = "bench"

// Root is the directory of the repository's go.mod, found from the current
// directory (run the benches from inside the repository).
func Root() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the heartbeat module: run the bench from the repository")
	}
	return filepath.Dir(gomod), nil
}

// ldflags are the Makefile's: stripped, with the SDK's version stamped in
// (without it a plugin reads its build info again on every beat).
func ldflags() string {
	const sdk = "github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	return fmt.Sprintf("-s -w -X %s.version=%s -X %s.commit=none", sdk, Version, sdk)
}

// Binaries are the paths of what Heartbeat built.
type Binaries struct {
	Dir       string // the work directory
	Core      string // heartbeat
	PluginDir string // holds heartbeat-target-<plugin>
}

// Plugin is the path of a bundled plugin's binary.
func (b Binaries) Plugin(name string) string {
	return filepath.Join(b.PluginDir, "heartbeat-target-"+name)
}

// Heartbeat builds the core and the named bundled plugins into dir.
func Heartbeat(dir string, plugins ...string) (Binaries, error) {
	b := Binaries{Dir: dir, Core: filepath.Join(dir, "heartbeat"), PluginDir: filepath.Join(dir, "plugins")}
	if err := os.MkdirAll(b.PluginDir, 0o755); err != nil {
		return b, err
	}
	// heartbeat refuses plugin directories group or others may write.
	if err := os.Chmod(b.PluginDir, 0o755); err != nil {
		return b, err
	}
	if err := Package(b.Core, "./cmd/heartbeat"); err != nil {
		return b, err
	}
	for _, p := range plugins {
		if err := Package(b.Plugin(p), "./plugins/"+p); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Package builds the package pkg (a path relative to the repository root)
// into out, mode 0755.
func Package(out, pkg string) error {
	root, err := Root()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags(), "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return os.Chmod(out, 0o755)
}
