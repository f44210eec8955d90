package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/seed-e9b80cf6/heartbeat/core/check"
	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// Options adjust Load; the zero value reads the process environment and
// caps the file at DefaultMaxFileSize.
type Options struct {
	LookupEnv LookupEnv
	// MaxSize bounds the file in bytes (the --max-config-size flag); 0
	// means DefaultMaxFileSize.
	MaxSize int64
}

// Load reads and validates the config file at path.
func Load(path string, opts Options) (*Config, error) {
	limit := opts.MaxSize
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	data, err := readFile(path, limit)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, opts)
}

// readFile reads a regular file of at most limit bytes. Anything else (a
// FIFO, a device, a socket, a directory) is refused before it is read, and
// the file is opened non-blocking and checked again, so one swapped in
// between cannot block either.
func readFile(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file: %w", err)
	}
	if err := checkRegular(path, info, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file: %w", err)
	}
	defer f.Close()
	info, err = f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file %s: %w", path, err)
	}
	if err := checkRegular(path, info, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, limit)
	}
	return data, nil
}

func checkRegular(path string, info os.FileInfo, limit int64) error {
	mode := info.Mode()
	if mode.IsRegular() {
		if info.Size() > limit {
			return tooLarge(path, limit)
		}
		return nil
	}
	what := "not a regular file"
	switch {
	case mode.IsDir():
		what = "a directory"
	case mode&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case mode&os.ModeSocket != 0:
		what = "a socket"
	case mode&os.ModeDevice != 0:
		what = "a device"
	}
	return &Error{Pos: Pos{File: path}, Msg: "the config file is " + what + ", not a regular file", Fix: "give the path of a YAML config file"}
}

func tooLarge(path string, limit int64) error {
	fix := "check that this is the right file"
	if limit < MaxMaxFileSize {
		fix += fmt.Sprintf("; a larger config needs a higher cap, e.g. --max-config-size %s", FormatBytes(min(limit*4, MaxMaxFileSize)))
	}
	return &Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("the config file is larger than %s", FormatBytes(limit)), Fix: fix}
}

