package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const testKey = "0123456789abcdef0123456789abcdef"

var testDSN = "https://" + testKey + "@o0.ingest.sentry.io/4505"

func TestSettingsAccepted(t *testing.T) {
	tests := []struct {
		name     string
		settings conf
		describe string
	}{
		{"hosted", conf{"dsn": testDSN, "monitor_slug": "nightly-backup"},
			"POST https://o0.ingest.sentry.io/api/4505/cron/nightly-backup/…cdef/ (environment production (Sentry's default), timeout 10s)"},
		{"old DSN with a secret key, trailing slash", conf{"dsn": "https://" + testKey + ":deadbeefdeadbeefdeadbeefdeadbeef@sentry.example.com/7/", "monitor_slug": "a_b"},
			"POST https://sentry.example.com/api/7/cron/a_b/…cdef/ (environment production (Sentry's default), timeout 10s)"},
		{"self-hosted under a prefix, port, environment", conf{"dsn": "http://" + testKey + "@example.com:9000/sentry/3", "monitor_slug": "x", "environment": "staging eu", "timeout": "3s"},
			`POST http://example.com:9000/sentry/api/3/cron/x/…cdef/ (environment "staging eu", timeout 3s)`},
		{"upsert", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "0 */2 * * *", "checkin_margin": "5m", "max_runtime": "2h", "timezone": "Europe/Stockholm"},
			`POST https://o0.ingest.sentry.io/api/4505/cron/x/…cdef/ (environment production (Sentry's default), upserts the monitor with schedule "0 */2 * * *", timeout 10s)`},
		{"upsert interval", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every 1 day"},
			`POST https://o0.ingest.sentry.io/api/4505/cron/x/…cdef/ (environment production (Sentry's default), upserts the monitor with schedule every 1 day, timeout 10s)`},
		{"upsert with the heartbeat's schedule", conf{"dsn": testDSN, "monitor_slug": "x", "upsert": true, "checkin_margin": "5m", "timezone": "UTC"},
			`POST https://o0.ingest.sentry.io/api/4505/cron/x/…cdef/ (environment production (Sentry's default), upserts the monitor with the heartbeat's schedule, timeout 10s)`},
		{"upsert true with schedule", conf{"dsn": testDSN, "monitor_slug": "x", "upsert": true, "schedule": "every 2 hours"},
			`POST https://o0.ingest.sentry.io/api/4505/cron/x/…cdef/ (environment production (Sentry's default), upserts the monitor with schedule every 2 hours, timeout 10s)`},
		{"upsert off", conf{"dsn": testDSN, "monitor_slug": "x", "upsert": false},
			"POST https://o0.ingest.sentry.io/api/4505/cron/x/…cdef/ (environment production (Sentry's default), timeout 10s)"},
		{"null values keep the defaults", conf{"dsn": testDSN, "monitor_slug": "x", "timeout": nil, "environment": nil},
			"POST https://o0.ingest.sentry.io/api/4505/cron/x/…cdef/ (environment production (Sentry's default), timeout 10s)"},
	}
	p := dial(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desc := p.mustConfigure(tt.settings)
			if desc != tt.describe {
				t.Errorf("described as\n%s\nwant\n%s", desc, tt.describe)
			}
			if strings.Contains(desc, testKey) || strings.Contains(desc, "deadbeef") {
				t.Errorf("description shows a key: %s", desc)
			}
		})
	}
}

