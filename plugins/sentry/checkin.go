package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // name-based UUIDs (RFC 9562 version 5) are defined on SHA-1; nothing secret is hashed
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const (
	// checkInsPerMinute is Sentry's rate limit per monitor and environment;
	// check-ins over it are dropped after a 202 all the same.
	checkInsPerMinute = 6
	// maxQuoted bounds how much of a server's answer an error quotes.
	maxQuoted = 200
)

// checkIn is the JSON body of a check-in (relay-monitors CheckIn).
// monitor_slug repeats the path's slug: older Relays require it in the
// body, newer ones replace it with the path's.
type checkIn struct {
	CheckInID     string         `json:"check_in_id"`
	MonitorSlug   string         `json:"monitor_slug"`
	Status        string         `json:"status"`
	Environment   string         `json:"environment,omitempty"`
	Duration      *float64       `json:"duration,omitempty"`
	MonitorConfig *monitorConfig `json:"monitor_config,omitempty"`
}

// instance is one configured monitor. Beats of several heartbeats may use
// it at once.
type instance struct {
	// Limit bounds the check-ins sent at once to the DSN's host (every
	// check-in goes there) through this client's transport.
	httpclient.Limit
	cfg    config
	client *http.Client
	logger hclog.Logger
	// endpoint is the check-in URL, public key included: never shown.
	endpoint string
	// where is endpoint with the key redacted, for messages.
	where string
	// salt makes the check-in ids of beats without a run id differ between
	// processes (two hosts beating one monitor), while a retry of a beat in
	// this process reuses its id.
	salt [16]byte

	mu     sync.Mutex
	recent []time.Time // times of the latest check-ins, for the rate-limit warning
	warned bool
	// unmapped holds the heartbeat schedules already warned about, so each
	// is told once; bounded by maxUnmapped.
	unmapped map[sdk.Schedule]bool
}

var _ sdk.Limited = (*instance)(nil)

// maxUnmapped bounds the schedules an instance remembers having warned
// about; past it, no more warnings (a log flood helps no one).
const maxUnmapped = 32

func newInstance(cfg config, client *http.Client, logger hclog.Logger) *instance {
	in := &instance{cfg: cfg, client: client, logger: logger}
	path := "/api/" + cfg.dsn.projectID + "/cron/" + url.PathEscape(cfg.slug) + "/"
	in.endpoint = cfg.dsn.base + path + url.PathEscape(cfg.dsn.publicKey) + "/"
	in.where = cfg.dsn.base + path + sdk.RedactSecret(cfg.dsn.publicKey) + "/"
	_, _ = rand.Read(in.salt[:])
	return in
}

func (in *instance) Describe() string {
	extra := []string{"environment " + in.environmentName()}
	if m := in.cfg.monitor; m != nil {
		if m.Schedule.Type == "" {
			extra = append(extra, "upserts the monitor with the heartbeat's schedule")
		} else {
			extra = append(extra, "upserts the monitor with schedule "+describeSchedule(m.Schedule))
		}
	}
	extra = append(extra, "timeout "+in.cfg.timeout.String())
	return fmt.Sprintf("POST %s (%s)", in.where, strings.Join(extra, ", "))
}

func (in *instance) environmentName() string {
	if in.cfg.environment == "" {
		return "production (Sentry's default)"
	}
	return strconv.Quote(in.cfg.environment)
}

func describeSchedule(s schedule) string {
	if s.Type == "interval" {
		plural := "s"
		if s.Value == 1 {
			plural = ""
		}
		return fmt.Sprintf("every %v %s%s", s.Value, s.Unit, plural)
	}
	return fmt.Sprintf("%q", s.Value)
}

