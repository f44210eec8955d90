// Package status keeps what the daemon did recently, bounded in memory,
// and serves it as JSON: the recent beats of each heartbeat, the last
// result per target, the next fire times and the plugins' states.
package status

import "time"

// SchemaVersion is the version of the JSON document of /api/v1/status.
// Fields may be added within a version; none is renamed or removed.
const SchemaVersion = 1

// Snapshot is the state of the daemon at one instant.
type Snapshot struct {
	Version     int         `json:"version"` // SchemaVersion
	GeneratedAt time.Time   `json:"generated_at"`
	StartedAt   time.Time   `json:"started_at"` // daemon start
	Ready       bool        `json:"ready"`      // as /healthz
	Heartbeats  []Heartbeat `json:"heartbeats"` // config order
	Plugins     []Plugin    `json:"plugins"`    // by name
}

// Heartbeat states.
const (
	StateOK       = "ok"       // the last beat was delivered to every target
	StateFailing  = "failing"  // the last beat failed at every target, or its check failed
	StateDegraded = "degraded" // the last beat failed at some targets
	StatePending  = "pending"  // no beat yet
)

// Heartbeat is one configured heartbeat and its recent history.
type Heartbeat struct {
	Name      string        `json:"name"`
	Frequency string        `json:"frequency"` // as written in the config (later.js text or cron)
	Timezone  string        `json:"timezone,omitempty"`
	Check     string        `json:"check,omitempty"`     // the health check described without secrets; "" without one
	NextBeat  *time.Time    `json:"next_beat,omitempty"` // nil when not scheduled (stopping)
	State     string        `json:"state"`               // StateOK, StateFailing, StateDegraded or StatePending
	Targets   []TargetState `json:"targets"`             // config order
	Beats     []Beat        `json:"beats"`               // recent beats, oldest first, at most MaxBeats
}

// Delivery results.
const (
	ResultDelivered = "delivered"
	ResultFailed    = "failed"
	ResultSkipped   = "skipped"
)

// TargetState is the last thing a heartbeat's target did.
type TargetState struct {
	Name          string     `json:"name"`
	Plugin        string     `json:"plugin"`
	Description   string     `json:"description"`           // the plugin's Describe(), redacted by the plugin
	LastSignal    string     `json:"last_signal,omitempty"` // success|start|fail|log
	LastResult    string     `json:"last_result,omitempty"` // ResultDelivered, ResultFailed or ResultSkipped
	LastKind      string     `json:"last_kind,omitempty"`   // failure kind: temporary|permanent|not_found|rate_limited|not_configured
	LastDetail    string     `json:"last_detail,omitempty"` // the tool's answer or the error, one line, at most MaxDetail bytes
	LastAt        *time.Time `json:"last_at,omitempty"`
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"` // last delivered success signal
	// LastDeliveredAt is the last success or fail signal the tool
	// accepted: the heartbeat_last_success_timestamp_seconds metric.
	LastDeliveredAt *time.Time `json:"last_delivered_at,omitempty"`
}

// Beat outcomes.
const (
	OutcomeOK          = "ok"
	OutcomeFailed      = "failed"       // every target failed
	OutcomeDegraded    = "degraded"     // some targets failed
	OutcomeCheckFailed = "check_failed" // the check failed; fail signals delivered
	OutcomeSkipped     = "skipped"      // the previous beat of the heartbeat still ran
)

// Beat is one tick of a heartbeat: its check and what each target did.
type Beat struct {
	Sequence    uint64       `json:"sequence"`
	ScheduledAt time.Time    `json:"scheduled_at"`
	StartedAt   time.Time    `json:"started_at"`
	FinishedAt  time.Time    `json:"finished_at"`
	Outcome     string       `json:"outcome"` // OutcomeOK, OutcomeFailed, OutcomeDegraded, OutcomeCheckFailed or OutcomeSkipped
	Check       *CheckResult `json:"check,omitempty"`
	Deliveries  []Delivery   `json:"deliveries"`
}

// CheckResult is what the health check before a beat found.
type CheckResult struct {
	OK         bool    `json:"ok"`
	Message    string  `json:"message"` // one line, bounded
	ExitCode   *int    `json:"exit_code,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// Delivery is one signal to one target.
type Delivery struct {
	Target     string  `json:"target"`
	Signal     string  `json:"signal"`
	Result     string  `json:"result"` // ResultDelivered, ResultFailed or ResultSkipped
	Kind       string  `json:"kind,omitempty"`
	Attempts   int     `json:"attempts"`
	DurationMS float64 `json:"duration_ms"`
	Detail     string  `json:"detail,omitempty"` // one line, at most MaxDetail bytes
}

// Plugin states.
const (
	PluginRunning    = "running"
	PluginRestarting = "restarting" // crashed, waiting for its backoff
	PluginRefused    = "refused"    // binary refused: permissions, pin
	PluginStopped    = "stopped"
)

// Plugin is one plugin process the daemon uses.
type Plugin struct {
	Name        string     `json:"name"`
	State       string     `json:"state"` // PluginRunning, PluginRestarting, PluginRefused or PluginStopped
	Restarts    int        `json:"restarts"`
	NextRestart *time.Time `json:"next_restart,omitempty"`
	Detail      string     `json:"detail,omitempty"` // why refused / last crash, bounded
}
