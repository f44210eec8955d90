package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

type echoSettings struct {
	Greeting string       `json:"greeting"`
	Timeout  sdk.Duration `json:"timeout"`
	Count    int          `json:"count"`
}

// echoTarget records beats and fails on demand, to exercise the contract.
type echoTarget struct{ beats chan sdk.Beat }

func (echoTarget) Info() sdk.Info {
	return sdk.Info{Name: "echo", Version: "1.2.3", Signals: []sdk.Signal{sdk.SignalSuccess, sdk.SignalFail},
		Settings: []sdk.SettingInfo{{Name: "greeting", Type: "string", Required: true, Secret: true}}}
}

func (e echoTarget) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Instance, error) {
	var s echoSettings
	if err := req.Settings.Decode(&s); err != nil {
		return nil, err
	}
	if s.Greeting == "" {
		return nil, sdk.FieldErrors{{Field: "greeting", Message: "is required"}}
	}
	return &echoInstance{s: s, beats: e.beats}, nil
}

type echoInstance struct {
	s     echoSettings
	beats chan sdk.Beat
}

func (i *echoInstance) Describe() string { return "echo " + sdk.RedactSecret(i.s.Greeting) }

func (i *echoInstance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	i.beats <- b
	switch b.Message {
	case "notfound":
		return sdk.Result{}, sdk.NotFound(errors.New("no such check"))
	case "ratelimit":
		return sdk.Result{}, sdk.RateLimited(errors.New("slow down"))
	case "permanent":
		return sdk.Result{}, sdk.Permanent(errors.New("bad request"))
	case "temporary":
		return sdk.Result{}, errors.New("connection refused")
	case "panic":
		panic("boom")
	case "hang":
		<-ctx.Done()
		return sdk.Result{}, ctx.Err()
	}
	return sdk.Result{Detail: i.s.Greeting + " " + b.Signal.String()}, nil
}

