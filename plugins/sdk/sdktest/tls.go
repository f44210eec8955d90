package sdktest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// TLS describes a target to RunTLS.
type TLS struct {
	// CACertPEM is the PEM certificate of the CA of the https server the
	// target reaches (httptest's own, which the system does not trust).
	CACertPEM []byte
	// Detail is the Result.Detail of a delivered beat.
	Detail string
	// Beat configures a new instance of the target for the server, with
	// the extra settings added (ca_file, insecure_skip_verify, or none),
	// and sends it one beat.
	Beat func(t *testing.T, extra map[string]any) (sdk.Result, error)
	// Delivered, when set, checks the server after a delivered beat.
	Delivered func(t *testing.T)
}

// RunTLS checks the TLS settings every HTTP target takes: a server whose
// CA is unknown is refused with a permanent error naming the certificate,
// and ca_file or insecure_skip_verify lets the beat through. Each case
// runs as a subtest.
func RunTLS(t *testing.T, c TLS) {
	t.Helper()
	if len(c.CACertPEM) == 0 || c.Beat == nil {
		t.Fatal("sdktest.TLS needs CACertPEM and Beat")
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, c.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		extra map[string]any
		ok    bool
	}{
		{"unknown CA is refused", map[string]any{}, false},
		{"ca_file", map[string]any{"ca_file": caFile}, true},
		{"insecure_skip_verify", map[string]any{"insecure_skip_verify": true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Beat(t, tt.extra)
			if !tt.ok {
				if err == nil || !strings.Contains(err.Error(), "certificate") || sdk.KindOf(err) != sdk.KindPermanent {
					t.Errorf("got %s %v, want a permanent certificate error", sdk.KindOf(err), err)
				}
				return
			}
			if err != nil || res.Detail != c.Detail {
				t.Errorf("got %q, %v; want %q", res.Detail, err, c.Detail)
			}
			if c.Delivered != nil {
				c.Delivered(t)
			}
		})
	}
}
