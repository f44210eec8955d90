//go:build !windows

package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

// serviceAction is `heartbeat service ACTION`: Windows only.
func serviceAction(_ context.Context, _ string, _ *serviceOptions, _, stderr io.Writer) int {
	fmt.Fprintf(stderr, "error: %s\n", notWindowsService(runtime.GOOS))
	return exitInvalid
}

// runService runs heartbeat under the Windows service manager: never here.
func runService([]string) (code int, ok bool) { return 0, false }
