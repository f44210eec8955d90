package main

import (
	"testing"

	"golang.org/x/sys/windows/svc"
)

// The service manager's states map to the ones start, stop and uninstall
// wait for. (Compiled on every change, run on Windows only.)
func TestServiceStateOf(t *testing.T) {
	for in, want := range map[svc.State]serviceState{
		svc.Stopped:         stateStopped,
		svc.StartPending:    stateStartPending,
		svc.StopPending:     stateStopPending,
		svc.Running:         stateRunning,
		svc.Paused:          stateOther,
		svc.ContinuePending: stateOther,
	} {
		if got := stateOf(in); got != want {
			t.Errorf("state %d: got %v, want %v", in, got, want)
		}
	}
	if millis(serviceStopWaitHint) != 20000 {
		t.Errorf("stop wait hint %dms", millis(serviceStopWaitHint))
	}
}
