package pluginhost

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Plugin file names per system: heartbeat-target-<name> on Unix,
// heartbeat-target-<name>.exe on Windows, where the name is reported
// without .exe and a file without it is a hint, not a plugin.
func TestPluginFileNames(t *testing.T) {
	tests := []struct {
		goos, file string
		name       string
		bare, ok   bool
	}{
		{"linux", "heartbeat-target-http", "http", false, true},
		{"linux", "heartbeat-target-http.exe", "http.exe", false, true}, // Unix names are taken as they are
		{"linux", "heartbeat-target-old~", "", false, false},
		{"linux", "heartbeat-target-", "", false, false},
		{"linux", "other", "", false, false},
		{"windows", "heartbeat-target-http.exe", "http", false, true},
		{"windows", "heartbeat-target-http.EXE", "http", false, true},
		{"windows", "heartbeat-target-http", "http", true, true},
		{"windows", "heartbeat-target-http.pdb", "", false, false},
		{"windows", "heartbeat-target-a.b.exe", "", false, false},
		{"windows", "heartbeat-target-.exe", "", false, false},
		{"windows", "heartbeat-target-old.exe~", "", false, false},
		{"windows", "other.exe", "", false, false},
	}
	for _, tt := range tests {
		name, bare, ok := pluginName(tt.file, tt.goos)
		if name != tt.name || bare != tt.bare || ok != tt.ok {
			t.Errorf("%s %s: got %q bare=%v ok=%v, want %q bare=%v ok=%v", tt.goos, tt.file, name, bare, ok, tt.name, tt.bare, tt.ok)
		}
	}
	if got := fileName("http", "windows"); got != "heartbeat-target-http.exe" {
		t.Errorf("windows file name %s", got)
	}
	if got := fileName("http", "linux"); got != "heartbeat-target-http" {
		t.Errorf("linux file name %s", got)
	}
	if got := FileName("x"); got != fileName("x", runtime.GOOS) {
		t.Errorf("FileName %s is not this system's", got)
	}
}

// A plugin directory as Windows sees it: .exe files are plugins whatever
// their mode bits (Windows has none for Go to read), named without .exe; a
// plugin file without .exe says to rename it, unless the .exe is there.
func TestScanWindowsNames(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"heartbeat-target-http.exe", "heartbeat-target-both.exe", "heartbeat-target-both", "heartbeat-target-bare", "heartbeat-target-http.pdb", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("MZ"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "heartbeat-target-adir.exe"), 0o755); err != nil {
		t.Fatal(err)
	}
	found, skipped, err := scan(dir, "windows")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Names(found), ","); got != "both,http" {
		t.Errorf("found %s, want both,http", got)
	}
	for _, f := range found {
		if filepath.Ext(f.Path) != ".exe" {
			t.Errorf("%s resolves to %s", f.Name, f.Path)
		}
	}
	want := map[string]string{
		"adir": "a directory",
		"bare": "not a Windows program (no .exe): rename it heartbeat-target-bare.exe",
	}
	if len(skipped) != len(want) {
		t.Errorf("skipped %+v, want %v", skipped, want)
	}
	for _, s := range skipped {
		if w, ok := want[s.Name]; !ok || !strings.Contains(s.Reason, w) {
			t.Errorf("skipped %s (%s), want %q", s.Name, s.Reason, w)
		}
	}
	// The same directory on Unix: nothing changes there.
	found, _, err = scan(dir, "linux")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 {
		t.Errorf("on Unix, files without an execute bit were found: %v", Names(found))
	}
}
