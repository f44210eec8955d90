//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// browserNames are the names headless Chromium goes by.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium returns a Chromium binary. Where there is none and the
// test runs as root with apt-get, it installs Debian's chromium package
// (as CI does); otherwise it skips the test.
func findChromium(t *testing.T) string {
	t.Helper()
	lookup := func() string {
		for _, name := range browserNames {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := lookup(); p != "" {
		return p
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil || os.Geteuid() != 0 {
		t.Skipf("headless Chromium is needed and none of %s is on PATH; install Debian's chromium package (apt-get install chromium) to run this test", strings.Join(browserNames, ", "))
	}
	install := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("apt-get %s: %v\n%s", strings.Join(args, " "), err, lastBytes(string(out), 2000))
		}
		return err
	}
	t.Log("installing Debian's chromium package for the browser test")
	if install("install", "-y", "--no-install-recommends", "chromium") != nil {
		// The package lists may be missing or stale.
		_ = install("update")
		_ = install("install", "-y", "--no-install-recommends", "chromium")
	}
	if p := lookup(); p != "" {
		return p
	}
	t.Skip("headless Chromium is needed and could not be installed with apt-get (see the log above); install Debian's chromium package to run this test")
	return ""
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// runChromium runs headless Chromium with args and returns its stdout. Its
// whole process group is killed when it overruns, so no renderer stays
// behind.
func runChromium(t *testing.T, browser string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", browser, strings.Join(args, " "), err, lastBytes(stderr.String(), 4000))
	}
	return stdout.String()
}

// fetchSnapshot reads /api/v1/status of a running daemon.
func fetchSnapshot(t *testing.T, base string) (status.Snapshot, bool) {
	t.Helper()
	var s status.Snapshot
	resp, err := http.Get(base + "/api/v1/status")
	if err != nil {
		return s, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, false
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return s, false
	}
	return s, json.Unmarshal(body, &s) == nil
}

// statusDaemon is a daemon with one healthy heartbeat (a log target) and
// one failing one (an http target whose server answers 500, not retried),
// once both have beaten a few times.
type statusDaemon struct {
	*daemonProcess
	base   string // http://listen-address
	secret string // in the failing target's URL; never on a page
	cfg    string
}

func startStatusDaemon(t *testing.T, bins binaries, extraConfig string) statusDaemon {
	t.Helper()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database unavailable", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	const secret = "s3cr3t-push-token-7f9a2c4e1b"
	addr := freeAddr(t)
	cfg := writeConfig(t, fmt.Sprintf(`
listen: %s
%s
targets:
  console: { plugin: log }
  uptime-api: { plugin: http, retries: 0, config: { url: "%s/push/%s" } }
heartbeats:
  - { name: backup-db, frequency: every 2 sec, targets: [console] }
  - { name: web-frontend, frequency: every 3 sec, targets: [uptime-api] }
`, addr, extraConfig, failing.URL, secret))
	d := statusDaemon{daemonProcess: startDaemon(t, bins, "--config", cfg), base: "http://" + addr, secret: secret, cfg: cfg}
	return d
}

// waitForStates waits until the healthy heartbeat is ok and the failing
// one failing, each with at least beats recent beats.
func (d statusDaemon) waitForStates(t *testing.T, beats int, get func() (status.Snapshot, bool)) status.Snapshot {
	t.Helper()
	var s status.Snapshot
	waitFor(t, 90*time.Second, fmt.Sprintf("backup-db ok and web-frontend failing, each with %d beats, in /api/v1/status", beats), func() bool {
		var ok bool
		if s, ok = get(); !ok || len(s.Heartbeats) != 2 {
			return false
		}
		h, f := s.Heartbeats[0], s.Heartbeats[1]
		return h.State == status.StateOK && f.State == status.StateFailing && len(h.Beats) >= beats && len(f.Beats) >= beats
	})
	return s
}

var (
	cardRE = regexp.MustCompile(`(?s)<article class="hb (s-[a-z]+)" id="hb-\d+"[^>]*>\s*<header class="hb-head">\s*<h3[^>]*>([^<]*)</h3>\s*<span class="badge [a-z-]+" data-state="">([^<]*)</span>.*?<dd class="next"><time datetime="([^"]+)">([^<]+)</time> <span class="rel">([^<]+)</span>`)
	// A tick that fires late on a loaded machine leaves a next beat just past.
	relRE = regexp.MustCompile(`^(due now|in \d+s|just now|\d+s ago)$`)
)

// The status page of a running daemon, loaded by a real browser, shows
// the healthy and the failing heartbeat, their states and next beats, and
// is styled (the style passed the Content-Security-Policy), at desktop
// and phone widths.
func TestStatusPageInBrowser(t *testing.T) {
	bins := buildBinaries(t)
	browser := findChromium(t)
	d := startStatusDaemon(t, bins, "")
	d.waitForStates(t, 3, func() (status.Snapshot, bool) { return fetchSnapshot(t, d.base) })

	resp, err := http.Get(d.base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("/status %s = %q, want %q", name, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("/status Content-Security-Policy %q", csp)
	}

	dom := runChromium(t, browser, "--dump-dom", d.base+"/status")
	cards := cardRE.FindAllStringSubmatch(dom, -1)
	if len(cards) != 2 {
		t.Fatalf("the DOM shows %d heartbeat cards, want 2:\n%s", len(cards), dom)
	}
	now := time.Now()
	for i, want := range []struct{ class, name, label string }{{"s-ok", "backup-db", "OK"}, {"s-failing", "web-frontend", "Failing"}} {
		c := cards[i]
		if c[1] != want.class || c[2] != want.name || c[3] != want.label {
			t.Errorf("card %d: %s %q %q, want %s %q %q", i, c[1], c[2], c[3], want.class, want.name, want.label)
		}
		next, err := time.Parse(time.RFC3339, c[4])
		if err != nil || next.Before(now.Add(-time.Minute)) || next.After(now.Add(time.Minute)) {
			t.Errorf("%s: next beat %q is not a time near now (%v)", want.name, c[4], err)
		}
		if !strings.HasSuffix(c[5], " UTC") || !relRE.MatchString(c[6]) {
			t.Errorf("%s: next beat shown as %q %q", want.name, c[5], c[6])
		}
	}
	seen := regexp.MustCompile(`\s+`).ReplaceAllString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(dom, " "), " ")
	for _, want := range []string{
		"every 2 sec", "every 3 sec",
		"console log success delivered", "uptime-api http success FAILED",
		"Last beat: ok", "Last beat: failed",
		"Plugins", "http running", "log running",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("the page lacks %q:\n%s", want, seen)
		}
	}
	if !strings.Contains(seen, "500") {
		t.Errorf("the failing target's detail does not show the server's answer:\n%s", seen)
	}
	if n := strings.Count(dom, `<li class="beat o-ok"`); n < 3 {
		t.Errorf("%d ok cells in the timelines, want at least 3", n)
	}
	if n := strings.Count(dom, `<li class="beat o-failed"`); n < 3 {
		t.Errorf("%d failed cells in the timelines, want at least 3", n)
	}
	if strings.Contains(dom, d.secret) {
		t.Error("the page shows the secret in the target's URL")
	}

	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1200, 900}, {"phone", 390, 1400}} {
		t.Run(size.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "status.png")
			runChromium(t, browser, "--screenshot="+file, fmt.Sprintf("--window-size=%d,%d", size.width, size.height), d.base+"/status")
			img := decodePNG(t, file)
			if b := img.Bounds(); b.Dx() != size.width || b.Dy() != size.height {
				t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), size.width, size.height)
			}
			// The state colours are there: the style was applied.
			green, red := countPixels(img, isGreen), countPixels(img, isRed)
			if green < 200 || red < 200 {
				t.Errorf("screenshot has %d green and %d red pixels: the page looks unstyled", green, red)
			}
			if size.name == "desktop" && os.Getenv("HEARTBEAT_UPDATE_DOCS") == "1" {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				dst := filepath.Join(repoRoot(t), "docs", "img", "status.png")
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, data, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", dst)
			}
		})
	}
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("daemon exit code %d", code)
	}
}

func decodePNG(t *testing.T, file string) image.Image {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return img
}

func countPixels(img image.Image, match func(r, g, b uint32) bool) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if match(r>>8, g>>8, bl>>8) {
				n++
			}
		}
	}
	return n
}

func isGreen(r, g, b uint32) bool { return g > 120 && r < 100 && b < 120 && g > r+50 }
func isRed(r, g, b uint32) bool   { return r > 160 && g < 90 && b < 90 }
