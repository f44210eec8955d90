package sdk

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

func signalToProto(s Signal) targetv1.Signal {
	switch s {
	case SignalSuccess:
		return targetv1.Signal_SIGNAL_SUCCESS
	case SignalStart:
		return targetv1.Signal_SIGNAL_START
	case SignalFail:
		return targetv1.Signal_SIGNAL_FAIL
	case SignalLog:
		return targetv1.Signal_SIGNAL_LOG
	}
	return targetv1.Signal_SIGNAL_UNSPECIFIED
}

func signalFromProto(s targetv1.Signal) Signal {
	switch s {
	case targetv1.Signal_SIGNAL_SUCCESS:
		return SignalSuccess
	case targetv1.Signal_SIGNAL_START:
		return SignalStart
	case targetv1.Signal_SIGNAL_FAIL:
		return SignalFail
	case targetv1.Signal_SIGNAL_LOG:
		return SignalLog
	}
	return SignalUnspecified
}

func infoToProto(i Info) *targetv1.InfoResponse {
	resp := &targetv1.InfoResponse{Name: i.Name, Version: i.Version, Description: i.Description}
	for _, s := range i.Signals {
		resp.Signals = append(resp.Signals, signalToProto(s))
	}
	for _, s := range i.Settings {
		resp.Settings = append(resp.Settings, &targetv1.SettingInfo{
			Name: s.Name, Type: s.Type, Required: s.Required, Secret: s.Secret,
			Default: s.Default, Description: s.Description,
		})
	}
	return resp
}

func infoFromProto(r *targetv1.InfoResponse) Info {
	i := Info{Name: r.GetName(), Version: r.GetVersion(), Description: r.GetDescription()}
	for _, s := range r.GetSignals() {
		i.Signals = append(i.Signals, signalFromProto(s))
	}
	for _, s := range r.GetSettings() {
		i.Settings = append(i.Settings, SettingInfo{
			Name: s.GetName(), Type: s.GetType(), Required: s.GetRequired(), Secret: s.GetSecret(),
			Default: s.GetDefault(), Description: s.GetDescription(),
		})
	}
	return i
}

// beatMessages are the messages of one beat on its way to a plugin, in one
// allocation instead of one each: the core sends thousands a second.
type beatMessages struct {
	streamed    targetv1.StreamedBeat
	req         targetv1.BeatRequest
	scheduledAt timestamppb.Timestamp
	schedule    targetv1.Schedule
	timeout     durationpb.Duration
}

// newBeatMessages holds b, for instance, as its BeatRequest (req) and the
// StreamedBeat that carries it (streamed; its id and timeout are set when
// it is queued).
func newBeatMessages(instance string, b Beat) *beatMessages {
	m := &beatMessages{}
	m.req = targetv1.BeatRequest{
		Instance:  instance,
		Heartbeat: b.Heartbeat,
		Signal:    signalToProto(b.Signal),
		Sequence:  b.Sequence,
		Message:   b.Message,
		Log:       b.Log,
		RunId:     b.RunID,
		Attempt:   uint32(max(b.Attempt, 0)),
	}
	if !b.ScheduledAt.IsZero() {
		m.scheduledAt = timestamppb.Timestamp{Seconds: b.ScheduledAt.Unix(), Nanos: int32(b.ScheduledAt.Nanosecond())}
		m.req.ScheduledAt = &m.scheduledAt
	}
	if b.ExitCode != nil {
		code := int32(*b.ExitCode)
		m.req.ExitCode = &code
	}
	if b.CheckLatency > 0 {
		m.req.CheckLatency = durationpb.New(b.CheckLatency)
	}
	if !b.Schedule.IsZero() {
		m.schedule = targetv1.Schedule{Frequency: b.Schedule.Frequency, Cron: b.Schedule.Cron, Timezone: b.Schedule.Timezone}
		m.req.Schedule = &m.schedule
	}
	m.streamed.Beat = &m.req
	return m
}

// setTimeout tells the plugin the beat has d (positive) to run.
func (m *beatMessages) setTimeout(d time.Duration) {
	secs := d / time.Second
	m.timeout = durationpb.Duration{Seconds: int64(secs), Nanos: int32(d - secs*time.Second)}
	m.streamed.Timeout = &m.timeout
}

func beatFromProto(r *targetv1.BeatRequest) Beat {
	b := Beat{
		Heartbeat: r.GetHeartbeat(),
		Signal:    signalFromProto(r.GetSignal()),
		Sequence:  r.GetSequence(),
		Message:   r.GetMessage(),
		Log:       r.GetLog(),
		RunID:     r.GetRunId(),
		Attempt:   int(r.GetAttempt()),
	}
	if r.ScheduledAt != nil {
		b.ScheduledAt = r.ScheduledAt.AsTime()
	}
	if r.ExitCode != nil {
		code := int(r.GetExitCode())
		b.ExitCode = &code
	}
	if r.CheckLatency != nil {
		b.CheckLatency = r.CheckLatency.AsDuration()
	}
	if sc := r.GetSchedule(); sc != nil {
		b.Schedule = Schedule{Frequency: sc.GetFrequency(), Cron: sc.GetCron(), Timezone: sc.GetTimezone()}
	}
	return b
}
