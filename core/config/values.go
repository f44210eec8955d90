package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// ParseDuration reads a duration the way every duration in the config file
// is read: a Go duration ("10s", "1m30s", "500ms") or a bare number of
// seconds ("15", "1.5"), the rule of the plugins' settings too
// (sdk.ParseDuration).
func ParseDuration(s string) (time.Duration, error) { return sdk.ParseDuration(s) }

// isDecimal reports whether s is a plain decimal number: digits with an
// optional sign and fraction, nothing ParseFloat accepts beyond that
// (no exponent, hex, "Inf" or "NaN").
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits := 0
	dot := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// ParseByteSize reads a size in bytes: a bare number of bytes, or a number
// with a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB
// (powers of 1000); units are case-insensitive and may follow a space. A
// fraction is allowed with a unit ("1.5GiB") and rounded down to a byte.
// The result may be negative; callers check the range.
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || (end == 0 && (s[end] == '-' || s[end] == '+'))) {
		end++
	}
	num, unit := s[:end], strings.TrimSpace(s[end:])
	if !isDecimal(num) {
		return 0, errors.New("not a size: write a number of bytes or a number with a unit, e.g. 512MiB or 2GiB")
	}
	var mult int64
	switch strings.ToLower(unit) {
	case "", "b":
		mult = 1
	case "kib":
		mult = 1 << 10
	case "mib":
		mult = 1 << 20
	case "gib":
		mult = 1 << 30
	case "tib":
		mult = 1 << 40
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	default:
		return 0, fmt.Errorf("unknown unit %s: use B, KiB, MiB, GiB, TiB (1024-based) or KB, MB, GB, TB (1000-based)", excerpt(unit))
	}
	if strings.Contains(num, ".") {
		if mult == 1 {
			return 0, errors.New("a number of bytes must be whole; use a unit for fractions, e.g. 1.5GiB")
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || math.Abs(f*float64(mult)) >= math.MaxInt64 {
			return 0, errors.New("too large")
		}
		return int64(f * float64(mult)), nil
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}

// ParseMaxFileSize reads the config file size cap (--max-config-size).
func ParseMaxFileSize(s string) (int64, error) {
	n, err := ParseByteSize(s)
	if err != nil {
		return 0, err
	}
	if n < MinMaxFileSize || n > MaxMaxFileSize {
		return 0, fmt.Errorf("must be between %s and %s, got %s", FormatBytes(MinMaxFileSize), FormatBytes(MaxMaxFileSize), excerpt(s))
	}
	return n, nil
}

// FormatBytes writes n in the largest binary unit that divides it.
func FormatBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n != 0 && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// formatDuration writes d as a config file would: 100ms, 10s, 5m, 1h.
func formatDuration(d time.Duration) string {
	switch {
	case d != 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d != 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}

// maxExcerpt bounds how much of a value from the file an error repeats: the
// file may not be a heartbeat config at all (a mistyped path, a symlink to
// another file), and its lines must not be echoed.
const maxExcerpt = 40

// excerpt quotes at most maxExcerpt runes of s, escaping control and
// non-printable characters.
func excerpt(s string) string {
	return strconv.Quote(truncate(s, maxExcerpt))
}

// plainExcerpt is excerpt without the quotes, for prose written in the
// file (the message of ${NAME:?message}).
func plainExcerpt(s string, n int) string {
	q := strconv.Quote(truncate(s, n))
	return q[1 : len(q)-1]
}
