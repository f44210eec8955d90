package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path"
)

// A reader of the RPM headers, enough to check a package without the rpm
// tools: the lead, the signature header, then the header with the tags
// below (RPM file format: rpm.org/docs/latest/manual/format.html;
// tag numbers from rpm's include/rpm/rpmtag.h).
const (
	rpmTagName       = 1000
	rpmTagVersion    = 1001
	rpmTagRelease    = 1002
	rpmTagArch       = 1022
	rpmTagPreIn      = 1023
	rpmTagPostIn     = 1024
	rpmTagPreUn      = 1025
	rpmTagPostUn     = 1026
	rpmTagFileModes  = 1030
	rpmTagFileFlags  = 1037
	rpmTagFileUser   = 1039
	rpmTagFileGroup  = 1040
	rpmTagRequires   = 1049
	rpmTagDirIndexes = 1116
	rpmTagBaseNames  = 1117
	rpmTagDirNames   = 1118

	rpmFileConfig    = 1 << 0 // %config
	rpmFileNoReplace = 1 << 4 // %config(noreplace)
)

// rpmHeader is a parsed header: tag -> value ([]string, []uint32 or
// []uint16).
type rpmHeader map[int]any

func (h rpmHeader) str(tag int) string {
	if s, ok := h[tag].([]string); ok && len(s) > 0 {
		return s[0]
	}
	return ""
}

func (h rpmHeader) strs(tag int) []string { s, _ := h[tag].([]string); return s }
func (h rpmHeader) u32(tag int) []uint32  { s, _ := h[tag].([]uint32); return s }
func (h rpmHeader) u16(tag int) []uint16  { s, _ := h[tag].([]uint16); return s }

// rpmFile is one file of the package's header.
type rpmFile struct {
	path        string
	mode        uint16
	flags       uint32
	user, group string
}

func (h rpmHeader) files() ([]rpmFile, error) {
	base, dirs, idx := h.strs(rpmTagBaseNames), h.strs(rpmTagDirNames), h.u32(rpmTagDirIndexes)
	modes, flags := h.u16(rpmTagFileModes), h.u32(rpmTagFileFlags)
	users, groups := h.strs(rpmTagFileUser), h.strs(rpmTagFileGroup)
	n := len(base)
	if len(idx) != n || len(modes) != n || len(flags) != n || len(users) != n || len(groups) != n {
		return nil, fmt.Errorf("file tags of different lengths")
	}
	var out []rpmFile
	for i := range n {
		if int(idx[i]) >= len(dirs) {
			return nil, fmt.Errorf("dir index out of range")
		}
		out = append(out, rpmFile{path.Join(dirs[idx[i]], base[i]), modes[i], flags[i], users[i], groups[i]})
	}
	return out, nil
}

// readRPMHeader parses the lead, skips the signature header and returns the
// main header.
func readRPMHeader(b []byte) (rpmHeader, error) {
	if len(b) < 96 || !bytes.Equal(b[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, fmt.Errorf("no RPM lead")
	}
	off := 96
	_, n, err := parseRPMHeader(b, off)
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	off += n
	off = (off + 7) &^ 7 // the signature header is padded to 8 bytes
	h, _, err := parseRPMHeader(b, off)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return h, nil
}

func parseRPMHeader(b []byte, off int) (rpmHeader, int, error) {
	if len(b) < off+16 || !bytes.Equal(b[off:off+3], []byte{0x8e, 0xad, 0xe8}) {
		return nil, 0, fmt.Errorf("no header magic at %d", off)
	}
	nindex := int(binary.BigEndian.Uint32(b[off+8:]))
	hsize := int(binary.BigEndian.Uint32(b[off+12:]))
	store := off + 16 + 16*nindex
	end := store + hsize
	if nindex > 1<<16 || hsize > 1<<26 || end > len(b) {
		return nil, 0, fmt.Errorf("header out of bounds")
	}
	h := rpmHeader{}
	for i := range nindex {
		e := b[off+16+16*i:]
		tag := int(binary.BigEndian.Uint32(e))
		typ := binary.BigEndian.Uint32(e[4:])
		o := store + int(binary.BigEndian.Uint32(e[8:]))
		count := int(binary.BigEndian.Uint32(e[12:]))
		if o > end || count > hsize {
			return nil, 0, fmt.Errorf("tag %d out of bounds", tag)
		}
		switch typ {
		case 3: // INT16
			if o+2*count > end {
				return nil, 0, fmt.Errorf("tag %d out of bounds", tag)
			}
			v := make([]uint16, count)
			for j := range v {
				v[j] = binary.BigEndian.Uint16(b[o+2*j:])
			}
			h[tag] = v
		case 4: // INT32
			if o+4*count > end {
				return nil, 0, fmt.Errorf("tag %d out of bounds", tag)
			}
			v := make([]uint32, count)
			for j := range v {
				v[j] = binary.BigEndian.Uint32(b[o+4*j:])
			}
			h[tag] = v
		case 6, 8, 9: // STRING, STRING_ARRAY, I18NSTRING
			var v []string
			for range count {
				k := bytes.IndexByte(b[o:end], 0)
				if k < 0 {
					return nil, 0, fmt.Errorf("tag %d: unterminated string", tag)
				}
				v = append(v, string(b[o:o+k]))
				o += k + 1
			}
			h[tag] = v
		}
	}
	return h, end - off, nil
}
