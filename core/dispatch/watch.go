package dispatch

import (
	"context"
	"sync"
)

// watcher cuts the deliveries under way when their context ends. Every
// delivery of a daemon shares its one context, so the watcher registers
// one context.AfterFunc per context while any of its deliveries is under
// way, instead of one per delivery: at thousands of beats a second each
// of those took the context's lock and an entry in its map of children
// twice.
type watcher struct {
	mu    sync.Mutex
	byCtx map[context.Context]*watched
}

// watched is the deliveries of one context, a list threaded through them.
type watched struct {
	head *delivery
	stop func() bool // stops the AfterFunc
}

// add watches dl.ctx for dl. When the context has ended already, dl is
// cancelled at once, as context.AfterFunc would.
func (w *watcher) add(dl *delivery) {
	w.mu.Lock()
	if dl.ctx.Err() != nil {
		w.mu.Unlock()
		dl.cancel()
		return
	}
	list := w.byCtx[dl.ctx]
	if list == nil {
		if w.byCtx == nil {
			w.byCtx = map[context.Context]*watched{}
		}
		list = &watched{}
		w.byCtx[dl.ctx] = list
		ctx := dl.ctx
		list.stop = context.AfterFunc(ctx, func() { w.cut(ctx) })
	}
	dl.watchNext = list.head
	if list.head != nil {
		list.head.watchPrev = dl
	}
	list.head = dl
	dl.watched = true
	w.mu.Unlock()
}

// remove stops watching for dl, once it has ended. The last delivery of a
// context stops its AfterFunc.
func (w *watcher) remove(dl *delivery) {
	w.mu.Lock()
	if !dl.watched {
		w.mu.Unlock()
		return
	}
	dl.watched = false
	list := w.byCtx[dl.ctx]
	if dl.watchPrev != nil {
		dl.watchPrev.watchNext = dl.watchNext
	} else {
		list.head = dl.watchNext
	}
	if dl.watchNext != nil {
		dl.watchNext.watchPrev = dl.watchPrev
	}
	dl.watchPrev, dl.watchNext = nil, nil
	var stop func() bool
	if list.head == nil {
		delete(w.byCtx, dl.ctx)
		stop = list.stop
	}
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// cut cancels every delivery of ctx, which has ended. Deliveries added
// later see the context's error in add.
func (w *watcher) cut(ctx context.Context) {
	w.mu.Lock()
	list := w.byCtx[ctx]
	delete(w.byCtx, ctx)
	var cut []*delivery
	if list != nil {
		for dl := list.head; dl != nil; dl = dl.watchNext {
			cut = append(cut, dl)
		}
		for _, dl := range cut {
			dl.watched, dl.watchPrev, dl.watchNext = false, nil, nil
		}
	}
	w.mu.Unlock()
	for _, dl := range cut {
		dl.cancel()
	}
}
