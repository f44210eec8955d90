// Package beat measures what one beat costs: through a real plugin process,
// in-process, and with curl, plus the daemon's start-up time and memory.
// Everything is in the package's tests; see README.md.
package beat
