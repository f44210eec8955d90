package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

// Beats delivers the beats of one stream, each on a goroutine of its own
// (reused from earlier beats) so a slow monitoring tool delays no other
// beat, and sends the answers back as they come, those ready together in
// one message. Beats beyond the bound of a Limited instance wait for it
// without a goroutine.
func (s *server) Beats(stream targetv1.TargetService_BeatsServer) error {
	// Each beat's context is a root of its own, cut through running when
	// the stream ends, not a child of the stream's context: that one
	// carries a dozen gRPC values, which net/http looks up several times a
	// request, and a shared parent would put every beat's start and end
	// behind one lock.
	out := newAnswerQueue()
	sent := make(chan error, 1)
	beats := &streamBeats{running: map[uint64]*streamBeat{}}
	var wg sync.WaitGroup
	stopWatch := context.AfterFunc(stream.Context(), beats.cutAll)
	defer stopWatch()
	go func() { sent <- out.sendAll(stream.Send, beats.busy) }()

	var recvErr error
	for {
		req, err := stream.Recv()
		if err != nil {
			recvErr = err
			break
		}
		for _, id := range req.GetCancel() {
			beats.stop(id)
		}
		for _, b := range req.GetBeats() {
			wg.Add(1)
			s.startStreamed(b, beats, out, wg.Done)
		}
	}
	if !errors.Is(recvErr, io.EOF) {
		// The core went away: nobody waits for the answers.
		beats.cutAll()
	}
	wg.Wait()
	out.close()
	if err := <-sent; err != nil {
		return err
	}
	if errors.Is(recvErr, io.EOF) || status.Code(recvErr) == codes.Canceled {
		return nil
	}
	return recvErr
}

// startStreamed starts one beat of a Beats stream on a worker goroutine,
// or queues it behind its instance's bound (see Limited). It calls done
// once the answer is queued.
func (s *server) startStreamed(b *targetv1.StreamedBeat, beats *streamBeats, out *answerQueue, done func()) {
	sb := &streamBeat{id: b.GetId(), req: b.GetBeat()}
	if t := b.GetTimeout(); t != nil {
		sb.deadline = time.Now().Add(t.AsDuration())
	}
	beats.add(sb)
	inst, ok := s.instance(sb.req.GetInstance())
	finish := func(detail string, code codes.Code) {
		beats.forget(sb)
		out.push(&targetv1.BeatResult{Id: sb.id, Code: uint32(code), Detail: detail})
		done()
	}
	if ok {
		if l, limited := inst.(Limited); limited {
			sb.beat = beatFromProto(sb.req)
			sb.converted = true
			if key, n := s.beatLimit(l, sb); key != nil && n > 0 {
				sb.limit = n
				slot := &beatSlot{limits: &s.limits, key: key}
				var step beatStep = func() beatStep {
					finish(s.runStreamed(inst, ok, sb, beats, slot))
					return slot.release()
				}
				admitted, err := s.limits.admit(key, n, step)
				switch {
				case err != nil:
					if s.badLimitKey.CompareAndSwap(false, true) {
						s.logger.Error("beats are sent without their bound", "error", err.Error())
					}
					sb.limit = 0
				case admitted:
					s.workers.Go(func() { runSteps(step) })
					return
				default:
					return // the beat that frees a slot runs it
				}
			}
		}
	}
	s.workers.Go(func() { finish(s.runStreamed(inst, ok, sb, beats, nil)) })
}

// runSteps runs a bounded beat, then the waiting beat it handed its slot
// to, and so on, on one goroutine.
func runSteps(step beatStep) {
	for step != nil {
		step = step()
	}
}

// beatSlot is a bounded beat's place under its bound. It is given up
// once: when the beat ends, or when the beat's context ends, whichever
// comes first, so that a Beat that overruns its context holds up no
// other beat.
type beatSlot struct {
	once   sync.Once
	limits *beatLimits
	key    any
}

// release gives the slot up, and returns the waiting beat that takes it:
// nil when none waits, or when the slot was given up before.
func (sl *beatSlot) release() (next beatStep) {
	sl.once.Do(func() { next = sl.limits.done(sl.key) })
	return next
}

// beatLimit is l's bound for sb; none when BeatLimit panics, which is
// logged (the beat itself is then delivered, or fails, as usual).
func (s *server) beatLimit(l Limited, sb *streamBeat) (key any, n int) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("BeatLimit panicked; the beat is sent without its bound", "instance", sb.req.GetInstance(), "panic", fmt.Sprint(r))
			key, n = nil, 0
		}
	}()
	return l.BeatLimit(sb.beat)
}

