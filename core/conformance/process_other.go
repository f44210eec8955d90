//go:build !unix

package conformance

import "os/exec"

func isolate(*exec.Cmd) {}

func killGroup(int) {}

func (s *suite) checkHostDeath() {
	s.report(CheckHostDeath, Skip, "checked on Unix systems only")
}
