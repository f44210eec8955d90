package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Every string a plugin hands the core is bounded where it enters, so a
// hostile or broken plugin cannot flood the log, the metrics or memory.
const (
	// maxPluginText bounds one string: a detail, an error, a description,
	// a field error, an Info field.
	maxPluginText = 1 << 10
	// maxAnswer bounds one gRPC answer from a plugin; larger ones are
	// refused by the transport before they are read.
	maxAnswer = 1 << 20
	// maxFieldErrors and maxInfoEntries bound the lists in an answer.
	maxFieldErrors = 64
	maxInfoEntries = 256
)

// clip returns s with control characters and invalid UTF-8 escaped (so a
// plugin string cannot forge log lines), cut to at most max bytes plus a
// note of how much was cut.
func clip(s string, max int) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean && len(s) <= max {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size <= 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\n':
			piece = `\n`
		case r == '\r':
			piece = `\r`
		case r == '\t':
			piece = `\t`
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			piece = fmt.Sprintf(`\u%04x`, r)
		default:
			piece = s[i : i+size]
		}
		if b.Len()+len(piece) > max {
			fmt.Fprintf(&b, "... (%d more bytes)", len(s)-i)
			return b.String()
		}
		b.WriteString(piece)
		i += size
	}
	return b.String()
}

// boundedClient bounds everything a plugin answers.
type boundedClient struct {
	rpc sdk.Client
}

func (c boundedClient) Info(ctx context.Context) (sdk.Info, error) {
	info, err := c.rpc.Info(ctx)
	if err != nil {
		return sdk.Info{}, boundError(err)
	}
	return boundInfo(info), nil
}

func (c boundedClient) Configure(ctx context.Context, instance string, settings []byte) (string, error) {
	desc, err := c.rpc.Configure(ctx, instance, settings)
	if err != nil {
		return "", boundError(err)
	}
	return clip(desc, maxPluginText), nil
}

func (c boundedClient) Beat(ctx context.Context, instance string, b sdk.Beat) (sdk.Result, error) {
	res, err := c.rpc.Beat(ctx, instance, b)
	if err != nil {
		return sdk.Result{}, boundError(err)
	}
	res.Detail = clip(res.Detail, maxPluginText)
	return res, nil
}

// StartBeat starts a beat without waiting (sdk.BeatStarter), its answer
// bounded as Beat's is.
func (c boundedClient) StartBeat(instance string, b sdk.Beat, deadline time.Time, done func(sdk.Result, error)) (cut func(), ok bool) {
	starter, ok := c.rpc.(sdk.BeatStarter)
	if !ok {
		return nil, false
	}
	return starter.StartBeat(instance, b, deadline, func(res sdk.Result, err error) {
		if err != nil {
			done(sdk.Result{}, boundError(err))
			return
		}
		res.Detail = clip(res.Detail, maxPluginText)
		done(res, nil)
	})
}

func boundInfo(i sdk.Info) sdk.Info {
	out := sdk.Info{
		Name:        clip(i.Name, maxPluginText),
		Version:     clip(i.Version, maxPluginText),
		Description: clip(i.Description, maxPluginText),
		Signals:     i.Signals[:min(len(i.Signals), maxInfoEntries)],
	}
	for _, s := range i.Settings[:min(len(i.Settings), maxInfoEntries)] {
		out.Settings = append(out.Settings, sdk.SettingInfo{
			Name: clip(s.Name, maxPluginText), Type: clip(s.Type, maxPluginText),
			Required: s.Required, Secret: s.Secret,
			Default: clip(s.Default, maxPluginText), Description: clip(s.Description, maxPluginText),
		})
	}
	return out
}

// boundError keeps the kind of a plugin's error and bounds its text.
func boundError(err error) error {
	var fes sdk.FieldErrors
	if errors.As(err, &fes) {
		out := make(sdk.FieldErrors, 0, min(len(fes), maxFieldErrors+1))
		for _, fe := range fes[:min(len(fes), maxFieldErrors)] {
			out = append(out, sdk.FieldError{Field: clip(fe.Field, maxPluginText), Message: clip(fe.Message, maxPluginText)})
		}
		if len(fes) > maxFieldErrors {
			out = append(out, sdk.FieldError{Message: fmt.Sprintf("and %d more errors", len(fes)-maxFieldErrors)})
		}
		return out
	}
	msg := err.Error()
	if strings.Contains(msg, "received message larger than max") {
		// A plugin's answer over maxAnswer: the transport refused it unread.
		return sdk.Permanent(fmt.Errorf("the plugin answered with more than %d bytes, the limit for one answer", maxAnswer))
	}
	return sdk.Errorf(sdk.KindOf(err), "%s", clip(msg, maxPluginText))
}
