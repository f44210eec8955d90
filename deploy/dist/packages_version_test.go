package main

import (
	"os/exec"
	"strings"
	"testing"
)

func TestPackageVersion(t *testing.T) {
	tests := []struct {
		in   string
		want pkgVersion
	}{
		{"0.3.0", pkgVersion{version: "0.3.0"}},
		{"1.2", pkgVersion{version: "1.2"}},
		{"0.0.0-check", pkgVersion{version: "0.0.0", prerelease: "check"}},
		{"0.3.0-rc.1", pkgVersion{version: "0.3.0", prerelease: "rc.1"}},
		{"0.3.0-rc-1", pkgVersion{version: "0.3.0", prerelease: "rc.1"}},
		{"0.3.0-5-gabc1234", pkgVersion{version: "0.3.0", metadata: "5.gabc1234"}},
		{"0.3.0-5-gabc1234-dirty", pkgVersion{version: "0.3.0", metadata: "5.gabc1234.dirty"}},
		{"0.3.0-dirty", pkgVersion{version: "0.3.0", metadata: "dirty"}},
		{"0.3.0-rc.1-2-gabc1234", pkgVersion{version: "0.3.0", prerelease: "rc.1.2.gabc1234"}},
		{"0.3.0+build.7", pkgVersion{version: "0.3.0", metadata: "build.7"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePackageVersion(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "v0.3.0", "abc1234", "0.3.0-", "0.3.0 beta", "0.3.0-rc_1", "0.3.0-rc..1", "0.3.0/../x", "0.3.0-" + strings.Repeat("x", 300) + "_"} {
		t.Run("bad "+bad[:min(len(bad), 20)], func(t *testing.T) {
			_, err := parsePackageVersion(bad)
			if err == nil {
				t.Fatalf("%q accepted", bad)
			}
			if !strings.Contains(err.Error(), "MAJOR.MINOR.PATCH") || len(err.Error()) > 400 {
				t.Errorf("error does not name the fix, or is unbounded: %v", err)
			}
		})
	}
}

// debVersion and rpmVersion are the versions the packagers write, the way
// nfpm assembles them (Prerelease after "~", VersionMetadata after "+").
func debVersion(v pkgVersion) string { return joinVersion(v) }
func rpmVersion(v pkgVersion) string { return joinVersion(v) + "-1" }

func joinVersion(v pkgVersion) string {
	s := v.version
	if v.prerelease != "" {
		s += "~" + v.prerelease
	}
	if v.metadata != "" {
		s += "+" + v.metadata
	}
	return s
}

// TestPackageVersionOrder checks with dpkg and rpm themselves that the
// package versions sort as the releases do: a pre-release before its
// release, commits after a tag after it and before the next release.
func TestPackageVersionOrder(t *testing.T) {
	ordered := []string{"0.2.9", "0.3.0-rc.1", "0.3.0-rc.1-2-gabc1234", "0.3.0-rc.2", "0.3.0", "0.3.0-5-gabc1234", "0.3.0-12-g0123abc-dirty", "0.3.1-rc.1", "0.3.1"}
	var vs []pkgVersion
	for _, s := range ordered {
		v, err := parsePackageVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	t.Run("dpkg", func(t *testing.T) {
		dpkg, err := exec.LookPath("dpkg")
		if err != nil {
			t.Skip("dpkg is not installed")
		}
		for i := 1; i < len(vs); i++ {
			a, b := debVersion(vs[i-1]), debVersion(vs[i])
			if err := exec.Command(dpkg, "--compare-versions", a, "lt", b).Run(); err != nil {
				t.Errorf("dpkg: %s is not before %s (%s, %s)", a, b, ordered[i-1], ordered[i])
			}
		}
	})
	t.Run("rpm", func(t *testing.T) {
		rpm, err := exec.LookPath("rpm")
		if err != nil {
			t.Skip("rpm is not installed")
		}
		for i := 1; i < len(vs); i++ {
			a, b := rpmVersion(vs[i-1]), rpmVersion(vs[i])
			out, err := exec.Command(rpm, "--eval", `%{lua: print(rpm.vercmp("`+a+`", "`+b+`"))}`).Output()
			if err != nil {
				t.Skipf("rpm cannot compare versions: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != "-1" {
				t.Errorf("rpm: vercmp(%s, %s) = %s, want -1 (%s before %s)", a, b, got, ordered[i-1], ordered[i])
			}
		}
	})
}
