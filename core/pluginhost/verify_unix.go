//go:build unix

package pluginhost

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// maxLinkDepth bounds the symlinks followed on the way up, against loops.
const maxLinkDepth = 16

// checkTree checks path (the plugin directory or binary, named by what) and
// every directory above it up to /. Symlinks on the way are checked too,
// with the path they lead to.
func checkTree(path, what string) error {
	return checkTreeDepth(path, what, 0)
}

func checkTreeDepth(path, what string, depth int) error {
	if depth > maxLinkDepth {
		return fmt.Errorf("%s %s: too many levels of symlinks", what, path)
	}
	euid := os.Geteuid()
	for p, first := path, true; ; p, first = filepath.Dir(p), false {
		info, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, path, err)
		}
		label := what + " " + p
		if !first {
			label = fmt.Sprintf("%s, above the %s %s,", p, what, path)
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != euid {
			return fmt.Errorf("%s belongs to %s, who is neither root nor %s, the user heartbeat runs as: that user can replace the plugins and run code as heartbeat; run chown root %s, %s",
				label, describeUID(int(st.Uid)), describeUID(euid), p, insecureHint)
		}
		mode := info.Mode()
		switch {
		case mode&os.ModeSymlink != 0:
			// The link's own location is checked by the next step up; what
			// it leads to must pass the same test as the link's name.
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			if err := checkTreeDepth(target, what, depth+1); err != nil {
				return err
			}
		case mode.Perm()&0o022 == 0:
		case first:
			// The plugin directory itself, even sticky, would let others
			// add a plugin the config names but the directory lacks.
			return fmt.Errorf("%s is writable by group or others (mode %s): anyone who can write it can run code as heartbeat; run chmod go-w %s, %s", label, octal(mode), p, insecureHint)
		case !mode.IsDir() || mode&os.ModeSticky == 0:
			return fmt.Errorf("%s is writable by group or others (mode %s) without the sticky bit: anyone who can write it can replace what lies below and run code as heartbeat; run chmod go-w %s, %s", label, octal(mode), p, insecureHint)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// describeUID names a user id for messages: "uid 1000 (alice)".
func describeUID(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}
