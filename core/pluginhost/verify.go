package pluginhost

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Verify refuses a plugin that someone other than root or the user
// heartbeat runs as could have replaced, as ssh's StrictModes does: the
// binary, the plugin directory and, on Unix, every directory above them up
// to / must belong to root or that user and must not be writable by group
// or others, except that a directory above the plugin directory may be
// when its sticky bit is set (such as /tmp), because then nobody can
// replace an entry they do not own. A symlink leading out of the plugin
// directory is refused too. The core runs whatever the plugin directory
// holds, so the directory is as sensitive as the core binary itself.
// Operators opt out with insecure_plugin_permissions.
func Verify(f Found) error {
	path, err := filepath.Abs(f.Path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", f.Name, err)
	}
	dir := filepath.Dir(path)
	if err := checkTree(dir, "plugin directory"); err != nil {
		return err
	}
	link, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", f.Name, err)
	}
	if link.Mode()&os.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", f.Name, err)
		}
		realDir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return fmt.Errorf("plugin directory %s: %w", dir, err)
		}
		if rel, err := filepath.Rel(realDir, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("plugin %s is a symlink to %s, outside the plugin directory %s; copy the binary into the directory, or set insecure_plugin_permissions: true", path, resolved, dir)
		}
	}
	return checkTree(path, "plugin")
}

// Check is every test a plugin passes before it is run: Verify, unless
// insecure (the config's insecure_plugin_permissions), then CheckPin.
func Check(f Found, insecure bool) error {
	if !insecure {
		if err := Verify(f); err != nil {
			return err
		}
	}
	return CheckPin(f)
}

// CheckPin refuses a plugin whose SHA-256 differs from f.SHA256, when set,
// without running it. The host checks it again right before every start.
func CheckPin(f Found) error {
	if len(f.SHA256) == 0 {
		return nil
	}
	sum, err := FileSHA256(f.Path)
	if err != nil {
		return fmt.Errorf("plugin %s: cannot check its pinned sha256: %w", f.Name, err)
	}
	if !bytes.Equal(sum, f.SHA256) {
		return fmt.Errorf("checksum does not match the pin: %s has sha256 %x, the config pins %x; check where the binary came from, then update the pin (plugins: %s: sha256: %x)", f.Path, sum, f.SHA256, f.Name, sum)
	}
	return nil
}

// FileSHA256 is the SHA-256 of the file at path.
func FileSHA256(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// insecureHint ends every refusal: the fix, and the escape hatch.
const insecureHint = "or set insecure_plugin_permissions: true"

// octal is a file mode as chmod writes it.
func octal(mode os.FileMode) string {
	bits := uint32(mode.Perm())
	if mode&os.ModeSticky != 0 {
		bits |= 0o1000
	}
	if mode&os.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if mode&os.ModeSetuid != 0 {
		bits |= 0o4000
	}
	return fmt.Sprintf("%04o", bits)
}
