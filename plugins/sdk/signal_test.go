package sdk_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestSignalJSON(t *testing.T) {
	for _, s := range []sdk.Signal{sdk.SignalUnspecified, sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog} {
		t.Run(s.String(), func(t *testing.T) {
			b, err := json.Marshal(struct{ Signal sdk.Signal }{s})
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"Signal":"` + s.String() + `"}`; string(b) != want {
				t.Fatalf("marshal: %s, want %s", b, want)
			}
			var back struct{ Signal sdk.Signal }
			if err := json.Unmarshal(b, &back); err != nil || back.Signal != s {
				t.Fatalf("unmarshal %s: %v, %v", b, back.Signal, err)
			}
		})
	}
	t.Run("a beat", func(t *testing.T) {
		b, err := json.Marshal(sdk.Beat{Signal: sdk.SignalFail})
		if err != nil || !strings.Contains(string(b), `"Signal":"fail"`) {
			t.Fatalf("%s, %v", b, err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		var s sdk.Signal
		err := json.Unmarshal([]byte(`"sucess"`), &s)
		if err == nil || !strings.Contains(err.Error(), `unknown signal "sucess"`) {
			t.Fatalf("err = %v", err)
		}
		if err := json.Unmarshal([]byte(`1`), &s); err == nil {
			t.Fatal("a number was accepted")
		}
	})
}