// Parse validates config data read from the file named path.
func Parse(path string, data []byte, opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	p := &parser{file: path, lookup: opts.LookupEnv, data: data}
	root, err := p.parseYAML(data)
	if err != nil {
		return nil, err
	}
	cfg := &Config{File: path, Targets: map[string]*Target{}}
	if root == nil {
		p.errs.add(Pos{File: path, Line: 1, Column: 1}, "see examples/heartbeat.yaml for a complete config", "the config file is empty")
		return nil, p.errs.err()
	}
	if root.Kind != yaml.MappingNode {
		p.errs.add(p.pos(root), "check that this is a heartbeat config file; its top level holds plugin_dir, targets and heartbeats", "the config file must be a mapping of keys to values, not %s", shapeName(root))
		return nil, p.errs.err()
	}
	if butler := mappingValue(root, "Butler-SOS"); butler != nil {
		cfg.ButlerSOS = true
		p.butlerSOS(cfg, butler)
	} else if !p.refuseAliases(root, "heartbeat configs") {
		p.heartbeatFile(cfg, root)
	}
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

type parser struct {
	file   string
	lookup LookupEnv
	data   []byte
	errs   errorList
	// zones caches time zones: loading one reads a file.
	zones map[string]*time.Location
}

func (p *parser) zone(name string) (*time.Location, error) {
	if l, ok := p.zones[name]; ok {
		return l, nil
	}
	l, err := time.LoadLocation(name)
	if err == nil {
		if p.zones == nil {
			p.zones = map[string]*time.Location{}
		}
		p.zones[name] = l
	}
	return l, err
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Column: n.Column} }

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data into a node tree; syntax errors get a position.
func (p *parser) parseYAML(data []byte) (*yaml.Node, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &Error{Pos: Pos{File: p.file, Line: 1, Column: 1}, Msg: "the file holds binary data, not YAML", Fix: "give the path of the YAML config file"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, p.syntaxError(data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{Pos: p.pos(&extra), Msg: "the file holds more than one YAML document", Fix: "remove the second document (the part after ---)"}
	} else if !errors.Is(err, io.EOF) {
		return nil, p.syntaxError(data, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if e := p.checkDepth(root, 0); e != nil {
		return nil, e
	}
	if e := p.checkAliases(root); e != nil {
		return nil, e
	}
	return root, nil
}

// syntaxError turns yaml's "line N: msg" into file:line:column.
func (p *parser) syntaxError(data []byte, err error) error {
	msg := err.Error()
	pos := Pos{File: p.file, Line: 1, Column: 1}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	msg = plainExcerpt(msg, 200) // the parser may quote the file
	if line := problemLine(data, err.Error()); line > 0 {
		pos.Line = line
	}
	pos.Column = firstColumn(data, pos.Line)
	fix := "check the indentation (spaces, not tabs) and that every key is followed by ': '"
	switch {
	case strings.Contains(msg, "found character that cannot start any token"):
		fix = "YAML does not allow tabs for indentation; indent with spaces"
	case strings.Contains(msg, "control characters"), strings.Contains(msg, "invalid leading UTF-8"), strings.Contains(msg, "invalid trailing UTF-8"), strings.Contains(msg, "UTF-16"):
		fix = "the file holds control characters or is not UTF-8 text: give the path of the YAML config file, saved as UTF-8"
	}
	return &Error{Pos: pos, Msg: "invalid YAML: " + msg, Fix: fix}
}

// maxScanLines bounds problemLine's quadratic search.
const maxScanLines = 2000

// problemLine finds the first line at which the document fails the way the
// whole document does. The YAML parser often reports the line where the
// enclosing mapping starts rather than the line that breaks it.
func problemLine(data []byte, fullErr string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxScanLines {
		return 0
	}
	_, wantMsg, _ := strings.Cut(strings.TrimPrefix(fullErr, "yaml: "), ": ")
	if !strings.HasPrefix(fullErr, "yaml: line ") {
		wantMsg = strings.TrimPrefix(fullErr, "yaml: ")
	}
	prefix := make([]byte, 0, len(data))
	for i, l := range lines {
		prefix = append(prefix, l...)
		var n yaml.Node
		err := yaml.Unmarshal(prefix, &n)
		if err != nil && strings.HasSuffix(err.Error(), wantMsg) {
			return i + 1
		}
	}
	return 0
}

func firstColumn(data []byte, line int) int {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 1
	}
	l := lines[line-1]
	return len(l) - len(bytes.TrimLeft(l, " \t")) + 1
}

const maxDepth = 32

// checkDepth refuses nesting deeper than any real config needs. Aliases
// are not followed: the parser keeps them as references.
func (p *parser) checkDepth(n *yaml.Node, depth int) *Error {
	if depth > maxDepth {
		return &Error{Pos: p.pos(n), Msg: fmt.Sprintf("the config nests more than %d levels deep", maxDepth), Fix: "a heartbeat config nests a few levels at most"}
	}
	for _, c := range n.Content {
		if e := p.checkDepth(c, depth+1); e != nil {
			return e
		}
	}
	return nil
}

// maxAliasNodes bounds how many values aliases may add to the document when
// expanded. heartbeat never expands them, but a file whose aliases expand
// exponentially (an "alias bomb") is refused as what it is; the anchors of
// a real file (shared tags in a Butler SOS file) add a few dozen.
const maxAliasNodes = 100_000

// checkAliases refuses an alias bomb and an alias that contains itself, in
// time linear in the size of the file: each anchor's expanded size is
// computed once.
func (p *parser) checkAliases(root *yaml.Node) *Error {
	expanded := map[*yaml.Node]int{} // anchored node -> expanded size
	active := map[*yaml.Node]bool{}  // anchored nodes being measured
	added := 0                       // values added by aliases so far
	var size func(n *yaml.Node) (int, *Error)
	size = func(n *yaml.Node) (int, *Error) {
		if n.Kind == yaml.AliasNode {
			target := n.Alias
			if target == nil {
				return 1, nil
			}
			if active[target] {
				return 0, &Error{Pos: p.pos(n), Msg: fmt.Sprintf("the YAML alias *%s is inside its own anchor", truncate(n.Value, maxExcerpt)), Fix: "an alias must refer to a value defined before and outside it"}
			}
			sz, ok := expanded[target]
			if !ok {
				var e *Error
				if sz, e = size(target); e != nil {
					return 0, e
				}
			}
			added = min(added+sz, maxAliasNodes+1)
			if added > maxAliasNodes {
				return 0, &Error{Pos: p.pos(n), Msg: fmt.Sprintf("the YAML aliases (*name) of this file expand to more than %d values: it looks like an alias bomb", maxAliasNodes), Fix: "write the values out in full, or give the path of the right file"}
			}
			return sz, nil
		}
		if sz, ok := expanded[n]; ok {
			return sz, nil // an anchor measured through an earlier alias
		}
		if n.Anchor != "" {
			active[n] = true
			defer delete(active, n)
		}
		total := 1
		for _, c := range n.Content {
			sz, e := size(c)
			if e != nil {
				return 0, e
			}
			total = min(total+sz, maxAliasNodes+1)
		}
		if n.Anchor != "" {
			expanded[n] = total
		}
		return total, nil
	}
	_, e := size(root)
	return e
}

// refuseAliases refuses aliases in a part of the file heartbeat reads:
// errors must point at the line that holds the value.
func (p *parser) refuseAliases(n *yaml.Node, where string) bool {
	if n.Kind == yaml.AliasNode {
		p.errs.add(p.pos(n), "write the value out in full where the alias is", "YAML aliases (*name) are not supported in %s", where)
		return true
	}
	for _, c := range n.Content {
		if p.refuseAliases(c, where) {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("the value %q", truncate(n.Value, 40))
	}
	return "an alias"
}

// shapeName is kindName without the value: for a file that may not be a
// heartbeat config at all.
func shapeName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "text"
	}
	return kindName(n)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// mappingValue returns the value of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// fields checks a mapping's keys against the allowed ones (unknown keys and
// duplicates are errors) and returns key -> (key node, value node).
func (p *parser) fields(m *yaml.Node, what string, allowed []string) map[string][2]*yaml.Node {
	out := map[string][2]*yaml.Node{}
	if m.Kind != yaml.MappingNode {
		p.errs.add(p.pos(m), "", "%s must be a mapping of keys to values, not %s", what, kindName(m))
		return out
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if _, dup := out[k.Value]; dup {
			p.errs.add(p.pos(k), "remove one of them", "%s has %s twice", what, excerpt(k.Value))
			continue
		}
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			fix := "the keys of " + what + " are: " + strings.Join(allowed, ", ")
			if s := closestName(k.Value, allowed); s != "" {
				fix = fmt.Sprintf("did you mean %q? (the keys of %s are: %s)", s, what, strings.Join(allowed, ", "))
			}
			p.errs.add(p.pos(k), fix, "unknown key %s in %s", excerpt(k.Value), what)
			continue
		}
		out[k.Value] = [2]*yaml.Node{k, v}
	}
	return out
}

// str reads a scalar string value with ${VAR} expansion.
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errs.add(p.pos(n), "", "%s must be a text value, not %s", what, kindName(n))
		return "", false
	}
	return p.expand(n)
}

