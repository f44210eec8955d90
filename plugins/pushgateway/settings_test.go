package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

func TestSettingsValid(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		describe []string // substrings of Describe
	}{
		{"url only", settingsMap{"url": "http://pg.example.com:9091"},
			[]string{"POST http://pg.example.com:9091/metrics/job/…", `job="heartbeat"`, "metrics heartbeat_*", "timeout 10s"}},
		{"trailing slash and path prefix", settingsMap{"url": "https://example.com/pushgateway/"},
			[]string{"POST https://example.com/pushgateway/metrics/job/…"}},
		{"upper-case scheme", settingsMap{"url": "HTTP://pg:9091"}, []string{"POST http://pg:9091/metrics/job/…"}},
		{"job, labels, prefix, timeout", settingsMap{"url": "http://pg:9091", "job": "db_backup", "labels": map[string]any{"env": "prod", "shard": 1, "canary": true}, "metric_prefix": "db_backup", "timeout": "3s"},
			[]string{`job="db_backup"`, "labels canary, env, shard", "metrics db_backup_*", "timeout 3s"}},
		{"job with a slash", settingsMap{"url": "http://pg:9091", "job": "backups/nightly"}, []string{`job="backups/nightly"`}},
		{"basic auth", settingsMap{"url": "https://pg:9091", "username": "heartbeat", "password": "s3cret-pass"}, []string{`basic auth as "heartbeat"`}},
		{"ca_file unused with insecure_skip_verify", settingsMap{"url": "https://pg:9091", "insecure_skip_verify": true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, desc := mustConfigure(t, tt.settings)
			for _, want := range tt.describe {
				if !strings.Contains(desc, want) {
					t.Errorf("Describe() = %q, want %q in it", desc, want)
				}
			}
		})
	}
}

