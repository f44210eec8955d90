package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// describeTimeout bounds describe's start of the plugin and its Info call.
const describeTimeout = 30 * time.Second

// describeFormats are the values of plugins describe --format.
func describeFormats() []string { return []string{"text", "markdown", "json"} }

// pluginsDescribeFlags defines plugins describe's flags.
func pluginsDescribeFlags(stderr io.Writer) (*flag.FlagSet, *common) {
	fs, c := newFlagSet("plugins describe", stderr)
	fs.String("format", "text", "output `FORMAT`: text, markdown (the settings table of docs/targets/NAME.md) or json")
	return fs, c
}

func cmdPluginsDescribe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, c := pluginsDescribeFlags(stderr)
	positional, err := parseFlags(fs, args)
	if err != nil {
		return exitInvalid
	}
	format := fs.Lookup("format").Value.String()
	if !slices.Contains(describeFormats(), format) {
		fmt.Fprintf(stderr, "error: --format %q: use %s\n", scaffoldClipArg(format), strings.Join(describeFormats(), ", "))
		return exitInvalid
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "error: name one plugin, e.g. heartbeat plugins describe http")
		return exitInvalid
	}
	name := positional[0]
	// The config decides which plugins may run (pins, permissions): one
	// that does not load means nothing is run.
	cfg, err := c.pluginsConfig()
	if err != nil {
		printError(stderr, err)
		fmt.Fprintln(stderr, "error: without the config its sha256 pins are unknown, so no plugin is run; fix the config (heartbeat validate) or name another with --config")
		return exitFailed
	}
	catalog, err := c.pluginPath(cfg).Scan()
	if err != nil {
		printError(stderr, err)
		return exitFailed
	}
	f, ok := catalog.Lookup(name)
	if !ok {
		msg := catalog.WhyNotFound(name)
		if msg == "" {
			msg = fmt.Sprintf("no plugin %q in %s", name, catalog.Path)
			if names := catalog.Names(); len(names) > 0 {
				msg += " (there are " + strings.Join(names, ", ") + ")"
			}
		}
		fmt.Fprintf(stderr, "error: %s\n", msg)
		return exitFailed
	}
	if err := checkPlugin(&f, cfg); err != nil {
		fmt.Fprintf(stderr, "error: plugin %s refused: %v\n", f.Name, err)
		return exitFailed
	}
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	host := pluginhost.New(pluginhost.Options{})
	defer host.Stop()
	p, err := host.Start(ctx, f)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (no answer within %s)", err, describeTimeout)
		}
		printError(stderr, err)
		return exitFailed
	}
	info := p.Info()
	switch format {
	case "markdown":
		_, err = io.WriteString(stdout, settingsMarkdown(info))
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(describeJSON(info, f.Path))
	default:
		err = writeDescription(stdout, info, f.Path)
	}
	if err != nil {
		printError(stderr, err)
		return exitFailed
	}
	return exitOK
}

func describeSignalNames(info sdk.Info) []string {
	names := make([]string, len(info.Signals))
	for i, s := range info.Signals {
		names[i] = s.String()
	}
	return names
}

func describeYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeDescription is describe's text output.
func writeDescription(w io.Writer, info sdk.Info, path string) error {
	fmt.Fprintf(w, "%s %s", info.Name, info.Version)
	if info.Description != "" {
		fmt.Fprintf(w, ": %s", info.Description)
	}
	fmt.Fprintf(w, "\nfile: %s\nsignals: %s\n", path, strings.Join(describeSignalNames(info), ", "))
	if len(info.Settings) == 0 {
		_, err := fmt.Fprintln(w, "settings: none")
		return err
	}
	fmt.Fprintln(w, "settings:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tREQUIRED\tSECRET\tDEFAULT\tDESCRIPTION")
	for _, s := range info.Settings {
		def := s.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Type, describeYesNo(s.Required), describeYesNo(s.Secret), def, s.Description)
	}
	return tw.Flush()
}

// settingsMarkdown is the settings table of a plugin's page in
// docs/targets/, generated so that the page cannot drift from the plugin.
func settingsMarkdown(info sdk.Info) string {
	var b strings.Builder
	b.WriteString("| Setting | Type | Required | Secret | Default | Description |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, s := range info.Settings {
		def := s.Default
		if def != "" && !strings.ContainsAny(def, " `") {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", describeCell(s.Name), describeCell(s.Type), describeYesNo(s.Required), describeYesNo(s.Secret), describeCell(def), describeCell(s.Description))
	}
	return b.String()
}

// describeCell keeps a string inside one table cell.
func describeCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

type describedSetting struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Secret      bool   `json:"secret"`
	Default     string `json:"default,omitempty"`
	Description string `json:"description"`
}

type described struct {
	Name        string             `json:"name"`
	Version     string             `json:"version"`
	Description string             `json:"description"`
	Path        string             `json:"path"`
	Signals     []sdk.Signal       `json:"signals"` // as names: sdk.Signal is text in JSON
	Settings    []describedSetting `json:"settings"`
}

func describeJSON(info sdk.Info, path string) described {
	d := described{Name: info.Name, Version: info.Version, Description: info.Description, Path: path, Signals: info.Signals, Settings: []describedSetting{}}
	for _, s := range info.Settings {
		d.Settings = append(d.Settings, describedSetting(s))
	}
	return d
}
