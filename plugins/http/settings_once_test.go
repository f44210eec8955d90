package main

import (
	"errors"
	"slices"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Problems found while decoding and problems found by the checks after it
// come back in one answer, so a user fixes every setting in one go.
func TestSettingsErrorsAllAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		fields   []string // sorted
	}{
		{"unknown, wrong type, missing, invalid", settingsMap{"remoteURL": "x", "timeout": "soon", "method": "DELETE", "success_status": []string{"6xx"}},
			[]string{"method", "remoteURL", "success_status", "timeout", "url"}},
		{"wrong type hides the check of the same setting", settingsMap{"url": 42, "insecure_skip_verify": "yes", "follow_redirects": "sometimes"},
			[]string{"follow_redirects", "insecure_skip_verify", "url"}},
		{"invalid values beside a wrong type", settingsMap{"url": "ftp://x/" + secret, "headers": map[string]any{"X-A": 1}, "body": "x", "method": "HEAD"},
			[]string{"body", "headers", "url"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := configure(t, tc.settings)
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("error %v is no FieldErrors", err)
			}
			var fields []string
			for _, fe := range fes {
				fields = append(fields, fe.Field)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("errors for %v, want one each for %v: %v", fields, tc.fields, err)
			}
		})
	}
}
