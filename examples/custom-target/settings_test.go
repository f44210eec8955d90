package main

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

// Every invalid setting is reported at once, through the real contract.
func TestConfigureReportsEverySetting(t *testing.T) {
	tests := []struct {
		settings string
		want     []string // "field: message", sorted
	}{
		{`{}`, []string{"path: is required"}},
		{`{"path":""}`, []string{"path: is required"}},
		{`{"path":"beats.log","colour":"red"}`, []string{"colour: unknown setting; known settings: path", `path: must be an absolute path, not "beats.log"`}},
		{`{"path":7}`, []string{"path: must be a string, not number"}},
	}
	c := sdktest.Dial(t, fileTarget{})
	for _, tt := range tests {
		t.Run(tt.settings, func(t *testing.T) {
			_, err := c.Configure(context.Background(), "journal", []byte(tt.settings))
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("err = %v, want field errors", err)
			}
			var got []string
			for _, fe := range fes {
				got = append(got, fe.Field+": "+fe.Message)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
