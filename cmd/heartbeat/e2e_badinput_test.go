//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every file of the bad-input corpus gets its expected error from
// `heartbeat validate`, with exit status 2, quickly, and never a panic.
func TestBadInputCorpus(t *testing.T) {
	bins := buildBinaries(t)
	dir := filepath.Join(repoRoot(t), "core", "config", "testdata", "bad")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) < 20 {
		t.Fatalf("corpus has %d files", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			wantData, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", file, "--plugin-dir", bins.pluginDir)
			if elapsed := time.Since(start); elapsed > 20*time.Second {
				t.Errorf("validate took %s", elapsed)
			}
			if code != exitInvalid {
				t.Errorf("exit status %d, want %d", code, exitInvalid)
			}
			for _, want := range strings.Split(strings.TrimSpace(string(wantData)), "\n") {
				if want != "" && !strings.Contains(stderr, want) {
					t.Errorf("error lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stdout+stderr, "panic") || strings.Contains(stdout+stderr, "goroutine ") {
				t.Errorf("crashed:\n%s", stderr)
			}
		})
	}
}
