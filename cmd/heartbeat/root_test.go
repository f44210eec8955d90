package main

import (
	"path/filepath"
	"runtime"
	"testing"
)

// repoRoot is two levels up from cmd/heartbeat.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
