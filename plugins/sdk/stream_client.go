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

// expirySlack is how late a stream may give up on a started beat after its
// deadline. A plugin ends a beat at its timeout itself (it is told it);
// the stream's own expiry is the backstop for one that does not, and the
// slack lets one timer serve the deadlines of a few milliseconds together.
const expirySlack = 10 * time.Millisecond

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

// beat delivers m; unary is the fallback for plugins without the stream.
func (c *beatStreams) beat(ctx context.Context, m *beatMessages, unary func() (Result, error)) (Result, error) {
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
	answer := make(chan streamAnswer, 1)
	id, err := s.submit(m, timeoutOf(ctx), time.Time{}, func(a streamAnswer) { answer <- a })
	switch {
	case errors.Is(err, errUnsupported):
		// The stream broke between current and submit: the plugin has none.
		return unary()
	case err != nil:
		return Result{}, err
	}
	select {
	case a := <-answer:
		if errors.Is(a.err, errUnsupported) {
			return unary()
		}
		return a.result()
	case <-ctx.Done():
		s.abandon(id)
		return Result{}, fromStatus("beat", status.FromContextError(ctx.Err()).Err())
	}
}

// start sends m over the stream when one is open and has answered
// before, and returns at once; done gets the answer exactly once, from the
// stream's receiving goroutine, the deadline's timer or cut. false when
// the beat cannot go that way now (no stream yet, a broken one, a plugin
// without it, too many beats in flight): nothing was sent and done is
// never called.
func (c *beatStreams) start(m *beatMessages, deadline time.Time, done func(Result, error)) (cut func(), ok bool) {
	if !c.answered.Load() {
		return nil, false
	}
	c.mu.Lock()
	s := c.stream
	c.mu.Unlock()
	if s == nil || s.broken() {
		return nil, false
	}
	select {
	case c.slots <- struct{}{}:
	default:
		return nil, false
	}
	id, err := s.submit(m, max(time.Until(deadline), time.Millisecond), deadline, func(a streamAnswer) {
		<-c.slots
		done(a.result())
	})
	if err != nil {
		<-c.slots
		return nil, false
	}
	return func() { s.cut(id) }, true
}

// timeoutOf is what is left of ctx's time, 0 when it has no deadline.
func timeoutOf(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return max(time.Until(deadline), time.Millisecond)
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
	waiting map[uint64]func(streamAnswer)
	queue   []*targetv1.StreamedBeat
	cancels []uint64
	err     error // set once the stream broke
	wake    chan struct{}
	done    chan struct{}
	// expiries are the deadlines of the beats started without a waiting
	// goroutine (start), earliest first, all behind one timer.
	expiries expiryHeap
	expiry   *time.Timer
}

type streamAnswer struct {
	res *targetv1.BeatResult
	err error
}

// result is the answer as a Beat call would have returned it.
func (a streamAnswer) result() (Result, error) {
	switch {
	case a.err != nil:
		return Result{}, a.err
	case codes.Code(a.res.GetCode()) != codes.OK:
		return Result{}, fromStatus("beat", status.Error(codes.Code(a.res.GetCode()), a.res.GetDetail()))
	}
	return Result{Detail: a.res.GetDetail()}, nil
}

func newBeatStream(st targetv1.TargetService_BeatsClient, cancel context.CancelFunc, answered *atomic.Bool, unsupported func()) *beatStream {
	s := &beatStream{
		stream:  st,
		cancel:  cancel,
		waiting: map[uint64]func(streamAnswer){},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	s.expiry = time.AfterFunc(time.Hour, s.expire)
	s.expiry.Stop()
	go s.send()
	go s.receive(answered, unsupported)
	return s
}

func (s *beatStream) broken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

// submit queues m, telling the plugin it has timeout (none when 0), and
// returns its id; answer gets what becomes of it, once. With a deadline
// the stream itself gives up on the beat then. The error is why the
// stream broke: nothing was queued and answer is never called.
func (s *beatStream) submit(m *beatMessages, timeout time.Duration, deadline time.Time, answer func(streamAnswer)) (uint64, error) {
	sb := &m.streamed
	if timeout > 0 {
		m.setTimeout(timeout)
	}
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return 0, err
	}
	s.nextID++
	sb.Id = s.nextID
	s.waiting[sb.Id] = answer
	s.queue = append(s.queue, sb)
	if !deadline.IsZero() {
		s.expiries.push(expiring{at: deadline, id: sb.Id})
		if s.expiries[0].id == sb.Id {
			s.expiry.Reset(time.Until(deadline) + expirySlack)
		}
	}
	s.mu.Unlock()
	s.notify()
	return sb.Id, nil
}