func (p *parser) expand(n *yaml.Node) (string, bool) {
	val, col, err := expandEnv(n.Value, p.lookup)
	if err != nil {
		p.errs.add(p.valuePos(n, col), "", "%v", err)
		return "", false
	}
	return val, true
}

// valuePos locates the byte offset off of a scalar's value when the text
// before it is written on the scalar's first line as it reads (a plain
// scalar, or a quoted one without escapes); otherwise the scalar's start.
func (p *parser) valuePos(n *yaml.Node, off int) Pos {
	pos := p.pos(n)
	if off <= 0 || off > len(n.Value) {
		return pos
	}
	var quote string
	switch n.Style {
	case 0:
	case yaml.DoubleQuotedStyle:
		quote = `"`
	case yaml.SingleQuotedStyle:
		quote = "'"
	default:
		return pos
	}
	prefix := n.Value[:off]
	if line := p.sourceLine(n.Line); n.Column >= 1 && n.Column-1 < len(line) && strings.HasPrefix(string(line[n.Column-1:]), quote+prefix) {
		pos.Column += len(quote) + utf8.RuneCountInString(prefix)
	}
	return pos
}

// sourceLine returns line (1-based) of the file as runes, the unit of the
// parser's columns.
func (p *parser) sourceLine(line int) []rune {
	for i, rest := 1, p.data; len(rest) > 0; i++ {
		l, after, _ := bytes.Cut(rest, []byte("\n"))
		if i == line {
			return []rune(string(l))
		}
		rest = after
	}
	return nil
}

// Duration bounds, documented in docs/configuration.md.
const (
	minTimeout    = 100 * time.Millisecond
	maxTimeout    = time.Hour
	minBackoff    = 10 * time.Millisecond
	maxBackoff    = time.Hour
	minCheckLimit = 100 * time.Millisecond
	maxCheckLimit = 24 * time.Hour
	minCPULimit   = time.Second
	maxCPULimit   = 8760 * time.Hour
)

const durationFix = "write a duration such as 10s, 1m30s or 500ms, or a number of seconds"

