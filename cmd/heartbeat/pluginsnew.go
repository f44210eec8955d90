package main

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"text/template"

	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// scaffoldFiles are the templates of a new plugin module, one per file:
// scaffold/X.tmpl becomes X (gitignore.tmpl becomes .gitignore).
//
//go:embed scaffold/*.tmpl
var scaffoldFiles embed.FS

// newPluginNameRE is the rule for a new plugin's name: it becomes a file name
// and a config value, so it stays plain.
var newPluginNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// scaffoldGoLineRE matches a release's go line, "1.26" or "1.26.8".
var scaffoldGoLineRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)

// scaffoldPlainPathRE matches a path go.mod takes unquoted.
var scaffoldPlainPathRE = regexp.MustCompile(`^[A-Za-z0-9/._~+-]+$`)

// scaffoldFallbackGo is the go line of a module written without an SDK
// checkout to read it from.
const scaffoldFallbackGo = "1.26"

// scaffoldSDKModule is the SDK's module path, as the SDK itself declares it.
func scaffoldSDKModule() string { return reflect.TypeOf(sdk.Info{}).PkgPath() }

// pluginsNewFlags defines plugins new's flags. It takes none of the
// daemon's common flags: it writes files and runs nothing.
func pluginsNewFlags(stderr io.Writer) (*flag.FlagSet, *common) {
	fs := newBareFlagSet("plugins new", stderr)
	fs.String("dir", "", "write the module into `DIR`, which must not exist or be empty (default: ./heartbeat-target-NAME)")
	fs.String("module", "", "Go module `PATH` of the plugin (default: example.com/heartbeat-target-NAME)")
	fs.String("sdk", "", "build against the SDK in `DIR`, the plugins/sdk directory of a heartbeat checkout, through a replace line in go.mod (default: the checkout this heartbeat was built in, or one around the current directory)")
	return fs, &common{}
}

// scaffold is what the templates are filled with.
type scaffold struct {
	Name      string
	Binary    string
	Module    string
	SDKModule string
	// SDKPath is the absolute path of the SDK checkout; "" when none was
	// found, and the module needs one before it builds.
	SDKPath   string
	GoVersion string
}

func cmdPluginsNew(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs, _ := pluginsNewFlags(stderr)
	positional, err := parseFlags(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "error: name the plugin, e.g. heartbeat plugins new myservice")
		return exitInvalid
	}
	name := strings.TrimPrefix(positional[0], sdk.BinaryPrefix)
	if !newPluginNameRE.MatchString(name) {
		fmt.Fprintf(stderr, "error: plugin name %q: use lowercase letters, digits, - and _, starting with a letter or digit, at most 64 characters (it becomes the file name %sNAME and the plugin: value in configs)\n", scaffoldClipArg(name), sdk.BinaryPrefix)
		return exitInvalid
	}
	if bundled := filepath.Join(daemon.BundledPluginDir(), pluginhost.FileName(name)); scaffoldFileExists(bundled) {
		fmt.Fprintf(stderr, "warning: %q is the name of a bundled plugin (%s); in a plugin directory searched before the bundled one yours replaces it\n", name, bundled)
	}
	s := scaffold{Name: name, Binary: sdk.BinaryPrefix + name, SDKModule: scaffoldSDKModule(), GoVersion: scaffoldGoVersion(runtime.Version())}
	s.Module = fs.Lookup("module").Value.String()
	if s.Module == "" {
		s.Module = "example.com/" + s.Binary
	}
	if err := scaffoldCheckModule(s.Module); err != nil {
		fmt.Fprintf(stderr, "error: --module %q: %v\n", scaffoldClipArg(s.Module), err)
		return exitInvalid
	}
	sdkDir, goLine, err := scaffoldFindSDK(fs.Lookup("sdk").Value.String(), s.SDKModule)
	if err != nil {
		printError(stderr, err)
		return exitInvalid
	}
	s.SDKPath = sdkDir
	if goLine != "" {
		s.GoVersion = goLine
	}
	dir := fs.Lookup("dir").Value.String()
	if dir == "" {
		dir = s.Binary
	}
	written, err := writeScaffold(dir, s)
	if err != nil {
		printError(stderr, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "wrote the plugin module %s into %s: %s\n", s.Module, dir, strings.Join(written, ", "))
	if s.SDKPath == "" {
		fmt.Fprintf(stderr, "note: no heartbeat checkout found, and no version of the SDK is published yet: before the first build point the module at the SDK of a checkout:\n"+
			"  git clone https://github.com/seed-e9b80cf6/heartbeat ~/src/heartbeat\n"+
			"  cd %s && go mod edit -replace=%s=$HOME/src/heartbeat/plugins/sdk\n"+
			"(or run heartbeat plugins new again with --sdk DIR; README.md says more)\n", dir, s.SDKModule)
	} else {
		fmt.Fprintf(stdout, "it builds against the SDK at %s (a replace line in go.mod; README.md says how to move to a published SDK)\n", s.SDKPath)
	}
	fmt.Fprintf(stdout, "next: cd %s && make test && make build\n", dir)
	return exitOK
}

