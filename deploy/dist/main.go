// Command dist builds a heartbeat release into dist/: an archive per
// platform, the .deb and .rpm packages, the OCI image, a CycloneDX bill of
// materials and SHA256SUMS over them all. Two runs of the same commit give
// the same bytes. `make dist` runs it; `go run ./dist -h` from deploy/
// lists its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// stageDirName is the directory of out that holds the built binaries
// while the artefacts are written; it is not an artefact.
const stageDirName = ".stage"

// options are the inputs of one release build.
type options struct {
	Version string    // as given; a leading "v" is dropped
	Commit  string    // short commit stamped into the binaries
	Epoch   time.Time // the time of every file in every artefact
	Root    string    // repository root
	Out     string    // wiped and written
	Go      string    // the go command
	// KeepStage keeps out/.stage (Release.Staged) after the build.
	KeepStage bool
	Log       io.Writer // progress
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad flag or flag value.
type usageError struct{ error }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dist", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "release version (default: git describe --tags --always --dirty, without the leading v)")
	out := fs.String("out", "", "output directory, wiped first (default: <root>/dist)")
	epoch := fs.String("epoch", "", "time of every file in the artefacts, Unix seconds (default: $SOURCE_DATE_EPOCH, else the commit's time)")
	root := fs.String("root", "", "repository root (default: found from the working directory)")
	commit := fs.String("commit", "", "commit stamped into the binaries (default: git rev-parse --short HEAD, else unknown)")
	goCmd := fs.String("go", "go", "the go command")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: every input is a flag (-h lists them)", fs.Arg(0))}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	o := options{Version: *version, Commit: *commit, Out: *out, Root: *root, Go: *goCmd, Log: stderr}
	if err := o.resolve(ctx, *epoch); err != nil {
		return err
	}
	start := time.Now()
	_, names, err := makeDist(ctx, o)
	if err != nil {
		return err
	}
	return printTable(stdout, o.Out, append(names, sumsName), time.Since(start))
}

// resolve fills in what was not given from the environment and git.
func (o *options) resolve(ctx context.Context, epoch string) error {
	if o.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if o.Root, err = findRoot(wd); err != nil {
			return err
		}
	} else if root, err := findRoot(o.Root); err != nil || root != mustAbs(o.Root) {
		return usageError{fmt.Errorf("-root %s: not the repository root (the directory of the go.mod of %s)", o.Root, rootModule)}
	}
	if o.Version == "" {
		v, err := gitOutput(ctx, o.Root, "describe", "--tags", "--always", "--dirty")
		if err != nil {
			return fmt.Errorf("cannot tell the version, pass -version: %w", err)
		}
		o.Version = v
	}
	v, err := cleanVersion(o.Version)
	if err != nil {
		return usageError{err}
	}
	o.Version = v
	if epoch == "" {
		epoch = os.Getenv("SOURCE_DATE_EPOCH")
	}
	if epoch == "" {
		if epoch, err = gitOutput(ctx, o.Root, "log", "-1", "--format=%ct"); err != nil {
			return fmt.Errorf("cannot tell the commit's time, pass -epoch or set SOURCE_DATE_EPOCH: %w", err)
		}
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(epoch), 10, 64)
	if err != nil || secs < 0 || secs > 1<<33 {
		return usageError{fmt.Errorf("epoch %q: want Unix seconds, such as the output of git log -1 --format=%%ct", bound(epoch))}
	}
	o.Epoch = time.Unix(secs, 0).UTC()
	if o.Commit == "" {
		if o.Commit, err = gitOutput(ctx, o.Root, "rev-parse", "--short", "HEAD"); err != nil {
			o.Commit = "unknown"
		}
	}
	if !commitRE.MatchString(o.Commit) {
		return usageError{fmt.Errorf("commit %q: want a revision such as abc1234 (letters, digits, . _ -)", bound(o.Commit))}
	}
	if o.Out == "" {
		o.Out = filepath.Join(o.Root, "dist")
	}
	o.Out = mustAbs(o.Out)
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return filepath.Clean(a)
	}
	return filepath.Clean(p)
}

