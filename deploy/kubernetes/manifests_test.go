package kubernetes

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// heartbeatImage is the image of heartbeat's releases, without its tag.
const heartbeatImage = "ghcr.io/seed-e9b80cf6/heartbeat"

// heartbeatUID is the user the heartbeat image runs as.
const heartbeatUID = 65532

// external are the objects the manifests use but the user creates: Butler
// SOS's own config (see butler-sos-sidecar.yaml).
var external = map[string]bool{"ConfigMap/butler-sos-config": true}

// object is one YAML document of a manifest, decoded into its API type.
type object struct {
	file string
	kind string
	name string
	obj  any
}

// manifests holds every object of the directory's manifests.
type manifests struct {
	objects    []object
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocs splits a YAML stream into its documents, dropping those that
// hold only comments or white space.
func splitDocs(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range docSeparator.Split(string(data), -1) {
		empty := true
		for _, line := range strings.Split(d, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// decodeStrict decodes one document into its API type by its kind. Unknown
// and duplicate fields are errors, as kubectl's server-side field
// validation (Strict) makes them.
func decodeStrict(doc []byte) (object, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return object{}, err
	}
	var (
		into    any
		version string
	)
	switch meta.Kind {
	case "Deployment":
		into, version = &appsv1.Deployment{}, "apps/v1"
	case "CronJob":
		into, version = &batchv1.CronJob{}, "batch/v1"
	case "ConfigMap":
		into, version = &corev1.ConfigMap{}, "v1"
	case "Secret":
		into, version = &corev1.Secret{}, "v1"
	default:
		return object{}, fmt.Errorf("kind %q is not one the test knows: add its API type to decodeStrict", meta.Kind)
	}
	if meta.APIVersion != version {
		return object{}, fmt.Errorf("%s %q: apiVersion is %q, want %q", meta.Kind, meta.Metadata.Name, meta.APIVersion, version)
	}
	if meta.Metadata.Name == "" {
		return object{}, fmt.Errorf("%s without metadata.name", meta.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		return object{}, fmt.Errorf("%s %q: %w", meta.Kind, meta.Metadata.Name, err)
	}
	return object{kind: meta.Kind, name: meta.Metadata.Name, obj: into}, nil
}

// manifestFiles lists the manifests of the directory, kustomization.yaml
// excepted.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	if len(files) == 0 {
		t.Fatal("no manifests in this directory")
	}
	return files
}

func load(t *testing.T) manifests {
	t.Helper()
	m := manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	seen := map[string]string{}
	for _, f := range manifestFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs := splitDocs(data)
		if len(docs) == 0 {
			t.Errorf("%s: no document", f)
		}
		for i, doc := range docs {
			o, err := decodeStrict(doc)
			if err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
				continue
			}
			o.file = f
			id := o.kind + "/" + o.name
			if prev, ok := seen[id]; ok {
				t.Errorf("%s: %s is defined in %s too", f, id, prev)
			}
			seen[id] = f
			m.objects = append(m.objects, o)
			switch v := o.obj.(type) {
			case *corev1.ConfigMap:
				m.configMaps[o.name] = v
			case *corev1.Secret:
				m.secrets[o.name] = v
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return m
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := load(t)
	var got []string
	for _, o := range m.objects {
		got = append(got, o.kind+"/"+o.name)
	}
	sort.Strings(got)
	want := []string{"ConfigMap/heartbeat-config", "CronJob/db-backup", "Deployment/butler-sos", "Secret/heartbeat-secrets"}
	if !slices.Equal(got, want) {
		t.Errorf("objects = %v, want %v", got, want)
	}
}

func TestStrictDecodingRefusesMistakes(t *testing.T) {
	data, err := os.ReadFile("butler-sos-sidecar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	if _, err := decodeStrict(data); err != nil {
		t.Fatalf("the unchanged manifest: %v", err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"misspelled container field", "          readinessProbe:", "          readinessProb:", "readinessProb"},
		{"misspelled probe field", "            periodSeconds: 10", "            periodSecond: 10", "periodSecond"},
		{"misspelled spec field", "  replicas: 1", "  replica: 1", "replica"},
		{"field at the wrong level", "      automountServiceAccountToken: false", "      automountServiceAccountToken: false\n      runAsNonRoot: true", "runAsNonRoot"},
		{"duplicate field", "  replicas: 1", "  replicas: 1\n  replicas: 2", "replicas"},
		{"wrong type", "  replicas: 1", "  replicas: one", "replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(good, tc.from) != 1 {
				t.Fatalf("the manifest no longer holds %q exactly once: update the test", tc.from)
			}
			_, err := decodeStrict([]byte(strings.Replace(good, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName,omitempty"`
			NewTag  string `json:"newTag,omitempty"`
		} `json:"images"`
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("apiVersion %q, kind %q", k.APIVersion, k.Kind)
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if want := manifestFiles(t); !slices.Equal(got, want) {
		t.Errorf("resources = %v, want every manifest: %v", got, want)
	}
	// The tag set by the kustomization is the one the manifests name, so
	// `kubectl apply -f` and `-k` run the same release.
	m := load(t)
	for _, img := range k.Images {
		if img.Name != heartbeatImage {
			t.Errorf("images: %q is not heartbeat's image", img.Name)
			continue
		}
		for _, c := range allContainers(m) {
			if name, tag, _ := strings.Cut(c.container.Image, ":"); name == heartbeatImage && tag != img.NewTag {
				t.Errorf("%s: container %s runs tag %q, the kustomization sets %q", c.where, c.container.Name, tag, img.NewTag)
			}
		}
	}
}

// podOf is a pod template and where it comes from.
type podOf struct {
	where string
	spec  *corev1.PodSpec
}

type containerOf struct {
	where     string
	pod       *corev1.PodSpec
	container *corev1.Container
}

func pods(m manifests) []podOf {
	var ps []podOf
	for _, o := range m.objects {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			ps = append(ps, podOf{o.file + ": Deployment " + o.name, &v.Spec.Template.Spec})
		case *batchv1.CronJob:
			ps = append(ps, podOf{o.file + ": CronJob " + o.name, &v.Spec.JobTemplate.Spec.Template.Spec})
		}
	}
	return ps
}

func allContainers(m manifests) []containerOf {
	var cs []containerOf
	for _, p := range pods(m) {
		for i := range p.spec.Containers {
			cs = append(cs, containerOf{p.where, p.spec, &p.spec.Containers[i]})
		}
	}
	return cs
}

func TestPodsAreHardened(t *testing.T) {
	m := load(t)
	for _, p := range pods(m) {
		t.Run(p.where, func(t *testing.T) {
			ps := p.spec
			if sc := ps.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
				sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Error("the pod's securityContext needs runAsNonRoot: true and seccompProfile RuntimeDefault")
			}
			if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
				t.Error("automountServiceAccountToken must be false: nothing here talks to the API server")
			}
			for _, c := range ps.Containers {
				sc := c.SecurityContext
				switch {
				case sc == nil:
					t.Errorf("container %s: no securityContext", c.Name)
					continue
				case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
					t.Errorf("container %s: runAsNonRoot must be true", c.Name)
				case sc.RunAsUser == nil || *sc.RunAsUser == 0:
					t.Errorf("container %s: runAsUser must be a numeric non-root uid", c.Name)
				case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
					t.Errorf("container %s: readOnlyRootFilesystem must be true", c.Name)
				case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
					t.Errorf("container %s: allowPrivilegeEscalation must be false", c.Name)
				case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
					t.Errorf("container %s: capabilities must drop ALL and add none", c.Name)
				case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
					t.Errorf("container %s: seccompProfile must be RuntimeDefault", c.Name)
				case sc.Privileged != nil && *sc.Privileged:
					t.Errorf("container %s: privileged", c.Name)
				}
				for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					req, okReq := c.Resources.Requests[res]
					lim, okLim := c.Resources.Limits[res]
					if !okReq || !okLim {
						t.Errorf("container %s: needs a %s request and limit", c.Name, res)
					} else if req.Cmp(lim) > 0 {
						t.Errorf("container %s: %s request %s above its limit %s", c.Name, res, req.String(), lim.String())
					}
				}
				if strings.Contains(c.Image, "heartbeat") && !mountsAt(c, "/tmp") {
					// The root file system is read-only, and go-plugin puts
					// the plugins' Unix sockets in the temporary directory.
					t.Errorf("container %s: heartbeat needs a writable volume at /tmp", c.Name)
				}
				if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
					t.Errorf("container %s: image %q needs a fixed tag", c.Name, c.Image)
				}
			}
		})
	}
}

func TestVolumesAndReferences(t *testing.T) {
	m := load(t)
	for _, p := range pods(m) {
		t.Run(p.where, func(t *testing.T) {
			volumes := map[string]corev1.Volume{}
			for _, v := range p.spec.Volumes {
				volumes[v.Name] = v
			}
			used := map[string]bool{}
			for _, c := range p.spec.Containers {
				for _, vm := range c.VolumeMounts {
					v, ok := volumes[vm.Name]
					if !ok {
						t.Errorf("container %s mounts volume %q, which the pod does not declare", c.Name, vm.Name)
						continue
					}
					used[vm.Name] = true
					if (v.Secret != nil || v.ConfigMap != nil) && !vm.ReadOnly {
						t.Errorf("container %s: mount %s of a ConfigMap or Secret must be readOnly", c.Name, vm.Name)
					}
				}
			}
			for _, v := range p.spec.Volumes {
				if !used[v.Name] {
					t.Errorf("volume %s is not mounted", v.Name)
				}
				switch {
				case v.ConfigMap != nil:
					cm, ok := m.configMaps[v.ConfigMap.Name]
					if !ok {
						if !external["ConfigMap/"+v.ConfigMap.Name] {
							t.Errorf("volume %s: ConfigMap %q is not defined here", v.Name, v.ConfigMap.Name)
						}
						continue
					}
					for _, it := range v.ConfigMap.Items {
						if _, ok := cm.Data[it.Key]; !ok {
							t.Errorf("volume %s: ConfigMap %s has no key %q", v.Name, cm.Name, it.Key)
						}
					}
				case v.Secret != nil:
					s, ok := m.secrets[v.Secret.SecretName]
					if !ok {
						t.Errorf("volume %s: Secret %q is not defined here", v.Name, v.Secret.SecretName)
						continue
					}
					for _, it := range v.Secret.Items {
						if _, ok := s.StringData[it.Key]; !ok {
							t.Errorf("volume %s: Secret %s has no key %q", v.Name, s.Name, it.Key)
						}
					}
					// The files are readable by their owner and the pod's
					// fsGroup only.
					if mode := v.Secret.DefaultMode; mode == nil || *mode&0o027 != 0 {
						t.Errorf("volume %s: defaultMode must give no write to the group and nothing to others (0440)", v.Name)
					}
				}
			}
		})
	}
}

// heartbeatContainer is a container that runs heartbeat, with the command
// line and config file it gives.
type heartbeatContainer struct {
	containerOf
	argv       []string // heartbeat's arguments, without the program
	subcommand string
	configPath string
	configText string
}

// heartbeatArgv returns heartbeat's arguments in a container that runs it:
// heartbeat's image (its entry point is heartbeat) without a command, or a
// command named heartbeat.
func heartbeatArgv(c *corev1.Container) ([]string, bool) {
	name, _, _ := strings.Cut(c.Image, ":")
	if len(c.Command) > 0 {
		if path.Base(c.Command[0]) == "heartbeat" {
			return append(slices.Clone(c.Command[1:]), c.Args...), true
		}
		return nil, false
	}
	if name == heartbeatImage {
		return slices.Clone(c.Args), true
	}
	return nil, false
}

func heartbeatContainers(t *testing.T, m manifests) []heartbeatContainer {
	t.Helper()
	var hcs []heartbeatContainer
	for _, c := range allContainers(m) {
		argv, ok := heartbeatArgv(c.container)
		if !ok {
			continue
		}
		h := heartbeatContainer{containerOf: c, argv: argv}
		if len(argv) > 0 {
			h.subcommand = argv[0]
		}
		for i, a := range argv {
			if a == "--" {
				break
			}
			if a == "--config" && i+1 < len(argv) {
				h.configPath = argv[i+1]
			}
		}
		if h.configPath == "" {
			t.Fatalf("%s: container %s runs heartbeat without --config", c.where, c.container.Name)
		}
		text, err := mountedConfigMapFile(m, c, h.configPath)
		if err != nil {
			t.Fatalf("%s: container %s: --config %s: %v", c.where, c.container.Name, h.configPath, err)
		}
		h.configText = text
		hcs = append(hcs, h)
	}
	if len(hcs) < 2 {
		t.Fatalf("found %d heartbeat containers, want the sidecar and the CronJob's", len(hcs))
	}
	return hcs
}

// volumeFor returns the volume mounted in c that holds file, and file's
// path inside the volume.
func volumeFor(c containerOf, file string) (*corev1.Volume, string, bool) {
	for _, vm := range c.container.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !ok || vm.SubPath != "" {
			continue
		}
		for i := range c.pod.Volumes {
			if c.pod.Volumes[i].Name == vm.Name {
				return &c.pod.Volumes[i], rel, true
			}
		}
	}
	return nil, "", false
}

