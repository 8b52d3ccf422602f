package service

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// FeedStore is what reading and following the feed needs of the store.
type FeedStore interface {
	// ReadFeed returns the events out after f.After that meet f, in order, none that a later
	// read would put before them.
	ReadFeed(ctx context.Context, f ticket.FeedFilter) (ticket.FeedPage, error)
	// FeedHead is the position after which the events that come out from now on are.
	FeedHead(ctx context.Context) (int64, error)
	// ListenFeed calls changed when events come out, by any process, until ctx is done.
	ListenFeed(ctx context.Context, changed func())
}

// hub reads the feed once for every stream of the process: each time PostgreSQL says that events
// came out, and every hubPoll in case a notice came before its events settled. It keeps the last
// hubRecent events (and up to a quarter more), from which each stream takes those it may read. A
// stream that is further behind, as one resuming from an old cursor is, reads the store itself
// until it catches up.
type hub struct {
	store FeedStore
	log   *slog.Logger
	wake  chan struct{}
	keep  int // how many events recent holds at least, once it has them

	mu sync.Mutex
	// recent holds every event of the feed in (base, head], in order; head is -1 until the hub
	// has read the feed once.
	base, head int64
	recent     []ticket.OutEvent
	// moved is closed when head moves, then replaced.
	moved chan struct{}
}

const (
	hubPoll   = 250 * time.Millisecond
	hubRecent = 4096 // the events a hub keeps, unless told otherwise (tests)
)

func newHub(store FeedStore, log *slog.Logger) *hub {
	return &hub{store: store, log: log, wake: make(chan struct{}, 1), keep: hubRecent, base: -1, head: -1, moved: make(chan struct{})}
}

// RunFeed follows the feed for the process's streams until ctx is done.
func (s *Service) RunFeed(ctx context.Context) { s.hub.run(ctx) }

// run follows the feed until ctx is done.
func (h *hub) run(ctx context.Context) {
	go h.store.ListenFeed(ctx, func() {
		select {
		case h.wake <- struct{}{}:
		default: // a read is due already
		}
	})
	poll := time.NewTicker(hubPoll)
	defer poll.Stop()
	for {
		if err := h.advance(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("read the feed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-poll.C:
		}
	}
}

// advance reads what came out since head.
func (h *hub) advance(ctx context.Context) error {
	h.mu.Lock()
	head := h.head
	h.mu.Unlock()
	if head < 0 {
		var err error
		if head, err = h.store.FeedHead(ctx); err != nil {
			return err
		}
		h.publish(nil, head)
	}
	for {
		page, err := h.store.ReadFeed(ctx, ticket.FeedFilter{After: head, Limit: ticket.MaxPageSize, UpTo: ticket.VisibilityInternal})
		if err != nil {
			return err
		}
		if page.Next > head {
			h.publish(page.Items, page.Next)
			head = page.Next
		}
		if len(page.Items) < ticket.MaxPageSize {
			return nil
		}
	}
}

// publish adds the events read up to head and wakes the streams.
func (h *hub) publish(events []ticket.OutEvent, head int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.head < 0 {
		h.base = head
	}
	h.recent = append(h.recent, events...)
	// Trimmed once it holds a quarter more than it keeps, not at each event: a trim copies what
	// it keeps, into a new array, since streams may still be reading the old one.
	if extra := len(h.recent) - h.keep; extra > 0 && len(h.recent) > h.keep+h.keep/4 {
		h.base = h.recent[extra-1].Position
		h.recent = append(h.recent[:0:0], h.recent[extra:]...)
	}
	h.head = head
	close(h.moved)
	h.moved = make(chan struct{})
}

// Stream follows the feed for one reader from a position: each call of Next returns the events
// after the last one it returned that the reader may read.
type Stream struct {
	hub   *hub
	store FeedStore
	f     ticket.FeedFilter
}

// Follow returns a stream of the events that by may read, with f's conditions, after f.After; or
// when from is false, after the feed's head now, so that it starts with the next event.
func (s *Service) Follow(ctx context.Context, by auth.Principal, f ticket.FeedFilter, from bool) (*Stream, error) {
	if by.Role == auth.RoleCustomer {
		f.Requester = by.Subject
	}
	f.UpTo = by.Reads()
	f.Limit = ticket.MaxPageSize
	if !from {
		head, err := s.feed.FeedHead(ctx)
		if err != nil {
			return nil, err
		}
		f.After = head
	}
	return &Stream{hub: s.hub, store: s.feed, f: f}, nil
}

// Next returns the next events of the stream, waiting for them up to wait; none when none came.
func (st *Stream) Next(ctx context.Context, wait time.Duration) ([]ticket.OutEvent, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		h := st.hub
		h.mu.Lock()
		base, head, moved := h.base, h.head, h.moved
		var out []ticket.OutEvent
		caughtUp := head >= 0 && st.f.After >= base && st.f.After <= head
		if caughtUp {
			i, _ := slices.BinarySearchFunc(h.recent, st.f.After+1, func(e ticket.OutEvent, pos int64) int {
				return cmp.Compare(e.Position, pos)
			})
			if st.f.MatchesAll() {
				// recent only grows past its end and is replaced when trimmed: what it holds
				// now is never written again, and is shared rather than copied.
				out = slices.Clip(h.recent[i:])
			} else {
				for _, e := range h.recent[i:] {
					if st.f.Matches(e) {
						out = append(out, e)
					}
				}
			}
			st.f.After = head
		}
		h.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		if !caughtUp && head >= 0 && st.f.After < base {
			// Further behind than the hub keeps: read the store up to where the hub is.
			page, err := st.store.ReadFeed(ctx, st.f)
			if err != nil {
				return nil, err
			}
			st.f.After = page.Next
			if len(page.Items) > 0 {
				return page.Items, nil
			}
			continue
		}
		// Caught up, or ahead of the hub (a cursor from a process that read further): wait.
		select {
		case <-moved:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Position is where the stream is: after the last event it returned, or further.
func (st *Stream) Position() int64 { return st.f.After }
