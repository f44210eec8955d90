package daemon

import (
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
)

func TestSelectTargets(t *testing.T) {
	cfg := &config.Config{
		File:        "hb.yaml",
		TargetNames: []string{"hc", "kuma", "web"},
		Targets: map[string]*config.Target{
			"hc":   {Name: "hc", Plugin: "healthchecks"},
			"kuma": {Name: "kuma", Plugin: "uptimekuma"},
			"web":  {Name: "web", Plugin: "http"},
		},
		Heartbeats: []*config.Heartbeat{{Name: "backup", Targets: []string{"kuma", "hc"}}},
		Plugins:    map[string]config.PluginSettings{"http": {}, "uptimekuma": {}},
	}
	cases := []struct {
		name      string
		targets   []string
		heartbeat string
		want      []string
		wantErr   string
	}{
		{name: "targets in config order", targets: []string{"web", "hc"}, want: []string{"hc", "web"}},
		{name: "a heartbeat's targets", heartbeat: "backup", want: []string{"hc", "kuma"}},
		{name: "both, once each", targets: []string{"hc", "web"}, heartbeat: "backup", want: []string{"hc", "kuma", "web"}},
		{name: "unknown target", targets: []string{"kumaa"}, wantErr: `did you mean "kuma"?`},
		{name: "unknown heartbeat", heartbeat: "nope", wantErr: `no enabled heartbeat named "nope"`},
		{name: "nothing", wantErr: "--target NAME or --heartbeat NAME"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SelectTargets(cfg, c.targets, c.heartbeat)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.TargetNames, ",") != strings.Join(c.want, ",") || len(got.Targets) != len(c.want) {
				t.Errorf("targets %v, want %v", got.TargetNames, c.want)
			}
			if len(got.Heartbeats) != 0 {
				t.Errorf("heartbeats kept: nothing is to be scheduled")
			}
			for p := range got.Plugins {
				used := false
				for _, t := range got.Targets {
					used = used || t.Plugin == p
				}
				if !used {
					t.Errorf("settings of plugin %s kept, which no chosen target uses", p)
				}
			}
		})
	}
	if len(cfg.TargetNames) != 3 || len(cfg.Heartbeats) != 1 {
		t.Errorf("the config was changed")
	}
}

func TestNewRunID(t *testing.T) {
	a, b := NewRunID(), NewRunID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("run ids %q and %q: want two distinct UUIDs v4", a, b)
	}
}