func TestContractRoundTrip(t *testing.T) {
	beats := make(chan sdk.Beat, 10)
	c := sdktest.Dial(t, echoTarget{beats: beats})
	ctx := context.Background()

	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "echo" || info.Version != "1.2.3" || !info.Supports(sdk.SignalFail) || info.Supports(sdk.SignalStart) || !info.Settings[0].Secret {
		t.Errorf("info = %+v", info)
	}
	desc, err := c.Configure(ctx, "one", []byte(`{"greeting":"hello-there-general-kenobi","timeout":"2s","count":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if desc != "echo …nobi" {
		t.Errorf("description %q", desc)
	}
	code := 3
	sent := sdk.Beat{Heartbeat: "hb", Signal: sdk.SignalFail, Sequence: 7, ScheduledAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC),
		Message: "msg", Log: []byte("log\x00bytes"), RunID: "rid", ExitCode: &code, CheckLatency: 1500 * time.Millisecond, Attempt: 2,
		Schedule: sdk.Schedule{Frequency: "every 5 minutes", Timezone: "Europe/Stockholm"}}
	res, err := c.Beat(ctx, "one", sent)
	if err != nil {
		t.Fatal(err)
	}
	if res.Detail != "hello-there-general-kenobi fail" {
		t.Errorf("detail %q", res.Detail)
	}
	got := <-beats
	if got.Heartbeat != sent.Heartbeat || got.Signal != sent.Signal || got.Sequence != 7 || !got.ScheduledAt.Equal(sent.ScheduledAt) ||
		got.Message != "msg" || string(got.Log) != "log\x00bytes" || got.RunID != "rid" || got.ExitCode == nil || *got.ExitCode != 3 ||
		got.CheckLatency != sent.CheckLatency || got.Attempt != 2 || got.Schedule != sent.Schedule {
		t.Errorf("plugin received %+v, want %+v", got, sent)
	}
}

// The schedule reaches the plugin as written: either kind, with or without
// a time zone, and none at all for a beat outside any schedule.
func TestContractSchedule(t *testing.T) {
	beats := make(chan sdk.Beat, 10)
	c := sdktest.Dial(t, echoTarget{beats: beats})
	ctx := context.Background()
	if _, err := c.Configure(ctx, "one", []byte(`{"greeting":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []sdk.Schedule{
		{},
		{Frequency: "every 1 minute"},
		{Frequency: "at 10:15 am on Mon", Timezone: "America/New_York"},
		{Cron: "*/5 * * * *"},
		{Cron: "0 30 2 * * *", Timezone: "Asia/Tokyo"},
	} {
		t.Run(sc.Frequency+sc.Cron, func(t *testing.T) {
			if _, err := c.Beat(ctx, "one", sdk.Beat{Heartbeat: "hb", Signal: sdk.SignalSuccess, Schedule: sc}); err != nil {
				t.Fatal(err)
			}
			if got := (<-beats).Schedule; got != sc || got.IsZero() != (sc == sdk.Schedule{}) {
				t.Errorf("plugin received schedule %+v, want %+v", got, sc)
			}
		})
	}
}

func TestContractErrors(t *testing.T) {
	beats := make(chan sdk.Beat, 10)
	c := sdktest.Dial(t, echoTarget{beats: beats})
	ctx := context.Background()
	if _, err := c.Configure(ctx, "one", []byte(`{"greeting":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		message  string
		kind     sdk.Kind
		contains string
	}{
		{"notfound", sdk.KindNotFound, "no such check"},
		{"ratelimit", sdk.KindRateLimited, "slow down"},
		{"permanent", sdk.KindPermanent, "bad request"},
		{"temporary", sdk.KindTemporary, "connection refused"},
		{"panic", sdk.KindTemporary, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			_, err := c.Beat(ctx, "one", sdk.Beat{Signal: sdk.SignalSuccess, Message: tt.message})
			if err == nil {
				t.Fatal("no error")
			}
			if k := sdk.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v", k, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q lacks %q", err, tt.contains)
			}
		})
	}
	t.Run("unconfigured instance", func(t *testing.T) {
		_, err := c.Beat(ctx, "other", sdk.Beat{Signal: sdk.SignalSuccess})
		if sdk.KindOf(err) != sdk.KindNotConfigured {
			t.Errorf("err %v kind %v", err, sdk.KindOf(err))
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.Beat(ctx, "one", sdk.Beat{Signal: sdk.SignalSuccess, Message: "hang"})
		if err == nil || !sdk.KindOf(err).Retryable() {
			t.Errorf("err %v kind %v, want a retryable error", err, sdk.KindOf(err))
		}
	})
}

func TestConfigureFieldErrors(t *testing.T) {
	c := sdktest.Dial(t, echoTarget{beats: make(chan sdk.Beat)})
	tests := []struct {
		settings string
		field    string
		contains string
	}{
		{`{}`, "greeting", "is required"},
		{`{"greeting":"x","gretting":"y"}`, "gretting", "unknown setting; known settings: greeting, timeout, count"},
		{`{"greeting":5}`, "greeting", "must be a string, not number"},
		{`{"greeting":"x","timeout":"soon"}`, "timeout", `"soon" is not a duration`},
		{`{"greeting":"x","count":"many"}`, "count", "must be a number"},
		{`[1,2]`, "", "must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.settings, func(t *testing.T) {
			_, err := c.Configure(context.Background(), "one", []byte(tt.settings))
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) || len(fes) == 0 {
				t.Fatalf("err = %v, want field errors", err)
			}
			if fes[0].Field != tt.field || !strings.Contains(fes[0].Message, tt.contains) {
				t.Errorf("got %+v, want field %q containing %q", fes[0], tt.field, tt.contains)
			}
		})
	}
}

func TestDurationNullKeepsDefault(t *testing.T) {
	s := echoSettings{Timeout: sdk.Duration(5 * time.Second)}
	if err := sdk.Settings(`{"timeout":null}`).Decode(&s); err != nil || s.Timeout.Std() != 5*time.Second {
		t.Errorf("timeout %v, err %v", s.Timeout.Std(), err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hc-ping.com/5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d", "https://hc-ping.com/…3c2d"},
		{"http://kuma:3001/api/push/AbCdEfGh12?status=up&msg=OK&ping=", "http://kuma:3001/…?…"},
		{"https://user:pass@example.com/", "https://example.com"},
		{"https://example.com/short", "https://example.com/…"},
		{"https://hc.example/ping/K3yK3yK3yK3yK3yK3yK3yK/my-slug", "https://hc.example/…"},
		{"not a url at all, but a long secret", "…cret"},
		{"tiny", "…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := sdk.RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

type tlsLike struct {
	CAFile string `json:"ca_file"`
}

type embedding struct {
	URL string `json:"url"`
	tlsLike
}

func TestDecodeEmbeddedSettings(t *testing.T) {
	var s embedding
	if err := sdk.Settings(`{"url":"u","ca_file":"/ca.pem"}`).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.URL != "u" || s.CAFile != "/ca.pem" {
		t.Errorf("decoded %+v", s)
	}
	if err := sdk.Settings(`{"url":"u","ca_file":7}`).Decode(&s); err == nil || !strings.HasPrefix(err.Error(), "ca_file: ") {
		t.Errorf("type error in an embedded setting = %v, want it named ca_file", err)
	}
	err := sdk.Settings(`{"url":"u","ca_fil":"x"}`).Decode(&s)
	if err == nil || !strings.Contains(err.Error(), "known settings: url, ca_file") {
		t.Errorf("err = %v", err)
	}
}
