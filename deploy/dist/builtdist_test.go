package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The release the checks build: a fixed version and time, so the bytes
// do not depend on the commit checked out.
const (
	checkVersion = "0.0.0-check"
	checkEpoch   = 1767323045 // 2026-01-02T03:04:05Z: odd seconds, which a zip rounds down
)

// distCheckEnv turns on the checks that build the whole release
// (minutes of CPU time); make dist-check sets it.
const distCheckEnv = "HEARTBEAT_DIST_CHECK"

// shared is the release built once per test binary and what built it.
type shared struct {
	once    sync.Once
	dir     string // removed by TestMain
	release *Release
	names   []string
	err     error
	log     bytes.Buffer
	tree    map[string]string // treeState before the build
}

// built is the one release of this test binary; TestMain removes it.
var built shared

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// skipUnlessDistCheck skips a test that builds the release unless
// HEARTBEAT_DIST_CHECK=1.
func skipUnlessDistCheck(t *testing.T) {
	t.Helper()
	if os.Getenv(distCheckEnv) != "1" {
		t.Skipf("builds the whole release (every platform, several minutes): run make dist-check, or set %s=1", distCheckEnv)
	}
}

// checkOptions are the options of a check build into out.
func checkOptions(t *testing.T, out string, log *bytes.Buffer) options {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := findRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return options{
		Version:   checkVersion,
		Commit:    "0000000",
		Epoch:     time.Unix(checkEpoch, 0).UTC(),
		Root:      root,
		Out:       out,
		Go:        "go", // go test puts its toolchain first on PATH
		KeepStage: true,
		Log:       log,
	}
}

// builtDist is the release, built once per test binary into a temporary
// directory with version 0.0.0-check and a fixed epoch: its artefacts in
// Out (SHA256SUMS included), its binaries in Staged (kept). It skips the
// test unless HEARTBEAT_DIST_CHECK=1, and fails it when the build failed.
func builtDist(t *testing.T) *Release {
	t.Helper()
	skipUnlessDistCheck(t)
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "heartbeat-dist-check-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		opts := checkOptions(t, filepath.Join(dir, "dist"), &built.log)
		built.tree = treeState(t, opts.Root)
		start := time.Now()
		built.release, built.names, built.err = makeDist(context.Background(), opts)
		fmt.Fprintf(&built.log, "release built in %s\n", time.Since(start).Round(time.Second))
		t.Logf("building the release into %s:\n%s", dir, built.log.String())
	})
	if built.err != nil {
		t.Fatalf("building the release: %v\n%s", built.err, built.log.String())
	}
	return built.release
}

// builtArtefacts are the names of the artefacts of builtDist (SHA256SUMS
// aside), sorted.
func builtArtefacts(t *testing.T) []string {
	t.Helper()
	builtDist(t)
	return built.names
}
