package main

import "time"

// Platform is one GOOS/GOARCH pair of a release.
type Platform struct{ OS, Arch string }

// String is the platform as it appears in artefact names: "linux_amd64".
func (p Platform) String() string { return p.OS + "_" + p.Arch }

// Exe is the file name of the program name on this platform.
func (p Platform) Exe(name string) string {
	if p.OS == "windows" {
		return name + ".exe"
	}
	return name
}

// Platforms are the platforms a release is built for, in artefact order.
func Platforms() []Platform {
	return []Platform{
		{"linux", "amd64"}, {"linux", "arm64"},
		{"darwin", "amd64"}, {"darwin", "arm64"},
		{"windows", "amd64"},
	}
}

// Release is what every artefact writer reads. Writers never write outside
// Out, and take every timestamp from Epoch, so two runs of the same commit
// give the same bytes.
type Release struct {
	// Version without a leading "v": "0.3.0", or "0.3.0-5-gabc1234".
	Version string
	// Epoch is SOURCE_DATE_EPOCH (the commit's time): the time of every
	// file in every archive, package and image.
	Epoch time.Time
	// Root is the repository root (README.md, LICENSE, examples/, deploy/).
	Root string
	// Out is the directory the artefacts are written to (dist/).
	Out string
	// Staged holds, for each platform, a directory with its static
	// binaries: heartbeat[.exe] and plugins/heartbeat-target-<name>[.exe],
	// mode 0755.
	Staged map[Platform]string
	// Plugins are the bundled plugins' names, sorted.
	Plugins []string
}
