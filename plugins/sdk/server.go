package sdk

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/workpool"
)

// server adapts a Target to the gRPC contract and keeps its instances.
type server struct {
	targetv1.UnimplementedTargetServiceServer
	target Target
	logger hclog.Logger

	mu        sync.RWMutex
	instances map[string]Instance
	// workers run the beats of Beats streams.
	workers *workpool.Pool
	// limits queues the beats beyond the bounds of Limited instances.
	limits beatLimits
	// badLimitKey is set once a BeatLimit key could not be compared, so
	// that it is logged once, not for every beat.
	badLimitKey atomic.Bool
}

// idleBeatWorkers is how many goroutines stay parked between beats for the
// next ones: the goroutines of a burst of thousands of beats. Their stacks
// (tens of KB each once grown) stay allocated while parked; a plugin with
// few beats parks few.
const idleBeatWorkers = 4096

func newServer(t Target, logger hclog.Logger) *server {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &server{target: t, logger: logger, instances: map[string]Instance{}, workers: workpool.New(idleBeatWorkers)}
}

func (s *server) Info(context.Context, *targetv1.InfoRequest) (*targetv1.InfoResponse, error) {
	return infoToProto(s.target.Info()), nil
}

func (s *server) Configure(ctx context.Context, req *targetv1.ConfigureRequest) (*targetv1.ConfigureResponse, error) {
	if req.GetInstance() == "" {
		return nil, status.Error(codes.InvalidArgument, "configure: instance name is empty")
	}
	inst, err := s.target.Configure(ctx, ConfigureRequest{
		Instance: req.GetInstance(),
		Settings: Settings(req.GetSettingsJson()),
		Logger:   s.logger.Named(req.GetInstance()),
	})
	if err != nil {
		resp := &targetv1.ConfigureResponse{}
		for _, fe := range AsFieldErrors(err) {
			resp.Errors = append(resp.Errors, &targetv1.FieldError{Field: fe.Field, Message: fe.Message})
		}
		return resp, nil
	}
	if inst == nil {
		return nil, status.Errorf(codes.Internal, "configure %q: the plugin returned no instance", req.GetInstance())
	}
	s.mu.Lock()
	s.instances[req.GetInstance()] = inst
	s.mu.Unlock()
	return &targetv1.ConfigureResponse{Description: inst.Describe()}, nil
}

func (s *server) Beat(ctx context.Context, req *targetv1.BeatRequest) (*targetv1.BeatResponse, error) {
	detail, code := s.deliver(ctx, req)
	if code != codes.OK {
		return nil, status.Error(code, detail)
	}
	return &targetv1.BeatResponse{Detail: detail}, nil
}

// deliver hands one beat to its instance: on success the tool's answer and
// codes.OK, otherwise the error's text and the code a Beat call fails with.
func (s *server) deliver(ctx context.Context, req *targetv1.BeatRequest) (detail string, code codes.Code) {
	inst, ok := s.instance(req.GetInstance())
	if !ok {
		return notConfigured(req.GetInstance())
	}
	return s.deliverTo(ctx, inst, req.GetInstance(), beatFromProto(req))
}

func (s *server) instance(name string) (Instance, bool) {
	s.mu.RLock()
	inst, ok := s.instances[name]
	s.mu.RUnlock()
	return inst, ok
}

func notConfigured(name string) (string, codes.Code) {
	return fmt.Sprintf("target %q is not configured in this plugin process", name), codes.FailedPrecondition
}

// deliverTo hands beat b to inst, the instance named name.
func (s *server) deliverTo(ctx context.Context, inst Instance, name string, b Beat) (detail string, code codes.Code) {
	// A panic in one beat must not take down the instances of other heartbeats.
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("beat panicked", "instance", name, "panic", fmt.Sprint(r))
			detail, code = fmt.Sprintf("the plugin failed while delivering the beat: %v", r), codes.Internal
		}
	}()
	res, err := inst.Beat(ctx, b)
	if err != nil {
		return err.Error(), kindToCode(KindOf(err), ctx)
	}
	return res.Detail, codes.OK
}

func kindToCode(k Kind, ctx context.Context) codes.Code {
	switch k {
	case KindPermanent:
		return codes.InvalidArgument
	case KindNotFound:
		return codes.NotFound
	case KindRateLimited:
		return codes.ResourceExhausted
	case KindNotConfigured:
		return codes.FailedPrecondition
	}
	if ctx.Err() != nil {
		return codes.DeadlineExceeded
	}
	return codes.Unavailable
}

func codeToKind(c codes.Code) Kind {
	switch c {
	case codes.InvalidArgument, codes.Unimplemented, codes.PermissionDenied, codes.Unauthenticated:
		return KindPermanent
	case codes.NotFound:
		return KindNotFound
	case codes.ResourceExhausted:
		return KindRateLimited
	case codes.FailedPrecondition:
		return KindNotConfigured
	}
	return KindTemporary
}
