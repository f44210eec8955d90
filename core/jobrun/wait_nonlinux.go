//go:build !linux

package jobrun

import "os/exec"

// awaitExit waits for the job's leader and reaps it. (Linux keeps it a
// zombie until Run reaps it, so the group's id cannot be reused meanwhile;
// elsewhere the window is the time between the two.)
func awaitExit(cmd *exec.Cmd, _ *terminal) func() error {
	err := cmd.Wait()
	return func() error { return err }
}