// keyAt returns the key of a ConfigMap or Secret projected at rel.
func keyAt(items []corev1.KeyToPath, rel string) (string, bool) {
	if len(items) == 0 {
		return rel, true
	}
	for _, it := range items {
		if it.Path == rel {
			return it.Key, true
		}
	}
	return "", false
}

func mountedConfigMapFile(m manifests, c containerOf, file string) (string, error) {
	v, rel, ok := volumeFor(c, file)
	if !ok || v.ConfigMap == nil {
		return "", fmt.Errorf("no ConfigMap volume is mounted there")
	}
	key, ok := keyAt(v.ConfigMap.Items, rel)
	if !ok {
		return "", fmt.Errorf("the ConfigMap volume %s projects no file %s", v.Name, rel)
	}
	cm, ok := m.configMaps[v.ConfigMap.Name]
	if !ok {
		return "", fmt.Errorf("ConfigMap %s is not defined here", v.ConfigMap.Name)
	}
	text, ok := cm.Data[key]
	if !ok {
		return "", fmt.Errorf("ConfigMap %s has no key %s", cm.Name, key)
	}
	return text, nil
}

// secretFileKey returns the Secret key behind file in c.
func secretFileKey(m manifests, c containerOf, file string) (*corev1.Secret, string, error) {
	v, rel, ok := volumeFor(c, file)
	if !ok || v.Secret == nil {
		return nil, "", fmt.Errorf("%s is not in a Secret volume of container %s", file, c.container.Name)
	}
	key, ok := keyAt(v.Secret.Items, rel)
	if !ok {
		return nil, "", fmt.Errorf("the Secret volume %s projects no file %s", v.Name, rel)
	}
	s, ok := m.secrets[v.Secret.SecretName]
	if !ok {
		return nil, "", fmt.Errorf("Secret %s is not defined here", v.Secret.SecretName)
	}
	if _, ok := s.StringData[key]; !ok {
		return nil, "", fmt.Errorf("Secret %s has no key %s", s.Name, key)
	}
	return s, key, nil
}

