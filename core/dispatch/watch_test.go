package dispatch

import (
	"context"
	"testing"
	"time"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (dl *delivery) isCancelled() bool {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.cancelled
}

func watchedContexts(w *watcher) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.byCtx)
}

// The watcher cuts exactly the deliveries still under way when their
// context ends, whichever ended before (first, last or in the middle of
// its list), leaves other contexts' alone, and keeps nothing once every
// delivery has ended.
func TestWatcherCutsTheDeliveriesUnderWay(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		ended []int // indexes removed before the context ends
	}{
		{"one", 1, nil},
		{"none left", 3, []int{0, 1, 2}},
		{"newest ended", 5, []int{4}},
		{"oldest ended", 5, []int{0}},
		{"middle ended", 5, []int{2}},
		{"every other", 8, []int{1, 3, 5, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w watcher
			ctx, cancel := context.WithCancel(context.Background())
			other, cancelOther := context.WithCancel(context.Background())
			defer cancelOther()
			bystander := &delivery{ctx: other}
			w.add(bystander)
			// The oldest delivery is cut last: once it is, the cut is over.
			sentinel := &delivery{ctx: ctx}
			w.add(sentinel)
			dls := make([]*delivery, tt.n)
			for i := range dls {
				dls[i] = &delivery{ctx: ctx}
				w.add(dls[i])
			}
			ended := map[int]bool{}
			for _, i := range tt.ended {
				w.remove(dls[i])
				ended[i] = true
			}
			cancel()
			waitFor(t, "the cut", sentinel.isCancelled)
			for i, dl := range dls {
				if got, want := dl.isCancelled(), !ended[i]; got != want {
					t.Errorf("delivery %d cancelled = %v, want %v", i, got, want)
				}
			}
			if bystander.isCancelled() {
				t.Fatal("a delivery of another context was cut")
			}
			for i, dl := range dls {
				if !ended[i] {
					w.remove(dl) // ends after its cut, as a delivery does
				}
			}
			w.remove(sentinel)
			w.remove(bystander)
			if n := watchedContexts(&w); n != 0 {
				t.Fatalf("%d contexts still watched after every delivery ended", n)
			}
		})
	}
}

// A delivery added after its context ended is cut at once, and a context
// whose deliveries have all ended is no longer watched: a later cancel
// cuts nothing.
func TestWatcherContextEndedOrIdle(t *testing.T) {
	var w watcher
	ctx, cancel := context.WithCancel(context.Background())
	dl := &delivery{ctx: ctx}
	w.add(dl)
	w.remove(dl)
	if n := watchedContexts(&w); n != 0 {
		t.Fatalf("%d contexts watched after the only delivery ended", n)
	}
	cancel()
	if dl.isCancelled() {
		t.Fatal("a delivery that had ended was cut")
	}
	late := &delivery{ctx: ctx}
	w.add(late)
	if !late.isCancelled() {
		t.Fatal("a delivery added after its context ended was not cut")
	}
	w.remove(late)
	if n := watchedContexts(&w); n != 0 {
		t.Fatalf("%d contexts watched", n)
	}
}
