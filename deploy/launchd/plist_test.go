package launchd

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/deploy/internal/heartbeattest"
)

const plistFile = "com.github.seed-e9b80cf6.heartbeat.plist"

// keyTypes are the launchd.plist(5) keys the plist may use, with the type
// each takes. Any other key is an error: launchd ignores a key it does not
// know, so a misspelled one would silently change nothing.
var keyTypes = map[string]string{
	"Label":             "string",
	"ProgramArguments":  "array",
	"UserName":          "string",
	"GroupName":         "string",
	"RunAtLoad":         "bool",
	"KeepAlive":         "dict",
	"ThrottleInterval":  "integer",
	"ExitTimeOut":       "integer",
	"Umask":             "integer",
	"WorkingDirectory":  "string",
	"StandardOutPath":   "string",
	"StandardErrorPath": "string",
}

// keepAliveKeys are the keys of a KeepAlive dictionary (launchd.plist(5)).
var keepAliveKeys = map[string]string{
	"SuccessfulExit": "bool",
	"Crashed":        "bool",
	"NetworkState":   "bool",
}

// decodePlist decodes an XML property list (Apple's PropertyList-1.0 DTD)
// into Go values: map[string]any, []any, string, int64 and bool. Elements
// outside the DTD, text outside values, duplicate keys and a dict whose
// keys and values do not alternate are errors.
func decodePlist(r io.Reader) (any, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	var root any
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local != "plist" || root != nil {
				return nil, fmt.Errorf("unexpected <%s> at the top level", tok.Name.Local)
			}
			if v := attr(tok, "version"); v != "1.0" {
				return nil, fmt.Errorf("plist version %q, want 1.0", v)
			}
			if root, err = decodeValue(d, nil); err != nil {
				return nil, err
			}
			if err := expectEnd(d, "plist"); err != nil {
				return nil, err
			}
		case xml.CharData:
			if strings.TrimSpace(string(tok)) != "" {
				return nil, fmt.Errorf("text %q outside the plist", tok)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no <plist> element")
	}
	return root, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// nextElement returns the next start or end element, refusing text that
// is not white space.
func nextElement(d *xml.Decoder) (xml.Token, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return tok, nil
		case xml.CharData:
			if strings.TrimSpace(string(tok)) != "" {
				return nil, fmt.Errorf("text %q between elements", tok)
			}
		}
	}
}

func expectEnd(d *xml.Decoder, name string) error {
	tok, err := nextElement(d)
	if err != nil {
		return err
	}
	if end, ok := tok.(xml.EndElement); !ok || end.Name.Local != name {
		return fmt.Errorf("want </%s>, got %v", name, tok)
	}
	return nil
}

// decodeValue decodes the next value; start is its start element when the
// caller has read it already.
func decodeValue(d *xml.Decoder, start *xml.StartElement) (any, error) {
	if start == nil {
		tok, err := nextElement(d)
		if err != nil {
			return nil, err
		}
		s, ok := tok.(xml.StartElement)
		if !ok {
			return nil, fmt.Errorf("want a value, got %v", tok)
		}
		start = &s
	}
	switch name := start.Name.Local; name {
	case "dict":
		m := map[string]any{}
		for {
			tok, err := nextElement(d)
			if err != nil {
				return nil, err
			}
			if _, ok := tok.(xml.EndElement); ok {
				return m, nil
			}
			k, ok := tok.(xml.StartElement)
			if !ok || k.Name.Local != "key" {
				return nil, fmt.Errorf("want <key> in a dict, got %v", tok)
			}
			var key string
			if err := d.DecodeElement(&key, &k); err != nil {
				return nil, err
			}
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("key %q twice in a dict", key)
			}
			v, err := decodeValue(d, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			m[key] = v
		}
	case "array":
		var a []any
		for {
			tok, err := nextElement(d)
			if err != nil {
				return nil, err
			}
			if _, ok := tok.(xml.EndElement); ok {
				return a, nil
			}
			s := tok.(xml.StartElement)
			v, err := decodeValue(d, &s)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case "string":
		var s string
		err := d.DecodeElement(&s, start)
		return s, err
	case "integer":
		var s string
		if err := d.DecodeElement(&s, start); err != nil {
			return nil, err
		}
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	case "true", "false":
		if err := expectEnd(d, name); err != nil {
			return nil, err
		}
		return name == "true", nil
	default:
		return nil, fmt.Errorf("element <%s> is not a value this plist uses", name)
	}
}

func typeOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "dict"
	case []any:
		return "array"
	case string:
		return "string"
	case int64:
		return "integer"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

// check decodes a launchd job and checks its keys and their types.
func check(data []byte) (map[string]any, error) {
	v, err := decodePlist(strings.NewReader(string(data)))
	if err != nil {
		return nil, err
	}
	job, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the plist's root is not a dict")
	}
	for k, v := range job {
		want, ok := keyTypes[k]
		if !ok {
			return nil, fmt.Errorf("key %q is not one launchd.plist(5) defines that this job uses", k)
		}
		if got := typeOf(v); got != want {
			return nil, fmt.Errorf("%s is a %s, want a %s", k, got, want)
		}
	}
	if ka, ok := job["KeepAlive"].(map[string]any); ok {
		for k, v := range ka {
			want, ok := keepAliveKeys[k]
			if !ok {
				return nil, fmt.Errorf("KeepAlive: key %q is not a KeepAlive condition", k)
			}
			if got := typeOf(v); got != want {
				return nil, fmt.Errorf("KeepAlive.%s is a %s, want a %s", k, got, want)
			}
		}
	}
	return job, nil
}

