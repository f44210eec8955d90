package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
)

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "HEARTBEAT_CONFIG"

// common holds the flags every daemon command takes.
type common struct {
	config        string
	pluginDirs    []string
	logLevel      string
	logFormat     string
	maxConfigSize int64
}

func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *common) {
	fs := newBareFlagSet(name, stderr)
	c := &common{}
	// Usage texts are what --help, the man page and shell completion
	// show; a `PLACEHOLDER` names the value (PATH: a file, DIR: a directory).
	fs.StringVar(&c.config, "config", "", "config file `PATH` (default: $"+ConfigEnv+", ./heartbeat.yaml, "+systemConfigDisplay(runtime.GOOS)+"); a Butler SOS config works too")
	fs.Var(dirsFlag{&c.pluginDirs}, "plugin-dir", "plugin directory `DIR`, searched before the bundled plugins (plugins/ or ../lib/heartbeat/plugins beside the heartbeat binary); repeat it, or give a path list, for several (default: $"+daemon.PluginDirEnv+", the config's plugin_dirs)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `LEVEL`: trace, debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `FORMAT`: text or json")
	c.maxConfigSize = config.DefaultMaxFileSize
	fs.Var(sizeFlag{&c.maxConfigSize}, "max-config-size", "refuse a config file larger than `SIZE`, e.g. 32MiB ("+config.FormatBytes(config.MinMaxFileSize)+" to "+config.FormatBytes(config.MaxMaxFileSize)+")")
	return fs, c
}

// dirsFlag is the repeatable --plugin-dir flag; each value may be a path
// list (dir1:dir2 on Unix).
type dirsFlag struct{ dirs *[]string }

func (f dirsFlag) String() string {
	if f.dirs == nil {
		return ""
	}
	return strings.Join(*f.dirs, string(filepath.ListSeparator))
}

func (f dirsFlag) Set(s string) error {
	var added bool
	for _, d := range filepath.SplitList(s) {
		if d != "" {
			*f.dirs = append(*f.dirs, d)
			added = true
		}
	}
	if !added {
		return errors.New("name a directory")
	}
	return nil
}

// sizeFlag is the --max-config-size flag: a byte size such as 32MiB.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return config.FormatBytes(*f.n)
}

func (f sizeFlag) Set(s string) error {
	n, err := config.ParseMaxFileSize(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}

// newBareFlagSet is a command's flag set without the common flags. Its
// Usage is silent: run prints the command's help for --help and a pointer
// to it after a parse error.
func newBareFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("heartbeat "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// quieter raises the default log level to warn for one-shot commands,
// whose own output says what happened.
func (c *common) quieter() {
	if strings.EqualFold(c.logLevel, "info") {
		c.logLevel = "warn"
	}
}

func (c *common) logger(stderr io.Writer) (hclog.Logger, error) {
	level := hclog.LevelFromString(c.logLevel)
	if level == hclog.NoLevel {
		return nil, fmt.Errorf("--log-level %q: use trace, debug, info, warn or error", c.logLevel)
	}
	var json bool
	switch strings.ToLower(c.logFormat) {
	case "text":
	case "json":
		json = true
	default:
		return nil, fmt.Errorf("--log-format %q: use text or json", c.logFormat)
	}
	return newNormalLogger(hclog.New(&hclog.LoggerOptions{
		Name:       "heartbeat",
		Level:      level,
		Output:     stderr,
		JSONFormat: json,
		Color:      hclog.ColorOff,
	})), nil
}

// configPath picks the config file: --config, $HEARTBEAT_CONFIG,
// ./heartbeat.yaml, /etc/heartbeat/heartbeat.yaml
// (%ProgramData%\heartbeat\heartbeat.yaml on Windows).
func (c *common) configPath() string {
	path, err := c.findConfig()
	if err != nil {
		return "heartbeat.yaml"
	}
	return path
}

// findConfig is configPath with an error naming the places searched when
// no config file is found there.
func (c *common) findConfig() (string, error) {
	if c.config != "" {
		return c.config, nil
	}
	if env := os.Getenv(ConfigEnv); env != "" {
		return env, nil
	}
	searched := defaultConfigPaths()
	for _, p := range searched {
		if _, err := os.Stat(p); err == nil || !os.IsNotExist(err) {
			return p, nil // Load reports an unreadable file
		}
	}
	if abs, err := filepath.Abs(searched[0]); err == nil {
		searched[0] = abs
	}
	return "", fmt.Errorf("no config file: --config is not given, $%s is not set, and neither %s exists; pass --config PATH (a heartbeat or Butler SOS config file)", ConfigEnv, strings.Join(searched, " nor "))
}

// configOptions are the config loading options the flags set.
func (c *common) configOptions() config.Options {
	return config.Options{MaxSize: c.maxConfigSize}
}

func (c *common) loadConfig() (*config.Config, error) {
	path, err := c.findConfig()
	if err != nil {
		return nil, err
	}
	return config.Load(path, c.configOptions())
}

// pluginPath is the plugin search path for cfg (nil: no config): the
// --plugin-dir flags, $HEARTBEAT_PLUGIN_DIR or the config's plugin_dirs,
// then the bundled directory.
func (c *common) pluginPath(cfg *config.Config) pluginhost.SearchPath {
	return daemon.PluginPath(c.pluginDirs, cfg)
}

// printError writes err for a user: config errors one per block.
func printError(stderr io.Writer, err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintf(stderr, "error: %v\n", e)
		}
		return
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
}