// duration reads a duration (see ParseDuration) between lo and hi. An
// error shows the text as written, never a variable's value.
func (p *parser) duration(n *yaml.Node, what string, lo, hi time.Duration) (time.Duration, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.errs.add(p.pos(n), durationFix, "%s: %s is not a duration", what, excerpt(n.Value))
		return 0, false
	}
	if d < lo || d > hi {
		p.errs.add(p.pos(n), fmt.Sprintf("write a duration from %s to %s (a bare number counts as seconds)", formatDuration(lo), formatDuration(hi)), "%s must be between %s and %s, got %s", what, formatDuration(lo), formatDuration(hi), showDuration(s, d))
		return 0, false
	}
	return d, true
}

// showDuration shows a duration that is out of range: as written when it
// was written as a duration, in seconds when it was a bare number.
func showDuration(s string, d time.Duration) string {
	if isDecimal(strings.TrimSpace(s)) {
		return strings.TrimSpace(s) + " (seconds)"
	}
	return truncate(strings.TrimSpace(s), maxExcerpt)
}

func (p *parser) integer(n *yaml.Node, what string, lo, hi int) (int, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if !isDecimal(s) || strings.Contains(s, ".") {
		p.errs.add(p.pos(n), fmt.Sprintf("write a whole number from %d to %d", lo, hi), "%s: %s is not a whole number", what, excerpt(n.Value))
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		p.errs.add(p.pos(n), fmt.Sprintf("write a whole number from %d to %d", lo, hi), "%s must be between %d and %d, got %s", what, lo, hi, truncate(s, maxExcerpt))
		return 0, false
	}
	return v, true
}

// byteSize reads a size in bytes (see ParseByteSize) between lo and hi; 0
// is accepted when zeroOK.
func (p *parser) byteSize(n *yaml.Node, what string, lo, hi int64, zeroOK bool) (int64, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	v, err := ParseByteSize(s)
	if err != nil {
		p.errs.add(p.pos(n), "write a size such as 512MiB or 2GiB (a bare number counts as bytes)", "%s: %s: %v", what, excerpt(n.Value), err)
		return 0, false
	}
	if v == 0 && zeroOK {
		return 0, true
	}
	if v < lo || v > hi {
		p.errs.add(p.pos(n), fmt.Sprintf("write a size from %s to %s, or 0 for no limit", FormatBytes(lo), FormatBytes(hi)), "%s must be between %s and %s, got %s", what, FormatBytes(lo), FormatBytes(hi), truncate(strings.TrimSpace(s), maxExcerpt))
		return 0, false
	}
	return v, true
}

// validName reports whether s is a letter or digit followed by at most 63
// letters, digits, '_', '.' or '-'.
func validName(s string) bool { return plainToken(s, 63, "_.-") }

func (p *parser) name(n *yaml.Node, what string) (string, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return "", false
	}
	if !validName(s) {
		p.errs.add(p.pos(n), "use up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit", "%s %s is not a valid name", what, excerpt(n.Value))
		return "", false
	}
	return s, true
}

// heartbeatFile reads heartbeat's own config format.
func (p *parser) heartbeatFile(cfg *Config, root *yaml.Node) {
	top := p.fields(root, "the config file", []string{"plugin_dirs", "plugin_dir", "plugins", "insecure_plugin_permissions", "listen", "listen_auth", "targets", "heartbeats"})
	if kv, ok := top["listen"]; ok {
		if addr, ok := p.listen(kv[1]); ok {
			cfg.Listen, cfg.ListenPos = addr, p.pos(kv[1])
		}
	}
	if kv, ok := top["listen_auth"]; ok {
		if _, listen := top["listen"]; !listen {
			p.errs.add(p.pos(kv[0]), "add listen: 127.0.0.1:9464 (the address to serve), or remove listen_auth", "listen_auth is set but listen is not: nothing is served")
		} else {
			cfg.ListenAuth = p.listenAuth(kv[1])
		}
	}
	if kv, ok := top["insecure_plugin_permissions"]; ok {
		var b bool
		if kv[1].Tag != "!!bool" || kv[1].Decode(&b) != nil {
			p.errs.add(p.pos(kv[1]), "write true or false", "insecure_plugin_permissions must be true or false")
		}
		cfg.InsecurePluginPermissions = b
	}
	if kv, ok := top["plugins"]; ok {
		p.plugins(cfg, kv[1])
	}
	p.pluginDirs(cfg, top)
	kv, ok := top["targets"]
	if !ok {
		p.errs.add(p.pos(root), "add a targets: mapping, e.g.\n    targets:\n      web: { plugin: http, config: { url: \"https://example.com/ping\" } }", "the config has no targets")
	} else {
		p.targets(cfg, kv[1])
	}
	kv, ok = top["heartbeats"]
	if !ok {
		p.errs.add(p.pos(root), "add a heartbeats: list, e.g.\n    heartbeats:\n      - { name: my-service, frequency: every 1 minute, targets: [web] }", "the config has no heartbeats")
		return
	}
	p.heartbeats(cfg, kv[1])
}

