package sdk

import (
	"context"
	"errors"
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
// one message.
func (s *server) Beats(stream targetv1.TargetService_BeatsServer) error {
	// Each beat's context is a root of its own, cut through running when
	// the stream ends, not a child of the stream's context: that one
	// carries a dozen gRPC values, which net/http looks up several times a
	// request, and a shared parent would put every beat's start and end
	// behind one lock.
	out := newAnswerQueue()
	sent := make(chan error, 1)
	var (
		mu      sync.Mutex
		running = map[uint64]context.CancelFunc{}
		ended   bool // the stream is over: cut every beat
		wg      sync.WaitGroup
	)
	cutAll := func() {
		mu.Lock()
		ended = true
		cancels := make([]context.CancelFunc, 0, len(running))
		for _, cancel := range running {
			cancels = append(cancels, cancel)
		}
		mu.Unlock()
		for _, cancel := range cancels {
			cancel()
		}
	}
	stopWatch := context.AfterFunc(stream.Context(), cutAll)
	defer stopWatch()
	busy := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(running) > 0
	}
	go func() { sent <- out.sendAll(stream.Send, busy) }()

	stop := func(id uint64) {
		mu.Lock()
		cancel := running[id]
		delete(running, id)
		mu.Unlock()
		if cancel != nil {
			cancel()
		}
	}
	var recvErr error
	for {
		req, err := stream.Recv()
		if err != nil {
			recvErr = err
			break
		}
		for _, id := range req.GetCancel() {
			stop(id)
		}
		for _, b := range req.GetBeats() {
			bctx, cancel := context.WithCancel(context.Background())
			if t := b.GetTimeout(); t != nil {
				bctx, cancel = context.WithTimeout(context.Background(), t.AsDuration())
			}
			id := b.GetId()
			mu.Lock()
			if ended {
				cancel()
			} else {
				running[id] = cancel
			}
			mu.Unlock()
			wg.Add(1)
			s.workers.Go(func() {
				defer wg.Done()
				detail, code := s.deliver(bctx, b.GetBeat())
				stop(id)
				out.push(&targetv1.BeatResult{Id: id, Code: uint32(code), Detail: detail})
			})
		}
	}
	if !errors.Is(recvErr, io.EOF) {
		// The core went away: nobody waits for the answers.
		cutAll()
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
