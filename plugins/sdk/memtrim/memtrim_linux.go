package memtrim

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ShedStartupPages asks the kernel to drop this process's resident pages
// of its own executable file, once start-up is over. It reports how many
// bytes of mappings it covered; it changes nothing that the process
// reads: a page it needs again is faulted back in from the file.
func ShedStartupPages() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	var covered int64
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		start, end, path, ok := parseMapping(sc.Bytes())
		if !ok || path != exe {
			continue
		}
		// madvise through the raw call: the range is not Go memory.
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_PAGEOUT); e != 0 {
			// EINVAL on kernels before 5.4, which lack MADV_PAGEOUT.
			return covered, e
		}
		covered += int64(end - start)
	}
	return covered, sc.Err()
}

// parseMapping reads one line of /proc/self/maps:
// "start-end perms offset dev inode path".
func parseMapping(line []byte) (start, end uintptr, path string, ok bool) {
	fields := bytes.Fields(line)
	if len(fields) < 6 {
		return 0, 0, "", false
	}
	addr := bytes.SplitN(fields[0], []byte("-"), 2)
	if len(addr) != 2 {
		return 0, 0, "", false
	}
	s, err1 := strconv.ParseUint(string(addr[0]), 16, 64)
	e, err2 := strconv.ParseUint(string(addr[1]), 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, "", false
	}
	return uintptr(s), uintptr(e), string(bytes.Join(fields[5:], []byte(" "))), true
}
