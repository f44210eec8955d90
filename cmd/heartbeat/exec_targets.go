package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
	"github.com/seed-e9b80cf6/heartbeat/core/pushurl"
)

// reportConfig builds the config of the targets the job is reported to:
// the targets the flags name from the config file, and one target per
// URL (--url, or --uuid/--slug as runitor takes them). Without any of
// those, $HEARTBEAT_URL, then runitor's environment variables, name the
// target. lookup is os.LookupEnv.
func (o *execOptions) reportConfig(lookup func(string) (string, bool)) (*config.Config, []string, error) {
	fromConfig := len(o.targets) > 0 || o.heartbeat != ""
	var urls []string
	for i, u := range o.urls {
		v, err := pushurl.Indirect(u)
		if err != nil {
			return nil, nil, fmt.Errorf("--url #%d: %w", i+1, err)
		}
		urls = append(urls, v)
	}
	runitorFlags := o.uuid != "" || o.slug != "" || o.pingKey != ""
	var hc *pushurl.Target
	if runitorFlags {
		t, err := o.runitorTarget(lookup)
		if err != nil {
			return nil, nil, err
		}
		hc = &t
	}
	if !fromConfig && len(urls) == 0 && hc == nil {
		// Nothing on the command line: the environment.
		if v, ok := lookup(urlEnv); ok && strings.TrimSpace(v) != "" {
			v, err := pushurl.Indirect(strings.TrimSpace(v))
			if err != nil {
				return nil, nil, fmt.Errorf("$%s: %w", urlEnv, err)
			}
			urls = append(urls, v)
		} else if envSet(lookup, checkUUIDEnv, checkSlugEnv, pingKeyEnv, hcPingKeyEnv) {
			t, err := o.runitorTarget(lookup)
			if err != nil {
				return nil, nil, err
			}
			hc = &t
		} else {
			return nil, nil, errors.New("no target to report to: give --url URL (a Healthchecks, Uptime Kuma or other ping URL), or --config PATH with --target NAME or --heartbeat NAME, or --uuid UUID (Healthchecks); or set $" + urlEnv + " or $" + checkUUIDEnv)
		}
	}
	if o.create && hc == nil {
		return nil, nil, errors.New("--create goes with --slug and --ping-key; in a --url, write ?create=1 after the slug")
	}

	cfg := &config.Config{File: "the command line", Targets: map[string]*config.Target{}}
	if fromConfig {
		full, err := o.c.loadConfig()
		if err != nil {
			return nil, nil, err
		}
		sub, err := daemon.SelectTargets(full, o.targets, o.heartbeat)
		if err != nil {
			return nil, nil, err
		}
		cfg = sub
	} else if o.set["config"] {
		return nil, nil, errors.New("--config is given but no --target or --heartbeat says which of its targets to report to")
	}
	var warnings []string
	var made []pushurl.Target
	for i, raw := range urls {
		t, err := pushurl.Recognize(raw)
		if err != nil {
			// Never the URL itself: it holds the secret.
			what := fmt.Sprintf("--url #%d", i+1)
			if len(o.urls) == 0 {
				what = "$" + urlEnv
			}
			return nil, nil, fmt.Errorf("%s %w", what, err)
		}
		made = append(made, t)
	}
	if hc != nil {
		made = append(made, *hc)
	}
	headers := map[string]any{}
	for _, h := range o.headers {
		name, value, _ := parseHeader(h)
		headers[name] = value
	}
	for _, t := range made {
		warnings = append(warnings, t.Warnings...)
		settings := t.Settings
		if len(headers) > 0 {
			settings["headers"] = headers
		}
		if o.requestTimeout > 0 {
			settings["timeout"] = o.requestTimeout.String()
		}
		data, err := json.Marshal(settings)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", t.Display, err)
		}
		name := uniqueName(cfg, t.Plugin)
		cfg.Targets[name] = &config.Target{
			Name: name, Plugin: t.Plugin, Settings: data,
			Delivery: config.Delivery{Timeout: config.DefaultDeliveryTimeout, Retries: config.DefaultRetries, Backoff: config.DefaultRetryBackoff},
			Pos:      config.Pos{File: fmt.Sprintf("%s (%s)", t.Display, t.Kind)},
		}
		cfg.TargetNames = append(cfg.TargetNames, name)
	}
	return cfg, warnings, nil
}

// runitorTarget is the Healthchecks check named as runitor takes it: each
// of UUID, slug and ping key from its flag, else its environment variable,
// each value read from a file when it starts with file:.
func (o *execOptions) runitorTarget(lookup func(string) (string, bool)) (pushurl.Target, error) {
	get := func(flagName, flagValue string, envs ...string) (string, error) {
		v, from := flagValue, "--"+flagName
		if v == "" {
			for _, e := range envs {
				if ev, ok := lookup(e); ok && ev != "" {
					v, from = ev, "$"+e
					break
				}
			}
		}
		v = strings.TrimSpace(v)
		out, err := pushurl.Indirect(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", from, err)
		}
		return out, nil
	}
	uuid, err := get("uuid", o.uuid, checkUUIDEnv)
	if err != nil {
		return pushurl.Target{}, err
	}
	slug, err := get("slug", o.slug, checkSlugEnv)
	if err != nil {
		return pushurl.Target{}, err
	}
	key, err := get("ping-key", o.pingKey, pingKeyEnv, hcPingKeyEnv)
	if err != nil {
		return pushurl.Target{}, err
	}
	api := o.apiURL
	if api == "" {
		if v, ok := lookup(hcAPIURLEnv); ok {
			api = strings.TrimSpace(v)
		}
	}
	return pushurl.HealthchecksCheck(api, uuid, key, slug, o.create)
}

func envSet(lookup func(string) (string, bool), names ...string) bool {
	for _, n := range names {
		if v, ok := lookup(n); ok && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// uniqueName names a target made from a URL after its plugin, numbered
// when there are several.
func uniqueName(cfg *config.Config, plugin string) string {
	name := plugin
	for i := 2; ; i++ {
		if _, taken := cfg.Targets[name]; !taken {
			return name
		}
		name = fmt.Sprintf("%s-%d", plugin, i)
	}
}

// parseHeader splits "Name: value" as runitor's -req-header does.
func parseHeader(h string) (string, string, error) {
	name, value, ok := strings.Cut(h, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", "", errors.New(`write "Name: value", e.g. --header "X-Api-Key: secret"`)
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return "", "", fmt.Errorf("%s is not a valid header name", boundText(name))
		}
	}
	value = strings.TrimSpace(value)
	for _, c := range []byte(value) {
		if (c < ' ' && c != '\t') || c == 0x7f {
			// The value may be a secret: name the header only.
			return "", "", fmt.Errorf("the value of %s holds a control character", name)
		}
	}
	return name, value, nil
}