func load(t *testing.T) (map[string]any, []byte) {
	t.Helper()
	data, err := os.ReadFile(plistFile)
	if err != nil {
		t.Fatal(err)
	}
	job, err := check(data)
	if err != nil {
		t.Fatalf("%s: %v", plistFile, err)
	}
	return job, data
}

func TestPlistDecodesStrictly(t *testing.T) {
	_, data := load(t)
	for _, tc := range []struct{ name, from, to string }{
		{"misspelled key", "<key>KeepAlive</key>", "<key>KeepAlve</key>"},
		{"misspelled KeepAlive condition", "<key>SuccessfulExit</key>", "<key>SuccesfulExit</key>"},
		{"wrong type", "<integer>60</integer>", "<string>60</string>"},
		{"duplicate key", "<key>RunAtLoad</key>\n\t<true/>", "<key>RunAtLoad</key>\n\t<true/>\n\t<key>RunAtLoad</key>\n\t<false/>"},
		{"unclosed element", "<string>run</string>", "<string>run"},
		{"element outside the DTD", "<true/>", "<yes/>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(string(data), tc.from) != 1 {
				t.Fatalf("the plist no longer holds %q exactly once: update the test", tc.from)
			}
			if _, err := check([]byte(strings.Replace(string(data), tc.from, tc.to, 1))); err == nil {
				t.Error("decoded without an error")
			}
		})
	}
}

func TestPlistJob(t *testing.T) {
	job, _ := load(t)
	if got, want := job["Label"], strings.TrimSuffix(plistFile, ".plist"); got != want {
		t.Errorf("Label %q, want the file's name %q (launchctl finds the job by it)", got, want)
	}
	args := stringList(job["ProgramArguments"])
	if len(args) < 4 || args[0] != "/usr/local/bin/heartbeat" || args[1] != "run" {
		t.Fatalf("ProgramArguments %q, want /usr/local/bin/heartbeat run --config ...", args)
	}
	if i := slices.Index(args, "--config"); i < 0 || i+1 >= len(args) || !filepath.IsAbs(args[i+1]) {
		t.Errorf("ProgramArguments %q: give --config an absolute path (launchd's working directory is /)", args)
	}
	if u := job["UserName"]; u == nil || u == "root" {
		t.Errorf("UserName %v: run heartbeat as an unprivileged user", u)
	}
	ka, _ := job["KeepAlive"].(map[string]any)
	if se, ok := ka["SuccessfulExit"].(bool); !ok || se {
		t.Error("KeepAlive must be {SuccessfulExit: false}: restart after a failure, not after a clean stop")
	}
	if ti, _ := job["ThrottleInterval"].(int64); ti < 30 {
		t.Errorf("ThrottleInterval %d: a config error (exit 2) is retried; space the retries at least 30 s", ti)
	}
	// heartbeat lets beats in flight finish for up to 10 s after SIGTERM.
	if et, _ := job["ExitTimeOut"].(int64); et <= 10 {
		t.Errorf("ExitTimeOut %d: leave heartbeat more than its 10 s to stop", et)
	}
	for _, k := range []string{"StandardOutPath", "StandardErrorPath"} {
		if p, _ := job[k].(string); !strings.HasPrefix(p, "/usr/local/var/log/heartbeat/") {
			t.Errorf("%s %q, want a file under /usr/local/var/log/heartbeat/", k, p)
		}
	}
	if um, _ := job["Umask"].(int64); um&0o077 != 0o077 {
		t.Errorf("Umask %#o: files heartbeat creates are for its user only (077)", um)
	}
}

func stringList(v any) []string {
	a, _ := v.([]any)
	var s []string
	for _, x := range a {
		str, _ := x.(string)
		s = append(s, str)
	}
	return s
}

// TestPlistArgumentsRun runs the plist's command line with the real
// heartbeat (--dry-run, the config path pointed at a test config): the
// arguments are ones `heartbeat run` accepts.
func TestPlistArgumentsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs heartbeat; skipped with -short")
	}
	job, _ := load(t)
	args := stringList(job["ProgramArguments"])[1:]
	bin := heartbeattest.Build(t, "log")
	cfg := filepath.Join(t.TempDir(), "heartbeat.yaml")
	if err := os.WriteFile(cfg, []byte("targets:\n  console: {plugin: log}\nheartbeats:\n  - {name: demo, frequency: every 1 hour, targets: [console]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	i := slices.Index(args, "--config")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("ProgramArguments %q have no --config PATH", args)
	}
	args[i+1] = cfg
	res := bin.Run(t, 2*time.Minute, append(args, "--dry-run")...)
	if res.ExitCode != 0 {
		t.Fatalf("heartbeat %s --dry-run: exit %d\n%s", strings.Join(args, " "), res.ExitCode, res.Stderr)
	}
	if !strings.Contains(res.Stdout, "demo") {
		t.Errorf("the dry run does not show the heartbeat:\n%s", res.Stdout)
	}
}

// TestPlutilLint runs Apple's own checker where it exists (macOS).
func TestPlutilLint(t *testing.T) {
	plutil, err := exec.LookPath("plutil")
	if err != nil {
		t.Skip("plutil (macOS) is not installed")
	}
	if out, err := exec.Command(plutil, "-lint", plistFile).CombinedOutput(); err != nil {
		t.Errorf("plutil -lint: %v\n%s", err, out)
	}
}
