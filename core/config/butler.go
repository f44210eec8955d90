package config

import (
	"encoding/json"
	"net/url"

	"go.yaml.in/yaml/v3"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// Names given to what a Butler SOS config file declares.
const (
	ButlerHeartbeatName = "butler-sos"
	ButlerTargetName    = "remoteURL"
)

// butlerSOS reads Butler-SOS.heartbeat.{enable,remoteURL,frequency} from a
// Butler SOS config file and ignores the rest of the file, as Butler SOS's
// own schema requires all three keys and nothing else under heartbeat.
func (p *parser) butlerSOS(cfg *Config, butler *yaml.Node) {
	if butler.Kind != yaml.MappingNode {
		p.errs.add(p.pos(butler), "", "Butler-SOS must be a mapping, not %s", kindName(butler))
		return
	}
	hbNode := mappingValue(butler, "heartbeat")
	if hbNode == nil {
		p.errs.add(p.pos(butler), "add Butler-SOS.heartbeat with enable, remoteURL and frequency, as in Butler SOS's production_template.yaml", "this Butler SOS config has no heartbeat section")
		return
	}
	if p.refuseAliases(hbNode, "Butler-SOS.heartbeat (aliases elsewhere in the file are fine)") {
		return
	}
	f := p.fields(hbNode, "Butler-SOS.heartbeat", []string{"enable", "remoteURL", "frequency"})
	if hbNode.Kind != yaml.MappingNode {
		return
	}
	for _, key := range []string{"enable", "remoteURL", "frequency"} {
		if _, ok := f[key]; !ok {
			p.errs.add(p.pos(hbNode), "Butler SOS requires enable, remoteURL and frequency under heartbeat", "Butler-SOS.heartbeat has no %s", key)
		}
	}
	if len(p.errs.errs) > 0 {
		return
	}
	enableNode := f["enable"][1]
	var enable bool
	if enableNode.Tag != "!!bool" || enableNode.Decode(&enable) != nil {
		p.errs.add(p.pos(enableNode), "write enable: true or enable: false", "Butler-SOS.heartbeat.enable must be true or false, not %s", kindName(enableNode))
		return
	}
	remote, ok := p.str(f["remoteURL"][1], "Butler-SOS.heartbeat.remoteURL")
	if !ok {
		return
	}
	if u, err := url.Parse(remote); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.errs.add(p.pos(f["remoteURL"][1]), "write the full URL to call, e.g. https://hc-ping.com/<uuid>", "Butler-SOS.heartbeat.remoteURL is not an http(s) URL")
		return
	}
	if !enable {
		return // Butler SOS sends nothing; neither do we.
	}
	hb := &Heartbeat{Name: ButlerHeartbeatName, Pos: p.pos(hbNode), Targets: []string{ButlerTargetName}}
	p.schedule(hb, f["frequency"][1], "Butler-SOS.heartbeat.frequency", schedule.Parse)
	settings, _ := json.Marshal(map[string]string{"url": remote})
	t := &Target{
		Name:        ButlerTargetName,
		Plugin:      "http",
		Settings:    settings,
		Pos:         p.pos(f["remoteURL"][0]),
		settingPos:  settingPositions{{"url", p.pos(f["remoteURL"][1])}},
		settingsPos: p.pos(f["remoteURL"][1]),
		Delivery:    Delivery{Timeout: DefaultDeliveryTimeout, Retries: DefaultRetries, Backoff: DefaultRetryBackoff},
	}
	cfg.Targets[t.Name] = t
	cfg.TargetNames = append(cfg.TargetNames, t.Name)
	cfg.Heartbeats = append(cfg.Heartbeats, hb)
}
