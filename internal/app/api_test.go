package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestCreateAndRead checks the shape of a created ticket and its headers, and the conditional GET.
func TestCreateAndRead(t *testing.T) {
	s := startSystem(t)
	r := s.do(t, "POST", "/api/v1/tickets", map[string]string{
		"title": "  Printer on fire  ", "description": "smoke\nlots", "priority": "urgent", "requester": "alice@example.com",
	}, "X-Request-Id", "req-123")
	var tk httpapi.Ticket
	r.expect(t, http.StatusCreated, &tk)
	if tk.Title != "Printer on fire" || tk.Status != ticket.StatusOpen || tk.Priority != ticket.PriorityUrgent ||
		tk.Version != 1 || tk.Requester != "alice@example.com" || tk.ClosedAt != nil || tk.CreatedAt.IsZero() {
		t.Fatalf("created %+v", tk)
	}
	if got := r.header.Get("Location"); got != "/api/v1/tickets/"+tk.ID {
		t.Errorf("Location %q", got)
	}
	if r.header.Get("ETag") != `"1"` || r.header.Get("X-Request-Id") != "req-123" {
		t.Errorf("ETag %q, X-Request-Id %q", r.header.Get("ETag"), r.header.Get("X-Request-Id"))
	}
	if !strings.HasSuffix(string(mustField(t, r.body, "created_at")), `Z"`) {
		t.Errorf("created_at is not in UTC: %s", r.body)
	}

	if got := s.get(t, tk.ID); got.ID != tk.ID || got.Version != 1 || !got.CreatedAt.Equal(tk.CreatedAt) {
		t.Errorf("GET %+v, want %+v", got, tk)
	}
	s.raw(t, "GET", "/api/v1/tickets/"+tk.ID, nil, "If-None-Match", `"1"`).expect(t, http.StatusNotModified, nil)
	if id := s.do(t, "GET", "/healthz", nil).header.Get("X-Request-Id"); id == "" {
		t.Error("no X-Request-Id generated")
	}
	s.do(t, "GET", "/readyz", nil).expect(t, http.StatusOK, nil)
}

func mustField(t *testing.T, body []byte, name string) string {
	t.Helper()
	i := strings.Index(string(body), `"`+name+`":`)
	if i < 0 {
		t.Fatalf("no %s in %s", name, body)
	}
	rest := string(body[i+len(name)+3:])
	return rest[:strings.IndexAny(rest, ",}")]
}

