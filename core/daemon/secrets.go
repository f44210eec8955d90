package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// fileSuffix marks a setting whose value is read from a file:
// ping_url_file: /run/secrets/hc becomes ping_url: <the file's content>.
const fileSuffix = "_file"

// maxSecretFile bounds a secret file: secrets are short.
const maxSecretFile = 64 << 10

// configureTarget reads the target's secret files and configures instance
// on p. Problems with the secret files come back together with the
// plugin's own field errors, so every invalid setting is reported in one
// run; the plugin's complaint about a setting whose file failed (say
// "token is required") is dropped as a consequence of the first.
func configureTarget(ctx context.Context, host *pluginhost.Host, p *pluginhost.Plugin, instance string, settings []byte) (string, error) {
	settings, fileErrs := readSecretFiles(settings, p.Info())
	desc, err := host.Configure(ctx, p, instance, settings)
	if len(fileErrs) == 0 {
		return desc, err
	}
	if err == nil {
		host.Forget(instance)
	} else if !isFieldError(err) {
		return "", err // a timeout or a crash: not about the settings
	}
	failed := map[string]bool{}
	for _, fe := range fileErrs {
		failed[strings.TrimSuffix(fe.Field, fileSuffix)] = true
	}
	all := fileErrs
	for _, fe := range sdk.AsFieldErrors(err) {
		if !failed[fe.Field] {
			all = append(all, fe)
		}
	}
	return "", all
}

// isFieldError reports whether err is the plugin's verdict on settings.
func isFieldError(err error) bool {
	var fes sdk.FieldErrors
	var fe sdk.FieldError
	return errors.As(err, &fes) || errors.As(err, &fe)
}

// readSecretFiles replaces each top-level setting <name>_file by <name>
// with the content of the file it names (without the final newline), for
// settings the plugin declares as <name> but not as <name>_file (so the
// http plugin's own ca_file stays a path). A <name>_file that cannot be
// used is left out of the settings and reported in errs.
func readSecretFiles(settings []byte, info sdk.Info) (out []byte, errs sdk.FieldErrors) {
	if !strings.Contains(string(settings), fileSuffix+`"`) {
		return settings, nil
	}
	var m map[string]any
	if err := json.Unmarshal(settings, &m); err != nil {
		return settings, nil // the plugin reports malformed settings itself
	}
	declared := make([]string, 0, len(info.Settings))
	for _, s := range info.Settings {
		declared = append(declared, s.Name)
	}
	for key, v := range m {
		name, ok := strings.CutSuffix(key, fileSuffix)
		if !ok || slices.Contains(declared, key) || !slices.Contains(declared, name) {
			continue
		}
		path, ok := v.(string)
		delete(m, key)
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
		m[name] = strings.TrimRight(string(data), "\r\n")
	}
	out, err := json.Marshal(m)
	if err != nil {
		return settings, errs
	}
	return out, errs
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
