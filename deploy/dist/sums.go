package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// sumsName is the checksum file, in the format of sha256sum, so
// `sha256sum -c SHA256SUMS` checks a download.
const sumsName = "SHA256SUMS"

// writeSums writes SHA256SUMS over the named files of out: one
// "<hex>  <name>" line each, sorted by name.
func writeSums(out string, names []string) error {
	names = slices.Sorted(slices.Values(names))
	if i := slices.IndexFunc(names, func(n string) bool {
		return n == sumsName || strings.ContainsAny(n, "/\\\n") || n == "" || n[0] == '.'
	}); i >= 0 {
		return fmt.Errorf("artefact name %q cannot be listed in %s", names[i], sumsName)
	}
	if d := duplicate(names); d != "" {
		return fmt.Errorf("two artefacts are named %s", d)
	}
	var b strings.Builder
	for _, n := range names {
		sum, err := fileSHA256(filepath.Join(out, n))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	return os.WriteFile(filepath.Join(out, sumsName), []byte(b.String()), 0o644)
}

// duplicate is a name listed twice in sorted names, or "".
func duplicate(sorted []string) string {
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return sorted[i]
		}
	}
	return ""
}

// fileSHA256 is the hex SHA-256 of a file's bytes.
func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
