package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/core/conformance"
	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// checkFlags are the flags of plugins check besides the common ones.
type checkFlags struct {
	settings string
	insecure bool
}

func pluginsCheckFlags(stderr io.Writer) (*flag.FlagSet, *common) {
	fs, c, _ := pluginsCheckFlagSet(stderr)
	return fs, c
}

func pluginsCheckFlagSet(stderr io.Writer) (*flag.FlagSet, *common, *checkFlags) {
	fs, c := newFlagSet("plugins check", stderr)
	cf := &checkFlags{}
	fs.StringVar(&cf.settings, "settings", "", "a target's settings as a JSON `OBJECT` the plugin accepts: also deliver one real beat with them, and check the deadline against a local destination that never answers")
	fs.BoolVar(&cf.insecure, "insecure", false, "run the plugin even if its file or directory is writable by others (as insecure_plugin_permissions: true)")
	return fs, c, cf
}

// cmdPluginsCheck runs the conformance suite on one plugin binary. It runs
// only a file run would run: the permission checks always apply (unless
// --insecure), and the config's sha256 pin when the file is the one the
// plugin directory offers under its name.
func cmdPluginsCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c, cf := pluginsCheckFlagSet(stderr)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "error: plugins check takes the path of one plugin binary, e.g. heartbeat plugins check ./heartbeat-target-myservice")
		return exitInvalid
	}
	path := rest[0]
	var settings []byte
	if cf.settings != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(cf.settings), &obj); err != nil || obj == nil {
			fmt.Fprintln(stderr, `error: --settings must be a JSON object of the target's settings, e.g. --settings '{"url": "https://example.com/ping"}'`)
			return exitInvalid
		}
		settings = []byte(cf.settings)
	}
	f, err := checkTarget(c, path, cf.insecure)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	fmt.Fprintf(stdout, "checking %s\n", f.Path)
	results := conformance.Run(ctx, f.Path, conformance.Options{
		Settings: settings,
		Report: func(r conformance.Result) {
			fmt.Fprintf(stdout, "%s %s: %s\n", r.Status, r.Name, r.Detail)
		},
	})
	counts := map[conformance.Status]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	fmt.Fprintf(stdout, "%d passed, %d failed, %d warnings, %d skipped\n", counts[conformance.Pass], counts[conformance.Fail], counts[conformance.Warn], counts[conformance.Skip])
	if conformance.Failed(results) {
		return exitFailed
	}
	return exitOK
}

// checkTarget refuses what run would refuse: a file that is not a usable
// program, one that others could have replaced (pluginhost.Verify), and,
// when the file is in a directory of the plugin search path, one that
// does not match the config's pin for its name. A file outside the plugin
// directories is one the user named explicitly: no pin applies to it.
func checkTarget(c *common, path string, insecure bool) (pluginhost.Found, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return pluginhost.Found{}, err
	}
	info, err := os.Stat(abs)
	switch {
	case err != nil:
		return pluginhost.Found{}, fmt.Errorf("cannot check %s: %w", path, err)
	case info.IsDir():
		return pluginhost.Found{}, fmt.Errorf("%s is a directory: give the path of the plugin binary, e.g. %s", path, filepath.Join(path, pluginhost.FileName("NAME")))
	case runtime.GOOS != "windows" && info.Mode().Perm()&0o111 == 0: // Windows has no execute bit
		return pluginhost.Found{}, fmt.Errorf("%s is not executable: run chmod +x %s", path, path)
	}
	name := strings.TrimPrefix(strings.TrimSuffix(filepath.Base(abs), ".exe"), sdk.BinaryPrefix)
	f := pluginhost.Found{Name: name, Path: abs}
	cfg, cfgErr := c.pluginsConfig()
	if cfgErr != nil {
		return f, fmt.Errorf("%w\n(the config decides which plugins may run: fix it, or name another with --config)", cfgErr)
	}
	if cfg != nil {
		insecure = insecure || cfg.InsecurePluginPermissions
		if pin, ok := cfg.Plugins[name]; ok && inSearchPath(filepath.Dir(abs), c.pluginPath(cfg)) {
			f.SHA256 = pin.SHA256
		}
	}
	if err := pluginhost.Check(f, insecure); err != nil {
		hint := ""
		if !insecure {
			hint = " (or pass --insecure to check it anyway)"
		}
		return f, fmt.Errorf("not run: %w%s", err, hint)
	}
	return f, nil
}

// inSearchPath reports whether dir is one of the plugin directories.
func inSearchPath(dir string, sp pluginhost.SearchPath) bool {
	for _, d := range sp {
		if sameDir(dir, d.Path) {
			return true
		}
	}
	return false
}

// sameDir reports whether a and b are the same directory.
func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	if err := errors.Join(err1, err2); err != nil {
		return false
	}
	ia, err1 := os.Stat(ra)
	ib, err2 := os.Stat(rb)
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
}
