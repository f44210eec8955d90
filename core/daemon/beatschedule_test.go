package daemon

import (
	"path/filepath"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Each beat carries its heartbeat's schedule as written, told apart as
// later.js text or cron, with the heartbeat's time zone.
func TestBeatSchedule(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want sdk.Schedule
	}{
		{"frequency", "frequency: every 1 minute", sdk.Schedule{Frequency: "every 1 minute"}},
		{"frequency with at", "frequency: at 10:15 am\n    timezone: Europe/Stockholm", sdk.Schedule{Frequency: "at 10:15 am", Timezone: "Europe/Stockholm"}},
		{"cron", `cron: "*/5 * * * *"`, sdk.Schedule{Cron: "*/5 * * * *"}},
		{"cron with seconds", `cron: "30 */5 * * * *"`, sdk.Schedule{Cron: "30 */5 * * * *"}},
		{"cron descriptor in a zone", "cron: \"@hourly\"\n    timezone: America/New_York", sdk.Schedule{Cron: "@hourly", Timezone: "America/New_York"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yaml := "targets:\n  out:\n    plugin: log\nheartbeats:\n  - name: job\n    " + c.yaml + "\n    targets: [out]\n"
			cfg, err := config.Parse(filepath.Join(t.TempDir(), "heartbeat.yaml"), []byte(yaml), config.Options{})
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			if got := beatSchedule(cfg.Heartbeats[0]); got != c.want {
				t.Errorf("schedule %+v, want %+v", got, c.want)
			}
		})
	}
	if got := beatSchedule(&config.Heartbeat{Name: "none"}); !got.IsZero() {
		t.Errorf("a heartbeat without an expression has schedule %+v, want none", got)
	}
}
