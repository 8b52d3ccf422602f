package app_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// The system tests of GET /api/v1/events/stream, Server-Sent Events, on the real stack.

// sseEvent is one message of a stream.
type sseEvent struct {
	id, event string
	out       httpapi.OutEvent
}

// sseStream reads a stream in the background.
type sseStream struct {
	res      *http.Response
	events   chan sseEvent
	comments chan string
}

// openStream opens the event stream of the API at base with the key, the query and a
// Last-Event-ID ("" for none); it is closed when the test ends.
func openStream(t *testing.T, base, key, query, lastID string) *sseStream {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/api/v1/events/stream?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		res.Body.Close()
		t.Fatalf("stream: status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	st := &sseStream{res: res, events: make(chan sseEvent, 1000), comments: make(chan string, 1000)}
	t.Cleanup(st.close)
	go func() {
		defer close(st.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var e sseEvent
		var data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data != "" {
					if err := json.Unmarshal([]byte(data), &e.out); err != nil {
						t.Errorf("stream data %s: %v", data, err)
					}
					st.events <- e
				}
				e, data = sseEvent{}, ""
			case strings.HasPrefix(line, ":"):
				st.comments <- line
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			default:
				t.Errorf("stream line %q", line)
			}
		}
	}()
	return st
}

func (st *sseStream) close() { st.res.Body.Close() }

// take returns the next n events of the stream, failing the test if they do not come in time.
func (st *sseStream) take(t *testing.T, n int) []sseEvent {
	t.Helper()
	var got []sseEvent
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case e, ok := <-st.events:
			if !ok {
				t.Fatalf("the stream ended after %d of %d events", len(got), n)
			}
			got = append(got, e)
		case <-deadline:
			t.Fatalf("%d of %d events came in time: %v", len(got), n, sseTypes(got))
		}
	}
	return got
}

// none fails the test if the stream sends an event within d.
func (st *sseStream) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e, ok := <-st.events:
		if ok {
			t.Errorf("the stream sent %s %s (%s), want nothing more", e.event, e.id, e.out.Data.Ticket.Title)
		}
	case <-time.After(d):
	}
}

func sseTypes(es []sseEvent) []string {
	return each(es, func(e sseEvent) string { return e.event })
}

