//go:build unix

package check

import "os/exec"

// runIsolated runs cmd, set up by isolate: its process group is ended by
// cmd.Cancel.
func runIsolated(cmd *exec.Cmd) error { return cmd.Run() }