// fileSettings returns every `..._file` value of a heartbeat config: the
// `<setting>_file` secrets of its targets and listen_auth's files.
func fileSettings(t *testing.T, configText string) map[string]string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(configText), &cfg); err != nil {
		t.Fatalf("the config is not valid YAML: %v", err)
	}
	found := map[string]string{}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && strings.HasSuffix(k, "_file") {
					found[where+k] = s
				}
				walk(where+k+".", x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s%d.", where, i), x)
			}
		}
	}
	walk("", cfg)
	return found
}

func TestHeartbeatContainers(t *testing.T) {
	m := load(t)
	for _, h := range heartbeatContainers(t, m) {
		t.Run(h.where+"/"+h.container.Name, func(t *testing.T) {
			files := fileSettings(t, h.configText)
			if len(files) == 0 {
				t.Error("the config reads no secret from a file: keep secrets out of the ConfigMap")
			}
			for setting, file := range files {
				if _, _, err := secretFileKey(m, h.containerOf, file); err != nil {
					t.Errorf("%s: %v", setting, err)
				}
			}
			if name, _, _ := strings.Cut(h.container.Image, ":"); name == heartbeatImage {
				if sc := h.container.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != heartbeatUID {
					t.Errorf("the heartbeat image runs as %d", heartbeatUID)
				}
			}
			switch h.subcommand {
			case "run":
				checkProbes(t, h)
			case "exec":
				if !slices.Contains(h.argv, "--") || h.argv[len(h.argv)-1] == "--" {
					t.Error("heartbeat exec needs -- and the job's command")
				}
			default:
				t.Errorf("heartbeat %q: the manifests run heartbeat run or heartbeat exec", h.subcommand)
			}
		})
	}
}