func (in *instance) Beat(ctx context.Context, b sdk.Beat) (sdk.Result, error) {
	ci := checkIn{
		CheckInID:     in.checkInID(b),
		MonitorSlug:   in.cfg.slug,
		Environment:   in.cfg.environment,
		MonitorConfig: in.monitorFor(b),
	}
	switch b.Signal {
	case sdk.SignalStart:
		ci.Status = "in_progress"
	case sdk.SignalSuccess, sdk.SignalFail:
		ci.Status = "ok"
		if b.Signal == sdk.SignalFail {
			ci.Status = "error"
		}
		// Sentry uses a duration only on ok and error; without one it
		// measures from the in_progress check-in, if any.
		if b.CheckLatency > 0 {
			d := math.Round(b.CheckLatency.Seconds()*1000) / 1000
			ci.Duration = &d
		}
	default:
		// A check-in carries no text: the core never sends log, since Info
		// does not list it.
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "the sentry plugin cannot deliver the %s signal: Sentry check-ins carry no text", b.Signal)
	}
	body, err := json.Marshal(ci)
	if err != nil {
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("encoding the check-in: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.endpoint, bytes.NewReader(body))
	if err != nil {
		// The error would quote the URL, key included.
		return sdk.Result{}, sdk.Errorf(sdk.KindPermanent, "cannot build the check-in request for %s", in.where)
	}
	req.Header.Set("Content-Type", "application/json")
	in.noteRate(time.Now())
	resp, err := httpclient.Do(ctx, in.client, req)
	if err != nil {
		return sdk.Result{}, fmt.Errorf("sending the %s check-in to Sentry: %w", ci.Status, err)
	}
	res, err := in.classify(resp)
	in.logger.Debug("checked in", "status", ci.Status, "check_in_id", ci.CheckInID, "heartbeat", b.Heartbeat,
		"attempt", b.Attempt, "answer", httpclient.StatusText(resp.StatusCode), "error", err)
	return res, err
}

// monitorFor is the monitor_config of b's check-in: nil without upsert;
// with the schedule setting, the settings as they are; else the heartbeat's
// schedule, and its time zone unless the timezone setting is given. A
// heartbeat schedule Sentry cannot express sends no monitor_config (Sentry
// requires a schedule in it), with one warning per schedule.
func (in *instance) monitorFor(b sdk.Beat) *monitorConfig {
	m := in.cfg.monitor
	if m == nil || m.Schedule.Type != "" {
		return m
	}
	sch, why := fromHeartbeat(b.Schedule)
	if why != "" {
		in.warnUnmapped(b, why)
		return nil
	}
	mc := *m
	mc.Schedule = sch
	if mc.Timezone == "" {
		mc.Timezone = b.Schedule.Timezone
	}
	return &mc
}

func (in *instance) warnUnmapped(b sdk.Beat, why string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.unmapped[b.Schedule] || len(in.unmapped) >= maxUnmapped {
		return
	}
	if in.unmapped == nil {
		in.unmapped = map[sdk.Schedule]bool{}
	}
	in.unmapped[b.Schedule] = true
	in.logger.Warn(fmt.Sprintf("check-ins of heartbeat %q to monitor %q go without the monitor's schedule (upsert): %s; until then the monitor must exist in Sentry",
		truncate(sdk.OneLine(b.Heartbeat), 60), in.cfg.slug, why))
}

// checkInID pairs a start with its finish. A run id is used as it is when
// it is a UUID (the core's are), else turned into a name-based UUID: the
// start and the finish may reach different plugin processes, so the id
// must follow from the run id alone. A beat without a run id gets its own
// id, the same for each attempt, so a retry after a lost answer does not
// make a second check-in. Never the nil UUID: Sentry would close whichever
// check-in of the monitor is in progress.
func (in *instance) checkInID(b sdk.Beat) string {
	if b.RunID != "" {
		if id, ok := simpleUUID(b.RunID); ok {
			return id
		}
		return nameUUID([]byte("run\x00" + b.RunID))
	}
	name := fmt.Sprintf("beat\x00%x\x00%s\x00%d\x00%d", in.salt, b.Heartbeat, b.Sequence, b.ScheduledAt.UnixNano())
	return nameUUID([]byte(name))
}

// idNamespace is the namespace of the name-based check-in ids (the bytes
// of 6c1d2f0a-93b4-4e57-8a2e-1f7c5b9d3e60).
const idNamespace = "\x6c\x1d\x2f\x0a\x93\xb4\x4e\x57\x8a\x2e\x1f\x7c\x5b\x9d\x3e\x60"

// nameUUID is a version 5 UUID of name, in the 32-hex-digit form Sentry's
// SDKs and Relay write.
func nameUUID(name []byte) string {
	sum := sha1.Sum(append([]byte(idNamespace), name...)) //nolint:gosec // see the import
	sum[6] = sum[6]&0x0f | 0x50                           // version 5
	sum[8] = sum[8]&0x3f | 0x80                           // RFC 9562 variant
	return hex.EncodeToString(sum[:16])
}

// simpleUUID returns s, a UUID with or without dashes in any case, as 32
// lower-case hex digits; false for anything else and for the nil UUID.
func simpleUUID(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 || s == strings.Repeat("0", 32) {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}

// noteRate warns once when check-ins come faster than Sentry takes them:
// it answers 202 and drops them, so nothing else would tell.
func (in *instance) noteRate(now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	cut := 0
	for cut < len(in.recent) && now.Sub(in.recent[cut]) >= time.Minute {
		cut++
	}
	in.recent = append(in.recent[cut:], now)
	if len(in.recent) > checkInsPerMinute {
		in.recent = in.recent[len(in.recent)-checkInsPerMinute-1:]
		if !in.warned {
			in.warned = true
			in.logger.Warn(fmt.Sprintf("more than %d check-ins a minute to monitor %q: Sentry accepts them with 202 but drops those over its limit of %d a minute per monitor and environment (a start and its finish count 2); send beats less often",
				checkInsPerMinute, in.cfg.slug, checkInsPerMinute))
		}
		return
	}
	in.warned = false
}

// classify reads Sentry's answer: 202 means queued, and nothing more (an
// invalid upsert or a rate limit fails silently after it).
func (in *instance) classify(resp httpclient.Response) (sdk.Result, error) {
	code := resp.StatusCode
	said := in.answer(resp)
	switch {
	case code == http.StatusAccepted:
		return sdk.Result{Detail: httpclient.StatusText(code)}, nil
	case code == http.StatusTooManyRequests:
		wait := ""
		if ra := strings.TrimSpace(resp.Header.Get("Retry-After")); ra != "" {
			if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
				wait = fmt.Sprintf(" (it asks to wait %ds)", secs)
			}
		}
		return sdk.Result{}, sdk.RateLimited(fmt.Errorf("%s asks to slow down%s and dropped the check-in (%s); Sentry takes %d check-ins a minute per monitor and environment, so send beats less often",
			in.where, wait, said, checkInsPerMinute))
	case code == http.StatusRequestTimeout || code >= 500:
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("Sentry could not take the check-in now (%s answered %s)", in.where, said))
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("Sentry refused the DSN (%s answered %s): its public key or project id is wrong, or the key is disabled; copy the DSN again from Project Settings > Client Keys (DSN)",
			in.where, said))
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("Sentry rejected the check-in (%s answered %s); a proxy rewriting requests, or a Sentry without this field, is the likely cause", in.where, said))
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s has no Sentry check-in endpoint (%s): check the DSN's host and path; a self-hosted Sentry without Crons answers so too", in.where, said))
	case code >= 200 && code < 300:
		return sdk.Result{}, sdk.Permanent(fmt.Errorf("%s answered %s, not Sentry's 202 Accepted: is the DSN's host a Sentry server?", in.where, said))
	}
	return sdk.Result{}, sdk.Permanent(fmt.Errorf("Sentry refused the check-in (%s answered %s)", in.where, said))
}

// answer summarises a response for messages: "403 Forbidden: <detail>",
// with Relay's JSON detail or a short line of text, bounded, on one line
// and with the public key masked (a proxy may quote the path).
func (in *instance) answer(resp httpclient.Response) string {
	said := httpclient.StatusText(resp.StatusCode)
	text := strings.TrimSpace(string(resp.Body))
	var relay struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(resp.Body, &relay) == nil && relay.Detail != "" {
		text = relay.Detail
	} else if strings.ContainsAny(text, "<{\n\r") {
		text = "" // a page or a document, not a message
	}
	text = sdk.OneLine(text)
	if text == "" {
		return said
	}
	if k := in.cfg.dsn.publicKey; k != "" {
		text = strings.ReplaceAll(text, k, sdk.RedactSecret(k))
	}
	return said + ": " + strconv.Quote(truncate(text, maxQuoted))
}