// pluginDirs reads plugin_dirs, a list of directories searched for plugins
// before the bundled one, or plugin_dir, the older one-directory form.
// Relative paths are relative to the config file's directory; an entry
// empty after ${VAR} expansion is skipped.
func (p *parser) pluginDirs(cfg *Config, top map[string][2]*yaml.Node) {
	list, hasList := top["plugin_dirs"]
	one, hasOne := top["plugin_dir"]
	if hasList && hasOne {
		p.errs.add(p.pos(one[0]), "move this directory into the plugin_dirs list and remove plugin_dir", "plugin_dir and plugin_dirs are both set; plugin_dir is the one-directory form of plugin_dirs")
		return
	}
	var items []*yaml.Node
	what := "plugin_dir"
	switch {
	case hasOne:
		items = []*yaml.Node{one[1]}
	case hasList:
		what = "plugin_dirs"
		if list[1].Kind != yaml.SequenceNode {
			p.errs.add(p.pos(list[1]), "write a list, e.g. plugin_dirs: [/opt/heartbeat/plugins]", "plugin_dirs must be a list of directories, not %s", kindName(list[1]))
			return
		}
		items = list[1].Content
	}
	for _, n := range items {
		dir, ok := p.str(n, what)
		if !ok {
			continue
		}
		if dir == "" {
			continue // e.g. ${EXTRA_PLUGINS:-}: an optional directory not set
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(p.file), dir)
		}
		cfg.PluginDirs = append(cfg.PluginDirs, dir)
	}
}

// plainToken reports whether s is an ASCII letter or digit followed by at
// most rest letters, digits or bytes of punct. Written out by hand: a
// regexp with a counted repetition this long compiles to a program of a
// quarter of a megabyte, kept for the life of the process.
func plainToken(s string, rest int, punct string) bool {
	alnum := func(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }
	if s == "" || len(s) > rest+1 || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !alnum(s[i]) && strings.IndexByte(punct, s[i]) < 0 {
			return false
		}
	}
	return true
}

// listen reads the metrics endpoint's address: host:port with a port from
// 1 to 65535 (port 0, "any free port", is no use for an address that
// Prometheus must be told), and a host name or IP address; an empty host
// listens on every interface.
func (p *parser) listen(n *yaml.Node) (string, bool) {
	const fix = "write host:port with a port from 1 to 65535, e.g. listen: 127.0.0.1:9464"
	addr, ok := p.str(n, "listen")
	if !ok {
		return "", false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.errs.add(p.pos(n), fix, "listen: %s is not a host:port address", excerpt(n.Value))
		return "", false
	}
	portPos := p.pos(n)
	if addr == n.Value {
		portPos = p.valuePos(n, strings.LastIndexByte(addr, ':')+1)
	}
	num, err := strconv.Atoi(port)
	switch {
	case port == "" || !isDecimal(port) || strings.ContainsAny(port, "+-."):
		p.errs.add(portPos, fix, "listen: the port %s is not a number", excerpt(port))
		return "", false
	case err != nil || num < 1 || num > 65535:
		p.errs.add(portPos, fix, "listen: the port must be between 1 and 65535, got %s", truncate(port, maxExcerpt))
		return "", false
	}
	if host != "" && net.ParseIP(host) == nil && !plainToken(host, 252, ".-") {
		p.errs.add(p.pos(n), fix, "listen: %s is not a host name or IP address", excerpt(host))
		return "", false
	}
	return addr, true
}

// Plugin limits, documented in docs/configuration.md.
const (
	minMemoryLimit = 16 << 20
	maxMemoryLimit = 1 << 40
)

