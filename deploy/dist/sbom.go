package main

import (
	"cmp"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// The CycloneDX 1.5 JSON document, as structs so the field order (and so
// the bytes) never changes. https://cyclonedx.org/docs/1.5/json/
type (
	cdxBOM struct {
		BOMFormat    string         `json:"bomFormat"`
		SpecVersion  string         `json:"specVersion"`
		SerialNumber string         `json:"serialNumber"`
		Version      int            `json:"version"`
		Metadata     cdxMetadata    `json:"metadata"`
		Components   []cdxComponent `json:"components"`
	}
	cdxMetadata struct {
		Timestamp string       `json:"timestamp"`
		Component cdxComponent `json:"component"`
	}
	cdxComponent struct {
		Type       string        `json:"type"`
		BOMRef     string        `json:"bom-ref"`
		Name       string        `json:"name"`
		Version    string        `json:"version"`
		Purl       string        `json:"purl"`
		Hashes     []cdxHash     `json:"hashes,omitempty"`
		Properties []cdxProperty `json:"properties,omitempty"`
	}
	cdxHash struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	}
	cdxProperty struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
)

// sbomName is the file name of a release's bill of materials.
func sbomName(version string) string { return "heartbeat_" + version + "_sbom.cdx.json" }

// writeSBOM writes the CycloneDX bill of materials of the Go modules
// linked into the released binaries, read from the binaries themselves
// (every platform: a module linked only on one is listed too), and
// returns its file name.
func writeSBOM(r *Release) (string, error) {
	var bins []string
	for _, p := range Platforms() {
		dir, ok := r.Staged[p]
		if !ok {
			return "", fmt.Errorf("no binaries of %s/%s", p.OS, p.Arch)
		}
		bins = append(bins, filepath.Join(dir, p.Exe("heartbeat")))
		for _, name := range r.Plugins {
			bins = append(bins, filepath.Join(dir, "plugins", p.Exe("heartbeat-target-"+name)))
		}
	}
	bom, err := buildSBOM(r.Version, r.Epoch, bins)
	if err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(bom, "", "  ")
	if err != nil {
		return "", err
	}
	name := sbomName(r.Version)
	return name, os.WriteFile(filepath.Join(r.Out, name), append(data, '\n'), 0o644)
}

// buildSBOM reads the module list of every binary and merges them.
func buildSBOM(version string, epoch time.Time, bins []string) (*cdxBOM, error) {
	seen := map[string]cdxComponent{}
	for _, bin := range bins {
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			return nil, fmt.Errorf("reading the module list of %s: %w", bin, err)
		}
		if info.Main.Path != rootModule {
			return nil, fmt.Errorf("%s is built from module %q, not %s", bin, info.Main.Path, rootModule)
		}
		// The standard library is linked too; its version is the toolchain's.
		std := component("std", info.GoVersion, "")
		seen[std.BOMRef] = std
		for _, dep := range info.Deps {
			c := moduleComponent(version, dep)
			seen[c.BOMRef] = c
		}
	}
	comps := slices.SortedFunc(func(yield func(cdxComponent) bool) {
		for _, c := range seen {
			if !yield(c) {
				return
			}
		}
	}, func(a, b cdxComponent) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version))
	})
	main := component(rootModule, version, "")
	main.Type = "application"
	bom := &cdxBOM{
		BOMFormat:   "CycloneDX",
		SpecVersion: "1.5",
		Version:     1,
		Metadata: cdxMetadata{
			Timestamp: epoch.UTC().Format(time.RFC3339),
			Component: main,
		},
		Components: comps,
	}
	// The serial number is derived from the content, so the same release
	// gives the same bytes.
	content, err := json.Marshal(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = contentUUID(content)
	return bom, nil
}

// moduleComponent describes one module of a binary's build list. A
// module replaced by a directory of this repository (the SDK) is part of
// the release and takes its version.
func moduleComponent(version string, dep *debug.Module) cdxComponent {
	path, ver, sum := dep.Path, dep.Version, dep.Sum
	if r := dep.Replace; r != nil {
		if localPath(r.Path) { // a directory of the repository
			ver, sum = version, ""
		} else {
			path, ver, sum = r.Path, r.Version, r.Sum
		}
	}
	return component(path, ver, sum)
}

// localPath tells a replacement directory from a module path, as go.mod
// does: a directory starts with ./ or ../, or is absolute.
func localPath(p string) bool {
	return p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || filepath.IsAbs(p)
}

// component is a library component with its package URL; sum is the
// module's go.sum hash ("h1:" and base64 SHA-256), listed when known.
func component(path, version, sum string) cdxComponent {
	purl := "pkg:golang/" + purlPath(path) + "@" + purlEscape(version)
	c := cdxComponent{Type: "library", BOMRef: purl, Name: path, Version: version, Purl: purl}
	if h, ok := strings.CutPrefix(sum, "h1:"); ok {
		if raw, err := base64.StdEncoding.DecodeString(h); err == nil && len(raw) == sha256.Size {
			// The h1 hash is a SHA-256 over the module's file list (the
			// go.sum line); the property keeps its original form.
			c.Hashes = []cdxHash{{Alg: "SHA-256", Content: hex.EncodeToString(raw)}}
			c.Properties = []cdxProperty{{Name: "golang:gosum", Value: sum}}
		}
	}
	return c
}

// purlPath escapes each segment of a module path for a package URL.
func purlPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	return strings.Join(segs, "/")
}

// purlEscape percent-encodes every byte but the unreserved characters
// (the package URL specification; "+incompatible" becomes "%2Bincompatible").
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// contentUUID is a name-based UUID (version 5 layout, SHA-256 hash) of
// content, as a URN.
func contentUUID(content []byte) string {
	sum := sha256.Sum256(content)
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
