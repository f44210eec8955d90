package daemon

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// fileSuffix marks a setting whose value is read from a file:
// ping_url_file: /run/secrets/hc becomes ping_url: <the file's content>.
const fileSuffix = "_file"

// maxSecretFile bounds a secret file: secrets are short.
const maxSecretFile = 64 << 10

// readSecretFiles replaces each top-level setting <name>_file by <name>
// with the content of the file it names (without the final newline), for
// settings the plugin declares as <name> but not as <name>_file (so the
// http plugin's own ca_file stays a path).
func readSecretFiles(settings []byte, info sdk.Info) ([]byte, error) {
	if !strings.Contains(string(settings), fileSuffix+`"`) {
		return settings, nil
	}
	var m map[string]any
	if err := json.Unmarshal(settings, &m); err != nil {
		return settings, nil //nolint:nilerr // the plugin reports malformed settings itself
	}
	declared := make([]string, 0, len(info.Settings))
	for _, s := range info.Settings {
		declared = append(declared, s.Name)
	}
	var errs sdk.FieldErrors
	for key, v := range m {
		name, ok := strings.CutSuffix(key, fileSuffix)
		if !ok || slices.Contains(declared, key) || !slices.Contains(declared, name) {
			continue
		}
		path, ok := v.(string)
		if !ok || path == "" {
			errs.Add(key, "must be the path of a file holding the %s", name)
			continue
		}
		if _, both := m[name]; both {
			errs.Add(key, "give either %s or %s, not both", name, key)
			continue
		}
		data, err := readSmallFile(path)
		if err != nil {
			errs.Add(key, "%v", err)
			continue
		}
		delete(m, key)
		m[name] = strings.TrimRight(string(data), "\r\n")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret file: %w", err)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes; a secret file holds one value", path, maxSecretFile)
	}
	return data, nil
}