// TestBadRequests checks that bad input gets a clear problem and changes nothing.
func TestBadRequests(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "target")
	id := tk.ID
	huge := `{"title":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name, method, path, body, contentType string
		status                                int
		typ                                   string
		fields                                []string
	}{
		{"empty title", "POST", "/api/v1/tickets", `{"title":"   "}`, "application/json", 422, "/problems/validation", []string{"title"}},
		{"every field wrong", "POST", "/api/v1/tickets", `{"title":"","priority":"soon","requester":"` + strings.Repeat("r", 321) + `"}`,
			"application/json", 422, "/problems/validation", []string{"title", "requester", "priority"}},
		{"title too long", "POST", "/api/v1/tickets", `{"title":"` + strings.Repeat("é", 201) + `"}`, "application/json", 422, "/problems/validation", []string{"title"}},
		{"unknown field", "POST", "/api/v1/tickets", `{"title":"a","status":"closed"}`, "application/json", 400, "/problems/bad-request", nil},
		{"trailing data", "POST", "/api/v1/tickets", `{"title":"a"} {}`, "application/json", 400, "/problems/bad-request", nil},
		{"malformed", "POST", "/api/v1/tickets", `{"title":`, "application/json", 400, "/problems/bad-request", nil},
		{"wrong type", "POST", "/api/v1/tickets", `{"title":42}`, "application/json", 400, "/problems/bad-request", nil},
		{"not an object", "POST", "/api/v1/tickets", `[1]`, "application/json", 400, "/problems/bad-request", nil},
		{"wrong content type", "POST", "/api/v1/tickets", `{"title":"a"}`, "text/plain", 415, "/problems/unsupported-media-type", nil},
		{"too large", "POST", "/api/v1/tickets", huge, "application/json", 413, "/problems/too-large", nil},
		{"empty comment", "POST", "/api/v1/tickets/" + id + "/comments", `{"body":""}`, "application/json", 422, "/problems/validation", []string{"body"}},
		{"comment too long", "POST", "/api/v1/tickets/" + id + "/comments", `{"body":"` + strings.Repeat("b", 20001) + `"}`, "application/json", 422, "/problems/validation", []string{"body"}},
		{"reason on answer", "POST", "/api/v1/tickets/" + id + "/answer", `{"reason":"x"}`, "application/json", 400, "/problems/bad-request", nil},
		{"await an open ticket", "POST", "/api/v1/tickets/" + id + "/await", ``, "", 409, "/problems/invalid-transition", nil},
		{"unknown ticket", "GET", "/api/v1/tickets/0193a0f4-0000-7000-8000-000000000000", ``, "", 404, "/problems/not-found", nil},
		{"malformed id", "GET", "/api/v1/tickets/not-a-uuid", ``, "", 404, "/problems/not-found", nil},
		{"answer unknown ticket", "POST", "/api/v1/tickets/0193a0f4-0000-7000-8000-000000000000/answer", ``, "", 404, "/problems/not-found", nil},
		{"comments of unknown ticket", "GET", "/api/v1/tickets/0193a0f4-0000-7000-8000-000000000000/comments", ``, "", 404, "/problems/not-found", nil},
		{"bad status filter", "GET", "/api/v1/tickets?status=pending", ``, "", 400, "/problems/bad-request", nil},
		{"bad priority filter", "GET", "/api/v1/tickets?priority=meh", ``, "", 400, "/problems/bad-request", nil},
		{"limit zero", "GET", "/api/v1/tickets?limit=0", ``, "", 400, "/problems/bad-request", nil},
		{"limit too big", "GET", "/api/v1/tickets?limit=201", ``, "", 400, "/problems/bad-request", nil},
		{"bad cursor", "GET", "/api/v1/tickets?cursor=%25%25", ``, "", 400, "/problems/bad-request", nil},
		{"no such route", "GET", "/api/v1/nothing", ``, "", 404, "/problems/not-found", nil},
		{"wrong method", "DELETE", "/api/v1/tickets/" + id, ``, "", 405, "/problems/method-not-allowed", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := []string{}
			if tc.contentType != "" {
				header = append(header, "Content-Type", tc.contentType)
			}
			p := s.raw(t, tc.method, tc.path, strings.NewReader(tc.body), header...).expectProblem(t, tc.status, tc.typ)
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			if fmt.Sprint(fields) != fmt.Sprint(tc.fields) {
				t.Errorf("field errors %v, want %v", p.Errors, tc.fields)
			}
			if !strings.Contains(p.Instance, "/") {
				t.Errorf("instance %q", p.Instance)
			}
		})
	}
	if got := s.get(t, id); got.Version != 1 || got.CommentsCount != 0 {
		t.Errorf("bad requests changed the ticket: %+v", got)
	}
	var list page[httpapi.Ticket]
	s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Errorf("bad creates made tickets: %d listed", len(list.Items))
	}
}

// TestListings checks the ticket listing's order, filters and cursors, and the comments and events
// of a ticket.
func TestListings(t *testing.T) {
	s := startSystem(t)
	var made []httpapi.Ticket
	for i := range 7 {
		var tk httpapi.Ticket
		prio := []string{"low", "high"}[i%2]
		s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": fmt.Sprint("t", i), "priority": prio}).
			expect(t, http.StatusCreated, &tk)
		made = append(made, tk)
		time.Sleep(2 * time.Millisecond) // distinct creation times make "newest first" unambiguous
	}
	s.act(t, made[0].ID, ticket.ActionAnswer, nil).expect(t, http.StatusOK, nil)
	s.act(t, made[3].ID, ticket.ActionAnswer, nil).expect(t, http.StatusOK, nil)

	var titles []string
	path := "/api/v1/tickets?limit=3"
	for pages := 0; ; pages++ {
		var list page[httpapi.Ticket]
		s.do(t, "GET", path, nil).expect(t, http.StatusOK, &list)
		for _, tk := range list.Items {
			titles = append(titles, tk.Title)
		}
		if list.NextCursor == nil {
			break
		}
		if pages > 5 {
			t.Fatal("the listing does not end")
		}
		path = "/api/v1/tickets?limit=3&cursor=" + *list.NextCursor
	}
	if got := strings.Join(titles, " "); got != "t6 t5 t4 t3 t2 t1 t0" {
		t.Errorf("listing %q, want newest first", got)
	}

	filters := map[string]string{
		"status=answered":               "t3 t0",
		"status=open&priority=high":     "t5 t1",
		"priority=low":                  "t6 t4 t2 t0",
		"status=closed":                 "",
		"status=answered&priority=high": "t3",
	}
	for q, want := range filters {
		var list page[httpapi.Ticket]
		s.do(t, "GET", "/api/v1/tickets?"+q, nil).expect(t, http.StatusOK, &list)
		var got []string
		for _, tk := range list.Items {
			got = append(got, tk.Title)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: %v, want %s", q, got, want)
		}
	}

	id := made[6].ID
	for i := range 3 {
		s.act(t, id, ticket.ActionComment, map[string]string{"body": fmt.Sprint("c", i), "author": "bob"}).
			expect(t, http.StatusCreated, nil)
	}
	s.act(t, id, ticket.ActionAnswer, map[string]string{"comment": "c3"}).expect(t, http.StatusOK, nil)
	var comments page[httpapi.Comment]
	s.do(t, "GET", "/api/v1/tickets/"+id+"/comments?limit=2", nil).expect(t, http.StatusOK, &comments)
	if len(comments.Items) != 2 || comments.Items[0].Body != "c0" || comments.Items[0].Author != "bob" || comments.NextCursor == nil {
		t.Fatalf("first page of comments %+v", comments)
	}
	s.do(t, "GET", "/api/v1/tickets/"+id+"/comments?limit=2&cursor="+*comments.NextCursor, nil).expect(t, http.StatusOK, &comments)
	if len(comments.Items) != 2 || comments.Items[1].Body != "c3" || comments.NextCursor != nil {
		t.Fatalf("second page of comments %+v", comments)
	}

	var events page[httpapi.Event]
	s.do(t, "GET", "/api/v1/tickets/"+id+"/events", nil).expect(t, http.StatusOK, &events)
	var kinds []string
	for i, e := range events.Items {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
		kinds = append(kinds, string(e.Type))
	}
	want := "created commented commented commented commented status_changed"
	if strings.Join(kinds, " ") != want {
		t.Errorf("events %v, want %s", kinds, want)
	}
}