// versionRE is what a version may hold: it becomes part of file names,
// package versions and image tags.
var versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+~_-]{0,63}$`)

// commitRE is what a commit may hold: it is passed to the linker in -ldflags.
var commitRE = regexp.MustCompile(`^[0-9A-Za-z._-]{1,64}$`)

// cleanVersion drops a leading "v" before a digit and checks the rest.
func cleanVersion(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		v = v[1:]
	}
	if !versionRE.MatchString(v) {
		return "", fmt.Errorf("version %q: want letters, digits and . + ~ _ - (at most 64), starting with a letter or digit, such as 1.2.3", bound(v))
	}
	return v, nil
}

// bound cuts a string from outside to a length fit for a message.
func bound(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// makeDist builds the release described by o into o.Out and returns it
// with the names of the artefacts written (SHA256SUMS aside).
func makeDist(ctx context.Context, o options) (*Release, []string, error) {
	if err := prepareOut(o.Out, o.Root); err != nil {
		return nil, nil, err
	}
	plugins, err := bundledPlugins(o.Root)
	if err != nil {
		return nil, nil, err
	}
	r := &Release{Version: o.Version, Epoch: o.Epoch, Root: o.Root, Out: o.Out, Plugins: plugins}
	stageDir := filepath.Join(o.Out, stageDirName)
	if !o.KeepStage {
		defer os.RemoveAll(stageDir)
	}
	step := func(what string) func() {
		start := time.Now()
		return func() { fmt.Fprintf(o.Log, "%s: %s\n", what, time.Since(start).Round(100*time.Millisecond)) }
	}
	done := step("build")
	if r.Staged, err = stage(ctx, o.Go, r, o.Commit, stageDir, o.Log); err != nil {
		return nil, nil, err
	}
	done()

	var names []string
	for _, w := range []struct {
		what  string
		write func(*Release) ([]string, error)
	}{
		{"archives", writeArchives},
		{"packages", writePackages},
		{"oci image", writeOCI},
		{"sbom", func(r *Release) ([]string, error) {
			name, err := writeSBOM(r)
			return []string{name}, err
		}},
	} {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		done := step(w.what)
		written, err := w.write(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", w.what, err)
		}
		done()
		names = append(names, written...)
	}
	if err := checkOnly(o.Out, names); err != nil {
		return nil, nil, err
	}
	if err := writeSums(o.Out, names); err != nil {
		return nil, nil, err
	}
	slices.Sort(names)
	return r, names, nil
}

// prepareOut empties out, refusing a directory that is not a release
// output: the repository, one of its parents, or one with other files.
func prepareOut(out, root string) error {
	if out == root || strings.HasPrefix(root, out+string(filepath.Separator)) || out == filepath.Dir(out) {
		return usageError{fmt.Errorf("-out %s would wipe the repository: choose a directory of its own, such as %s", out, filepath.Join(root, "dist"))}
	}
	if home, err := os.UserHomeDir(); err == nil && mustAbs(home) == out {
		return usageError{fmt.Errorf("-out %s is the home directory: choose a directory of its own", out)}
	}
	entries, err := os.ReadDir(out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); n != stageDirName && n != sumsName && !strings.HasPrefix(n, "heartbeat") {
			return usageError{fmt.Errorf("-out %s holds %s, which is not a release artefact: remove it or choose another -out", out, bound(n))}
		}
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return os.MkdirAll(out, 0o755)
}

// checkOnly fails when out holds anything but the artefacts written (and
// the stage): a writer that leaves a temporary file behind would publish it.
func checkOnly(out string, names []string) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); n != stageDirName && !slices.Contains(names, n) {
			return fmt.Errorf("%s holds %s, which no artefact writer returned: a writer must return every file it leaves in the output directory", out, n)
		}
	}
	for _, n := range names {
		info, err := os.Stat(filepath.Join(out, n))
		if err != nil {
			return fmt.Errorf("artefact %s: %w", n, err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("artefact %s is not a regular file", n)
		}
	}
	return nil
}

// printTable lists the artefacts with their sizes, and the time taken.
func printTable(w io.Writer, out string, names []string, took time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var total int64
	for _, n := range names {
		info, err := os.Stat(filepath.Join(out, n))
		if err != nil {
			return err
		}
		total += info.Size()
		fmt.Fprintf(tw, "%s\t%d\t%s\n", n, info.Size(), humanSize(info.Size()))
	}
	fmt.Fprintf(tw, "total\t%d\t%s\n", total, humanSize(total))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d files in %s, built in %s\n", len(names), out, took.Round(time.Second))
	return err
}

// humanSize is a size in bytes, KiB or MiB with one decimal.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
