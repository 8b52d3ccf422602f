package service

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// feedLog is a feed in memory: the hub's logic is tested on it here, and on PostgreSQL by the
// system tests (internal/app/stream_test.go).
type feedLog struct {
	mu      sync.Mutex
	events  []ticket.OutEvent
	changed func()
}

func (l *feedLog) add(t *testing.T, requester string, typ ticket.EventType) {
	t.Helper()
	l.mu.Lock()
	pos := int64(len(l.events)+1) * 10
	l.events = append(l.events, ticket.OutEvent{ID: string(rune('a' + len(l.events))), Position: pos,
		Event: ticket.Event{Type: typ}, Ticket: ticket.Ticket{ID: requester + "-ticket", Requester: requester}})
	changed := l.changed
	l.mu.Unlock()
	if changed != nil {
		changed()
	}
}

func (l *feedLog) ReadFeed(_ context.Context, f ticket.FeedFilter) (ticket.FeedPage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	page := ticket.FeedPage{Items: []ticket.OutEvent{}, Next: f.After}
	for _, e := range l.events {
		if e.Position > f.After && f.Matches(e) {
			page.Items = append(page.Items, e)
			if len(page.Items) == f.Limit {
				page.Next = e.Position
				return page, nil
			}
		}
	}
	page.Next = max(f.After, l.headLocked())
	return page, nil
}

func (l *feedLog) headLocked() int64 { return int64(len(l.events)) * 10 }

func (l *feedLog) FeedHead(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.headLocked(), nil
}

func (l *feedLog) ListenFeed(ctx context.Context, changed func()) {
	l.mu.Lock()
	l.changed = changed
	l.mu.Unlock()
	changed()
	<-ctx.Done()
}

// follow starts a hub keeping keep events on log and returns a stream for by after after.
func follow(t *testing.T, log *feedLog, keep int) *hub {
	t.Helper()
	h := newHub(log, nil)
	h.keep = keep
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.run(ctx)
	return h
}

// collect reads the stream until it has n events or a read comes back empty, then checks that
// no more come at once.
func collect(t *testing.T, st *Stream, n int) []string {
	t.Helper()
	var ids []string
	defer func() {
		if more, err := st.Next(t.Context(), 50*time.Millisecond); err != nil || len(more) > 0 {
			t.Errorf("after %q the stream sent %d more (%v)", ids, len(more), err)
		}
	}()
	for len(ids) < n {
		events, err := st.Next(t.Context(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// TestStreamFromAnywhere: a stream gets every event after its position once, in order, whether
// it starts far behind what the hub keeps, within it, at its head, or ahead of it (a cursor of a
// process that read further), and only those its reader may read.
func TestStreamFromAnywhere(t *testing.T) {
	log := &feedLog{}
	for range 10 {
		log.add(t, "alice", ticket.EventCreated)
	}
	h := follow(t, log, 4) // keeps the last 4 events at most
	waitHead := func(head int64) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
			h.mu.Lock()
			at := h.head
			h.mu.Unlock()
			if at >= head {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the hub is at %d, want %d", at, head)
			}
		}
	}
	waitHead(100)
	for range 6 {
		log.add(t, "alice", ticket.EventCommented)
		log.add(t, "bob", ticket.EventCommented)
	}
	waitHead(220)
	agent := auth.Principal{Role: auth.RoleAgent, Subject: "eve"}
	all := "abcdefghijklmnopqrstuv"
	for _, tt := range []struct {
		name  string
		after int64
		want  string
	}{
		{"from the start, far behind the hub", 0, all},
		{"from the 5th, behind what it keeps", 50, all[5:]},
		{"within what it keeps", 200, all[20:]},
		{"at its head", 220, ""},
	} {
		s := &Service{feed: log, hub: h}
		st, err := s.Follow(t.Context(), agent, ticket.FeedFilter{After: tt.after}, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := collect(t, st, len(tt.want)); !slices.Equal(got, split(tt.want)) {
			t.Errorf("%s: %q, want %q", tt.name, got, split(tt.want))
		}
	}

	// Ahead of the hub: the hub is held at its head while the stream starts further on.
	s := &Service{feed: log, hub: h}
	ahead, err := s.Follow(t.Context(), agent, ticket.FeedFilter{After: 240}, true)
	if err != nil {
		t.Fatal(err)
	}
	customer, err := s.Follow(t.Context(), auth.Principal{Role: auth.RoleCustomer, Subject: "bob"}, ticket.FeedFilter{After: 100}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, customer, 6); !slices.Equal(got, split("lnprtv")) {
		t.Errorf("bob's stream: %q, want his 6", got)
	}
	done := make(chan []string)
	go func() { done <- collect(t, ahead, 2) }()
	for range 3 {
		log.add(t, "alice", ticket.EventStatusChanged) // at 230, 240 (known to the stream), 250
	}
	log.add(t, "bob", ticket.EventStatusChanged) // 260
	if got := <-done; !slices.Equal(got, split("yz")) {
		t.Errorf("the stream ahead of the hub: %q, want the events after 240", got)
	}
	if got := collect(t, customer, 1); !slices.Equal(got, split("z")) {
		t.Errorf("bob's stream then: %q", got)
	}
}

func split(s string) []string {
	var out []string
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}