// checkProbes checks that a daemon's liveness and readiness probes GET
// /healthz on the port of its config's listen address, which the kubelet
// can reach (not loopback).
func checkProbes(t *testing.T, h heartbeatContainer) {
	t.Helper()
	var cfg struct {
		Listen string `json:"listen"`
	}
	if err := yaml.Unmarshal([]byte(h.configText), &cfg); err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatalf("the config's listen %q: %v (the probes need it)", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		t.Errorf("listen %q is loopback: the kubelet probes the pod's IP address", cfg.Listen)
	}
	ports := map[string]string{}
	for _, p := range h.container.Ports {
		ports[p.Name] = fmt.Sprint(p.ContainerPort)
		ports[fmt.Sprint(p.ContainerPort)] = fmt.Sprint(p.ContainerPort)
	}
	for name, p := range map[string]*corev1.Probe{"livenessProbe": h.container.LivenessProbe, "readinessProbe": h.container.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: want an httpGet of /healthz", name)
			continue
		}
		if p.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: path %q, want /healthz", name, p.HTTPGet.Path)
		}
		if got := ports[p.HTTPGet.Port.String()]; got != port {
			t.Errorf("%s: port %s is container port %q, but heartbeat listens on %s", name, p.HTTPGet.Port.String(), got, port)
		}
		if p.TimeoutSeconds < 2 {
			t.Errorf("%s: timeoutSeconds %d leaves a loaded node no time", name, p.TimeoutSeconds)
		}
	}
	if lp := h.container.LivenessProbe; lp != nil && lp.PeriodSeconds*lp.FailureThreshold <= 60 {
		t.Errorf("livenessProbe gives up after %d s: a crashed plugin waits up to a minute for its restart, during which /healthz is 503",
			lp.PeriodSeconds*lp.FailureThreshold)
	}
}

