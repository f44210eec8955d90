//go:build !linux

package pluginhost

import (
	"errors"
	"os"
	"os/exec"
)

// limitsEnforced: memory and CPU limits are not enforced here.
const limitsEnforced = false

func isolate(*exec.Cmd) {}

func killGroup(int) {}

func becomeSubreaper() error { return errors.ErrUnsupported }

func applyLimits(int, Limits) error { return nil }

func killTree(int, string) {}

func reapAdopted(map[int]bool, map[int]bool, string) map[int]bool { return nil }

// exitDetail says how a plugin process ended; limits are not enforced here.
func exitDetail(st *os.ProcessState, _ Limits, _ bool) string {
	return "it exited: " + st.String()
}
