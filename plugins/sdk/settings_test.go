package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

// strictSettings has every kind of check Decode runs.
type strictSettings struct {
	URL     string       `json:"url" heartbeat:"required"`
	Count   int          `json:"count"`
	Mode    string       `json:"mode"`
	Timeout sdk.Duration `json:"timeout"`
}

func (s *strictSettings) Validate() error {
	var errs sdk.FieldErrors
	if s.URL != "" && !strings.HasPrefix(s.URL, "https://") {
		errs.Add("url", "must start with https://")
	}
	if s.Count < 0 || s.Count > 10 {
		errs.Add("count", "must be between 0 and 10, not %d", s.Count)
	}
	if s.Mode != "" && s.Mode != "fast" && s.Mode != "slow" {
		errs.Add("mode", "must be fast or slow, not %q", s.Mode)
	}
	if s.Timeout < 0 {
		errs.Add("timeout", "must be positive")
	}
	return errs.Err()
}

type strictTarget struct{}

func (strictTarget) Info() sdk.Info {
	return sdk.Info{Name: "strict", Version: "1", Signals: []sdk.Signal{sdk.SignalSuccess}}
}

func (strictTarget) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s strictSettings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	return nil, errors.New("not reached in these tests")
}

// Every invalid setting comes back in one answer, whatever kind of problem
// it has, so a user fixes them all in one go.
func TestDecodeReportsEveryProblemAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		want     []string // "field: message part", in any order
	}{
		{"four kinds at once", `{"colour":"red","count":"three","mode":"turbo","timeout":"soon"}`,
			[]string{"colour: unknown setting", "count: must be a number", "mode: must be fast or slow", "timeout: \"soon\" is not a duration", "url: is required"}},
		{"type error hides the check of the same setting", `{"url":"https://x","count":"-1"}`,
			[]string{"count: must be a number"}},
		{"required and invalid", `{"count":11,"mode":"x","url":"http://x"}`,
			[]string{"count: must be between 0 and 10", "mode: must be fast or slow", "url: must start with https://"}},
		{"required given empty", `{"url":"  "}`, []string{"url: is required"}},
		{"required given null", `{"url":null}`, []string{"url: is required"}},
		{"required given a number", `{"url":7}`, []string{"url: must be a string"}},
	}
	c := sdktest.Dial(t, strictTarget{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Configure(context.Background(), "x", []byte(tt.settings))
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("err = %v, want field errors", err)
			}
			var got []string
			for _, fe := range fes {
				got = append(got, fe.Field+": "+fe.Message)
			}
			if len(got) != len(tt.want) {
				t.Errorf("%d field errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
					t.Errorf("no error %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func TestFieldErrorsMerge(t *testing.T) {
	errs := sdk.FieldErrors{{Field: "headers", Message: "must be a mapping"}}
	errs.Merge(sdk.FieldErrors{
		{Field: "headers", Message: "X-Token has a line break"},
		{Field: "headers.X-Token", Message: "has a line break"},
		{Field: "url", Message: "is required"},
		{Field: "url", Message: "second problem"},
		{Message: "whole settings"},
	})
	errs.Merge(nil)
	errs.Merge(fmt.Errorf("plain: %w", sdk.FieldError{Field: "count", Message: "too big"}))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{"headers: must be a mapping", "url: is required", "url: second problem", "whole settings", "count: too big"}
	if !slices.Equal(got, want) {
		t.Errorf("merged\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !errs.Has("url") || errs.Has("ur") || errs.Has("timeout") {
		t.Errorf("Has is wrong for %v", errs)
	}
}

// A duration setting follows the rule of heartbeat's own config: a Go
// duration or a number of seconds, quoted or not.
func TestDurationForms(t *testing.T) {
	tests := []struct {
		json string
		want time.Duration
		err  bool
	}{
		{`"10s"`, 10 * time.Second, false},
		{`"1m30s"`, 90 * time.Second, false},
		{`15`, 15 * time.Second, false},
		{`"15"`, 15 * time.Second, false},
		{`1.5`, 1500 * time.Millisecond, false},
		{`" 2 "`, 2 * time.Second, false},
		{`99999999999999999999`, time.Duration(math.MaxInt64), false},
		{`"1e3"`, 0, true},
		{`"NaN"`, 0, true},
		{`"ten"`, 0, true},
		{`true`, 0, true},
		{`""`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var d sdk.Duration
			err := json.Unmarshal([]byte(tt.json), &d)
			if tt.err {
				if err == nil {
					t.Errorf("got %s, want an error", d.Std())
				}
				return
			}
			if err != nil || d.Std() != tt.want {
				t.Errorf("got %s, %v; want %s", d.Std(), err, tt.want)
			}
		})
	}
}