func TestSettingsRefused(t *testing.T) {
	tests := []struct {
		name     string
		settings conf
		field    string
		wording  string
	}{
		{"no dsn", conf{"monitor_slug": "x"}, "dsn", "is required"},
		{"no slug", conf{"dsn": testDSN}, "monitor_slug", "is required"},
		{"blank dsn (unset variable)", conf{"dsn": " ", "monitor_slug": "x"}, "dsn", "is required"},
		{"dsn not a string", conf{"dsn": 5, "monitor_slug": "x"}, "dsn", "must be a string"},
		{"dsn without scheme", conf{"dsn": testKey + "@o0.ingest.sentry.io/1", "monitor_slug": "x"}, "dsn", "must start with https://"},
		{"dsn ftp", conf{"dsn": "ftp://" + testKey + "@h/1", "monitor_slug": "x"}, "dsn", "not ftp://"},
		{"dsn without key", conf{"dsn": "https://o0.ingest.sentry.io/1", "monitor_slug": "x"}, "dsn", "no public key"},
		{"dsn with an empty key", conf{"dsn": "https://@o0.ingest.sentry.io/1", "monitor_slug": "x"}, "dsn", "no public key"},
		{"dsn with a strange key", conf{"dsn": "https://ab%2Fcd@o0.ingest.sentry.io/1", "monitor_slug": "x"}, "dsn", "letters and digits"},
		{"dsn without host", conf{"dsn": "https://" + testKey + "@/1", "monitor_slug": "x"}, "dsn", "no host"},
		{"dsn without project", conf{"dsn": "https://" + testKey + "@o0.ingest.sentry.io", "monitor_slug": "x"}, "dsn", "project id"},
		{"dsn with a word for project", conf{"dsn": "https://" + testKey + "@o0.ingest.sentry.io/api", "monitor_slug": "x"}, "dsn", "project id"},
		{"dsn with query", conf{"dsn": testDSN + "?x=1", "monitor_slug": "x"}, "dsn", "query"},
		{"dsn not a URL", conf{"dsn": "https://" + testKey + "@o0.ingest.sentry.io:port/1", "monitor_slug": "x"}, "dsn", "not a valid DSN"},
		{"slug too long", conf{"dsn": testDSN, "monitor_slug": strings.Repeat("a", 51)}, "monitor_slug", "cuts monitor slugs to 50"},
		{"slug upper case", conf{"dsn": testDSN, "monitor_slug": "Nightly"}, "monitor_slug", `use "nightly"`},
		{"slug with a slash", conf{"dsn": testDSN, "monitor_slug": "a/b"}, "monitor_slug", "lower-case letters, digits"},
		{"slug with a space", conf{"dsn": testDSN, "monitor_slug": "a b"}, "monitor_slug", "lower-case letters, digits"},
		{"environment too long", conf{"dsn": testDSN, "monitor_slug": "x", "environment": strings.Repeat("é", 65)}, "environment", "more than 64"},
		{"environment with a slash", conf{"dsn": testDSN, "monitor_slug": "x", "environment": "a/b"}, "environment", "must not contain /"},
		{"environment with a newline", conf{"dsn": testDSN, "monitor_slug": "x", "environment": "a\nb"}, "environment", "control characters"},
		{"schedule of 6 fields", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "0 0 * * * *"}, "schedule", "has 6 fields"},
		{"schedule out of range", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "60 * * * *"}, "schedule", "60 is out of range 0-59"},
		{"schedule backwards range", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "* 5-1 * * *"}, "schedule", "runs backwards"},
		{"schedule bad step", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "*/0 * * * *"}, "schedule", "step"},
		{"schedule bad month name", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "0 0 1 foo *"}, "schedule", `"foo" is not a value`},
		{"schedule macro", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "@hourly"}, "schedule", "5 fields"},
		{"schedule seconds", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every 30 seconds"}, "schedule", "minutes at the least"},
		{"schedule zero", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every 0 hours"}, "schedule", "at least 1"},
		{"schedule unit", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every 2 fortnights"}, "schedule", "not a unit"},
		{"schedule words", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every day at 5"}, "schedule", "every 10 minutes"},
		{"margin without schedule", conf{"dsn": testDSN, "monitor_slug": "x", "checkin_margin": "5m"}, "checkin_margin", "works only with upsert"},
		{"runtime without schedule", conf{"dsn": testDSN, "monitor_slug": "x", "max_runtime": "5m"}, "max_runtime", "works only with upsert"},
		{"timezone without schedule", conf{"dsn": testDSN, "monitor_slug": "x", "timezone": "UTC"}, "timezone", "works only with upsert"},
		{"margin with upsert off", conf{"dsn": testDSN, "monitor_slug": "x", "upsert": false, "checkin_margin": "5m"}, "checkin_margin", "set upsert: true"},
		{"upsert off with schedule", conf{"dsn": testDSN, "monitor_slug": "x", "upsert": false, "schedule": "every hour"}, "upsert", "remove upsert: false, or schedule"},
		{"upsert not a bool", conf{"dsn": testDSN, "monitor_slug": "x", "upsert": "sometimes"}, "upsert", "must be true or false"},
		{"margin in seconds", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every hour", "checkin_margin": 5}, "checkin_margin", "at least 1 minute"},
		{"margin not whole minutes", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every hour", "checkin_margin": "90s"}, "checkin_margin", "whole minutes"},
		{"runtime not a duration", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every hour", "max_runtime": "long"}, "max_runtime", "not a duration"},
		{"unknown timezone", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every hour", "timezone": "Mars/Olympus"}, "timezone", "not an IANA time zone"},
		{"Local timezone", conf{"dsn": testDSN, "monitor_slug": "x", "schedule": "every hour", "timezone": "Local"}, "timezone", "not an IANA time zone"},
		{"timeout 0", conf{"dsn": testDSN, "monitor_slug": "x", "timeout": "0s"}, "timeout", "more than 0"},
		{"missing CA file", conf{"dsn": testDSN, "monitor_slug": "x", "ca_file": "/nonexistent/ca.pem"}, "ca_file", "cannot read"},
		{"unknown setting", conf{"dsn": testDSN, "monitor_slug": "x", "url": "https://sentry.io"}, "url", "unknown setting; known settings: dsn, monitor_slug"},
	}
	p := dial(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.configure(tt.settings)
			if err == nil {
				t.Fatal("accepted")
			}
			fes := sdk.AsFieldErrors(err)
			if len(fes) != 1 || fes[0].Field != tt.field || !strings.Contains(fes[0].Message, tt.wording) {
				t.Errorf("got %v, want one error for %s with %q", err, tt.field, tt.wording)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

// Problems found while decoding and problems found by the checks after it
// come back in one answer.
func TestSettingsErrorsAllAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		settings conf
		fields   []string // sorted
	}{
		{"every kind at once", conf{"dsn": "ftp://x", "monitor_slug": "A B", "environment": "a/b", "schedule": "61 * * * *", "checkin_margin": "10s", "timeout": "0s", "insecure_skip_verify": "yes", "colour": "red"},
			[]string{"checkin_margin", "colour", "dsn", "environment", "insecure_skip_verify", "monitor_slug", "schedule", "timeout"}},
		{"nothing", conf{}, []string{"dsn", "monitor_slug"}},
		{"a setting that does not decode is not also missing or invalid", conf{"dsn": 5, "monitor_slug": true, "schedule": 3},
			[]string{"dsn", "monitor_slug", "schedule"}},
	}
	p := dial(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.configure(tc.settings)
			if err == nil {
				t.Fatal("accepted")
			}
			var fields []string
			for _, fe := range sdk.AsFieldErrors(err) {
				fields = append(fields, fe.Field)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("errors for %v, want one each for %v: %v", fields, tc.fields, err)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	sdktest.CheckInfo(t, target{}, sdktest.InfoWant{
		Name:     "sentry",
		Signals:  []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail},
		Settings: rawSettings{},
		Secret:   map[string]bool{"dsn": true},
	})
}
