package pluginhost

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// binaryID identifies the file a plugin process was started from.
type binaryID struct {
	path string
	stat os.FileInfo // nil when the file could not be read
	sum  []byte      // its SHA-256; nil when it could not be read
}

// identify records the binary at path as a process is started from it.
// pin, when set, was just checked against the file, so it is its SHA-256.
func identify(path string, pin []byte) binaryID {
	id := binaryID{path: path, sum: pin}
	id.stat, _ = os.Stat(path)
	if len(id.sum) == 0 {
		// An execute-only file cannot be read: its identity is then its
		// inode, size and modification time alone.
		id.sum, _ = FileSHA256(path)
	}
	return id
}

// replacedBy reports whether the file at path is not the binary id: another
// path, or a file whose inode, size or modification time changed and whose
// SHA-256 did too (or cannot be compared). It returns the new file's
// identity.
func (id binaryID) replacedBy(path string) (bool, binaryID, error) {
	stat, err := os.Stat(path)
	if err != nil {
		return false, id, fmt.Errorf("reading %s: %w", path, cause(err))
	}
	if path == id.path && id.stat != nil && os.SameFile(id.stat, stat) && id.stat.Size() == stat.Size() && id.stat.ModTime().Equal(stat.ModTime()) {
		return false, id, nil
	}
	now := binaryID{path: path, stat: stat}
	now.sum, _ = FileSHA256(path)
	same := path == id.path && len(id.sum) > 0 && bytes.Equal(id.sum, now.sum)
	return !same, now, nil
}

// Upgrade makes the plugin called f.Name run the binary f from now on
// when its running process was started from another one: f is another
// path, or the file was replaced (its inode, size or modification time
// changed, and its SHA-256 with them). check (permissions, pin) runs on
// the new binary first; then a process of it is started, every instance
// is configured on it, and it takes the place of the old process, which is
// stopped. When any of that fails the old process keeps running and the
// error says why. It reports whether a new process took over. The pin and
// limits of f apply from then on (a new pin is checked on the running
// binary). A plugin the host does not know is left alone, one that is not
// running starts f next time.
func (h *Host) Upgrade(ctx context.Context, f Found, lim Limits, check func(Found) error) (bool, error) {
	h.mu.Lock()
	p, ok := h.plugins[f.Name]
	h.mu.Unlock()
	if !ok {
		return false, nil
	}
	return p.upgrade(ctx, f, lim, check)
}

func (p *Plugin) upgrade(ctx context.Context, f Found, lim Limits, check func(Found) error) (bool, error) {
	p.mu.Lock()
	running := p.proc != nil && !p.proc.client.Exited()
	var cur binaryID
	if running {
		cur = p.proc.binary
	}
	moved := p.found.Path != f.Path
	p.mu.Unlock()
	if !running {
		if moved {
			if err := check(f); err != nil {
				return false, fmt.Errorf("it now resolves to %s, which is refused: %w", f.Path, err)
			}
		}
		p.mu.Lock()
		if moved || !bytes.Equal(p.pin, f.SHA256) {
			p.found.Path, p.pin, p.refused = f.Path, f.SHA256, nil
		}
		p.limits = lim
		p.mu.Unlock()
		return false, nil
	}
	replaced, now, err := cur.replacedBy(f.Path)
	if err != nil {
		return false, fmt.Errorf("checking whether its binary changed: %w", err)
	}
	if !replaced {
		p.mu.Lock()
		repinned := !bytes.Equal(p.pin, f.SHA256)
		p.mu.Unlock()
		if repinned {
			// A new pin must hold for the binary running now, as it
			// would at a start.
			if err := check(f); err != nil {
				return false, fmt.Errorf("its new pin is refused for the running binary (which keeps serving): %w", err)
			}
		}
		p.mu.Lock()
		if now.stat != nil && p.proc != nil && p.proc.binary.path == now.path {
			// Touched or copied over with the same contents: remember the
			// file as it is now, so the next reload need not read it again.
			p.proc.binary.stat = now.stat
		}
		if repinned {
			p.pin, p.refused = f.SHA256, nil
		}
		p.limits = lim // from the next start
		p.mu.Unlock()
		return false, nil
	}
	if err := check(f); err != nil {
		return false, fmt.Errorf("its binary %s changed and the new one is refused (the old process keeps serving): %w", f.Path, err)
	}
	p.mu.Lock()
	instances := maps.Clone(p.instances)
	p.mu.Unlock()
	proc, info, err := p.startProcess(ctx, f, lim, f.SHA256)
	if err == nil {
		for instance, settings := range instances {
			if _, cerr := p.call(ctx, "Configure of "+instance, func(ctx context.Context) (string, error) {
				return proc.rpc.Configure(ctx, instance, settings)
			}); cerr != nil {
				err = fmt.Errorf("configuring %s on it: %w", instance, cerr)
				proc.kill()
				break
			}
		}
	}
	if err != nil {
		return false, fmt.Errorf("its binary %s changed and the new one cannot take over (the old process keeps serving): %w", f.Path, err)
	}
	p.mu.Lock()
	if p.stopped || p.starting != nil {
		// Stopped, or its old process exited and a start is under way:
		// that start runs the new file anyway.
		p.mu.Unlock()
		proc.kill()
		if p.isStopped() {
			return false, sdk.Errorf(sdk.KindPermanent, "plugin %s is stopped", f.Name)
		}
		return true, nil
	}
	old := p.proc
	p.proc, p.info = proc, info
	p.found.Path, p.pin, p.limits, p.refused = f.Path, f.SHA256, lim, nil
	p.startedAt = p.host.now()
	p.mu.Unlock()
	oldPid := 0
	if old != nil {
		oldPid = old.pid
		old.kill()
	}
	p.host.logger.Info("plugin binary replaced: its new process took over", "plugin", f.Name, "path", f.Path, "version", info.Version, "pid", proc.pid, "old_pid", oldPid)
	return true, nil
}
