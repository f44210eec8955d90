package main

import (
	"slices"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Problems found while decoding and problems found by the checks after it
// come back in one answer.
func TestSettingsErrorsAllAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		fields   []string // sorted
	}{
		{"unknown, wrong type and invalid values", settingsMap{"ping_url": "https://hc-ping.com/nope", "colour": "red", "create": "yes", "method": "PUT", "timeout": "0s"},
			[]string{"colour", "create", "method", "ping_url", "timeout"}},
		{"an address that does not decode is not also missing", settingsMap{"uuid": 42, "method": "PUT"},
			[]string{"method", "uuid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := configure(t, tc.settings)
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
