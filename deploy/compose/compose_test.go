package compose

import (
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/seed-e9b80cf6/heartbeat/deploy/internal/heartbeattest"
)

// project is the part of the Compose file format
// (https://github.com/compose-spec/compose-spec/blob/main/spec.md) that
// compose.yaml uses. Decoding is strict: a key not listed here is an
// error, so a misspelled key, which docker compose would reject, fails
// here too.
type project struct {
	Name     string              `json:"name"`
	Services map[string]service  `json:"services"`
	Secrets  map[string]fileRef  `json:"secrets"`
	Volumes  map[string]struct{} `json:"volumes"`
}

type service struct {
	Image       string               `json:"image"`
	Restart     string               `json:"restart"`
	Command     []string             `json:"command"`
	Volumes     []string             `json:"volumes"`
	Ports       []string             `json:"ports"`
	NetworkMode string               `json:"network_mode"`
	DependsOn   map[string]dependsOn `json:"depends_on"`
	Secrets     []secretRef          `json:"secrets"`
	User        string               `json:"user"`
	ReadOnly    bool                 `json:"read_only"`
	Tmpfs       []string             `json:"tmpfs"`
	CapDrop     []string             `json:"cap_drop"`
	SecurityOpt []string             `json:"security_opt"`
	Healthcheck *healthcheck         `json:"healthcheck"`
}

type dependsOn struct {
	Condition string `json:"condition"`
}

type secretRef struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

type fileRef struct {
	File string `json:"file"`
}

type healthcheck struct {
	Test        []string `json:"test"`
	Interval    string   `json:"interval"`
	Timeout     string   `json:"timeout"`
	StartPeriod string   `json:"start_period"`
	Retries     int      `json:"retries"`
}

// heartbeatImage is the image of heartbeat's releases, without its tag.
const heartbeatImage = "ghcr.io/seed-e9b80cf6/heartbeat"

func decode(data []byte) (project, error) {
	var p project
	err := yaml.UnmarshalStrict(data, &p)
	return p, err
}

func load(t *testing.T) project {
	t.Helper()
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := decode(data)
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return p
}

func TestComposeDecodesStrictly(t *testing.T) {
	p := load(t)
	got := slices.Sorted(func(yield func(string) bool) {
		for name := range p.Services {
			if !yield(name) {
				return
			}
		}
	})
	if want := []string{"butler-sos", "heartbeat", "uptime-kuma"}; !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}

	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"misspelled service key", "    network_mode:", "    networkmode:"},
		{"misspelled healthcheck key", "      start_period: 30s\n      retries: 3\n\n  uptime-kuma:", "      startperiod: 30s\n      retries: 3\n\n  uptime-kuma:"},
		{"misspelled top-level key", "\nsecrets:\n", "\nsecret:\n"},
		{"duplicate key", "    read_only: true", "    read_only: true\n    read_only: false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(string(data), tc.from) != 1 {
				t.Fatalf("compose.yaml no longer holds %q exactly once: update the test", tc.from)
			}
			if _, err := decode([]byte(strings.Replace(string(data), tc.from, tc.to, 1))); err == nil {
				t.Error("decoded without an error")
			}
		})
	}
}

func durationOK(t *testing.T, what, s string) {
	t.Helper()
	if d, err := time.ParseDuration(s); err != nil || d <= 0 {
		t.Errorf("%s %q is not a positive duration", what, s)
	}
}

