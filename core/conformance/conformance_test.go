package conformance_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/core/conformance"
)

// built holds the plugin binaries, built once for the package's tests.
var built struct {
	sync.Once
	dir string
	err error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// misbehaving are the modes of testdata/misbehave and the file name each
// is built as.
var misbehaving = map[string]string{
	"good": "good", "stdout": "stdout", "stdout-early": "stdout-early",
	"misnamed": "misnamed", "leak": "leak", "logleak": "logleak", "hang": "hang",
	"crash": "crash", "flood": "flood", "rawstdout": "rawstdout",
}

// plugins builds every bundled plugin, examples/custom-target and the
// misbehaving test plugins into one directory.
func plugins(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds plugin binaries")
	}
	built.Do(func() {
		dir, err := os.MkdirTemp("", "conformance-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		root, _ := filepath.Abs("../..")
		type job struct{ dir, out, pkg, ldflags string }
		var jobs []job
		mains, _ := filepath.Glob(filepath.Join(root, "plugins", "*", "main.go"))
		for _, m := range mains {
			name := filepath.Base(filepath.Dir(m))
			jobs = append(jobs, job{root, "heartbeat-target-" + name, "./plugins/" + name, ""})
		}
		jobs = append(jobs, job{filepath.Join(root, "examples", "custom-target"), "heartbeat-target-file", ".", ""})
		for mode, file := range misbehaving {
			jobs = append(jobs, job{root, "heartbeat-target-" + file, "./core/conformance/testdata/misbehave", "-X main.mode=" + mode})
		}
		for _, j := range jobs {
			cmd := exec.Command("go", "build", "-ldflags", j.ldflags, "-o", filepath.Join(dir, j.out), j.pkg)
			cmd.Dir = j.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				built.err = &buildError{j.pkg, string(out), err}
				return
			}
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.dir
}

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "building " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

func run(t *testing.T, file string, settings []byte) []conformance.Result {
	t.Helper()
	path := filepath.Join(plugins(t), "heartbeat-target-"+file)
	results := conformance.Run(context.Background(), path, conformance.Options{Settings: settings})
	for _, r := range results {
		t.Logf("%s %s: %s", r.Status, r.Name, r.Detail)
	}
	return results
}

func status(results []conformance.Result, name string) (conformance.Status, bool) {
	st, found := conformance.Skip, false
	for _, r := range results {
		if r.Name == name {
			// A check reported twice counts by its worst outcome.
			if !found || r.Status == conformance.Fail {
				st = r.Status
			}
			found = true
		}
	}
	return st, found
}

func TestBundledPluginsConform(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix plugins")
	}
	for _, name := range []string{"http", "log", "healthchecks", "uptimekuma", "cronitor", "betterstack", "deadmanssnitch", "sentry", "pushgateway", "file", "good"} {
		t.Run(name, func(t *testing.T) {
			results := run(t, name, nil)
			if conformance.Failed(results) {
				t.Fatalf("%s fails the suite", name)
			}
			for _, check := range []string{conformance.CheckHandshake, conformance.CheckInfoName, conformance.CheckConfErrors, conformance.CheckUnconfigured, conformance.CheckConcurrent, conformance.CheckStream, conformance.CheckStdout, conformance.CheckHostDeath} {
				if st, _ := status(results, check); st != conformance.Pass {
					t.Errorf("%s: %s, want PASS", check, st)
				}
			}
		})
	}
}

func TestSettingsDeliverOneLiveBeat(t *testing.T) {
	for _, tc := range []struct {
		plugin, key, path string
		// extra settings besides the URL
		extra map[string]string
	}{
		{"http", "url", "/ping/5ec2e7c1", nil},
		{"healthchecks", "ping_url", "/0b0e3c3a-6a1e-4c35-8d8e-3f5f2f0c2a11", nil},
		{"uptimekuma", "push_url", "/api/push/Zx8pQ2kLm7", nil},
		{"cronitor", "ping_url", "/p/0f1e2d3c4b5a69788796a5b4c3d2e1f0/m", nil},
		{"betterstack", "heartbeat_url", "/api/v1/heartbeat/Wq3Zt8xPk2Lm9Rv4", nil},
		{"deadmanssnitch", "snitch_url", "/c5d4e3f2a1", nil},
		{"pushgateway", "url", "", nil},
		// The DSN's key rides in the URL's user info.
		{"sentry", "dsn", "/42", map[string]string{"monitor_slug": "nightly-backup"}},
	} {
		t.Run(tc.plugin, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				switch tc.plugin {
				case "healthchecks":
					_, _ = w.Write([]byte("OK"))
				case "uptimekuma":
					_, _ = w.Write([]byte(`{"ok":true}`))
				case "sentry":
					w.WriteHeader(http.StatusAccepted)
				}
			}))
			defer srv.Close()
			values := map[string]string{tc.key: srv.URL + tc.path}
			if tc.plugin == "sentry" {
				values[tc.key] = strings.Replace(srv.URL, "://", "://0123456789abcdef0123456789abcdef@", 1) + tc.path
			}
			for k, v := range tc.extra {
				values[k] = v
			}
			settings, _ := json.Marshal(values)
			results := run(t, tc.plugin, settings)
			if conformance.Failed(results) {
				t.Fatalf("%s with --settings fails the suite", tc.plugin)
			}
			for _, check := range []string{conformance.CheckLive, conformance.CheckDeadline, conformance.CheckSecretDesc, conformance.CheckSecretLog} {
				if st, _ := status(results, check); st != conformance.Pass {
					t.Errorf("%s: %s, want PASS", check, st)
				}
			}
			// Only the live beat reaches the given URL; the other checks
			// beat a local destination of the suite.
			if n := hits.Load(); n != 1 {
				t.Errorf("the server got %d requests, want 1", n)
			}
		})
	}
}

func TestMisbehavingPluginsFailTheMatchingCheck(t *testing.T) {
	for _, tc := range []struct {
		file, check, detail string
	}{
		{"stdout", conformance.CheckStdout, "configured"},
		{"stdout-early", conformance.CheckStdout, "starting up"},
		{"rawstdout", conformance.CheckStdout, "raw configured"},
		{"misnamed", conformance.CheckInfoName, "another-name"},
		{"leak", conformance.CheckSecretDesc, "description"},
		{"logleak", conformance.CheckSecretLog, "log"},
		{"hang", conformance.CheckDeadline, "deadline"},
		{"crash", conformance.CheckConfEmpty, "exited"},
		{"flood", conformance.CheckStdout, "flood"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			results := run(t, tc.file, nil)
			if !conformance.Failed(results) {
				t.Fatal("the suite passed")
			}
			found := false
			for _, r := range results {
				if r.Name == tc.check && r.Status == conformance.Fail {
					found = true
					if !strings.Contains(r.Detail, tc.detail) {
						t.Errorf("%s: %q does not say %q", tc.check, r.Detail, tc.detail)
					}
				}
			}
			if !found {
				t.Errorf("%s did not fail", tc.check)
			}
		})
	}
}
