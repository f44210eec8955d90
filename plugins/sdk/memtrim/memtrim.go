// Package memtrim lets a long-running heartbeat process give back the
// memory its start-up used and its steady state does not.
//
// Most of a heartbeat process's resident memory at rest is not heap but
// its own executable: the code and tables that parsing the config,
// starting plugins and the gRPC handshake ran once, mapped by the kernel
// in large blocks. Those pages are clean copies of the file; after
// start-up, ShedStartupPages tells the kernel it may drop them from the
// process (MADV_PAGEOUT). What a beat needs is read back on the next beat
// and stays; the rest no longer counts against the process.
package memtrim

import (
	"runtime/debug"
	"time"
)

// AfterStartup is when, after a process starts, its start-up is surely
// over (config read, plugins started and configured, the start-up beat
// sent) and TrimStartup is worth calling: once, not periodically.
const AfterStartup = 15 * time.Second

// TrimStartup gives back what start-up left, once, after AfterStartup:
// it collects the garbage and returns the freed heap to the system (a
// process at rest allocates too little to collect on its own, and
// heapgoal lets a small heap hold Floor of garbage), then sheds the
// start-up pages (ShedStartupPages, whose figures it reports).
func TrimStartup() (int64, error) {
	debug.FreeOSMemory()
	return ShedStartupPages()
}