func TestSettingsInvalid(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		field    string
		wording  string
	}{
		{"no url", settingsMap{}, "url", "is required"},
		{"blank url", settingsMap{"url": "  "}, "url", "is required"},
		{"no scheme", settingsMap{"url": "pg:9091"}, "url", "must start with http:// or https://"},
		{"ftp", settingsMap{"url": "ftp://pg"}, "url", "not ftp://"},
		{"no host", settingsMap{"url": "http:///x"}, "url", "has no host name"},
		{"user info", settingsMap{"url": "http://me:hunter2hunter2@pg:9091"}, "url", "set username and password"},
		{"query", settingsMap{"url": "http://pg:9091/?a=b"}, "url", "query"},
		{"fragment", settingsMap{"url": "http://pg:9091/#x"}, "url", "fragment"},
		{"push URL", settingsMap{"url": "http://pg:9091/metrics/job/backup"}, "url", "is a push URL"},
		{"base64 push URL", settingsMap{"url": "http://pg:9091/metrics/job@base64/YmFja3Vw"}, "url", "is a push URL"},
		{"ends with /metrics", settingsMap{"url": "http://pg:9091/metrics"}, "url", "ends with /metrics"},
		{"not a URL", settingsMap{"url": "http://pg:99999999999/%zz"}, "url", "is not a valid URL"},
		{"empty job", settingsMap{"url": "http://pg:9091", "job": ""}, "job", "is empty"},
		{"job too long", settingsMap{"url": "http://pg:9091", "job": strings.Repeat("j", 2000)}, "job", "at most 1024"},
		{"job not a string", settingsMap{"url": "http://pg:9091", "job": []string{"a"}}, "job", "must be a string"},
		{"label job", settingsMap{"url": "http://pg:9091", "labels": map[string]any{"job": "x"}}, "labels.job", "job setting"},
		{"label heartbeat", settingsMap{"url": "http://pg:9091", "labels": map[string]any{"heartbeat": "x"}}, "labels.heartbeat", "heartbeat's name"},
		{"reserved label", settingsMap{"url": "http://pg:9091", "labels": map[string]any{"__name__": "x"}}, "labels.__name__", "reserved"},
		{"bad label name", settingsMap{"url": "http://pg:9091", "labels": map[string]any{"my-env": "x"}}, "labels.my-env", "not a Prometheus label name"},
		{"label starting with a digit", settingsMap{"url": "http://pg:9091", "labels": map[string]any{"1env": "x"}}, "labels.1env", "not a Prometheus label name"},
		{"label value a list", settingsMap{"url": "http://pg:9091", "labels": map[string]any{"env": []string{"x"}}}, "labels", "must be a text, a number or true/false"},
		{"labels a list", settingsMap{"url": "http://pg:9091", "labels": []string{"env"}}, "labels", "must be a mapping"},
		{"too many labels", settingsMap{"url": "http://pg:9091", "labels": manyLabels(33)}, "labels", "at most 32"},
		{"bad prefix", settingsMap{"url": "http://pg:9091", "metric_prefix": "db-backup"}, "metric_prefix", "not a Prometheus metric name"},
		{"empty prefix", settingsMap{"url": "http://pg:9091", "metric_prefix": ""}, "metric_prefix", "not a Prometheus metric name"},
		{"username without password", settingsMap{"url": "http://pg:9091", "username": "u"}, "password", "password_file"},
		{"password without username", settingsMap{"url": "http://pg:9091", "password": "p"}, "username", "is required with password"},
		{"colon in username", settingsMap{"url": "http://pg:9091", "username": "a:b", "password": "p"}, "username", "must not contain :"},
		{"zero timeout", settingsMap{"url": "http://pg:9091", "timeout": "0s"}, "timeout", "more than 0"},
		{"bad timeout", settingsMap{"url": "http://pg:9091", "timeout": "soon"}, "timeout", "not a duration"},
		{"missing CA file", settingsMap{"url": "https://pg:9091", "ca_file": "/nonexistent/ca.pem"}, "ca_file", "cannot read the CA file"},
		{"unknown setting", settingsMap{"url": "http://pg:9091", "method": "PUT"}, "method", "unknown setting"},
		{"password_file is the core's", settingsMap{"url": "http://pg:9091", "username": "u", "password": "p", "password_file": "/x"}, "password_file", "unknown setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := configure(t, tt.settings)
			if err == nil {
				t.Fatal("accepted")
			}
			var found bool
			for _, fe := range sdk.AsFieldErrors(err) {
				if fe.Field == tt.field && strings.Contains(fe.Message, tt.wording) {
					found = true
				}
			}
			if !found {
				t.Errorf("got %v; want an error for %s with %q", err, tt.field, tt.wording)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}
}

func manyLabels(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m["l"+strings.Repeat("x", i)] = "v"
	}
	return m
}

// Problems found while decoding and by the checks after it come back in one
// answer, one per setting.
func TestSettingsErrorsAllAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		fields   []string // sorted
	}{
		{"every kind at once", settingsMap{"url": "pg:9091", "job": "", "labels": map[string]any{"a-b": "x"}, "metric_prefix": "1x", "username": "u", "timeout": "0s", "colour": "red"},
			[]string{"colour", "job", "labels.a-b", "metric_prefix", "password", "timeout", "url"}},
		{"a setting that did not decode is not checked again", settingsMap{"url": 42, "timeout": true},
			[]string{"timeout", "url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := configure(t, tt.settings)
			if err == nil {
				t.Fatal("accepted")
			}
			var fields []string
			for _, fe := range sdk.AsFieldErrors(err) {
				fields = append(fields, fe.Field)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("errors for %v, want one each for %v: %v", fields, tt.fields, err)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	// Metrics only: no log signal.
	sdktest.CheckInfo(t, target{}, sdktest.InfoWant{
		Name:     "pushgateway",
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail},
		Settings: settings{},
		Secret:   map[string]bool{"password": true, "username": false, "url": false},
	})
}
