package metrics

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// durationBuckets are the upper bounds of heartbeat_delivery_duration_seconds.
var durationBuckets = [...]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// beatKey names one series of heartbeat_beats_total.
type beatKey struct {
	heartbeat, target string
	signal            sdk.Signal
	result, reason    string
}

// durations is one target's series of heartbeat_delivery_duration_seconds.
type durations struct {
	// counts[i] counts the observations in bucket i alone (not
	// cumulated); the last one is above every bound.
	counts [len(durationBuckets) + 1]uint64
	sum    float64
}

func (d *durations) observe(seconds float64) {
	i, _ := slices.BinarySearch(durationBuckets[:], seconds)
	d.counts[i]++
	d.sum += seconds
}

// beatCount is a series of heartbeat_beats_total, with the duration
// series its beats are observed in (nil for skipped beats).
type beatCount struct {
	n         uint64
	durations *durations
}

// beatCounts keeps heartbeat_beats_total and
// heartbeat_delivery_duration_seconds as plain numbers under one lock,
// and makes them metrics only when scraped. The client library's vectors
// would hold about 1.4 KB for each of a heartbeat's targets (label pairs,
// a histogram of atomics for hot and cold counts); this holds about 300
// bytes, which matters at 10,000 heartbeats.
type beatCounts struct {
	beatsDesc, durationDesc *prometheus.Desc

	mu        sync.Mutex
	beats     map[beatKey]*beatCount
	durations map[string]*durations // by target
	// inForce are the (heartbeat, target) pairs of the config in force;
	// gone those the last reload removed, whose beats still in flight
	// must not bring their series back.
	inForce, gone map[[2]string]bool
}

func newBeatCounts() *beatCounts {
	return &beatCounts{
		beatsDesc: prometheus.NewDesc("heartbeat_beats_total",
			"Beats by heartbeat, target, signal and result (delivered, failed or skipped); reason is the failure kind.",
			[]string{"heartbeat", "target", "signal", "result", "reason"}, nil),
		durationDesc: prometheus.NewDesc("heartbeat_delivery_duration_seconds",
			"Time to deliver one beat to one target, retries included.", []string{"target"}, nil),
		beats:     map[beatKey]*beatCount{},
		durations: map[string]*durations{},
	}
}

// count counts one beat of key, unless its pair is gone; a beat that was
// attempted (observe) also counts its duration in seconds.
func (c *beatCounts) count(key beatKey, observe bool, seconds float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.gone) > 0 && c.gone[[2]string{key.heartbeat, key.target}] {
		return
	}
	bc := c.beats[key]
	if bc == nil {
		bc = &beatCount{}
		c.beats[key] = bc
	}
	bc.n++
	if !observe {
		return
	}
	if bc.durations == nil {
		bc.durations = c.durations[key.target]
		if bc.durations == nil {
			bc.durations = &durations{}
			c.durations[key.target] = bc.durations
		}
	}
	bc.durations.observe(seconds)
}

// setInForce makes now the pairs in force, and targets their targets: the
// series of the pairs no longer there are deleted, and so are the
// duration series of the targets in no pair.
func (c *beatCounts) setInForce(now map[[2]string]bool, targets map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gone := map[[2]string]bool{}
	for pair := range c.inForce {
		if !now[pair] {
			gone[pair] = true
		}
	}
	c.gone, c.inForce = gone, now
	for key := range c.beats {
		if gone[[2]string{key.heartbeat, key.target}] {
			delete(c.beats, key)
		}
	}
	for target := range c.durations {
		if !targets[target] {
			delete(c.durations, target)
		}
	}
}

func (c *beatCounts) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.beatsDesc
	ch <- c.durationDesc
}

func (c *beatCounts) Collect(ch chan<- prometheus.Metric) {
	type beatValue struct {
		key beatKey
		n   uint64
	}
	type durationValue struct {
		target string
		d      durations
	}
	// Copied under the lock and sent without it: the registry may be slow
	// to take them, and beats must not wait for a scrape.
	c.mu.Lock()
	beats := make([]beatValue, 0, len(c.beats))
	for key, bc := range c.beats {
		beats = append(beats, beatValue{key, bc.n})
	}
	durs := make([]durationValue, 0, len(c.durations))
	for target, d := range c.durations {
		durs = append(durs, durationValue{target, *d})
	}
	c.mu.Unlock()
	for _, b := range beats {
		ch <- prometheus.MustNewConstMetric(c.beatsDesc, prometheus.CounterValue, float64(b.n),
			b.key.heartbeat, b.key.target, b.key.signal.String(), b.key.result, b.key.reason)
	}
	for _, d := range durs {
		buckets := make(map[float64]uint64, len(durationBuckets))
		var total uint64
		for i, upper := range durationBuckets {
			total += d.d.counts[i]
			buckets[upper] = total
		}
		total += d.d.counts[len(durationBuckets)]
		ch <- prometheus.MustNewConstHistogram(c.durationDesc, total, d.d.sum, buckets, d.target)
	}
}
