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
	// The beats' contexts hang off a fresh root cut when the stream ends,
	// not off the stream's own context: that one carries a dozen gRPC
	// values, and net/http looks values up in a request's context chain
	// several times per request.
	ctx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	stopWatch := context.AfterFunc(stream.Context(), cancelAll)
	defer stopWatch()
	out := newAnswerQueue()
	sent := make(chan error, 1)
	var (
		mu      sync.Mutex
		running = map[uint64]context.CancelFunc{}
		wg      sync.WaitGroup
	)
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
			bctx, cancel := context.WithCancel(ctx)
			if t := b.GetTimeout(); t != nil {
				bctx, cancel = context.WithTimeout(ctx, t.AsDuration())
			}
			id := b.GetId()
			mu.Lock()
			running[id] = cancel
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
		cancelAll()
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
