// Package receiver is the HTTP server the measured processes send their
// beats to: it answers 200 at once on kept-alive connections and records
// the arrival time of each request per path /b/<i>. It runs in the bench
// process, so its work is not counted against what is measured, and it is
// kept cheap for 10,000 requests a second on 2 cores: a minimal HTTP/1.1
// server (a goroutine per connection reading the request head from a
// buffer, one write of a fixed answer; net/http's server allocates a
// request, a response writer and header maps for each), no logging, no
// allocation per request, arrival slices allocated up front.
package receiver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Prefix starts the path of every beat: Prefix + the heartbeat's index.
const Prefix = "/b/"

// Receiver records arrivals for heartbeats 0..n-1.
type Receiver struct {
	slots []slot
	odd   atomic.Int64
	l     net.Listener
	addr  string
	done  chan struct{}

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

type slot struct {
	mu   sync.Mutex
	hits []int64  // Unix nanoseconds
	_    [32]byte // keeps neighbouring slots off one cache line
}

// Start listens on 127.0.0.1 and serves until Close. perHeartbeat is the
// number of arrivals to make room for up front (more still fit).
func Start(n, perHeartbeat int) (*Receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{slots: make([]slot, n), l: l, addr: l.Addr().String(), done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	for i := range r.slots {
		r.slots[i].hits = make([]int64, 0, perHeartbeat)
	}
	go r.accept()
	return r, nil
}

func (r *Receiver) accept() {
	defer close(r.done)
	for {
		c, err := r.l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.Close()
			return
		}
		r.conns[c] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.serve(c)
	}
}

// Addr is host:port.
func (r *Receiver) Addr() string { return r.addr }

// URL is the URL heartbeat i sends to.
func (r *Receiver) URL(i int) string { return "http://" + r.addr + Prefix + strconv.Itoa(i) }

// BaseURL is the URL without the index: BaseURL + "<i>" is URL(i).
func (r *Receiver) BaseURL() string { return "http://" + r.addr + Prefix }

const (
	maxHead    = 8 << 10 // a longer request line or header line closes the connection
	maxHeaders = 100
	maxBody    = 1 << 20
	idle       = 10 * time.Minute // beats come every second; a silent connection is dead
)

var (
	answerOK       = []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	answerNotFound = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	answerBad      = []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
)

// serve answers the requests of one connection, in order, until it closes
// or sends something this server does not take (then 400 and close).
func (r *Receiver) serve(c net.Conn) {
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
		r.wg.Done()
	}()
	br := bufio.NewReaderSize(c, maxHead)
	for {
		if err := c.SetReadDeadline(time.Now().Add(idle)); err != nil {
			return
		}
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		// "GET /b/12 HTTP/1.1"
		sp1 := bytes.IndexByte(line, ' ')
		sp2 := bytes.LastIndexByte(line, ' ')
		if sp1 < 0 || sp2 <= sp1 {
			_, _ = c.Write(answerBad)
			return
		}
		i, ok := index(line[sp1+1 : sp2])
		keep := bytes.HasPrefix(line[sp2+1:], []byte("HTTP/1.1"))
		body, ok2 := int64(0), true
		for n := 0; ; n++ {
			h, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			h = bytes.TrimRight(h, "\r\n")
			if len(h) == 0 {
				break
			}
			if n == maxHeaders {
				ok2 = false
				break
			}
			name, value, found := bytes.Cut(h, []byte(":"))
			if !found {
				ok2 = false
				break
			}
			value = bytes.TrimSpace(value)
			switch {
			case bytes.EqualFold(name, []byte("Content-Length")):
				v, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || v < 0 || v > maxBody {
					ok2 = false
				}
				body = v
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				ok2 = false // no chunked bodies: beats have none
			case bytes.EqualFold(name, []byte("Connection")):
				if bytes.EqualFold(value, []byte("close")) {
					keep = false
				}
			}
		}
		now := time.Now().UnixNano()
		if !ok2 {
			_, _ = c.Write(answerBad)
			return
		}
		if body > 0 {
			if _, err := br.Discard(int(body)); err != nil {
				return
			}
		}
		answer := answerOK
		if ok && i < len(r.slots) {
			s := &r.slots[i]
			s.mu.Lock()
			s.hits = append(s.hits, now)
			s.mu.Unlock()
		} else {
			r.odd.Add(1)
			answer = answerNotFound
		}
		if _, err := c.Write(answer); err != nil || !keep {
			return
		}
	}
}

// Arrivals is a copy of every heartbeat's arrival times so far, in the
// order received.
func (r *Receiver) Arrivals() [][]int64 {
	out := make([][]int64, len(r.slots))
	for i := range r.slots {
		s := &r.slots[i]
		s.mu.Lock()
		out[i] = slices.Clone(s.hits)
		s.mu.Unlock()
	}
	return out
}

// Count is the number of beats received so far (all heartbeats).
func (r *Receiver) Count() int {
	n := 0
	for i := range r.slots {
		s := &r.slots[i]
		s.mu.Lock()
		n += len(s.hits)
		s.mu.Unlock()
	}
	return n
}

// WaitAll waits until every heartbeat has at least one arrival, and
// returns when that happened; false when ctx ends or stop is closed first.
func (r *Receiver) WaitAll(ctx context.Context, stop <-chan struct{}) (time.Time, bool) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	done := 0 // heartbeats 0..done-1 have an arrival
	for {
		for done < len(r.slots) {
			s := &r.slots[done]
			s.mu.Lock()
			got := len(s.hits) > 0
			s.mu.Unlock()
			if !got {
				break
			}
			done++
		}
		if done == len(r.slots) {
			return time.Now(), true
		}
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-stop:
			return time.Time{}, false
		case <-t.C:
		}
	}
}

// WaitFirst waits until heartbeat i has at least one arrival, and returns
// its time; false when ctx ends first.
func (r *Receiver) WaitFirst(ctx context.Context, i int) (time.Time, bool) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		s := &r.slots[i]
		s.mu.Lock()
		var first int64
		if len(s.hits) > 0 {
			first = s.hits[0]
		}
		s.mu.Unlock()
		if first != 0 {
			return time.Unix(0, first), true
		}
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-t.C:
		}
	}
}

// Odd counts requests to paths that name no heartbeat.
func (r *Receiver) Odd() int64 { return r.odd.Load() }

// Close stops the server and drops its connections.
func (r *Receiver) Close() {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.l.Close()
	<-r.done
	r.wg.Wait()
}

// index parses "/b/<digits>" without allocating.
func index(p []byte) (int, bool) {
	if len(p) <= len(Prefix) || string(p[:len(Prefix)]) != Prefix || len(p) > len(Prefix)+9 {
		return 0, false
	}
	n := 0
	for _, c := range p[len(Prefix):] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
