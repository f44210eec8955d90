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
		settings conf
		fields   []string // sorted
	}{
		{"unknown, wrong type and invalid values", conf{"base_url": "ftp://x", "token": "a/b", "timeout": "0s", "insecure_skip_verify": "yes", "colour": "red"},
			[]string{"base_url", "colour", "insecure_skip_verify", "timeout", "token"}},
		{"an address that does not decode is not also missing", conf{"push_url": 5, "timeout": "soon"},
			[]string{"push_url", "timeout"}},
		{"a token that does not decode does not make base_url wrong", conf{"base_url": "https://kuma.example.com", "token": 5, "timeout": "0s"},
			[]string{"timeout", "token"}},
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
