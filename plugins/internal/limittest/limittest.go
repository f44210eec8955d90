// Package limittest checks, for the bundled HTTP targets' tests, which
// instances share the bound on beats under way (sdk.Limited).
package limittest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Case is an instance's settings, and whether its beats share the bound of
// the first instance's.
type Case struct {
	Name      string
	Settings  map[string]any
	SameBound bool
	// Signal is the beat's; success when unset.
	Signal sdk.Signal
}

// SharedBounds configures base and then each case with tg, one target (so
// one transport pool), and checks that every instance is an sdk.Limited
// with a bound, and that a case shares base's bound exactly when
// SameBound. Failure messages leave settings out: they hold secrets.
func SharedBounds(t *testing.T, tg sdk.Target, base map[string]any, cases []Case) {
	t.Helper()
	baseKey := boundOf(t, tg, base, sdk.SignalSuccess)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			signal := c.Signal
			if signal == sdk.SignalUnspecified {
				signal = sdk.SignalSuccess
			}
			if got := boundOf(t, tg, c.Settings, signal); (got == baseKey) != c.SameBound {
				t.Errorf("shares the first instance's bound: %v, want %v", got == baseKey, c.SameBound)
			}
		})
	}
}

func boundOf(t *testing.T, tg sdk.Target, settings map[string]any, signal sdk.Signal) any {
	t.Helper()
	raw, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	in, err := tg.Configure(context.Background(), sdk.ConfigureRequest{Instance: "bounded", Settings: raw, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	l, ok := in.(sdk.Limited)
	if !ok {
		t.Fatalf("a %T is not an sdk.Limited", in)
	}
	key, n := l.BeatLimit(sdk.Beat{Signal: signal})
	if key == nil || n <= 0 {
		t.Fatalf("BeatLimit = %d and a key that is nil: %v; want a bound", n, key == nil)
	}
	return key
}
