//go:build unix

package jobrun

import (
	"os"
	"testing"
)

// TestMain lets the test binary play the other processes some tests need.
func TestMain(m *testing.M) {
	if path := os.Getenv(lockHolderEnv); path != "" {
		os.Exit(holdLock(path))
	}
	if script := os.Getenv(ttyJobEnv); script != "" {
		os.Exit(runTTYJob(script))
	}
	os.Exit(m.Run())
}
