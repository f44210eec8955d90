//go:build !linux

package memtrim

// ShedStartupPages does nothing here: only Linux offers MADV_PAGEOUT.
func ShedStartupPages() (int64, error) { return 0, nil }
