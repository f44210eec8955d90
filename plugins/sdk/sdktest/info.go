package sdktest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// InfoWant is what CheckInfo expects of a target's Info.
type InfoWant struct {
	// Name is the plugin's name.
	Name string
	// Signals are the signals the target supports, in the order Info
	// lists them; it must support no other.
	Signals []sdk.Signal
	// Settings is a value of the struct the target decodes its settings
	// into: Info must document each of its JSON fields, and nothing
	// else. Nil skips that check.
	Settings any
	// Secret says, for the settings it names, whether Info must mark them
	// secret.
	Secret map[string]bool
}

// CheckInfo checks a target's Info as the core receives it: its name,
// the SDK's version, a description, exactly the signals wanted, a type
// and a description for every setting, every decoded setting documented
// and nothing else, and the secret settings marked.
func CheckInfo(t *testing.T, target sdk.Target, want InfoWant) {
	t.Helper()
	info, err := Dial(t, target).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != want.Name || info.Version != sdk.Version() || info.Description == "" {
		t.Errorf("info %+v: want name %q, version %q and a description", info, want.Name, sdk.Version())
	}
	if !slices.Equal(info.Signals, want.Signals) {
		t.Errorf("signals %v, want %v", info.Signals, want.Signals)
	}
	var documented []string
	secret := map[string]bool{}
	for _, s := range info.Settings {
		documented = append(documented, s.Name)
		secret[s.Name] = s.Secret
		if s.Type == "" || s.Description == "" {
			t.Errorf("setting %s lacks a type or description", s.Name)
		}
	}
	if want.Settings != nil {
		var decoded []string
		rt := reflect.TypeOf(want.Settings)
		for i := range rt.NumField() {
			if name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
				decoded = append(decoded, name)
			}
		}
		slices.Sort(documented)
		slices.Sort(decoded)
		if !slices.Equal(documented, decoded) {
			t.Errorf("documented settings %v, decoded %v", documented, decoded)
		}
	}
	for name, w := range want.Secret {
		if got, ok := secret[name]; !ok || got != w {
			t.Errorf("setting %s: documented %v, secret %v; want secret %v", name, ok, got, w)
		}
	}
}
