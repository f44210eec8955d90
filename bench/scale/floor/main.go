// Command floor is the bare-Go reference the heartbeat daemon is measured
// against: every whole second it sends GET <base><i> for i in 0..n-1, each
// in its own goroutine, with one net/http client whose transport keeps a
// connection per heartbeat alive. Like the daemon it sends no beat of a
// heartbeat while the previous one is still in flight, and gives each
// request until 100 ms before the next second (at least 500 ms). It runs
// until SIGTERM or SIGINT, lets the requests in flight finish, then prints
// what failed on stderr.
//
// It is built and started by bench/scale and bench/soak; see
// ../README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 1, "number of heartbeats")
	base := flag.String("base", "", "URL the heartbeat's index is appended to, e.g. http://127.0.0.1:8080/b/")
	flag.Parse()
	if *n < 1 || *base == "" {
		fmt.Fprintln(os.Stderr, "floor: -n must be at least 1 and -base is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var failed, skipped atomic.Int64
	run(ctx, *n, *base, &failed, &skipped)
	fmt.Fprintf(os.Stderr, "floor: %d requests failed, %d ticks skipped (previous still in flight)\n", failed.Load(), skipped.Load())
}

// run sends until ctx ends, then waits for the requests in flight (each
// has its own deadline).
func run(ctx context.Context, n int, base string, failed, skipped *atomic.Int64) {
	var wg sync.WaitGroup
	defer wg.Wait()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        n + 16,
		MaxIdleConnsPerHost: n + 16,
		IdleConnTimeout:     0, // keep every connection between beats
		DisableCompression:  true,
	}}
	urls := make([]string, n)
	for i := range urls {
		urls[i] = base + strconv.Itoa(i)
	}
	inFlight := make([]atomic.Bool, n)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		due := now.Truncate(time.Second).Add(time.Second)
		timer.Reset(due.Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		deadline := due.Add(900 * time.Millisecond)
		if least := time.Now().Add(500 * time.Millisecond); deadline.Before(least) {
			deadline = least
		}
		for i := range urls {
			if !inFlight[i].CompareAndSwap(false, true) {
				skipped.Add(1)
				continue
			}
			wg.Go(func() {
				defer inFlight[i].Store(false)
				if err := get(client, urls[i], deadline); err != nil {
					failed.Add(1)
				}
			})
		}
	}
}

func get(c *http.Client, url string, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read to the end so the connection goes back to the pool.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
