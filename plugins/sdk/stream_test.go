package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

// streamTarget's instances answer by their name: "ok-*" deliver, "hang"
// blocks until its beat's context ends, "gate" until gate is closed, the
// others fail with the kind they are named after.
type streamTarget struct {
	gate     chan struct{}
	hanging  atomic.Int32 // "hang" beats begun
	canceled atomic.Int32
}

func (*streamTarget) Info() Info { return Info{Name: "stream", Signals: []Signal{SignalSuccess}} }

func (t *streamTarget) Configure(_ context.Context, req ConfigureRequest) (Instance, error) {
	return &streamInstance{name: req.Instance, t: t}, nil
}

type streamInstance struct {
	name string
	t    *streamTarget
}

func (i *streamInstance) Describe() string { return i.name }

func (i *streamInstance) Beat(ctx context.Context, b Beat) (Result, error) {
	switch {
	case strings.HasPrefix(i.name, "ok"):
		return Result{Detail: fmt.Sprintf("%s #%d", i.name, b.Sequence)}, nil
	case i.name == "hang":
		i.t.hanging.Add(1)
		<-ctx.Done()
		i.t.canceled.Add(1)
		return Result{}, ctx.Err()
	case i.name == "gate":
		select {
		case <-i.t.gate:
			return Result{Detail: "gate opened"}, nil
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	case i.name == "permanent":
		return Result{}, Permanent(errors.New("the tool refused it"))
	case i.name == "notfound":
		return Result{}, NotFound(errors.New("no such check"))
	case i.name == "ratelimited":
		return Result{}, RateLimited(errors.New("slow down"))
	case i.name == "temporary":
		return Result{}, errors.New("503 Service Unavailable")
	case i.name == "panic":
		panic("boom")
	}
	return Result{}, errors.New("unknown instance")
}

// unaryOnly serves the contract as a plugin built before the Beats stream.
type unaryOnly struct {
	targetv1.UnimplementedTargetServiceServer
	s     *server
	beats atomic.Int32
}

func (u *unaryOnly) Info(ctx context.Context, r *targetv1.InfoRequest) (*targetv1.InfoResponse, error) {
	return u.s.Info(ctx, r)
}

func (u *unaryOnly) Configure(ctx context.Context, r *targetv1.ConfigureRequest) (*targetv1.ConfigureResponse, error) {
	return u.s.Configure(ctx, r)
}

func (u *unaryOnly) Beat(ctx context.Context, r *targetv1.BeatRequest) (*targetv1.BeatResponse, error) {
	u.beats.Add(1)
	return u.s.Beat(ctx, r)
}

// countingStreams counts the messages the plugin receives on Beats.
type countingStreams struct {
	messages, beats atomic.Int32
}

func (c *countingStreams) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &countingStream{ServerStream: ss, c: c})
}

type countingStream struct {
	grpc.ServerStream
	c *countingStreams
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if req, ok := m.(*targetv1.BeatsRequest); ok && err == nil {
		s.c.messages.Add(1)
		s.c.beats.Add(int32(len(req.GetBeats())))
	}
	return err
}

