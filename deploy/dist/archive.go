package main

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// compressionLevel is fixed: another level gives other bytes.
const compressionLevel = flate.BestCompression

// archiveJobs is how many archives are compressed at the same time.
const archiveJobs = 2

// entry is one file or directory of an archive.
type entry struct {
	// Name is the slash-separated path in the archive; a directory's ends in "/".
	Name string
	// Mode is 0755 for directories and executables, 0644 otherwise.
	Mode fs.FileMode
	// Src is the file whose bytes the entry holds; empty for a directory.
	Src string
}

func (e entry) isDir() bool { return strings.HasSuffix(e.Name, "/") }

// archiveBase is an archive's name without its extension, which is also
// the name of its top directory: heartbeat_<version>_<os>_<arch>.
func archiveBase(version string, p Platform) string {
	return fmt.Sprintf("heartbeat_%s_%s", version, p)
}

// archiveName is the file name of a platform's archive: a zip for
// Windows, a gzipped tar elsewhere.
func archiveName(version string, p Platform) string {
	if p.OS == "windows" {
		return archiveBase(version, p) + ".zip"
	}
	return archiveBase(version, p) + ".tar.gz"
}

// archiveEntries is what a platform's archive holds, sorted by name, each
// directory before its contents.
func archiveEntries(r *Release, p Platform) []entry {
	top := archiveBase(r.Version, p) + "/"
	staged := r.Staged[p]
	es := []entry{
		{Name: top, Mode: 0o755},
		{Name: top + p.Exe("heartbeat"), Mode: 0o755, Src: filepath.Join(staged, p.Exe("heartbeat"))},
		{Name: top + "plugins/", Mode: 0o755},
		{Name: top + "LICENSE", Mode: 0o644, Src: filepath.Join(r.Root, "LICENSE")},
		{Name: top + "README.md", Mode: 0o644, Src: filepath.Join(r.Root, "README.md")},
		{Name: top + "heartbeat.yaml", Mode: 0o644, Src: filepath.Join(r.Root, "examples", "heartbeat.yaml")},
	}
	for _, name := range r.Plugins {
		bin := p.Exe("heartbeat-target-" + name)
		es = append(es, entry{Name: top + "plugins/" + bin, Mode: 0o755, Src: filepath.Join(staged, "plugins", bin)})
	}
	if p.OS == "linux" {
		es = append(es, entry{Name: top + "heartbeat.service", Mode: 0o644, Src: filepath.Join(r.Root, "examples", "systemd", "heartbeat.service")})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.Name, b.Name) })
	return es
}

// writeArchives writes one archive per platform into r.Out and returns
// their names, in platform order.
func writeArchives(r *Release) ([]string, error) {
	var (
		names = make([]string, len(Platforms()))
		errs  = make([]error, len(Platforms()))
		wg    sync.WaitGroup
		slots = make(chan struct{}, archiveJobs)
	)
	for i, p := range Platforms() {
		names[i] = archiveName(r.Version, p)
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			es := archiveEntries(r, p)
			dst := filepath.Join(r.Out, names[i])
			if p.OS == "windows" {
				errs[i] = writeFile(dst, func(w io.Writer) error { return writeZip(w, es, r.Epoch) })
			} else {
				errs[i] = writeFile(dst, func(w io.Writer) error { return writeTarGz(w, es, r.Epoch) })
			}
			if errs[i] != nil {
				errs[i] = fmt.Errorf("archive %s: %w", names[i], errs[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return names, nil
}

// writeFile creates dst with mode 0644 and fills it with write; a failed
// write leaves no file behind.
func writeFile(dst string, write func(io.Writer) error) (err error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	return write(f)
}

// copyEntry copies an entry's source into w and fails if the file is not
// the size it had when its header was written (changed while packing).
func copyEntry(w io.Writer, e entry, size int64) error {
	f, err := os.Open(e.Src)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size+1))
	if err != nil {
		return fmt.Errorf("%s: %w", e.Name, err)
	}
	if n != size {
		return fmt.Errorf("%s: %s changed while it was packed", e.Name, e.Src)
	}
	return nil
}

// sourceSize is the size of a regular file, and an error for anything else.
func sourceSize(e entry) (int64, error) {
	info, err := os.Stat(e.Src)
	if err != nil {
		return 0, err
	}
	if !info.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: %s is not a regular file", e.Name, e.Src)
	}
	return info.Size(), nil
}

// writeTarGz writes a reproducible gzipped tar: entries in the given
// order, every time epoch, owner root (0:0) with no user or group names,
// no other metadata; a gzip header with no name and no time.
func writeTarGz(w io.Writer, es []entry, epoch time.Time) error {
	zw, err := gzip.NewWriterLevel(w, compressionLevel)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	mtime := epoch.UTC().Truncate(time.Second)
	for _, e := range es {
		hdr := &tar.Header{
			Name:    e.Name,
			Mode:    int64(e.Mode.Perm()),
			ModTime: mtime,
			// USTAR when the names fit, PAX otherwise: chosen from the
			// header alone, so the same for every run.
			Format: tar.FormatUnknown,
		}
		if e.isDir() {
			hdr.Typeflag = tar.TypeDir
		} else {
			hdr.Typeflag = tar.TypeReg
			if hdr.Size, err = sourceSize(e); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		if !e.isDir() {
			if err := copyEntry(tw, e, hdr.Size); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// writeZip writes a reproducible zip: entries in the given order, every
// time epoch in the MS-DOS fields only (no extended timestamp field), the
// Unix mode in the external attributes.
func writeZip(w io.Writer, es []entry, epoch time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, compressionLevel)
	})
	date, clock := msDosTime(epoch)
	for _, e := range es {
		hdr := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		// Setting FileHeader.Modified would add an extended timestamp
		// field; the MS-DOS fields alone say the same to every unzip.
		hdr.ModifiedDate, hdr.ModifiedTime = date, clock
		mode := e.Mode.Perm()
		if e.isDir() {
			hdr.Method = zip.Store
			mode |= fs.ModeDir
		}
		hdr.SetMode(mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		if !e.isDir() {
			size, err := sourceSize(e)
			if err != nil {
				return err
			}
			if err := copyEntry(fw, e, size); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

// msDosTime is t (UTC) in the MS-DOS date and time fields of a zip, which
// count 2 s steps from 1980 to 2107; t outside that range is clamped.
func msDosTime(t time.Time) (date, clock uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, clock
}
