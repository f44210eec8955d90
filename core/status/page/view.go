package page

import (
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// Bounds of what one page shows, whatever the snapshot holds: the page
// stays readable, and its size bounded, with a hostile or buggy source.
const (
	maxName       = 80  // runes of a name, frequency or plugin
	maxShort      = 160 // runes of a detail shown on the card
	maxTip        = 300 // runes of a detail in a tooltip or title
	maxHeartbeats = 500
	maxTargets    = 50
	maxPlugins    = 100
	maxDeliveries = 20 // per beat, in its tooltip
)

// view is what the template renders: plain strings, each bounded, and
// class names from fixed sets only.
type view struct {
	CSS         template.CSS
	Refresh     int
	Title       string
	Generated   timeView
	Started     timeView
	Uptime      string
	Ready       bool
	Summary     []countView
	Heartbeats  []heartbeatView
	MoreHBs     int
	Plugins     []pluginView
	MorePlugins int
}

type countView struct {
	Class, Label string
	N            int
}

type timeView struct {
	// ISO is the machine-readable time (<time datetime>); Text the
	// readable one; Rel "in 4m 10s" or "3s ago".
	ISO, Text, Rel string
	Set            bool
}

type heartbeatView struct {
	ID         string
	Name       string
	Frequency  string
	Timezone   string
	Check      string
	StateClass string
	StateLabel string
	Next       timeView
	NextNote   string // why there is no next beat
	Targets    []targetView
	MoreTgts   int
	Beats      []beatView
	LastBeat   string
}

type targetView struct {
	Name, Plugin, Description string
	Signal                    string
	ResultClass, ResultLabel  string
	Kind                      string
	Detail, DetailFull        string
	Truncated                 bool
	At                        timeView
	LastSuccess               timeView
}

type beatView struct {
	Class string // the outcome's class: o-ok, o-degraded, o-failed, o-skipped
	Glyph string // a shape besides the colour: the outcome never rests on colour alone
	Label string
	Lines []string // the tooltip: time, outcome, check, one line per delivery
}

type pluginView struct {
	Name       string
	StateClass string
	StateLabel string
	Restarts   int
	Next       timeView
	Detail     string
	DetailFull string
	Truncated  bool
}

// states maps a heartbeat state to its class and label; an unknown state
// is shown as it is, with a neutral class.
var states = map[string][2]string{
	status.StateOK:       {"s-ok", "OK"},
	status.StateFailing:  {"s-failing", "Failing"},
	status.StateDegraded: {"s-degraded", "Degraded"},
	status.StatePending:  {"s-pending", "Pending"},
}

var outcomes = map[string][3]string{ // class, glyph, label
	status.OutcomeOK:          {"o-ok", "", "ok"},
	status.OutcomeDegraded:    {"o-degraded", "~", "degraded"},
	status.OutcomeFailed:      {"o-failed", "!", "failed"},
	status.OutcomeCheckFailed: {"o-failed", "!", "check failed"},
	status.OutcomeSkipped:     {"o-skipped", "-", "skipped"},
}

var results = map[string][2]string{
	status.ResultDelivered: {"r-ok", "delivered"},
	status.ResultFailed:    {"r-failed", "FAILED"},
	status.ResultSkipped:   {"r-skipped", "skipped"},
}

var pluginStates = map[string][2]string{
	status.PluginRunning:    {"s-ok", "running"},
	status.PluginRestarting: {"s-degraded", "restarting"},
	status.PluginRefused:    {"s-failing", "refused"},
	status.PluginStopped:    {"s-pending", "stopped"},
}

// build turns a snapshot into the page's view.
func build(s status.Snapshot, css template.CSS) view {
	now := s.GeneratedAt
	if now.IsZero() {
		now = time.Now()
	}
	zones := map[string]*time.Location{}
	v := view{
		CSS:       css,
		Refresh:   RefreshSeconds,
		Generated: at(now, now, time.UTC),
		Ready:     s.Ready,
	}
	if !s.StartedAt.IsZero() {
		v.Started = at(s.StartedAt, now, time.UTC)
		v.Uptime = status.Span(now.Sub(s.StartedAt))
	}
	counts := map[string]int{}
	hbs := s.Heartbeats
	if len(hbs) > maxHeartbeats {
		v.MoreHBs = len(hbs) - maxHeartbeats
		hbs = hbs[:maxHeartbeats]
	}
	for i, hb := range hbs {
		h := heartbeatView{
			ID:        fmt.Sprintf("hb-%d", i+1),
			Name:      clip(hb.Name, maxName),
			Frequency: clip(hb.Frequency, maxName),
			Timezone:  clip(hb.Timezone, maxName),
			Check:     clip(hb.Check, maxShort),
		}
		h.StateClass, h.StateLabel = lookup(states, hb.State, "s-unknown")
		counts[h.StateClass]++
		loc := zone(zones, hb.Timezone)
		if hb.NextBeat != nil {
			h.Next = at(*hb.NextBeat, now, loc)
		} else {
			h.NextNote = "not scheduled"
		}
		tgts := hb.Targets
		if len(tgts) > maxTargets {
			h.MoreTgts = len(tgts) - maxTargets
			tgts = tgts[:maxTargets]
		}
		for _, t := range tgts {
			tv := targetView{
				Name:        clip(t.Name, maxName),
				Plugin:      clip(t.Plugin, maxName),
				Description: clip(t.Description, maxTip),
				Signal:      clip(t.LastSignal, maxName),
				Kind:        clip(t.LastKind, maxName),
			}
			tv.Detail, tv.DetailFull, tv.Truncated = detail(t.LastDetail)
			if t.LastResult == "" {
				tv.ResultClass, tv.ResultLabel = "r-none", "no beat yet"
			} else {
				tv.ResultClass, tv.ResultLabel = lookup(results, t.LastResult, "r-unknown")
			}
			if t.LastAt != nil {
				tv.At = at(*t.LastAt, now, loc)
			}
			if t.LastSuccessAt != nil {
				tv.LastSuccess = at(*t.LastSuccessAt, now, loc)
			}
			h.Targets = append(h.Targets, tv)
		}
		beats := hb.Beats
		if len(beats) > status.MaxBeats {
			beats = beats[len(beats)-status.MaxBeats:]
		}
		for _, b := range beats {
			h.Beats = append(h.Beats, beatOf(b, now, loc))
		}
		if n := len(h.Beats); n > 0 {
			last := beats[n-1]
			h.LastBeat = "Last beat: " + h.Beats[n-1].Label
			if !last.StartedAt.IsZero() {
				h.LastBeat += ", " + at(last.StartedAt, now, loc).Rel
			}
		}
		v.Heartbeats = append(v.Heartbeats, h)
	}
	for _, c := range []struct{ class, label string }{
		{"s-failing", "failing"}, {"s-degraded", "degraded"}, {"s-ok", "ok"}, {"s-pending", "pending"}, {"s-unknown", "other"},
	} {
		if n := counts[c.class]; n > 0 {
			v.Summary = append(v.Summary, countView{Class: c.class, Label: c.label, N: n})
		}
	}
	v.Title = "heartbeat status"
	if len(v.Summary) > 0 {
		parts := make([]string, len(v.Summary))
		for i, c := range v.Summary {
			parts[i] = fmt.Sprintf("%d %s", c.N, c.Label)
		}
		v.Title = strings.Join(parts, ", ") + " · heartbeat status"
	}
	plugins := s.Plugins
	if len(plugins) > maxPlugins {
		v.MorePlugins = len(plugins) - maxPlugins
		plugins = plugins[:maxPlugins]
	}
	for _, p := range plugins {
		pv := pluginView{Name: clip(p.Name, maxName), Restarts: p.Restarts}
		pv.StateClass, pv.StateLabel = lookup(pluginStates, p.State, "s-unknown")
		pv.Detail, pv.DetailFull, pv.Truncated = detail(p.Detail)
		if p.NextRestart != nil {
			pv.Next = at(*p.NextRestart, now, time.UTC)
		}
		v.Plugins = append(v.Plugins, pv)
	}
	return v
}

// beatOf is one cell of the timeline strip and its tooltip.
func beatOf(b status.Beat, now time.Time, loc *time.Location) beatView {
	o, ok := outcomes[b.Outcome]
	if !ok {
		o = [3]string{"o-unknown", "?", clip(b.Outcome, maxName)}
	}
	bv := beatView{Class: o[0], Glyph: o[1], Label: o[2]}
	when := b.StartedAt
	if when.IsZero() {
		when = b.ScheduledAt
	}
	t := at(when, now, loc)
	head := fmt.Sprintf("#%d · %s · %s (%s)", b.Sequence, bv.Label, t.Text, t.Rel)
	if !b.FinishedAt.IsZero() && !b.StartedAt.IsZero() && !b.FinishedAt.Before(b.StartedAt) {
		head += " · took " + millis(float64(b.FinishedAt.Sub(b.StartedAt))/float64(time.Millisecond))
	}
	bv.Lines = append(bv.Lines, head)
	if c := b.Check; c != nil {
		line := "check ok"
		if !c.OK {
			line = "check FAILED"
		}
		if c.ExitCode != nil {
			line += fmt.Sprintf(", exit %d", *c.ExitCode)
		}
		line += ", " + millis(c.DurationMS)
		if m := clip(c.Message, maxTip); m != "" {
			line += ": " + m
		}
		bv.Lines = append(bv.Lines, line)
	}
	ds := b.Deliveries
	if len(ds) > maxDeliveries {
		ds = ds[:maxDeliveries]
	}
	for _, d := range ds {
		r := d.Result
		if rv, ok := results[d.Result]; ok {
			r = rv[1]
		}
		line := fmt.Sprintf("%s: %s %s", clip(d.Target, maxName), clip(d.Signal, maxName), clip(r, maxName))
		if d.Kind != "" {
			line += " (" + clip(d.Kind, maxName) + ")"
		}
		if d.Attempts > 1 {
			line += fmt.Sprintf(", %d attempts", d.Attempts)
		}
		line += ", " + millis(d.DurationMS)
		if s, _, _ := detail(d.Detail); s != "" {
			line += " — " + s
		}
		bv.Lines = append(bv.Lines, line)
	}
	if n := len(b.Deliveries) - len(ds); n > 0 {
		bv.Lines = append(bv.Lines, fmt.Sprintf("and %d more targets", n))
	}
	return bv
}

func lookup(m map[string][2]string, key, fallback string) (class, label string) {
	if v, ok := m[key]; ok {
		return v[0], v[1]
	}
	if key == "" {
		return fallback, "unknown"
	}
	return fallback, clip(key, maxName)
}

func zone(cache map[string]*time.Location, name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, ok := cache[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	cache[name] = loc
	return loc
}

// at describes t as the page shows it, relative to now.
func at(t, now time.Time, loc *time.Location) timeView {
	tv := timeView{ISO: t.UTC().Format(time.RFC3339), Text: t.In(loc).Format("2006-01-02 15:04:05 MST"), Set: true}
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		tv.Rel = "in " + status.Span(d)
	case d >= 0:
		tv.Rel = "due now"
	case d > -time.Second:
		tv.Rel = "just now"
	default:
		tv.Rel = status.Span(-d) + " ago"
	}
	return tv
}

// millis writes a duration in milliseconds as people read it: "2.6 ms",
// "128 ms", then "12s" and up.
func millis(ms float64) string {
	switch {
	case ms < 0:
		return "0 ms"
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.0f ms", ms)
	default:
		return status.Span(time.Duration(ms * float64(time.Millisecond)))
	}
}

// detail is a detail as the card shows it, and the longer form for its
// title when the card's is cut.
func detail(s string) (short, full string, cut bool) {
	full = clip(s, maxTip)
	short = clip(s, maxShort)
	return short, full, short != full
}

// clip makes s one line of at most n runes: control characters become
// spaces, invalid UTF-8 the replacement character, and a cut is marked
// with an ellipsis.
func clip(s string, n int) string {
	if len(s) > 4*n+4 {
		s = s[:4*n+4] // enough for n runes; bounds the work on a huge input
	}
	var b strings.Builder
	count := 0
	for i, r := range s {
		if count == n {
			if i < len(s) {
				return strings.TrimRight(b.String(), " ") + "…"
			}
			break
		}
		switch {
		case r == utf8.RuneError:
			r = '\uFFFD'
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029':
			r = ' '
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}