// TestStream: an agent's and a customer's streams get each new event at once, in the feed's
// order, with the feed's cursor as the id; the customer's holds neither another customer's
// ticket nor an internal note; a stream resumed with Last-Event-ID through another API process,
// and after that process stopped, goes on with the next event, none missed and none twice; an
// idle stream sends heartbeats.
func TestStream(t *testing.T) {
	cfg := testConfig(t)
	cfg.StreamHeartbeat = 300 * time.Millisecond
	s := startSystem(t, withConfig(cfg))
	w := word()
	aliceKey := s.newKey(t, "alice-"+w, auth.RoleCustomer, "alice-"+w+"@example.com")
	alice, bob := s.as(aliceKey), s.as(s.newKey(t, "bob-"+w, auth.RoleCustomer, "bob-"+w+"@example.com"))

	agentStream := openStream(t, s.url, s.key, "", "")
	customerStream := openStream(t, s.url, aliceKey, "", "")
	ticketStream := openStream(t, s.url, s.key, "types=ticket.commented", "")
	if m := string(s.raw(t, "GET", "/metrics", nil).body); !strings.Contains(m, "\nticketflow_event_streams 3\n") {
		t.Errorf("/metrics does not count the 3 open streams")
	}
	tk := alice.open(t, map[string]any{"title": "Printer on fire " + w})
	s.comment(t, tk.ID, "On it", ticket.VisibilityPublic)
	s.comment(t, tk.ID, "The toner is from the bad batch", ticket.VisibilityInternal)
	s.act(t, tk.ID, ticket.ActionAnswer, map[string]string{"comment": "Replaced the toner"}).expect(t, http.StatusOK, nil)
	bob.open(t, map[string]any{"title": "VPN down " + w})

	feed, _ := s.readFeed(t, url.Values{})
	got := agentStream.take(t, len(feed))
	if want := []string{"ticket.created", "ticket.commented", "ticket.commented", "ticket.commented", "ticket.status_changed", "ticket.created"}; !slices.Equal(sseTypes(got), want) {
		t.Fatalf("the agent's stream sent %q, want %q", sseTypes(got), want)
	}
	for i, e := range got {
		if e.id != feed[i].Cursor || e.out.ID != feed[i].ID || e.out.Cursor != e.id || e.out.Type != e.event {
			t.Errorf("event %d: id %s, event %s, data %s at %s; the feed has %s at %s", i, e.id, e.event, e.out.ID, e.out.Cursor, feed[i].ID, feed[i].Cursor)
		}
	}
	theirs := customerStream.take(t, 4)
	if want := []string{"ticket.created", "ticket.commented", "ticket.commented", "ticket.status_changed"}; !slices.Equal(sseTypes(theirs), want) {
		t.Errorf("alice's stream sent %q, want %q", sseTypes(theirs), want)
	}
	for _, e := range theirs {
		if e.out.Data.Ticket.ID != tk.ID || e.out.Data.Ticket.InternalNotesCount != nil {
			t.Errorf("alice's stream sent %s of %s with internal_notes_count %v", e.event, e.out.Data.Ticket.Title, e.out.Data.Ticket.InternalNotesCount)
		}
		if c := e.out.Data.Comment; c != nil && c.Visibility != ticket.VisibilityPublic {
			t.Errorf("alice's stream sent the note %q", c.Body)
		}
	}
	customerStream.none(t, 500*time.Millisecond)
	if comments := ticketStream.take(t, 3); !slices.Equal(sseTypes(comments), []string{"ticket.commented", "ticket.commented", "ticket.commented"}) {
		t.Errorf("the stream of comments sent %q", sseTypes(comments))
	}

	// Heartbeats while nothing happens.
	deadline := time.After(5 * time.Second)
	for beats := 0; beats < 2; {
		select {
		case c := <-agentStream.comments:
			if c == ": keep-alive" {
				beats++
			}
		case <-deadline:
			t.Fatalf("%d heartbeats in 5 s, every 300 ms wanted", beats)
		}
	}

	// Resumed through a second API process from the second event, with changes made while no
	// stream was open.
	agentStream.close()
	s.act(t, tk.ID, ticket.ActionAwait, nil).expect(t, http.StatusOK, nil)
	s.act(t, tk.ID, ticket.ActionAnswer, nil).expect(t, http.StatusOK, nil)
	second := connect(t, s.deps.Config, quietLogger(t))
	srv := httptest.NewServer(second.Handler())
	t.Cleanup(srv.Close)
	resumed := openStream(t, srv.URL, s.key, "", got[1].id)
	rest := resumed.take(t, len(got)-2+2)
	if want := append(sseTypes(got[2:]), "ticket.status_changed", "ticket.status_changed"); !slices.Equal(sseTypes(rest), want) {
		t.Fatalf("the resumed stream sent %q, want %q", sseTypes(rest), want)
	}
	for i, e := range rest[:len(got)-2] {
		if e.id != got[i+2].id {
			t.Errorf("resumed event %d is %s, was %s", i, e.id, got[i+2].id)
		}
	}
	resumed.none(t, 300*time.Millisecond)

	// That process stops under its stream; the client resumes through the first one.
	last := rest[len(rest)-1].id
	srv.CloseClientConnections()
	srv.Close()
	s.act(t, tk.ID, ticket.ActionClose, nil).expect(t, http.StatusOK, nil)
	again := openStream(t, s.url, s.key, "", last)
	if e := again.take(t, 1); e[0].event != "ticket.status_changed" || e[0].out.Data.Event.ToStatus != ticket.StatusClosed {
		t.Errorf("after the restart the stream sent %s to %s", e[0].event, e[0].out.Data.Event.ToStatus)
	}
	again.none(t, 300*time.Millisecond)

	// after= does what Last-Event-ID does; a cursor the server did not make is refused.
	if e := openStream(t, s.url, s.key, "after="+url.QueryEscape(last), "").take(t, 1); e[0].out.Data.Event.ToStatus != ticket.StatusClosed {
		t.Errorf("after= sent %s", e[0].event)
	}
	s.raw(t, "GET", "/api/v1/events/stream", nil, "Last-Event-ID", "bogus").expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	s.raw(t, "GET", "/api/v1/events/stream?types=nope", nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
}

// TestAPIShutdownEndsStreams: an API that is told to stop ends its event streams at once, so that
// their clients resume through another process, and returns without waiting out its shutdown
// timeout for them.
func TestAPIShutdownEndsStreams(t *testing.T) {
	cfg := testConfig(t)
	cfg.ShutdownTimeout = 30 * time.Second
	api := startAPI(t, cfg)
	st := openStream(t, api.base, api.key, "", "")
	<-st.comments // open
	began := time.Now()
	api.stop()
	if err := api.wait(t, 10*time.Second, "RunAPI to return with a stream open"); err != nil {
		t.Errorf("RunAPI: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("RunAPI took %v to stop with a stream open", took)
	}
	select {
	case _, ok := <-st.events:
		if ok {
			t.Error("the stream sent an event")
		}
	case <-time.After(5 * time.Second):
		t.Error("the stream is still open")
	}
}
