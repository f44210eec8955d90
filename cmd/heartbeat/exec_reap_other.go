//go:build !linux

package main

// execMarkerEnv is set in the environment of a periodic job.
const execMarkerEnv = "HEARTBEAT_EXEC_JOB"

// reapOrphans does nothing here: heartbeat is a child subreaper only on
// Linux, so elsewhere the job's orphans go to init, which reaps them.
func reapOrphans(_ string, seen map[int]bool) map[int]bool { return seen }
