package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Every command: --help and -h print its help (what it does, its flags, an
// example) and exit 0; a stray argument or a missing one is a usage error
// (exit 2) before anything runs.
func TestCommandArguments(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			for _, help := range []string{"--help", "-h"} {
				var stdout, stderr bytes.Buffer
				if code := run(context.Background(), []string{c.name, help}, &stdout, &stderr); code != exitOK {
					t.Fatalf("%s %s: exit %d, stderr:\n%s", c.name, help, code, stderr.String())
				}
				out := stdout.String()
				flat := strings.Join(strings.Fields(out), " ") // help is wrapped
				for _, want := range []string{"heartbeat " + c.name + ": " + c.summary, "Usage:", "Example:", firstSentence(c.about)} {
					if !strings.Contains(flat, want) {
						t.Errorf("%s %s lacks %q:\n%s", c.name, help, want, out)
					}
				}
				for _, f := range flagInfos(c.flagSet(io.Discard)) {
					if !strings.Contains(out, "  "+f.name) {
						t.Errorf("%s %s lacks the flag %s", c.name, help, f.name)
					}
				}
			}

			// One argument too many, after the allowed ones and a flag.
			args := []string{c.name}
			for i := 0; i < c.maxArgs; i++ {
				args = append(args, validArg(c))
			}
			args = append(args, "stray-argument")
			if c.flagSet(io.Discard).Lookup("config") != nil {
				args = append(args, "--config", "/nonexistent/heartbeat.yaml")
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != exitInvalid {
				t.Errorf("%v: exit %d, want %d", args, code, exitInvalid)
			}
			if !strings.Contains(stderr.String(), `unexpected argument "stray-argument"`) || stdout.Len() != 0 {
				t.Errorf("%v: stdout %q, stderr %q; want only an unexpected-argument error", args, stdout.String(), stderr.String())
			}

			if c.minArgs > 0 {
				stdout.Reset()
				stderr.Reset()
				if code := run(context.Background(), []string{c.name}, &stdout, &stderr); code != exitInvalid || !strings.Contains(stderr.String(), "missing") {
					t.Errorf("%s without its argument: exit %d, stderr %q", c.name, code, stderr.String())
				}
			}

			stdout.Reset()
			stderr.Reset()
			if code := run(context.Background(), []string{c.name, "--no-such-flag"}, &stdout, &stderr); code != exitInvalid || !strings.Contains(stderr.String(), "heartbeat "+c.name+" --help") {
				t.Errorf("%s --no-such-flag: exit %d, stderr %q", c.name, code, stderr.String())
			}
		})
	}
}

func validArg(c command) string {
	if len(c.argValues) > 0 {
		return c.argValues[0]
	}
	if c.name == "help" {
		return "send"
	}
	return "every 1 hour"
}

func firstSentence(s string) string {
	s, _, _ = strings.Cut(s, ". ")
	return s
}

// help, with or without a command, and the usage text list every command.
func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, name := range commandNames() {
			if !strings.Contains(stdout.String(), "\n  "+name+" ") {
				t.Errorf("%v does not list %s:\n%s", args, name, stdout.String())
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"help", "send"}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "--heartbeat NAME") {
		t.Errorf("help send: exit %d\n%s", code, stdout.String())
	}
	if code := run(context.Background(), []string{"help", "nope"}, &stdout, &stderr); code != exitInvalid {
		t.Errorf("help nope: exit %d", code)
	}
	if code := run(context.Background(), nil, &stdout, &stderr); code != exitInvalid {
		t.Errorf("no command: exit %d", code)
	}
}

// The completion scripts are valid for their shell and offer every command
// and every flag of each command.
func TestCompletionScripts(t *testing.T) {
	checkers := map[string][]string{
		"bash": {"bash", "-n"},
		"zsh":  {"zsh", "-n"},
		"fish": {"fish", "--no-execute"},
	}
	for _, shell := range shells() {
		t.Run(shell, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"completion", shell}, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			script := stdout.String()
			for _, c := range commands() {
				for _, word := range strings.Fields(c.name) {
					if !strings.Contains(script, word) {
						t.Errorf("no command %s", c.name)
					}
				}
				for _, f := range flagInfos(c.flagSet(io.Discard)) {
					name := f.name
					if shell == "fish" {
						name = strings.TrimLeft(name, "-") // -l NAME / -s N
					}
					if !strings.Contains(script, name) {
						t.Errorf("no flag %s of %s", f.name, c.name)
					}
				}
			}
			checker := checkers[shell]
			if _, err := exec.LookPath(checker[0]); err != nil {
				t.Skipf("%s is not installed: syntax not checked", checker[0])
			}
			path := filepath.Join(t.TempDir(), "heartbeat."+shell)
			if err := os.WriteFile(path, stdout.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(checker[0], append(checker[1:], path)...).CombinedOutput(); err != nil {
				t.Errorf("%s rejects the script: %v\n%s", strings.Join(checker, " "), err, out)
			}
		})
	}
}

