package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The archive writers, on small files: always run (no release build).

// testEntries is a small archive: a directory, an executable, a text file
// and a nested file, with sources whose disk modes and times are not the
// archive's.
func testEntries(t *testing.T) []entry {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string, mode fs.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return []entry{
		{Name: "top/", Mode: 0o755},
		{Name: "top/README.md", Mode: 0o644, Src: write("readme", "# hello\n", 0o600)},
		{Name: "top/heartbeat", Mode: 0o755, Src: write("bin", "\x7fELF not really", 0o700)},
		{Name: "top/plugins/", Mode: 0o755},
		{Name: "top/plugins/heartbeat-target-log", Mode: 0o755, Src: write("plugin", "plugin bytes", 0o775)},
	}
}

// touchAll gives every source another time and mode, which must not show
// in the archive.
func touchAll(t *testing.T, es []entry, when time.Time, mode fs.FileMode) {
	t.Helper()
	for _, e := range es {
		if e.Src == "" {
			continue
		}
		if err := os.Chtimes(e.Src, when, when); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(e.Src, mode); err != nil {
			t.Fatal(err)
		}
	}
}

var testEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestArchiveWritersAreReproducible(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(io.Writer, []entry, time.Time) error
	}{
		{"tar.gz", writeTarGz},
		{"zip", writeZip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := testEntries(t)
			var a, b bytes.Buffer
			touchAll(t, es, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), 0o600)
			if err := tc.write(&a, es, testEpoch); err != nil {
				t.Fatal(err)
			}
			touchAll(t, es, time.Now(), 0o777)
			if err := tc.write(&b, es, testEpoch); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("two writes of the same files differ (%d and %d bytes) after the sources' times and modes changed", a.Len(), b.Len())
			}
			var c bytes.Buffer
			if err := tc.write(&c, es, testEpoch.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(a.Bytes(), c.Bytes()) {
				t.Fatal("another epoch gave the same bytes: the epoch is not written")
			}
		})
	}
}

// archived is one entry as read back from an archive.
type archived struct {
	Name  string
	Mode  fs.FileMode // permission bits, with fs.ModeDir for a directory
	MTime time.Time
	Body  string
}

func TestWriteTarGzHeaders(t *testing.T) {
	es := testEntries(t)
	var buf bytes.Buffer
	if err := writeTarGz(&buf, es, testEpoch); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() || zr.Comment != "" || len(zr.Extra) != 0 {
		t.Errorf("gzip header: name %q, time %v, comment %q, extra %d bytes; want all empty", zr.Name, zr.ModTime, zr.Comment, len(zr.Extra))
	}
	got, err := readTar(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := wantArchived(t, es, testEpoch)
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n got %v\nwant %v", got, want)
	}
}

func TestWriteZipHeaders(t *testing.T) {
	es := testEntries(t)
	var buf bytes.Buffer
	if err := writeZip(&buf, es, testEpoch); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if len(f.Extra) != 0 {
			t.Errorf("%s: %d bytes of extra fields (a timestamp field?); want none", f.Name, len(f.Extra))
		}
		if f.CreatorVersion>>8 != 3 {
			t.Errorf("%s: made by %d; want 3 (Unix), so unzip applies the mode", f.Name, f.CreatorVersion>>8)
		}
	}
	got, err := readZip(zr)
	if err != nil {
		t.Fatal(err)
	}
	// A zip stores the time in 2 s steps: 03:04:05 is written as 03:04:04.
	want := wantArchived(t, es, testEpoch.Add(-time.Second))
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n got %v\nwant %v", got, want)
	}
}

// wantArchived is what reading es back must give.
func wantArchived(t *testing.T, es []entry, mtime time.Time) []archived {
	t.Helper()
	var want []archived
	for _, e := range es {
		a := archived{Name: e.Name, Mode: e.Mode, MTime: mtime}
		if e.isDir() {
			a.Mode |= fs.ModeDir
		} else {
			body, err := os.ReadFile(e.Src)
			if err != nil {
				t.Fatal(err)
			}
			a.Body = string(body)
		}
		want = append(want, a)
	}
	return want
}

// readTar reads every entry of a tar, failing on anything but a regular
// file or directory owned by 0:0 with no owner names.
func readTar(r io.Reader) ([]archived, error) {
	var got []archived
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			return nil, fmt.Errorf("%s: owner %d:%d (%q:%q); want 0:0 with no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if len(h.PAXRecords) != 0 || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			return nil, fmt.Errorf("%s: extra metadata (PAX records %v, atime %v, ctime %v)", h.Name, h.PAXRecords, h.AccessTime, h.ChangeTime)
		}
		a := archived{Name: h.Name, Mode: fs.FileMode(h.Mode), MTime: h.ModTime.UTC()}
		switch h.Typeflag {
		case tar.TypeDir:
			a.Mode |= fs.ModeDir
		case tar.TypeReg:
			body, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			a.Body = string(body)
		default:
			return nil, fmt.Errorf("%s: type %q; want a file or a directory", h.Name, h.Typeflag)
		}
		got = append(got, a)
	}
}

