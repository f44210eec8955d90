package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

// Client is the host's view of a running plugin process.
type Client interface {
	Info(ctx context.Context) (Info, error)
	// Configure sends one instance's settings (a JSON object). Invalid
	// settings come back as FieldErrors; the description is safe to log.
	Configure(ctx context.Context, instance string, settingsJSON []byte) (description string, err error)
	// Beat delivers one signal; KindOf(err) tells whether to retry.
	Beat(ctx context.Context, instance string, b Beat) (Result, error)
}

type grpcClient struct {
	rpc     targetv1.TargetServiceClient
	streams *beatStreams
}

// NewClient wraps a gRPC client of the contract. Beats go over one Beats
// stream, or as Beat calls to a plugin without it.
func NewClient(rpc targetv1.TargetServiceClient) Client {
	return &grpcClient{rpc: rpc, streams: newBeatStreams(rpc)}
}

func (c *grpcClient) Info(ctx context.Context) (Info, error) {
	resp, err := c.rpc.Info(ctx, &targetv1.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus("info", err)
	}
	return infoFromProto(resp), nil
}

func (c *grpcClient) Configure(ctx context.Context, instance string, settingsJSON []byte) (string, error) {
	resp, err := c.rpc.Configure(ctx, &targetv1.ConfigureRequest{Instance: instance, SettingsJson: settingsJSON})
	if err != nil {
		return "", fromStatus("configure", err)
	}
	if len(resp.GetErrors()) > 0 {
		var errs FieldErrors
		for _, fe := range resp.GetErrors() {
			errs = append(errs, FieldError{Field: fe.GetField(), Message: fe.GetMessage()})
		}
		return "", errs
	}
	return resp.GetDescription(), nil
}

func (c *grpcClient) Beat(ctx context.Context, instance string, b Beat) (Result, error) {
	m := newBeatMessages(instance, b)
	return c.streams.beat(ctx, m, func() (Result, error) { return c.unaryBeat(ctx, &m.req) })
}

func (c *grpcClient) unaryBeat(ctx context.Context, req *targetv1.BeatRequest) (Result, error) {
	resp, err := c.rpc.Beat(ctx, req)
	if err != nil {
		return Result{}, fromStatus("beat", err)
	}
	return Result{Detail: resp.GetDetail()}, nil
}

// fromStatus turns a gRPC error into an error with a Kind and the plugin's
// own wording.
func fromStatus(call string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return Temporary(fmt.Errorf("%s: %w", call, err))
	}
	msg := st.Message()
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded:
		if msg == "" || errors.Is(err, context.DeadlineExceeded) {
			msg = "no answer from the plugin before the deadline"
		}
	case codes.Unavailable:
		if msg == "" {
			msg = "the plugin is not reachable"
		}
	}
	return withKind(codeToKind(st.Code()), errors.New(msg))
}

// BeatStarter is a Client that can also start a beat without waiting for
// it, which costs the host no goroutine while the plugin works. Clients
// made by NewClient are BeatStarters.
type BeatStarter interface {
	// StartBeat sends b for instance, to be answered by deadline, and
	// returns at once. done then gets the outcome exactly once, as Beat
	// would have returned it (past the deadline: a deadline error), on a
	// goroutine of the client's that also delivers other answers: it must
	// not block. cut gives up on the beat (done gets a cancelled error,
	// unless it already had the answer). ok is false when the beat cannot
	// be started this way now (before the plugin has answered a beat over
	// its stream, for a plugin without the stream, with too many beats in
	// flight): nothing was sent, done is never called, and Beat is the way.
	StartBeat(instance string, b Beat, deadline time.Time, done func(Result, error)) (cut func(), ok bool)
}

// StartBeat implements BeatStarter.
func (c *grpcClient) StartBeat(instance string, b Beat, deadline time.Time, done func(Result, error)) (cut func(), ok bool) {
	return c.streams.start(newBeatMessages(instance, b), deadline, done)
}