// dialStream serves impl over an in-memory listener and returns a client
// of it and a function that stops the server.
func dialStream(t testing.TB, impl targetv1.TargetServiceServer, opts ...grpc.ServerOption) (Client, func()) {
	t.Helper()
	ln := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	targetv1.RegisterTargetServiceServer(srv, impl)
	go func() { _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient("passthrough:///stream",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return NewClient(targetv1.NewTargetServiceClient(conn)), srv.Stop
}

func configureAll(t testing.TB, c Client, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.Configure(context.Background(), n, []byte("{}")); err != nil {
			t.Fatalf("configure %s: %v", n, err)
		}
	}
}

// Many beats at once over the stream each get their own answer, and a
// beat whose tool is stuck holds up none of them.
func TestBeatStreamAnswersEachBeat(t *testing.T) {
	target := &streamTarget{gate: make(chan struct{})}
	counts := &countingStreams{}
	c, _ := dialStream(t, newServer(target, nil), grpc.StreamInterceptor(counts.intercept))
	const n = 500
	names := []string{"gate"}
	for i := range 10 {
		names = append(names, fmt.Sprintf("ok-%d", i))
	}
	configureAll(t, c, names...)

	gated := make(chan error, 1)
	go func() {
		res, err := c.Beat(context.Background(), "gate", Beat{Signal: SignalSuccess})
		if err == nil && res.Detail != "gate opened" {
			err = fmt.Errorf("gate answered %q", res.Detail)
		}
		gated <- err
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			inst := fmt.Sprintf("ok-%d", i%10)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := c.Beat(ctx, inst, Beat{Signal: SignalSuccess, Sequence: uint64(i)})
			if want := fmt.Sprintf("%s #%d", inst, i); err == nil && res.Detail != want {
				err = fmt.Errorf("beat %d answered %q, want %q", i, res.Detail, want)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-gated:
		t.Fatalf("the gated beat ended before its gate opened: %v", err)
	default:
	}
	close(target.gate)
	if err := <-gated; err != nil {
		t.Fatal(err)
	}
	if got := BeatTransport(c); got != TransportStream {
		t.Errorf("BeatTransport = %q, want %q", got, TransportStream)
	}
	if got := counts.beats.Load(); got != n+1 {
		t.Errorf("the plugin received %d beats over the stream, want %d", got, n+1)
	}
	if m := counts.messages.Load(); m > n+1 {
		t.Errorf("%d stream messages for %d beats", m, n+1)
	}
	t.Logf("%d beats in %d messages", counts.beats.Load(), counts.messages.Load())
}

// Over the stream a beat fails with the same kind and words as a Beat call.
func TestBeatStreamKeepsErrorKinds(t *testing.T) {
	names := []string{"permanent", "notfound", "ratelimited", "temporary", "panic", "ok-1"}
	streamed, _ := dialStream(t, newServer(&streamTarget{}, nil))
	unary, _ := dialStream(t, &unaryOnly{s: newServer(&streamTarget{}, nil)})
	configureAll(t, streamed, names...)
	configureAll(t, unary, names...)
	for _, name := range append(names, "never-configured") {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sres, serr := streamed.Beat(ctx, name, Beat{Signal: SignalSuccess, Sequence: 7})
			ures, uerr := unary.Beat(ctx, name, Beat{Signal: SignalSuccess, Sequence: 7})
			if (serr == nil) != (uerr == nil) {
				t.Fatalf("stream: %v, unary: %v", serr, uerr)
			}
			if serr != nil {
				if KindOf(serr) != KindOf(uerr) || serr.Error() != uerr.Error() {
					t.Errorf("stream: %s %q, unary: %s %q", KindOf(serr), serr, KindOf(uerr), uerr)
				}
				return
			}
			if sres != ures {
				t.Errorf("stream: %+v, unary: %+v", sres, ures)
			}
		})
	}
}

// A beat whose caller gives up returns at its deadline, and the plugin
// stops delivering it.
func TestBeatStreamDeadline(t *testing.T) {
	target := &streamTarget{}
	c, _ := dialStream(t, newServer(target, nil))
	configureAll(t, c, "hang", "ok-1")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Beat(ctx, "hang", Beat{Signal: SignalSuccess})
	if err == nil || KindOf(err) != KindTemporary || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v (%s), want a temporary deadline error", err, KindOf(err))
	}
	waitUntil(t, func() bool { return target.canceled.Load() == 1 }, "the plugin's beat was not canceled")
	// The stream still serves other beats.
	if _, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess}); err != nil {
		t.Fatal(err)
	}
}

// A plugin built before the stream gets Beat calls, from the first beat on.
func TestBeatStreamFallsBackToUnary(t *testing.T) {
	impl := &unaryOnly{s: newServer(&streamTarget{}, nil)}
	c, _ := dialStream(t, impl)
	configureAll(t, c, "ok-1")
	for i := range 3 {
		res, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess, Sequence: uint64(i)})
		if err != nil || res.Detail != fmt.Sprintf("ok-1 #%d", i) {
			t.Fatalf("beat %d: %+v, %v", i, res, err)
		}
	}
	if got := impl.beats.Load(); got != 3 {
		t.Errorf("%d Beat calls, want 3", got)
	}
	if got := BeatTransport(c); got != TransportUnary {
		t.Errorf("BeatTransport = %q, want %q", got, TransportUnary)
	}
}

// When the plugin goes away, a waiting beat fails as temporary (it is
// retried after the restart), and no beat waits forever.
func TestBeatStreamBreaks(t *testing.T) {
	target := &streamTarget{gate: make(chan struct{})}
	c, stop := dialStream(t, newServer(target, nil))
	configureAll(t, c, "gate")
	done := make(chan error, 1)
	go func() {
		_, err := c.Beat(context.Background(), "gate", Beat{Signal: SignalSuccess})
		done <- err
	}()
	waitUntil(t, func() bool { return len(target.gate) == 0 && streamsWaiting(c) == 1 }, "the beat never reached the stream")
	go stop()
	close(target.gate)
	select {
	case err := <-done:
		if err != nil && KindOf(err) != KindTemporary {
			t.Fatalf("err = %v (%s), want temporary or delivered", err, KindOf(err))
		}
	case <-time.After(time.Minute):
		t.Fatal("the beat still waits after the plugin went away")
	}
}

func streamsWaiting(c Client) int {
	s := c.(*grpcClient).streams
	s.mu.Lock()
	st := s.stream
	s.mu.Unlock()
	if st == nil {
		return 0
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.waiting)
}

func waitUntil(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