// readZip reads every entry of a zip.
func readZip(zr *zip.Reader) ([]archived, error) {
	var got []archived
	for _, f := range zr.File {
		a := archived{Name: f.Name, Mode: f.Mode() & (fs.ModePerm | fs.ModeDir), MTime: f.Modified.UTC()}
		if !f.Mode().IsDir() {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			body, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %v", f.Name, err)
			}
			a.Body = string(body)
		}
		got = append(got, a)
	}
	return got, nil
}

func TestWritersRefuseNonRegularSources(t *testing.T) {
	es := []entry{{Name: "top/heartbeat", Mode: 0o755, Src: t.TempDir()}}
	if err := writeTarGz(io.Discard, es, testEpoch); err == nil {
		t.Error("writeTarGz packed a directory as a file")
	}
	if err := writeZip(io.Discard, es, testEpoch); err == nil {
		t.Error("writeZip packed a directory as a file")
	}
	es[0].Src = filepath.Join(t.TempDir(), "missing")
	if err := writeTarGz(io.Discard, es, testEpoch); err == nil {
		t.Error("writeTarGz packed a missing file")
	}
}

func TestMSDosTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want time.Time
	}{
		{testEpoch, testEpoch.Add(-time.Second)},
		{time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC), time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)},
		{time.Unix(0, 0), time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)},
		{time.Date(2026, 6, 1, 12, 0, 0, 0, time.FixedZone("UTC+2", 7200)), time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.in.String(), func(t *testing.T) {
			date, clock := msDosTime(tc.in)
			// Read back the way archive/zip does.
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			if _, err := zw.CreateHeader(&zip.FileHeader{Name: "x", ModifiedDate: date, ModifiedTime: clock}); err != nil {
				t.Fatal(err)
			}
			zw.Close()
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if got := zr.File[0].Modified.UTC(); !got.Equal(tc.want) {
				t.Errorf("read back %v; want %v", got, tc.want)
			}
		})
	}
}

func TestArchiveEntries(t *testing.T) {
	r := &Release{Version: "1.2.3", Root: "/src", Staged: map[Platform]string{
		{"linux", "arm64"}: "/stage/linux_arm64", {"windows", "amd64"}: "/stage/windows_amd64",
	}, Plugins: []string{"healthchecks", "log"}}
	for _, tc := range []struct {
		p    Platform
		want []entry
	}{
		{Platform{"linux", "arm64"}, []entry{
			{"heartbeat_1.2.3_linux_arm64/", 0o755, ""},
			{"heartbeat_1.2.3_linux_arm64/LICENSE", 0o644, "/src/LICENSE"},
			{"heartbeat_1.2.3_linux_arm64/README.md", 0o644, "/src/README.md"},
			{"heartbeat_1.2.3_linux_arm64/heartbeat", 0o755, "/stage/linux_arm64/heartbeat"},
			{"heartbeat_1.2.3_linux_arm64/heartbeat.service", 0o644, "/src/examples/systemd/heartbeat.service"},
			{"heartbeat_1.2.3_linux_arm64/heartbeat.yaml", 0o644, "/src/examples/heartbeat.yaml"},
			{"heartbeat_1.2.3_linux_arm64/plugins/", 0o755, ""},
			{"heartbeat_1.2.3_linux_arm64/plugins/heartbeat-target-healthchecks", 0o755, "/stage/linux_arm64/plugins/heartbeat-target-healthchecks"},
			{"heartbeat_1.2.3_linux_arm64/plugins/heartbeat-target-log", 0o755, "/stage/linux_arm64/plugins/heartbeat-target-log"},
		}},
		{Platform{"windows", "amd64"}, []entry{
			{"heartbeat_1.2.3_windows_amd64/", 0o755, ""},
			{"heartbeat_1.2.3_windows_amd64/LICENSE", 0o644, "/src/LICENSE"},
			{"heartbeat_1.2.3_windows_amd64/README.md", 0o644, "/src/README.md"},
			{"heartbeat_1.2.3_windows_amd64/heartbeat.exe", 0o755, "/stage/windows_amd64/heartbeat.exe"},
			{"heartbeat_1.2.3_windows_amd64/heartbeat.yaml", 0o644, "/src/examples/heartbeat.yaml"},
			{"heartbeat_1.2.3_windows_amd64/plugins/", 0o755, ""},
			{"heartbeat_1.2.3_windows_amd64/plugins/heartbeat-target-healthchecks.exe", 0o755, "/stage/windows_amd64/plugins/heartbeat-target-healthchecks.exe"},
			{"heartbeat_1.2.3_windows_amd64/plugins/heartbeat-target-log.exe", 0o755, "/stage/windows_amd64/plugins/heartbeat-target-log.exe"},
		}},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			got := archiveEntries(r, tc.p)
			for i := range tc.want {
				tc.want[i].Src = filepath.FromSlash(tc.want[i].Src)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("entries:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
	if got, want := archiveName("1.2.3", Platform{"windows", "amd64"}), "heartbeat_1.2.3_windows_amd64.zip"; got != want {
		t.Errorf("archiveName = %s; want %s", got, want)
	}
	if got, want := archiveName("1.2.3", Platform{"darwin", "arm64"}), "heartbeat_1.2.3_darwin_arm64.tar.gz"; got != want {
		t.Errorf("archiveName = %s; want %s", got, want)
	}
}