// runStreamed delivers sb unless it was cut, or its deadline passed, while
// it waited. A bounded beat (slot not nil) gives its slot up as its
// context ends, if it has not returned by then.
func (s *server) runStreamed(inst Instance, ok bool, sb *streamBeat, beats *streamBeats, slot *beatSlot) (string, codes.Code) {
	if !ok {
		return notConfigured(sb.req.GetInstance())
	}
	ctx, cut := beats.begin(sb)
	defer ctx.cancel()
	if cut {
		return "the beat was cancelled before it started", codes.Canceled
	}
	if ctx.Err() != nil && sb.limit > 0 {
		return fmt.Sprintf("the beat's deadline passed before it could start: %d beats to the same destination were under way", sb.limit), codes.DeadlineExceeded
	}
	if slot != nil {
		stop := ctx.whenEnded(func() {
			if next := slot.release(); next != nil {
				s.workers.Go(func() { runSteps(next) })
			}
		})
		// Before cancel, deferred above: a beat that returns in time
		// gives its slot up itself, to the next beat on this goroutine.
		defer stop()
	}
	b := sb.beat
	if !sb.converted {
		b = beatFromProto(sb.req)
	}
	return s.deliverTo(ctx, inst, sb.req.GetInstance(), b)
}

// streamBeats are the beats of one Beats stream that have not ended:
// under way, or waiting behind a bound.
type streamBeats struct {
	mu      sync.Mutex
	running map[uint64]*streamBeat
	ended   bool // the stream is over: cut every beat
}

// streamBeat is one beat of a stream.
type streamBeat struct {
	id       uint64
	req      *targetv1.BeatRequest
	deadline time.Time // zero: none
	// beat is req converted, when converted; a Limited instance needs it
	// to choose the bound.
	beat      Beat
	converted bool
	limit     int // the bound it waited behind; 0 when none
	// Under beats.mu: ctx is the beat's context once it started; cut
	// marks a beat cut before it started.
	ctx *beatContext
	cut bool
}

func (b *streamBeats) add(sb *streamBeat) {
	b.mu.Lock()
	sb.cut = b.ended
	b.running[sb.id] = sb
	b.mu.Unlock()
}

// begin gives sb its context as it starts; cut is true when it was cut
// before.
func (b *streamBeats) begin(sb *streamBeat) (ctx *beatContext, cut bool) {
	ctx = newBeatContext(sb.deadline)
	b.mu.Lock()
	cut = sb.cut || b.ended
	if !cut {
		sb.ctx = ctx
	}
	b.mu.Unlock()
	return ctx, cut
}

// forget drops an ended beat.
func (b *streamBeats) forget(sb *streamBeat) {
	b.mu.Lock()
	if b.running[sb.id] == sb {
		delete(b.running, sb.id)
	}
	b.mu.Unlock()
}

// stop cuts the beat the core cancelled: through its context if it
// started, before it starts otherwise.
func (b *streamBeats) stop(id uint64) {
	b.mu.Lock()
	sb := b.running[id]
	var ctx *beatContext
	if sb != nil {
		delete(b.running, id)
		sb.cut = true
		ctx = sb.ctx
	}
	b.mu.Unlock()
	if ctx != nil {
		ctx.cancel()
	}
}

// cutAll ends every beat: the stream is over.
func (b *streamBeats) cutAll() {
	b.mu.Lock()
	b.ended = true
	started := make([]*beatContext, 0, len(b.running))
	for _, sb := range b.running {
		sb.cut = true
		if sb.ctx != nil {
			started = append(started, sb.ctx)
		}
	}
	b.mu.Unlock()
	for _, ctx := range started {
		ctx.cancel()
	}
}

func (b *streamBeats) busy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.running) > 0
}

// answerQueue collects the answers of a Beats stream for its one sender:
// a gRPC stream may not be sent on from two goroutines at once.
type answerQueue struct {
	mu      sync.Mutex
	pending []*targetv1.BeatResult
	closed  bool
	wake    chan struct{}
}

func newAnswerQueue() *answerQueue { return &answerQueue{wake: make(chan struct{}, 1)} }

func (q *answerQueue) push(r *targetv1.BeatResult) {
	q.mu.Lock()
	q.pending = append(q.pending, r)
	q.mu.Unlock()
	q.notify()
}

func (q *answerQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notify()
}

func (q *answerQueue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// sendAll sends whatever is queued each time it is woken, until the queue
// is closed and empty. After a failed send it keeps draining, so pushers
// never block, and reports the failure at the end.
func (q *answerQueue) sendAll(send func(*targetv1.BeatsResponse) error, busy func() bool) error {
	var failed error
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for range q.wake {
		// Answers come back as their requests end, a few at a time: while
		// other beats are under way, waiting a moment sends those of the
		// same moment together. The last one goes at once.
		if busy() {
			linger.Reset(batchLinger)
			<-linger.C
		}
		q.mu.Lock()
		batch, closed := q.pending, q.closed
		q.pending = nil
		q.mu.Unlock()
		if len(batch) > 0 && failed == nil {
			failed = send(&targetv1.BeatsResponse{Results: batch})
		}
		if closed {
			return failed
		}
	}
	return failed
}
