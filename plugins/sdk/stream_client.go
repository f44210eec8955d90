package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

// MaxBeatsInFlight bounds the beats one plugin process is delivering at
// once over its stream: a beat beyond it waits, within its own deadline,
// for one to end. Far above what a healthy plugin holds (a beat usually
// takes milliseconds), it bounds the memory a hanging monitoring tool can
// make a plugin hold.
const MaxBeatsInFlight = 16384

// batchLinger is how long a Beats stream's sender, core or plugin side,
// waits after the first beat or answer before sending, for the others of
// the same moment to join it, when other beats are under way (a burst). A
// beat or answer with nothing else under way goes at once. It is small
// against the time a beat takes to reach a monitoring tool.
const batchLinger = time.Millisecond

// beatStreams sends beats over one Beats stream per plugin process, opened
// on the first beat and again after it broke, and falls back to unary Beat
// calls for good once the plugin says it does not implement the stream.
type beatStreams struct {
	rpc   targetv1.TargetServiceClient
	slots chan struct{}

	mu     sync.Mutex
	unary  bool
	stream *beatStream
	// answered is set once the plugin answered a beat over a stream.
	answered atomic.Bool
}

func newBeatStreams(rpc targetv1.TargetServiceClient) *beatStreams {
	return &beatStreams{rpc: rpc, slots: make(chan struct{}, MaxBeatsInFlight)}
}

// errUnsupported tells a waiting beat that the plugin has no Beats stream.
var errUnsupported = errors.New("the plugin does not implement the beat stream")

// beat delivers req; unary is the fallback for plugins without the stream.
func (c *beatStreams) beat(ctx context.Context, req *targetv1.BeatRequest, unary func() (Result, error)) (Result, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fromStatus("beat", status.FromContextError(ctx.Err()).Err())
	}
	defer func() { <-c.slots }()
	s, ok := c.current()
	if !ok {
		return unary()
	}
	id, answer := s.submit(ctx, req)
	select {
	case a := <-answer:
		switch {
		case errors.Is(a.err, errUnsupported):
			return unary()
		case a.err != nil:
			return Result{}, a.err
		case codes.Code(a.res.GetCode()) != codes.OK:
			return Result{}, fromStatus("beat", status.Error(codes.Code(a.res.GetCode()), a.res.GetDetail()))
		}
		return Result{Detail: a.res.GetDetail()}, nil
	case <-ctx.Done():
		s.abandon(id)
		return Result{}, fromStatus("beat", status.FromContextError(ctx.Err()).Err())
	}
}