// plugins reads the per-plugin section:
// plugins: { http: { sha256: ..., memory_limit: 256MiB, cpu_limit: 1h } }.
func (p *parser) plugins(cfg *Config, n *yaml.Node) {
	cfg.Plugins = map[string]PluginSettings{}
	names := p.fields(n, "plugins", nil)
	for _, name := range sortedNames(names) {
		kv := names[name]
		if _, ok := p.name(kv[0], "plugin name"); !ok {
			continue
		}
		what := fmt.Sprintf("plugin %q", name)
		f := p.fields(kv[1], what, []string{"sha256", "memory_limit", "cpu_limit"})
		ps := PluginSettings{Pos: p.pos(kv[0])}
		if sum, ok := f["sha256"]; ok {
			if s, ok := p.str(sum[1], "sha256"); ok {
				b, err := hex.DecodeString(strings.TrimSpace(s))
				if err != nil || len(b) != sha256.Size {
					p.errs.add(p.pos(sum[1]), "copy the checksum from heartbeat plugins --sha256 (64 hex digits)", "%s: sha256 is not a SHA-256 checksum", what)
				} else {
					ps.SHA256 = b
					ps.Pos = p.pos(sum[1])
				}
			}
		}
		if kv, ok := f["memory_limit"]; ok {
			if v, ok := p.byteSize(kv[1], what+": memory_limit", minMemoryLimit, maxMemoryLimit, true); ok {
				ps.MemoryLimit = v
			}
		}
		if kv, ok := f["cpu_limit"]; ok {
			if s, ok := p.str(kv[1], what+": cpu_limit"); ok {
				if d, err := ParseDuration(s); err != nil || d != 0 {
					if d, ok := p.duration(kv[1], what+": cpu_limit", minCPULimit, maxCPULimit); ok {
						// rlimits count whole seconds
						ps.CPULimit = (d + time.Second - 1).Truncate(time.Second)
					}
				}
			}
		}
		cfg.Plugins[name] = ps
	}
}

// sortedNames keeps error reports in a stable order.
func sortedNames(m map[string][2]*yaml.Node) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (p *parser) targets(cfg *Config, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errs.add(p.pos(n), "targets is a mapping from a name of your choice to a target, e.g.\n    targets:\n      web: { plugin: http, config: { url: \"https://example.com/ping\" } }", "targets must be a mapping, not %s", kindName(n))
		return
	}
	names := p.fields(n, "targets", nil)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if kv, ok := names[k.Value]; !ok || kv[0] != k {
			continue // duplicate, already reported
		}
		name, ok := p.name(k, "target name")
		if !ok {
			continue
		}
		if t := p.target(name, k, n.Content[i+1]); t != nil {
			cfg.Targets[name] = t
			cfg.TargetNames = append(cfg.TargetNames, name)
		}
	}
}

func (p *parser) target(name string, key, n *yaml.Node) *Target {
	what := fmt.Sprintf("target %q", name)
	f := p.fields(n, what, []string{"plugin", "config", "timeout", "retries", "retry_backoff"})
	t := &Target{
		Name:     name,
		Pos:      p.pos(key),
		Delivery: Delivery{Timeout: DefaultDeliveryTimeout, Retries: DefaultRetries, Backoff: DefaultRetryBackoff},
	}
	if kv, ok := f["plugin"]; ok {
		if s, ok := p.name(kv[1], what+": plugin"); ok {
			t.Plugin = s
		}
	} else if n.Kind == yaml.MappingNode {
		p.errs.add(p.pos(key), "add plugin: <name>, e.g. plugin: http (see heartbeat plugins for the list)", "%s has no plugin", what)
	}
	if kv, ok := f["timeout"]; ok {
		if d, ok := p.duration(kv[1], what+": timeout", minTimeout, maxTimeout); ok {
			t.Delivery.Timeout = d
		}
	}
	if kv, ok := f["retries"]; ok {
		if v, ok := p.integer(kv[1], what+": retries", 0, 10); ok {
			t.Delivery.Retries = v
		}
	}
	if kv, ok := f["retry_backoff"]; ok {
		if d, ok := p.duration(kv[1], what+": retry_backoff", minBackoff, maxBackoff); ok {
			t.Delivery.Backoff = d
		}
	}
	settings := map[string]any{}
	if kv, ok := f["config"]; ok {
		t.settingsPos = p.pos(kv[0])
		if kv[1].Kind == yaml.MappingNode {
			if v, ok := p.value(kv[1], "", &t.settingPos).(map[string]any); ok {
				settings = v
			}
		} else if kv[1].Tag != "!!null" {
			p.errs.add(p.pos(kv[1]), "write the plugin's settings as a mapping, e.g. config: { url: \"https://example.com/ping\" }", "%s: config must be a mapping, not %s", what, kindName(kv[1]))
		}
	}
	data, err := json.Marshal(settings)
	if err != nil {
		p.errs.add(t.settingsPos, "", "%s: config cannot be passed to the plugin: %v", what, err)
	}
	t.Settings = data
	return t
}

