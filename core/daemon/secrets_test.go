package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestReadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "uuid")
	if err := os.WriteFile(secret, []byte("5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxSecretFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	info := sdk.Info{Settings: []sdk.SettingInfo{{Name: "uuid"}, {Name: "ca_file"}, {Name: "timeout"}}}
	tests := []struct {
		name     string
		settings string
		want     string
		err      string
	}{
		{"no file settings", `{"uuid":"x"}`, `{"uuid":"x"}`, ""},
		{"value from file", `{"uuid_file":"` + secret + `"}`, `{"uuid":"5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d"}`, ""},
		{"declared _file setting is kept", `{"ca_file":"/etc/ca.pem"}`, `{"ca_file":"/etc/ca.pem"}`, ""},
		{"undeclared setting passes through", `{"colour_file":"x"}`, `{"colour_file":"x"}`, ""},
		{"both forms", `{"uuid":"x","uuid_file":"` + secret + `"}`, "", "uuid_file: give either uuid or uuid_file"},
		{"missing file", `{"uuid_file":"/nonexistent/secret"}`, "", "uuid_file: cannot read the secret file"},
		{"huge file", `{"uuid_file":"` + big + `"}`, "", "larger than"},
		{"not a path", `{"uuid_file":5}`, "", "must be the path of a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := readSecretFiles([]byte(tt.settings), info)
			if tt.err != "" {
				if errs == nil || !strings.Contains(errs.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", errs, tt.err)
				}
				if strings.Contains(string(got), "_file") {
					t.Errorf("the failed file setting is still in %s", got)
				}
				return
			}
			if err := errs.Err(); err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
