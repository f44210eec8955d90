package pluginhost

import (
	"errors"
	"fmt"
	"strings"
)

// goPluginBadHandshake starts the error go-plugin returns when the first
// line a plugin writes to stdout is not its handshake line.
const goPluginBadHandshake = "Unrecognized remote plugin message: "

// maxHintLine bounds the plugin's line quoted in the hint.
const maxHintLine = 200

// ErrStdoutBeforeHandshake is wrapped by the start error of a plugin that
// wrote to stdout before its handshake line.
var ErrStdoutBeforeHandshake = errors.New("a plugin must not print to stdout: log to stderr or with the SDK's logger (ConfigureRequest.Logger)")

// stdoutHint replaces go-plugin's generic multi-line handshake error, for
// a plugin that printed something before its handshake (a print in main
// before sdk.Serve, say), with one that says so. Other errors, and a
// plugin that wrote nothing at all, are returned as they are.
func stdoutHint(name string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, goPluginBadHandshake)
	if !ok {
		return err
	}
	line, _, _ := strings.Cut(rest, "\n")
	if strings.TrimSpace(line) == "" {
		return err // nothing written: the plugin exited, go-plugin's note says so
	}
	return fmt.Errorf("plugin %s wrote to stdout before its handshake (first line: %q): %w", name, clip(line, maxHintLine), ErrStdoutBeforeHandshake)
}
