package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		line       string
		start, end uintptr
		path       string
		ok         bool
	}{
		{"00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/heartbeat", 0x400000, 0x452000, "/usr/bin/heartbeat", true},
		{"7f0000000000-7f0000001000 rw-p 00000000 00:00 0", 0, 0, "", false},
		{"00400000-00452000 r-xp 00000000 08:02 173521 /opt/my dir/heartbeat", 0x400000, 0x452000, "/opt/my dir/heartbeat", true},
		{"zz-00452000 r-xp 00000000 08:02 173521 /x", 0, 0, "", false},
		{"00452000-00400000 r-xp 00000000 08:02 173521 /x", 0, 0, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			start, end, path, ok := parseMapping([]byte(tc.line))
			if ok != tc.ok || (ok && (start != tc.start || end != tc.end || path != tc.path)) {
				t.Errorf("parseMapping = %#x %#x %q %v", start, end, path, ok)
			}
		})
	}
}

// The executable's resident pages go, and the process goes on running
// code from them.
func TestShedStartupPages(t *testing.T) {
	before := fileRSS(t)
	covered, err := ShedStartupPages()
	if err != nil {
		t.Skipf("MADV_PAGEOUT not available: %v", err)
	}
	if covered == 0 {
		t.Fatal("no mapping of the executable found")
	}
	after := fileRSS(t)
	t.Logf("file-backed RSS %d kB -> %d kB (%d kB of mappings)", before, after, covered>>10)
	if after >= before {
		t.Errorf("file-backed RSS did not fall: %d kB -> %d kB", before, after)
	}
}

// fileRSS is this process's file-backed resident memory in kB.
func fileRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
