package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// scriptEnv is the world a maintainer script runs in during a dry run.
type scriptEnv struct {
	systemd   bool     // systemd runs (/run/systemd/system exists)
	userFound bool     // getent finds the user and group heartbeat
	missing   []string // commands that are not installed
	failing   []string // commands that exit 1
}

// runScript runs deploy/packaging/<name> with args under sh, with PATH
// holding only logging stubs, and returns the calls they logged, one
// "command args..." line each. The script's test of /run/systemd/system is
// pointed at a directory that exists or not.
func runScript(t *testing.T, name string, env scriptEnv, args ...string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRootForTest(t), packagingDir, name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	runDir := filepath.Join(dir, "run-systemd-system")
	if env.systemd {
		if err := os.Mkdir(runDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "calls.log")
	// Every program the scripts may call, as a stub that logs its arguments.
	for _, c := range []string{"useradd", "groupadd", "adduser", "addgroup", "getent", "systemctl"} {
		if slices.Contains(env.missing, c) {
			continue
		}
		code := "0"
		if slices.Contains(env.failing, c) || (c == "getent" && !env.userFound) {
			code = "2" // getent: "key not found"
		}
		stub := "#!/bin/sh\necho \"" + c + " $*\" >> '" + log + "'\nexit " + code + "\n"
		if err := os.WriteFile(filepath.Join(bin, c), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Count(string(raw), "/run/systemd/system") == 0 && name != "preinstall.sh" {
		t.Fatalf("%s does not test /run/systemd/system", name)
	}
	script := filepath.Join(dir, name)
	patched := strings.ReplaceAll(string(raw), "/run/systemd/system", runDir)
	if err := os.WriteFile(script, []byte(patched), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", append([]string{script}, args...)...)
	// The stubs' interpreter is found by its absolute path: PATH holds only them.
	cmd.Env = []string{"PATH=" + bin, "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func repoRootForTest(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := findRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestMaintainerScriptsSyntax(t *testing.T) {
	root := repoRootForTest(t)
	for _, name := range []string{"preinstall.sh", "postinstall.sh", "preremove.sh", "postremove.sh"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(root, packagingDir, name)
			for _, sh := range []string{"sh", "dash", "bash"} {
				exe, err := exec.LookPath(sh)
				if err != nil {
					continue
				}
				args := []string{"-n", path}
				if sh == "bash" {
					args = []string{"--posix", "-n", path}
				}
				if out, err := exec.Command(exe, args...).CombinedOutput(); err != nil {
					t.Errorf("%s -n %s: %v\n%s", sh, name, err, out)
				}
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(raw), "#!/bin/sh\n") {
				t.Errorf("%s does not start with #!/bin/sh", name)
			}
		})
	}
}

func TestMaintainerScripts(t *testing.T) {
	const (
		groupadd = "groupadd --system heartbeat"
		reload   = "systemctl daemon-reload"
		enable   = "systemctl enable heartbeat.service"
		restart  = "systemctl try-restart heartbeat.service"
		stop     = "systemctl stop heartbeat.service"
		disable  = "systemctl disable heartbeat.service"
	)
	getentMissing := []string{"getent group heartbeat", "getent passwd heartbeat"}
	running := scriptEnv{systemd: true, userFound: true}
	noSystemd := scriptEnv{userFound: true}
	noSystemctl := scriptEnv{userFound: true, missing: []string{"systemctl"}}

	tests := []struct {
		name   string
		script string
		env    scriptEnv
		args   []string
		want   []string // calls other than useradd/adduser, in order
		user   string   // the command that must create the user, if any
	}{
		// preinstall: deb "install"/"upgrade OLD", rpm 1/2.
		{"deb install creates the user", "preinstall.sh", scriptEnv{}, []string{"install"},
			[]string{getentMissing[0], groupadd, getentMissing[1]}, "useradd"},
		{"rpm install creates the user", "preinstall.sh", scriptEnv{}, []string{"1"},
			[]string{getentMissing[0], groupadd, getentMissing[1]}, "useradd"},
		{"rpm upgrade with the user gone creates it", "preinstall.sh", scriptEnv{}, []string{"2"},
			[]string{getentMissing[0], groupadd, getentMissing[1]}, "useradd"},
		{"adduser when useradd is missing", "preinstall.sh", scriptEnv{missing: []string{"useradd", "groupadd"}}, []string{"install"},
			[]string{getentMissing[0], "addgroup --system heartbeat", getentMissing[1]}, "adduser"},
		{"deb upgrade keeps the user", "preinstall.sh", scriptEnv{userFound: true}, []string{"upgrade", "0.2.0"},
			getentMissing, ""},
		{"rpm upgrade keeps the user", "preinstall.sh", scriptEnv{userFound: true}, []string{"2"},
			getentMissing, ""},
		{"abort-upgrade does nothing", "preinstall.sh", scriptEnv{}, []string{"abort-upgrade", "0.3.0"}, nil, ""},

		// postinstall: deb "configure [OLD]", rpm 1 (install) / 2+ (upgrade).
		{"deb first install enables, does not start", "postinstall.sh", running, []string{"configure", ""},
			[]string{reload, enable}, ""},
		{"deb first install without an old version argument", "postinstall.sh", running, []string{"configure"},
			[]string{reload, enable}, ""},
		{"rpm first install enables, does not start", "postinstall.sh", running, []string{"1"},
			[]string{reload, enable}, ""},
		{"deb upgrade restarts a running service", "postinstall.sh", running, []string{"configure", "0.2.0"},
			[]string{reload, restart}, ""},
		{"rpm upgrade restarts a running service", "postinstall.sh", running, []string{"2"},
			[]string{reload, restart}, ""},
		{"install without systemd running still enables", "postinstall.sh", noSystemd, []string{"configure", ""},
			[]string{enable}, ""},
		{"upgrade without systemd running does nothing", "postinstall.sh", noSystemd, []string{"2"}, nil, ""},
		{"install without systemctl does nothing", "postinstall.sh", noSystemctl, []string{"configure", ""}, nil, ""},
		{"a failing systemctl does not fail the install", "postinstall.sh",
			scriptEnv{systemd: true, userFound: true, failing: []string{"systemctl"}}, []string{"1"},
			[]string{reload, enable}, ""},
		{"abort-remove leaves the service alone", "postinstall.sh", running, []string{"abort-remove"}, nil, ""},

		// preremove: deb "remove" / "upgrade NEW", rpm 0 (removal) / 1 (upgrade).
		{"deb remove stops and disables", "preremove.sh", running, []string{"remove"}, []string{stop, disable}, ""},
		{"rpm removal stops and disables", "preremove.sh", running, []string{"0"}, []string{stop, disable}, ""},
		{"deb upgrade keeps the service", "preremove.sh", running, []string{"upgrade", "0.3.0"}, nil, ""},
		{"rpm upgrade keeps the service", "preremove.sh", running, []string{"1"}, nil, ""},
		{"remove without systemd running disables", "preremove.sh", noSystemd, []string{"remove"}, []string{disable}, ""},
		{"remove without systemctl", "preremove.sh", noSystemctl, []string{"remove"}, nil, ""},
		{"a failing systemctl does not fail the removal", "preremove.sh",
			scriptEnv{systemd: true, userFound: true, failing: []string{"systemctl"}}, []string{"0"},
			[]string{stop, disable}, ""},

		// postremove: always a daemon-reload when systemd runs.
		{"deb remove reloads", "postremove.sh", running, []string{"remove"}, []string{reload}, ""},
		{"deb purge reloads", "postremove.sh", running, []string{"purge"}, []string{reload}, ""},
		{"rpm removal reloads", "postremove.sh", running, []string{"0"}, []string{reload}, ""},
		{"rpm upgrade reloads", "postremove.sh", running, []string{"1"}, []string{reload}, ""},
		{"remove without systemd", "postremove.sh", noSystemd, []string{"remove"}, nil, ""},
		{"remove without systemctl", "postremove.sh", noSystemctl, []string{"remove"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := runScript(t, tt.script, tt.env, tt.args...)
			var other []string
			var user string
			for _, c := range calls {
				switch {
				case strings.HasPrefix(c, "useradd ") || strings.HasPrefix(c, "adduser "):
					user = c
				default:
					other = append(other, c)
				}
			}
			if !slices.Equal(other, tt.want) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(calls, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if slices.Contains(calls, "systemctl start heartbeat.service") {
				t.Error("the service was started")
			}
			switch {
			case tt.user == "" && user != "":
				t.Errorf("the user was created although it exists: %s", user)
			case tt.user != "" && !strings.HasPrefix(user, tt.user+" "):
				t.Errorf("user created with %q, want %s", user, tt.user)
			case tt.user != "":
				checkUserArgs(t, user)
			}
		})
	}
}

// checkUserArgs checks a useradd or adduser call: a system user heartbeat
// in the group heartbeat, no home, no login shell.
func checkUserArgs(t *testing.T, call string) {
	t.Helper()
	f := strings.Fields(call)
	if f[len(f)-1] != "heartbeat" {
		t.Errorf("%s: the user name is not last", call)
	}
	flags := map[string]string{}
	for i := 1; i < len(f)-1; i++ {
		if strings.HasPrefix(f[i], "--") && i+1 < len(f)-1 && !strings.HasPrefix(f[i+1], "--") {
			flags[f[i]] = f[i+1]
			i++
			continue
		}
		flags[f[i]] = ""
	}
	if _, ok := flags["--system"]; !ok {
		t.Errorf("%s: not --system", call)
	}
	if _, ok := flags["--no-create-home"]; !ok {
		t.Errorf("%s: would create a home directory", call)
	}
	shell := flags["--shell"]
	if !strings.HasSuffix(shell, "/nologin") && shell != "/bin/false" {
		t.Errorf("%s: login shell %q", call, shell)
	}
	group := flags["--gid"]
	if f[0] == "adduser" {
		group = flags["--ingroup"]
	}
	if group != "heartbeat" {
		t.Errorf("%s: group %q, want heartbeat", call, group)
	}
}