// current is the open stream, opening one when there is none or the last
// one broke; false when beats go as unary calls.
func (c *beatStreams) current() (*beatStream, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unary {
		return nil, false
	}
	if c.stream != nil && !c.stream.broken() {
		return c.stream, true
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := c.rpc.Beats(ctx)
	if err != nil {
		cancel()
		if status.Code(err) == codes.Unimplemented {
			c.unary = true
		}
		// Unary calls report the connection's state as a Beat call would.
		return nil, false
	}
	c.stream = newBeatStream(st, cancel, &c.answered, func() {
		c.mu.Lock()
		c.unary = true
		c.mu.Unlock()
	})
	return c.stream, true
}

// beatStream is one open Beats stream: a sender that batches what is
// queued, a receiver that hands each answer to the beat waiting for it.
type beatStream struct {
	stream targetv1.TargetService_BeatsClient
	cancel context.CancelFunc

	mu      sync.Mutex
	nextID  uint64
	waiting map[uint64]chan streamAnswer
	queue   []*targetv1.StreamedBeat
	cancels []uint64
	err     error // set once the stream broke
	wake    chan struct{}
	done    chan struct{}
}

type streamAnswer struct {
	res *targetv1.BeatResult
	err error
}

func newBeatStream(st targetv1.TargetService_BeatsClient, cancel context.CancelFunc, answered *atomic.Bool, unsupported func()) *beatStream {
	s := &beatStream{
		stream:  st,
		cancel:  cancel,
		waiting: map[uint64]chan streamAnswer{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go s.send()
	go s.receive(answered, unsupported)
	return s
}

func (s *beatStream) broken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

// submit queues req and returns its id and where its answer will arrive.
func (s *beatStream) submit(ctx context.Context, req *targetv1.BeatRequest) (uint64, chan streamAnswer) {
	answer := make(chan streamAnswer, 1)
	sb := &targetv1.StreamedBeat{Beat: req}
	if deadline, ok := ctx.Deadline(); ok {
		sb.Timeout = durationpb.New(max(time.Until(deadline), time.Millisecond))
	}
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		answer <- streamAnswer{err: err}
		return 0, answer
	}
	s.nextID++
	sb.Id = s.nextID
	s.waiting[sb.Id] = answer
	s.queue = append(s.queue, sb)
	s.mu.Unlock()
	s.notify()
	return sb.Id, answer
}

// abandon forgets a beat whose caller gave up, and tells the plugin.
func (s *beatStream) abandon(id uint64) {
	s.mu.Lock()
	if _, ok := s.waiting[id]; ok && s.err == nil {
		delete(s.waiting, id)
		s.cancels = append(s.cancels, id)
	}
	s.mu.Unlock()
	s.notify()
}

func (s *beatStream) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// send sends what is queued, all of it in one message, each time it is
// woken, until the stream breaks.
func (s *beatStream) send() {
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		// The scheduler hands over the beats due at one instant one by
		// one: while earlier ones are under way, waiting a moment lets the
		// rest travel in one message instead of one each, which costs both
		// processes a write, a read and a wake-up per message.
		if s.burst() {
			linger.Reset(batchLinger)
			select {
			case <-s.done:
				linger.Stop()
				return
			case <-linger.C:
			}
		}
		s.mu.Lock()
		batch := &targetv1.BeatsRequest{Beats: s.queue, Cancel: s.cancels}
		s.queue, s.cancels = nil, nil
		s.mu.Unlock()
		if len(batch.Beats) == 0 && len(batch.Cancel) == 0 {
			continue
		}
		if err := s.stream.Send(batch); err != nil {
			// The receiver learns why and answers every waiting beat.
			return
		}
	}
}

// burst reports that beats sent earlier still wait for their answers:
// more of the same moment are likely on their way.
func (s *beatStream) burst() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting) > len(s.queue)
}

// receive hands each answer to its beat; when the stream breaks, every
// beat still waiting gets the reason, as a failed Beat call would.
func (s *beatStream) receive(everAnswered *atomic.Bool, unsupported func()) {
	answered := false
	for {
		resp, err := s.stream.Recv()
		if err != nil {
			s.fail(err, answered, unsupported)
			return
		}
		if !answered {
			answered = true
			everAnswered.Store(true)
		}
		s.mu.Lock()
		for _, r := range resp.GetResults() {
			if ch, ok := s.waiting[r.GetId()]; ok {
				delete(s.waiting, r.GetId())
				ch <- streamAnswer{res: r}
			}
		}
		s.mu.Unlock()
	}
}

func (s *beatStream) fail(err error, answered bool, unsupported func()) {
	var reason error
	switch {
	case !answered && status.Code(err) == codes.Unimplemented:
		unsupported()
		reason = errUnsupported
	case errors.Is(err, io.EOF):
		reason = Temporary(errors.New("the plugin ended the beat stream"))
	default:
		reason = fromStatus("beat", err)
		if KindOf(reason) != KindTemporary {
			// A broken stream says nothing about the beat itself.
			reason = Temporary(fmt.Errorf("the beat stream broke: %w", reason))
		}
	}
	s.mu.Lock()
	s.err = reason
	waiting := s.waiting
	s.waiting = map[uint64]chan streamAnswer{}
	s.mu.Unlock()
	for _, ch := range waiting {
		ch <- streamAnswer{err: reason}
	}
	close(s.done)
	s.cancel()
}

// How a Client delivers beats, as BeatTransport reports it.
const (
	TransportStream = "stream" // over the plugin's Beats stream
	TransportUnary  = "unary"  // one Beat call each: the plugin has no stream
)

// BeatTransport reports how c delivers beats: TransportStream once the
// plugin answered over its Beats stream, TransportUnary once it said it has
// none, "" before either is known or for a Client not made by NewClient.
func BeatTransport(c Client) string {
	g, ok := c.(*grpcClient)
	if !ok {
		return ""
	}
	g.streams.mu.Lock()
	unary := g.streams.unary
	g.streams.mu.Unlock()
	switch {
	case unary:
		return TransportUnary
	case g.streams.answered.Load():
		return TransportStream
	}
	return ""
}
