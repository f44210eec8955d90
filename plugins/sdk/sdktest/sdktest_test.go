package sdktest

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

type echo struct{}

func (echo) Info() sdk.Info {
	return sdk.Info{Name: "echo", Version: "1", Signals: []sdk.Signal{sdk.SignalSuccess}}
}

func (echo) Configure(context.Context, sdk.ConfigureRequest) (sdk.Instance, error) {
	return inst{}, nil
}

type inst struct{}

func (inst) Describe() string { return "echo" }
func (inst) Beat(_ context.Context, b sdk.Beat) (sdk.Result, error) {
	return sdk.Result{Detail: b.Signal.String()}, nil
}

// use drives a client through every call of the contract.
func use(t *testing.T, c sdk.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if info, err := c.Info(ctx); err != nil || info.Name != "echo" {
		t.Fatalf("info: %+v, %v", info, err)
	}
	if _, err := c.Configure(ctx, "one", []byte(`{}`)); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if res, err := c.Beat(ctx, "one", sdk.Beat{Signal: sdk.SignalSuccess}); err != nil || res.Detail != "success" {
		t.Fatalf("beat: %+v, %v", res, err)
	}
}

// Not parallel: it captures the process's stderr and hclog's default output.
func TestDialIsQuiet(t *testing.T) {
	for _, verbose := range []string{"", "0", "1"} {
		t.Run("HEARTBEAT_SDKTEST_VERBOSE="+verbose, func(t *testing.T) {
			t.Setenv(VerboseEnv, verbose)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			// go-plugin's logger writes to hclog.DefaultOutput (os.Stderr
			// as the program started).
			saved, savedDefault := os.Stderr, hclog.DefaultOutput
			os.Stderr, hclog.DefaultOutput = w, w
			t.Run("dial", func(t *testing.T) { use(t, Dial(t, echo{})) }) // its cleanups run at its end
			// go-plugin logs from goroutines that end after the connection closes.
			time.Sleep(200 * time.Millisecond)
			os.Stderr, hclog.DefaultOutput = saved, savedDefault
			_ = w.Close()
			out, _ := io.ReadAll(r)
			if verbose == "1" {
				if len(out) == 0 {
					t.Error("verbose: no debug lines")
				}
				return
			}
			if len(out) > 0 {
				t.Errorf("quiet by default, but wrote to stderr:\n%s", out)
			}
		})
	}
}
