package pluginhost

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heartbeat-target-x")
	content := []byte("#!/bin/sh\necho planted\n")
	if err := os.WriteFile(path, content, 0o755); err != nil {
		t.Fatal(err)
	}
	good := sha256.Sum256(content)
	bad := sha256.Sum256([]byte("another binary"))
	tests := []struct {
		name string
		pin  []byte
		want string // "" when accepted
	}{
		{"no pin", nil, ""},
		{"matching pin", good[:], ""},
		{"other pin", bad[:], "checksum does not match the pin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPin(Found{Name: "x", Path: path, SHA256: tt.pin})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want %q", err, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), "sha256: "):
				t.Errorf("err = %v does not say how to update the pin", err)
			}
		})
	}
}