func TestComposeInvariants(t *testing.T) {
	p := load(t)
	hb, ok := p.Services["heartbeat"]
	if !ok {
		t.Fatal("no heartbeat service")
	}
	for name, s := range p.Services {
		if s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":") {
			t.Errorf("%s: image %q needs a tag", name, s.Image)
		}
		if s.Restart != "unless-stopped" {
			t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
		}
		if hc := s.Healthcheck; hc != nil {
			durationOK(t, name+" healthcheck interval", hc.Interval)
			durationOK(t, name+" healthcheck timeout", hc.Timeout)
			durationOK(t, name+" healthcheck start_period", hc.StartPeriod)
			if len(hc.Test) < 2 || hc.Test[0] != "CMD" {
				t.Errorf("%s: healthcheck test %q must be [CMD, program, args...]", name, hc.Test)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
		}
	}
	if name, _, _ := strings.Cut(hb.Image, ":"); name != heartbeatImage {
		t.Errorf("heartbeat runs %q, want %s", hb.Image, heartbeatImage)
	}
	// With a read-only root, heartbeat needs a writable /tmp: go-plugin
	// puts the plugins' Unix sockets there.
	if !slices.ContainsFunc(hb.Tmpfs, func(m string) bool { return strings.HasPrefix(m, "/tmp") }) {
		t.Errorf("heartbeat's tmpfs %v has no /tmp: its plugins cannot start on a read-only root", hb.Tmpfs)
	}
	if hb.User != "65532:65532" || !hb.ReadOnly || !slices.Equal(hb.CapDrop, []string{"ALL"}) ||
		!slices.Contains(hb.SecurityOpt, "no-new-privileges:true") {
		t.Error("heartbeat must run as 65532:65532 on a read-only file system, with no capabilities and no-new-privileges")
	}
	// Butler SOS's health endpoint listens on localhost only: the check
	// reaches it from Butler SOS's network namespace.
	if hb.NetworkMode != "service:butler-sos" {
		t.Errorf("heartbeat's network_mode %q, want service:butler-sos", hb.NetworkMode)
	}
	if c := hb.DependsOn["butler-sos"].Condition; c != "service_healthy" {
		t.Errorf("heartbeat depends on butler-sos with %q, want service_healthy (its first beat would fail)", c)
	}
	if p.Services["butler-sos"].Healthcheck == nil {
		t.Error("butler-sos needs a healthcheck for service_healthy")
	}

	// The config file mounted where --config says, from this directory.
	cfgPath := flagValue(hb.Command, "--config")
	if hb.Command[0] != "run" || cfgPath == "" {
		t.Fatalf("heartbeat's command %q, want run --config PATH", hb.Command)
	}
	mounted := false
	for _, v := range hb.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) == 3 && parts[1] == cfgPath && parts[2] == "ro" {
			mounted = true
			if _, err := os.Stat(filepath.FromSlash(parts[0])); err != nil {
				t.Errorf("the config mounted at %s: %v", cfgPath, err)
			}
		}
	}
	if !mounted {
		t.Errorf("no read-only volume mounts the config at %s", cfgPath)
	}

	// Every _file setting names a Docker secret of the service.
	cfg := readConfig(t)
	files := fileSettings(cfg)
	if len(files) == 0 {
		t.Error("the config reads no secret from a file")
	}
	for setting, file := range files {
		dir, name := path.Split(file)
		if dir != "/run/secrets/" {
			t.Errorf("%s: %s is not a Docker secret (/run/secrets/NAME)", setting, file)
			continue
		}
		if !slices.Contains(hb.Secrets, secretRef{Source: name, Target: name}) {
			t.Errorf("%s: the heartbeat service has no secret %s", setting, name)
		}
		if _, ok := p.Secrets[name]; !ok {
			t.Errorf("%s: secret %s is not declared", setting, name)
		}
	}

	// The healthcheck asks the daemon at the address it listens on.
	hc := hb.Healthcheck
	if hc == nil {
		t.Fatal("heartbeat has no healthcheck")
	}
	if hc.Test[1] != "/usr/bin/heartbeat" || hc.Test[2] != "status" {
		t.Errorf("healthcheck %q, want /usr/bin/heartbeat status", hc.Test)
	}
	listen := listenOf(t, cfg)
	if got := flagValue(hc.Test[2:], "--listen"); got != listen {
		t.Errorf("the healthcheck asks %q, heartbeat listens on %q", got, listen)
	}
	if host, _, err := net.SplitHostPort(listen); err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("listen %q: keep it on loopback, only the healthcheck needs it", listen)
	}
}