// value converts a settings node to plain Go values for the plugin, with
// ${VAR} expansion in every string, and records each setting's position.
func (p *parser) value(n *yaml.Node, path string, positions *settingPositions) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			if _, dup := m[k.Value]; dup {
				p.errs.add(p.pos(k), "remove one of them", "setting %s is written twice", excerpt(child))
				continue
			}
			positions.add(child, p.pos(k))
			m[k.Value] = p.value(v, child, positions)
		}
		return m
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			list = append(list, p.value(c, fmt.Sprintf("%s[%d]", path, i), positions))
		}
		return list
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b
			}
		case "!!int", "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		}
		s, _ := p.expand(n)
		return s
	}
	return nil
}

func (p *parser) heartbeats(cfg *Config, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		p.errs.add(p.pos(n), "heartbeats is a list; start each heartbeat with '- ', e.g.\n    heartbeats:\n      - { name: my-service, frequency: every 1 minute, targets: [web] }", "heartbeats must be a list, not %s", kindName(n))
		return
	}
	if len(n.Content) == 0 {
		p.errs.add(p.pos(n), "add at least one heartbeat", "heartbeats is empty")
	}
	seen := map[string]Pos{}
	for _, item := range n.Content {
		hb := p.heartbeat(cfg, item)
		if hb == nil {
			continue
		}
		if prev, dup := seen[hb.Name]; dup {
			p.errs.add(hb.Pos, "give each heartbeat its own name", "heartbeat %q is defined twice (first at %s)", hb.Name, prev)
			continue
		}
		seen[hb.Name] = hb.Pos
		cfg.Heartbeats = append(cfg.Heartbeats, hb)
	}
}

func (p *parser) heartbeat(cfg *Config, n *yaml.Node) *Heartbeat {
	f := p.fields(n, "a heartbeat", []string{"name", "frequency", "cron", "timezone", "targets", "check"})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	hb := &Heartbeat{Pos: p.pos(n)}
	kv, ok := f["name"]
	if !ok {
		p.errs.add(p.pos(n), "add name: <a name of your choice>", "a heartbeat has no name")
		return nil
	}
	if hb.Name, ok = p.name(kv[1], "heartbeat name"); !ok {
		return nil
	}
	what := fmt.Sprintf("heartbeat %q", hb.Name)
	freq, hasFreq := f["frequency"]
	cron, hasCron := f["cron"]
	var loc *time.Location
	if kv, ok := f["timezone"]; ok {
		if tz, ok := p.str(kv[1], what+": timezone"); ok {
			l, err := p.zone(tz)
			if err != nil || tz == "" {
				p.errs.add(p.pos(kv[1]), "use an IANA time zone name such as UTC, Europe/Stockholm or America/New_York", "%s: unknown time zone %s", what, excerpt(kv[1].Value))
			} else {
				loc = l
				hb.Timezone = tz
			}
		}
	}
	switch {
	case hasFreq && hasCron:
		p.errs.add(p.pos(cron[0]), "keep either frequency (later.js text) or cron, not both", "%s has both frequency and cron", what)
	case hasFreq:
		p.schedule(hb, freq[1], what+": frequency", schedule.Parse)
	case hasCron:
		p.schedule(hb, cron[1], what+": cron", schedule.ParseCron)
	default:
		p.errs.add(p.pos(n), "add frequency: every 1 hour (later.js text) or cron: \"0 * * * *\"", "%s has no frequency", what)
	}
	if hb.Schedule != nil && loc != nil {
		hb.Schedule = hb.Schedule.In(loc)
	}
	if kv, ok := f["check"]; ok {
		hb.Check = p.check(kv[1], what+": check")
	}
	kv, ok = f["targets"]
	if !ok {
		p.errs.add(p.pos(n), "add targets: [<name>, ...] naming targets from the targets: section", "%s has no targets", what)
		return hb
	}
	p.heartbeatTargets(cfg, hb, kv[1], what)
	return hb
}

const checkExample = "check: { http: \"http://127.0.0.1:9997/health\", timeout: 5s } or check: { command: [\"/usr/bin/systemctl\", \"is-active\", \"butler-sos\"] }"

