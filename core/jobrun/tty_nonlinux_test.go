//go:build unix && !linux

package jobrun

// The terminal tests are Linux's (tty_linux_test.go); TestMain names the
// helper either way.
const ttyJobEnv = "JOBRUN_TEST_TTY_JOB"

func runTTYJob(string) int { return 2 }
