package main

import (
	"crypto/sha1" //nolint:gosec // name-based UUIDs (RFC 9562 version 5) are defined on SHA-1; nothing secret is hashed
	"encoding/hex"
	"strings"
)

// canonicalUUID returns s as a lower-case UUID with dashes, the only form
// Healthchecks accepts: it answers 404 to a UUID in upper case or without
// dashes in the path, and 400 to such a rid. Users paste both forms, so both
// are accepted and normalised.
func canonicalUUID(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	digits := s
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		digits = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case 32:
	default:
		return "", false
	}
	if _, err := hex.DecodeString(digits); err != nil || len(digits) != 32 {
		return "", false
	}
	return formatUUID(digits), true
}

func formatUUID(digits string) string {
	return digits[:8] + "-" + digits[8:12] + "-" + digits[12:16] + "-" + digits[16:20] + "-" + digits[20:32]
}

// ridNamespace is the namespace of the name-based UUIDs made from run ids
// that are not UUIDs (the bytes of 0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40).
const ridNamespace = "\x0b\x6f\x4e\x52\x3c\x1a\x4d\x8e\x9f\x27\x5a\x9c\x1e\x7d\x3b\x40"

// runID turns a beat's run id into a rid Healthchecks accepts (a canonical
// UUID, else 400 "invalid uuid format"). Other run ids are hashed into a
// name-based UUID: the start and the finish of a run may reach different
// plugin processes, so the mapping must be deterministic, not remembered.
func runID(id string) string {
	if id == "" {
		return ""
	}
	if u, ok := canonicalUUID(id); ok {
		return u
	}
	sum := sha1.Sum([]byte(ridNamespace + id)) //nolint:gosec // see the import
	sum[6] = sum[6]&0x0f | 0x50                // version 5
	sum[8] = sum[8]&0x3f | 0x80                // RFC 9562 variant
	return formatUUID(hex.EncodeToString(sum[:16]))
}
