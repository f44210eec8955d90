package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
)

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "HEARTBEAT_CONFIG"

// common holds the flags every daemon command takes.
type common struct {
	config    string
	pluginDir string
	logLevel  string
	logFormat string
}

func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet("heartbeat "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &common{}
	fs.StringVar(&c.config, "config", "", "config file")
	fs.StringVar(&c.pluginDir, "plugin-dir", "", "plugin directory")
	fs.StringVar(&c.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	return fs, c
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
	return hclog.New(&hclog.LoggerOptions{
		Name:       "heartbeat",
		Level:      level,
		Output:     stderr,
		JSONFormat: json,
		Color:      hclog.ColorOff,
	}), nil
}

// configPath picks the config file: --config, $HEARTBEAT_CONFIG,
// ./heartbeat.yaml, /etc/heartbeat/heartbeat.yaml.
func (c *common) configPath() string {
	if c.config != "" {
		return c.config
	}
	if env := os.Getenv(ConfigEnv); env != "" {
		return env
	}
	for _, p := range []string{"heartbeat.yaml", "/etc/heartbeat/heartbeat.yaml"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "heartbeat.yaml"
}

func (c *common) loadConfig() (*config.Config, error) {
	return config.Load(c.configPath(), config.Options{})
}

func (c *common) resolvePluginDir(cfg *config.Config) string {
	fromConfig := ""
	if cfg != nil {
		fromConfig = cfg.PluginDir
	}
	return daemon.ResolvePluginDir(c.pluginDir, fromConfig)
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