// check reads a heartbeat's health check.
func (p *parser) check(n *yaml.Node, what string) *check.Spec {
	f := p.fields(n, what, []string{"http", "expect", "command", "timeout"})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	spec := &check.Spec{Timeout: check.DefaultTimeout}
	httpKV, hasHTTP := f["http"]
	cmdKV, hasCmd := f["command"]
	switch {
	case hasHTTP && hasCmd:
		p.errs.add(p.pos(cmdKV[0]), "keep either http or command", "%s has both http and command", what)
		return nil
	case hasHTTP:
		u, ok := p.str(httpKV[1], what+": http")
		if !ok {
			return nil
		}
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			p.errs.add(p.pos(httpKV[1]), "write the full URL of the health endpoint, e.g. http://127.0.0.1:9997/health", "%s: http is not an http(s) URL", what)
			return nil
		}
		spec.HTTP = u
	case hasCmd:
		spec.Command = p.argv(cmdKV[1], what+": command")
		if spec.Command == nil {
			return nil
		}
	default:
		p.errs.add(p.pos(n), checkExample, "%s needs http or command", what)
		return nil
	}
	if kv, ok := f["expect"]; ok {
		if !hasHTTP {
			p.errs.add(p.pos(kv[0]), "expect applies to http checks; a command check succeeds when it exits with status 0", "%s: expect without http", what)
		} else if s, ok := p.str(kv[1], what+": expect"); ok {
			spec.Expect = s
		}
	}
	if kv, ok := f["timeout"]; ok {
		if d, ok := p.duration(kv[1], what+": timeout", minCheckLimit, maxCheckLimit); ok {
			spec.Timeout = d
		}
	}
	return spec
}

// argv reads a command as a list of strings; no shell is involved.
func (p *parser) argv(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errs.add(p.pos(n), "write the program and its arguments as a list, e.g. command: [\"/usr/bin/systemctl\", \"is-active\", \"butler-sos\"]; no shell is used", "%s must be a non-empty list", what)
		return nil
	}
	var argv []string
	for _, item := range n.Content {
		s, ok := p.str(item, what)
		if !ok {
			return nil
		}
		argv = append(argv, s)
	}
	if argv[0] == "" {
		p.errs.add(p.pos(n.Content[0]), "name the program to run", "%s: the program name is empty", what)
		return nil
	}
	return argv
}

func (p *parser) heartbeatTargets(cfg *Config, hb *Heartbeat, n *yaml.Node, what string) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	if len(items) == 0 {
		p.errs.add(p.pos(n), "name at least one target from the targets: section", "%s: targets is empty", what)
	}
	for _, item := range items {
		name, ok := p.str(item, what+": target")
		if !ok {
			continue
		}
		if _, known := cfg.Targets[name]; !known {
			fix := "define it under targets:, or use one of: " + strings.Join(cfg.TargetNames, ", ")
			if len(cfg.TargetNames) == 0 {
				fix = "define it under targets:"
			} else if s := closestName(name, cfg.TargetNames); s != "" {
				fix = fmt.Sprintf("did you mean %q? (targets: %s)", s, strings.Join(cfg.TargetNames, ", "))
			}
			p.errs.add(p.pos(item), fix, "%s: unknown target %s", what, excerpt(item.Value))
			continue
		}
		if slices.Contains(hb.Targets, name) {
			p.errs.add(p.pos(item), "list each target once", "%s: target %q is listed twice", what, name)
			continue
		}
		hb.Targets = append(hb.Targets, name)
	}
}

// schedule parses a frequency or cron value; a parse error is shown at the
// character it points to when the value is a plain one-line scalar.
func (p *parser) schedule(hb *Heartbeat, n *yaml.Node, what string, parse func(string) (*schedule.Schedule, error)) {
	expr, ok := p.str(n, what)
	if !ok {
		return
	}
	hb.Expression = expr
	s, err := parse(expr)
	if err != nil {
		pos := p.pos(n)
		var pe *schedule.ParseError
		if errors.As(err, &pe) && n.Style == 0 && expr == n.Value {
			pos.Column += utf16ToRuneOffset(expr, pe.Pos)
		}
		p.errs.addErr(&Error{Pos: pos, Msg: what + ": " + firstLine(err.Error()), Detail: restLines(err.Error()), Fix: "see docs/schedules.md for the syntax; heartbeat next '<frequency>' shows when it fires"})
		return
	}
	hb.Schedule = s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func restLines(s string) string {
	_, rest, _ := strings.Cut(s, "\n")
	return rest
}

// utf16ToRuneOffset converts a JavaScript string index to a column offset.
func utf16ToRuneOffset(s string, pos int) int {
	units, runes := 0, 0
	for _, r := range s {
		if units >= pos {
			break
		}
		units++
		if r >= 0x10000 {
			units++
		}
		runes++
	}
	return runes
}
