package status

// Bounds of what the recorder keeps, so that memory stays flat however
// long the daemon runs.
const (
	// MaxBeats is how many recent beats are kept per heartbeat.
	MaxBeats = 60
	// MaxDetail is the longest detail or message kept, in bytes.
	MaxDetail = 300
	// maxName bounds names, descriptions and other short strings.
	maxName = 200
	// maxDescription bounds a target's description and a check's.
	maxDescription = 300
)
