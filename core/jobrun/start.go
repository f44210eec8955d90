package jobrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// resolve finds the program to run as a shell would: a bare name along
// PATH, a name with a separator as a path (relative to dir). It returns the
// shell's exit code for a command that cannot be run: 127 not found, 126
// found but not executable.
func resolve(name, dir string) (string, int, error) {
	if filepath.Base(name) == name {
		path, err := exec.LookPath(name)
		switch {
		case errors.Is(err, exec.ErrDot):
			return "", 127, fmt.Errorf("command not found: %s (there is one in the current directory: run it as ./%s)", quoteName(name), quoteName(name))
		case err != nil:
			return "", 127, fmt.Errorf("command not found: %s", quoteName(name))
		}
		return path, 0, nil
	}
	where := name
	if dir != "" && !filepath.IsAbs(name) {
		where = filepath.Join(dir, name)
	}
	fi, err := os.Stat(where)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", 127, fmt.Errorf("no such file or directory: %s", quoteName(name))
	case errors.Is(err, fs.ErrPermission):
		return "", 126, fmt.Errorf("permission denied: %s", quoteName(name))
	case err != nil:
		return "", 126, fmt.Errorf("cannot run %s: %w", quoteName(name), unwrapPath(err))
	case fi.IsDir():
		return "", 126, fmt.Errorf("is a directory: %s", quoteName(name))
	}
	return name, 0, nil
}

// unwrapPath drops the path an fs.PathError repeats, so a message names
// the command once, bounded.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