func TestCronJobPolicy(t *testing.T) {
	m := load(t)
	n := 0
	for _, o := range m.objects {
		cj, ok := o.obj.(*batchv1.CronJob)
		if !ok {
			continue
		}
		n++
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("CronJob %s: concurrencyPolicy %q, want Forbid", cj.Name, cj.Spec.ConcurrencyPolicy)
		}
		js := cj.Spec.JobTemplate.Spec
		if js.BackoffLimit == nil || *js.BackoffLimit != 0 {
			t.Errorf("CronJob %s: backoffLimit must be 0 (a retry would report the run again)", cj.Name)
		}
		if rp := js.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever {
			t.Errorf("CronJob %s: restartPolicy %q, want Never", cj.Name, rp)
		}
	}
	if n == 0 {
		t.Error("no CronJob")
	}
}

func TestSecretPlaceholdersAreMarked(t *testing.T) {
	m := load(t)
	for _, s := range m.secrets {
		if len(s.Data) > 0 {
			t.Errorf("Secret %s: use stringData with placeholders, not data", s.Name)
		}
		for k, v := range s.StringData {
			if !strings.Contains(v, "REPLACE") {
				t.Errorf("Secret %s, key %s: the value must be a placeholder saying REPLACE", s.Name, k)
			}
		}
	}
	data, err := os.ReadFile("secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("REPLACE EVERY VALUE")) {
		t.Error("secret.yaml must say, at its top, to replace every value")
	}
}

// mountsAt reports whether c mounts a writable volume at path.
func mountsAt(c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path && !m.ReadOnly {
			return true
		}
	}
	return false
}