// expire gives up on the started beats whose deadline has come, as a Beat
// call's context would, and tells the plugin.
func (s *beatStream) expire() {
	now := time.Now()
	var expired []func(streamAnswer)
	s.mu.Lock()
	for len(s.expiries) > 0 && !s.expiries[0].at.After(now) {
		e := s.expiries.pop()
		if answer, ok := s.waiting[e.id]; ok && s.err == nil {
			delete(s.waiting, e.id)
			s.cancels = append(s.cancels, e.id)
			expired = append(expired, answer)
		}
	}
	if len(s.expiries) > 0 {
		s.expiry.Reset(time.Until(s.expiries[0].at) + expirySlack)
	}
	s.mu.Unlock()
	if len(expired) == 0 {
		return
	}
	s.notify()
	err := fromStatus("beat", status.FromContextError(context.DeadlineExceeded).Err())
	for _, answer := range expired {
		answer(streamAnswer{err: err})
	}
}

// cut gives up on a started beat, as a Beat call whose context is
// cancelled would, and tells the plugin.
func (s *beatStream) cut(id uint64) {
	s.mu.Lock()
	answer, ok := s.waiting[id]
	if ok && s.err == nil {
		delete(s.waiting, id)
		s.cancels = append(s.cancels, id)
	}
	s.mu.Unlock()
	if ok {
		s.notify()
		answer(streamAnswer{err: fromStatus("beat", status.FromContextError(context.Canceled).Err())})
	}
}

// expiring is a started beat's deadline.
type expiring struct {
	at time.Time
	id uint64
}

// expiryHeap is a min-heap by deadline. Its own push and pop, rather than
// container/heap's, spare each beat the boxing of its entry.
type expiryHeap []expiring

func (h *expiryHeap) push(e expiring) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q[i].at.Before(q[parent].at) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

// pop removes and returns the earliest; h must not be empty.
func (h *expiryHeap) pop() expiring {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].at.Before(q[least].at) {
			least = l
		}
		if r < len(q) && q[r].at.Before(q[least].at) {
			least = r
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	*h = q
	return top
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
		if len(batch.Cancel) > 0 {
			batch.Beats, batch.Cancel = s.dropAbandoned(batch.Beats, batch.Cancel)
		}
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

// dropAbandoned leaves out of a batch the beats given up before they were
// sent, and their cancels: the plugin never hears of them. A cancel in the
// same message as its beat could reach a plugin before the beat does, and
// the beat would then run to its timeout. s.mu is held.
func (s *beatStream) dropAbandoned(beats []*targetv1.StreamedBeat, cancels []uint64) ([]*targetv1.StreamedBeat, []uint64) {
	var dropped map[uint64]bool
	kept := beats[:0]
	for _, sb := range beats {
		if _, ok := s.waiting[sb.Id]; ok {
			kept = append(kept, sb)
			continue
		}
		if dropped == nil {
			dropped = map[uint64]bool{}
		}
		dropped[sb.Id] = true
	}
	if dropped == nil {
		return kept, cancels
	}
	keptCancels := cancels[:0]
	for _, id := range cancels {
		if !dropped[id] {
			keptCancels = append(keptCancels, id)
		}
	}
	return kept, keptCancels
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
		// The answers are handed over outside the lock: a started beat's
		// done may start its next attempt on this stream.
		results := resp.GetResults()
		answers := make([]func(streamAnswer), len(results))
		s.mu.Lock()
		for i, r := range results {
			if answer, ok := s.waiting[r.GetId()]; ok {
				delete(s.waiting, r.GetId())
				answers[i] = answer
			}
		}
		if len(s.waiting) == 0 && len(s.expiries) > 0 {
			// Every deadline left belongs to a beat already answered:
			// nothing to wake up for.
			s.expiries = s.expiries[:0]
			s.expiry.Stop()
		}
		s.mu.Unlock()
		for i, answer := range answers {
			if answer != nil {
				answer(streamAnswer{res: results[i]})
			}
		}
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
	s.waiting = map[uint64]func(streamAnswer){}
	s.expiries = nil
	s.expiry.Stop()
	s.mu.Unlock()
	for _, answer := range waiting {
		answer(streamAnswer{err: reason})
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