// The bash script completes commands, flags and argument values.
func TestBashCompletionCompletes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	var script bytes.Buffer
	writeBashCompletion(&script)
	path := filepath.Join(t.TempDir(), "heartbeat.bash")
	if err := os.WriteFile(path, script.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"heartbeat", "sen"}, "send"},
		{[]string{"heartbeat", "serv"}, "service"},
		{[]string{"heartbeat", "service", "unin"}, "uninstall"},
		{[]string{"heartbeat", "send", "--heart"}, "--heartbeat"},
		{[]string{"heartbeat", "run", "--dry"}, "--dry-run"},
		{[]string{"heartbeat", "completion", "z"}, "zsh"},
		{[]string{"heartbeat", "help", "va"}, "validate"},
		{[]string{"heartbeat", "pl"}, "plugins"},
		{[]string{"heartbeat", "plugins", "ch"}, "check"},
		{[]string{"heartbeat", "plugins", "--sha"}, "--sha256"},
		{[]string{"heartbeat", "plugins", "check", "--sett"}, "--settings"},
		{[]string{"heartbeat", "plugins", "new", "x", "--mod"}, "--module"},
	}
	for _, tt := range tests {
		words := "'" + strings.Join(tt.words, "' '") + "'"
		cmd := exec.Command("bash", "-c", `source "$1"; COMP_WORDS=(`+words+`); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _heartbeat; echo "${COMPREPLY[*]}"`, "bash", path)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tt.want {
			t.Errorf("%v: got %q (%v), want %q", tt.words, out, err, tt.want)
		}
	}
}

// The man page is valid roff and documents every command and flag.
func TestManPage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"man"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	page := stdout.String()
	if !strings.HasPrefix(page, `.\"`) || !strings.Contains(page, ".TH HEARTBEAT 1") {
		t.Errorf("not a man page:\n%.200s", page)
	}
	for _, c := range commands() {
		if !strings.Contains(page, ".SS heartbeat "+c.name) {
			t.Errorf("no section for %s", c.name)
		}
		for _, f := range flagInfos(c.flagSet(io.Discard)) {
			if !strings.Contains(page, ".B "+strings.ReplaceAll(f.name, "-", `\-`)) && !strings.Contains(page, ".BI \""+strings.ReplaceAll(f.name, "-", `\-`)+" ") {
				t.Errorf("no flag %s of %s", f.name, c.name)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "heartbeat.1")
	if err := os.WriteFile(path, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed: roff not checked")
	}
	out, err := exec.Command("groff", "-man", "-z", "-ww", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff -man -z -ww: %v\n%s", err, out)
	}
}

// The core's log lines give durations as strings, name a process id "pid",
// and put the fields of a plugin's lines in alphabetical order.
func TestNormalLogger(t *testing.T) {
	var buf bytes.Buffer
	logger := newNormalLogger(hclog.New(&hclog.LoggerOptions{Name: "heartbeat", Output: &buf, JSONFormat: true, Level: hclog.Trace}))
	logger.Info("beat delivered", "duration", 1234567891*time.Nanosecond, "attempts", 1)
	logger.With("grace", 10*time.Second).Warn("late")
	logger.Info("plugin process exited", "plugin", "/p/heartbeat-target-x", "id", "4242")
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		lines = append(lines, m)
	}
	if lines[0]["duration"] != "1.235s" || lines[1]["grace"] != "10s" {
		t.Errorf("durations: %v, %v", lines[0]["duration"], lines[1]["grace"])
	}
	if _, ok := lines[2]["id"]; ok || lines[2]["pid"] != float64(4242) {
		t.Errorf("pid: %v", lines[2])
	}

	buf.Reset()
	text := newNormalLogger(hclog.New(&hclog.LoggerOptions{Name: "heartbeat", Output: &buf, Level: hclog.Trace}))
	plugin := text.Named("heartbeat-target-log")
	for i := 0; i < 20; i++ {
		plugin.Info("beat received", "signal", "success", "heartbeat", "hb", "@module", "t", "sequence", i, "timestamp", "x")
	}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !strings.Contains(l, "beat received: @module=t heartbeat=hb sequence=") || !strings.HasSuffix(l, "signal=success timestamp=x") {
			t.Errorf("plugin fields not sorted: %s", l)
		}
	}
	buf.Reset()
	text.Info("core", "target", "b", "heartbeat", "a")
	if !strings.Contains(buf.String(), "core: target=b heartbeat=a") {
		t.Errorf("the core's own fields were reordered: %s", buf.String())
	}
}

// README.md's command table lists every command, and the common flags.
func TestREADMEListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(readme), "## Commands")
	table, _, _ = strings.Cut(table, "\n## ")
	for _, c := range commands() {
		if !strings.Contains(table, "| `heartbeat "+c.name) {
			t.Errorf("README.md's command table lacks %s", c.name)
		}
		for _, f := range flagInfos(c.flagSet(io.Discard)) {
			if !strings.Contains(table, f.name) {
				t.Errorf("README.md's command table lacks %s %s", c.name, f.name)
			}
		}
	}
}