// scaffoldFileExists reports whether something is at path.
func scaffoldFileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// scaffoldClipArg bounds a user's argument quoted in an error.
func scaffoldClipArg(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// scaffoldGoVersion turns runtime.Version ("go1.26.8") into a go line ("1.26.8");
// a development build gets the fallback.
func scaffoldGoVersion(v string) string {
	v, ok := strings.CutPrefix(v, "go")
	if !ok || v == "" || !scaffoldGoLineRE.MatchString(v) {
		return scaffoldFallbackGo
	}
	return v
}

// scaffoldCheckModule is a light check of a Go module path: what go mod would
// refuse in a way that is easy to say.
func scaffoldCheckModule(p string) error {
	switch {
	case p == "":
		return errors.New("empty: give a module path such as example.com/heartbeat-target-NAME")
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//"):
		return errors.New("a module path has no leading, trailing or doubled /, e.g. github.com/you/heartbeat-target-NAME")
	case strings.ContainsAny(p, " \t\r\n\"'`\\:*?<>|@"):
		return errors.New("a module path holds letters, digits and . - _ ~ / only, e.g. github.com/you/heartbeat-target-NAME")
	}
	return nil
}

// scaffoldFindSDK returns the SDK checkout to build against and its go line: the
// one given, else the checkout this binary was built in (bin/heartbeat of
// make build, or go build at the root), else one around the current
// directory. No SDK found is not an error (""), one given that is not the
// SDK is.
func scaffoldFindSDK(given, module string) (dir, goLine string, err error) {
	if given != "" {
		abs, err := filepath.Abs(given)
		if err != nil {
			return "", "", fmt.Errorf("--sdk %s: %w", given, err)
		}
		goLine, err := scaffoldSDKGoLine(abs, module)
		if err != nil {
			return "", "", fmt.Errorf("--sdk %s: %w; give the plugins/sdk directory of a heartbeat checkout", given, err)
		}
		return abs, goLine, nil
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		d := filepath.Dir(exe)
		candidates = append(candidates, filepath.Join(d, "..", "plugins", "sdk"), filepath.Join(d, "plugins", "sdk"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, "plugins", "sdk"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range candidates {
		if goLine, err := scaffoldSDKGoLine(c, module); err == nil {
			return filepath.Clean(c), goLine, nil
		}
	}
	return "", "", nil
}

// scaffoldSDKGoLine reads dir/go.mod, checks it declares module, and returns its
// go line.
func scaffoldSDKGoLine(dir, module string) (string, error) {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", errors.New("no go.mod there")
	}
	defer f.Close()
	var declared, goLine string
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "module" {
			declared = strings.Trim(fields[1], `"`)
		}
		if len(fields) == 2 && fields[0] == "go" {
			goLine = fields[1]
		}
	}
	if declared != module {
		return "", fmt.Errorf("its go.mod is not the SDK's (module %s)", module)
	}
	return goLine, nil
}

// writeScaffold fills every template into dir, which must not exist or be
// empty, and returns the names of the files written.
func writeScaffold(dir string, s scaffold) ([]string, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return nil, fmt.Errorf("%s is not empty: choose another directory with --dir, or remove it", dir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("cannot use %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	tmpls, err := scaffoldFiles.ReadDir("scaffold")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{"modpath": scaffoldModPath}
	var written []string
	for _, e := range tmpls {
		name := strings.TrimSuffix(e.Name(), ".tmpl")
		if name == "gitignore" {
			name = ".gitignore"
		}
		text, err := scaffoldFiles.ReadFile("scaffold/" + e.Name())
		if err != nil {
			return written, err
		}
		t, err := template.New(e.Name()).Funcs(funcs).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return written, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, s); err != nil {
			return written, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		// O_EXCL: never overwrite a file that appeared meanwhile.
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return written, fmt.Errorf("cannot write %s: %w", name, err)
		}
		_, werr := f.Write(out.Bytes())
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return written, fmt.Errorf("cannot write %s: %w", name, werr)
		}
		written = append(written, name)
	}
	return written, nil
}

// scaffoldModPath writes a path as go.mod wants it: quoted when it holds
// anything but plain characters.
func scaffoldModPath(p string) string {
	if scaffoldPlainPathRE.MatchString(p) {
		return p
	}
	return strconv.Quote(p)
}