func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func readConfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("heartbeat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func listenOf(t *testing.T, cfg string) string {
	t.Helper()
	var c struct {
		Listen string `json:"listen"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &c); err != nil {
		t.Fatalf("heartbeat.yaml: %v", err)
	}
	return c.Listen
}

// fileSettings returns the `..._file` values of a heartbeat config.
func fileSettings(cfg string) map[string]string {
	var c struct {
		Targets map[string]struct {
			Config map[string]any `json:"config"`
		} `json:"targets"`
	}
	_ = yaml.Unmarshal([]byte(cfg), &c)
	found := map[string]string{}
	for name, tg := range c.Targets {
		for k, v := range tg.Config {
			if s, ok := v.(string); ok && strings.HasSuffix(k, "_file") {
				found["targets."+name+".config."+k] = s
			}
		}
	}
	return found
}

// TestWithRealHeartbeat runs the real heartbeat with compose.yaml's
// command and heartbeat.yaml, the Docker secret written out, against a
// local Uptime Kuma and Butler SOS, and runs the healthcheck's command
// against it.
func TestWithRealHeartbeat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs heartbeat; skipped with -short")
	}
	p := load(t)
	hb := p.Services["heartbeat"]
	bin := heartbeattest.Build(t, "uptimekuma")
	const token = "Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH"

	setup := func(t *testing.T, pushURL, healthURL string) (cfgPath, listen string) {
		dir := t.TempDir()
		cfg := readConfig(t)
		listen = heartbeattest.FreeAddr(t)
		for _, file := range fileSettings(cfg) {
			local := filepath.Join(dir, path.Base(file))
			if err := os.WriteFile(local, []byte(pushURL+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg = strings.ReplaceAll(cfg, file, local)
		}
		for from, to := range map[string]string{listenOf(t, cfg): listen, "http://localhost:12398": healthURL} {
			if !strings.Contains(cfg, from) {
				t.Fatalf("heartbeat.yaml no longer holds %q: update the test", from)
			}
			cfg = strings.ReplaceAll(cfg, from, to)
		}
		cfgPath = filepath.Join(dir, "heartbeat.yaml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return cfgPath, listen
	}
	command := func(cfgPath string) []string {
		c := slices.Clone(hb.Command)
		for i := range c {
			if c[i] == "--config" {
				c[i+1] = cfgPath
			}
		}
		return c
	}
	healthcheck := func(t *testing.T, listen string) int {
		args := slices.Clone(hb.Healthcheck.Test[2:])
		for i := range args {
			if args[i] == "--listen" {
				args[i+1] = listen
			}
		}
		return bin.Run(t, time.Minute, args...).ExitCode
	}

	t.Run("validate", func(t *testing.T) {
		kuma := heartbeattest.NewUptimeKuma(t, token)
		cfg, _ := setup(t, kuma.PushURL(), "http://127.0.0.1:12398")
		res := bin.Run(t, 2*time.Minute, "validate", "--config", cfg)
		if res.ExitCode != 0 || strings.Contains(res.Stderr, "warning") {
			t.Fatalf("validate: exit %d\n%s", res.ExitCode, res.Stderr)
		}
	})

	t.Run("up while Butler SOS works", func(t *testing.T) {
		kuma := heartbeattest.NewUptimeKuma(t, token)
		butler := heartbeattest.NewButlerSOS(t)
		cfg, listen := setup(t, kuma.PushURL(), butler.URL)
		d := bin.Start(t, command(cfg)...)
		heartbeattest.WaitFor(t, time.Minute, "the start-up beat", func() bool { return len(kuma.Requests()) >= 1 || d.Exited() })
		if q := kuma.Requests()[0].Query; !strings.Contains(q, "status=up") {
			t.Errorf("push %q, want status=up\n%s", q, d.Output())
		}
		heartbeattest.WaitFor(t, time.Minute, "the healthcheck to pass", func() bool { return healthcheck(t, listen) == 0 })
		if err := d.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		if code := healthcheck(t, listen); code != 3 {
			t.Errorf("the healthcheck with no daemon: exit %d, want 3", code)
		}
		if strings.Contains(d.Output(), token) {
			t.Error("heartbeat's log holds the push token")
		}
	})

	t.Run("down while Butler SOS does not answer", func(t *testing.T) {
		kuma := heartbeattest.NewUptimeKuma(t, token)
		cfg, listen := setup(t, kuma.PushURL(), "http://"+heartbeattest.FreeAddr(t))
		d := bin.Start(t, command(cfg)...)
		heartbeattest.WaitFor(t, time.Minute, "the start-up beat", func() bool { return len(kuma.Requests()) >= 1 || d.Exited() })
		if q := kuma.Requests()[0].Query; !strings.Contains(q, "status=down") {
			t.Errorf("push %q, want status=down\n%s", q, d.Output())
		}
		// The container turns unhealthy: its last beat failed.
		heartbeattest.WaitFor(t, time.Minute, "the healthcheck to fail", func() bool { return healthcheck(t, listen) == 1 })
	})
}
