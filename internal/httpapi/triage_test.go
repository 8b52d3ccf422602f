package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/service"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// triageService is a Service that knows the keys of triageKeys, holds one ticket, and records the
// changes and listings asked of it.
type triageService struct {
	Service
	held    ticket.Ticket
	changed []ticket.Command
	listed  []ticket.ListFilter
}

// triageKeys are the keys of these tests, by secret.
var triageKeys = map[string]auth.Key{
	"dana":  {ID: "k1", Name: "agent-7", Role: auth.RoleAgent, Subject: "dana@example.com"},
	"eli":   {ID: "k2", Name: "agent-8", Role: auth.RoleAgent},
	"alice": {ID: "k3", Name: "alice", Role: auth.RoleCustomer, Subject: "alice@example.com"},
}

const triageTicket = "0193b7c2-0000-7000-8000-000000000003"

func (f *triageService) KeyByHash(_ context.Context, hash []byte) (auth.Key, error) {
	for secret, k := range triageKeys {
		if string(auth.Hash(secret)) == string(hash) {
			return k, nil
		}
	}
	return auth.Key{}, ticket.Errorf(ticket.ENOTFOUND, "no such key")
}

func (f *triageService) ChangeTicket(_ context.Context, _ auth.Principal, _ string, cmd ticket.Command, _ service.IDs) (ticket.Change, error) {
	f.changed = append(f.changed, cmd)
	return ticket.Change{Ticket: f.held}, nil
}

// ListTickets answers every listing with the held ticket and a next page after it; a search
// finds it with a snippet, and its cursor carries the rank.
func (f *triageService) ListTickets(_ context.Context, _ auth.Principal, lf ticket.ListFilter) (ticket.Page[ticket.Found], error) {
	f.listed = append(f.listed, lf)
	if lf.Query != "" {
		return ticket.Page[ticket.Found]{Items: []ticket.Found{{Ticket: f.held, Rank: 0.25, Snippet: "the [printer] jams"}},
			Next: &ticket.Cursor{At: f.held.CreatedAt, ID: f.held.ID, Rank: 0.25}}, nil
	}
	return ticket.Page[ticket.Found]{Items: []ticket.Found{{Ticket: f.held}}, Next: &ticket.Cursor{At: f.held.CreatedAt, ID: f.held.ID}}, nil
}

func newTriageServer() (*Server, *triageService) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	svc := &triageService{held: ticket.Ticket{ID: triageTicket, Title: "t", Status: ticket.StatusOpen, Priority: ticket.PriorityNormal,
		Version: 1, CreatedAt: at, UpdatedAt: at, Group: ticket.DefaultGroup}}
	return New(Options{Service: svc, Logger: slog.New(slog.DiscardHandler)}), svc
}

// send serves one request with the key whose secret is given.
func (s *Server) send(method, target, secret, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+secret)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// TestAssignBody checks that a field left out of an assignment is not the same as one that is
// null: left out leaves the assignee as it is, null leaves the ticket to nobody.
func TestAssignBody(t *testing.T) {
	nobody, dana := "", "dana@example.com"
	tests := []struct {
		body     string
		assignee *string
		group    string
		status   int
	}{
		{``, nil, "", http.StatusOK},
		{`{}`, nil, "", http.StatusOK},
		{`{"group":"hardware"}`, nil, "hardware", http.StatusOK},
		{`{"assignee":null}`, &nobody, "", http.StatusOK},
		{`{"assignee":"dana@example.com","group":"hardware"}`, &dana, "hardware", http.StatusOK},
		{`{"assignee":5}`, nil, "", http.StatusBadRequest},
		{`{"assignee":null,"assignee":"dana@example.com"}`, nil, "", http.StatusBadRequest},
		{`{"assignees":"dana@example.com"}`, nil, "", http.StatusBadRequest},
		{`{"group":null}`, nil, "", http.StatusOK},
	}
	for _, tc := range tests {
		srv, svc := newTriageServer()
		w := srv.send("POST", "/api/v1/tickets/"+triageTicket+"/assign", "dana", tc.body)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.body, w.Code, tc.status, w.Body)
			continue
		}
		if tc.status != http.StatusOK {
			if tc.body == `{"assignee":5}` && !strings.Contains(w.Body.String(), `field \"assignee\" must be a string`) {
				t.Errorf("%s: %s, want a detail that names the field", tc.body, w.Body)
			}
			continue
		}
		got := svc.changed[0]
		if got.Action != ticket.ActionAssign || !equalPtr(got.Assignee, tc.assignee) || got.Group != tc.group {
			t.Errorf("%s: sent %s assignee %v group %q, want assignee %v group %q", tc.body, got.Action, show(got.Assignee), got.Group, show(tc.assignee), tc.group)
		}
	}
}

func equalPtr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func show(p *string) string {
	if p == nil {
		return "left out"
	}
	return fmt.Sprintf("%q", *p)
}

// TestTagsBody checks what POST …/tags sends, and that it answers with the ticket.
func TestTagsBody(t *testing.T) {
	srv, svc := newTriageServer()
	w := srv.send("POST", "/api/v1/tickets/"+triageTicket+"/tags", "eli", `{"add":["VIP"],"remove":["triage"]}`)
	if w.Code != http.StatusOK || w.Header().Get("ETag") != `"1"` {
		t.Fatalf("status %d, ETag %q: %s", w.Code, w.Header().Get("ETag"), w.Body)
	}
	if got := svc.changed[0]; got.Action != ticket.ActionTags || !slices.Equal(got.AddTags, []string{"VIP"}) || !slices.Equal(got.RemoveTags, []string{"triage"}) {
		t.Errorf("sent %+v", got)
	}
	if w := srv.send("POST", "/api/v1/tickets/"+triageTicket+"/tags", "alice", `{"add":["vip"]}`); w.Code != http.StatusForbidden {
		t.Errorf("a customer tags: status %d, want 403", w.Code)
	}
	if w := srv.send("POST", "/api/v1/tickets/"+triageTicket+"/assign", "alice", `{}`); w.Code != http.StatusForbidden {
		t.Errorf("a customer assigns: status %d, want 403", w.Code)
	}
	if len(svc.changed) != 1 {
		t.Errorf("the refused changes reached the service: %+v", svc.changed[1:])
	}
}

// TestListFilters checks how the filters of GET /tickets are read: me as the caller, none as
// nobody, tags as they are kept, and a value no ticket could hold as a bad request.
func TestListFilters(t *testing.T) {
	tags := func(n int) string {
		var q []string
		for i := range n {
			q = append(q, fmt.Sprintf("tag=t%d", i))
		}
		return strings.Join(q, "&")
	}
	yes, no := true, false
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		key, query string
		want       ticket.ListFilter // its PageRequest is not compared; no Sort is the default
		bad        bool
	}{
		{"dana", "assignee=me", ticket.ListFilter{Assignee: "dana@example.com"}, false},
		{"eli", "assignee=me", ticket.ListFilter{Assignee: "agent-8"}, false},
		{"eli", "assignee=none", ticket.ListFilter{Unassigned: true}, false},
		{"eli", "assignee=bob%40example.com&group=hardware&status=open", ticket.ListFilter{Assignee: "bob@example.com", Group: "hardware", Status: ticket.StatusOpen}, false},
		{"eli", "tag=VIP&tag=printer&tag=vip&tag=", ticket.ListFilter{Tags: []string{"printer", "vip"}}, false},
		{"eli", tags(20), ticket.ListFilter{}, false},
		{"eli", tags(21), ticket.ListFilter{}, true},
		{"eli", "tag=no+spaces", ticket.ListFilter{}, true},
		{"eli", "tag=" + strings.Repeat("t", 51), ticket.ListFilter{}, true},
		{"eli", "group=" + strings.Repeat("g", 101), ticket.ListFilter{}, true},
		{"eli", "assignee=" + url.QueryEscape("evil\x1b[2J"), ticket.ListFilter{}, true},
		{"eli", "assignee=" + strings.Repeat("a", 321), ticket.ListFilter{}, true},
		{"eli", "requester=%20bob%40example.com%20", ticket.ListFilter{Requester: "bob@example.com"}, false},
		{"eli", "requester=%20", ticket.ListFilter{}, false},
		{"eli", "requester=" + strings.Repeat("r", 321), ticket.ListFilter{}, true},
		{"eli", "requester=a%0Ab", ticket.ListFilter{}, true},
		{"eli", "escalated=true", ticket.ListFilter{Escalated: &yes}, false},
		{"eli", "escalated=false", ticket.ListFilter{Escalated: &no}, false},
		{"eli", "escalated=1", ticket.ListFilter{}, true},
		{"eli", "escalated=TRUE", ticket.ListFilter{}, true},
		{"eli", "breached=true", ticket.ListFilter{Breached: true}, false},
		{"eli", "breached=false", ticket.ListFilter{}, true},
		{"eli", "breached=yes", ticket.ListFilter{}, true},
		{"eli", "created_after=2026-11-26T10:00:00Z", ticket.ListFilter{CreatedAfter: at}, false},
		{"eli", "created_after=2026-11-26T11:00:00%2B01:00", ticket.ListFilter{CreatedAfter: at}, false},
		{"eli", "created_before=2026-11-26T10:00:00.5Z&updated_after=2026-11-26T09:59:59.000001Z",
			ticket.ListFilter{CreatedBefore: at.Add(500 * time.Millisecond), UpdatedAfter: at.Add(-999999 * time.Microsecond)}, false},
		{"eli", "created_after=2026-11-26T09:00:00Z&created_before=2026-11-26T10:00:00Z",
			ticket.ListFilter{CreatedAfter: at.Add(-time.Hour), CreatedBefore: at}, false},
		{"eli", "created_after=2026-11-26T10:00:00Z&created_before=2026-11-26T10:00:00Z", ticket.ListFilter{}, true},
		{"eli", "created_after=2026-11-26T11:00:00Z&created_before=2026-11-26T10:00:00Z", ticket.ListFilter{}, true},
		{"eli", "created_after=2026-11-26T11:00:00+01:00", ticket.ListFilter{}, true}, // the + is a space
		{"eli", "created_after=2026-11-26", ticket.ListFilter{}, true},
		{"eli", "created_before=yesterday", ticket.ListFilter{}, true},
		{"eli", "updated_after=2026-11-26T25:00:00Z", ticket.ListFilter{}, true},
		{"eli", "sort=-created_at", ticket.ListFilter{Sort: ticket.SortNewest}, false},
		{"eli", "sort=created_at", ticket.ListFilter{Sort: ticket.SortOldest}, false},
		{"eli", "sort=-updated_at", ticket.ListFilter{Sort: ticket.SortRecentUpdates}, false},
		{"eli", "sort=updated_at", ticket.ListFilter{Sort: ticket.SortOldUpdates}, false},
		{"eli", "sort=title", ticket.ListFilter{}, true},
		{"eli", "sort=CREATED_AT", ticket.ListFilter{}, true},
		{"eli", "sort=%2Bcreated_at", ticket.ListFilter{}, true},
		{"eli", "q=%20printer%20jam%20", ticket.ListFilter{Query: "printer jam"}, false},
		{"eli", "q=%20%20", ticket.ListFilter{}, false},
		{"eli", "q=&sort=created_at", ticket.ListFilter{Sort: ticket.SortOldest}, false},
		{"eli", "q=printer", ticket.ListFilter{Query: "printer"}, false}, // by relevance
		{"eli", "q=printer&sort=created_at", ticket.ListFilter{Query: "printer", Sort: ticket.SortOldest}, false},
		{"eli", "q=printer&sort=-created_at", ticket.ListFilter{Query: "printer", Sort: ticket.SortNewest}, false},
		{"eli", "q=printer&sort=relevance", ticket.ListFilter{}, true},
		{"eli", "q=" + url.QueryEscape(`"paper jam" or toner -laser`), ticket.ListFilter{Query: `"paper jam" or toner -laser`}, false},
		{"eli", "q=a%00b%FFc", ticket.ListFilter{Query: "a b c"}, false},
		{"eli", "q=" + strings.Repeat("%C3%A9", 2000), ticket.ListFilter{Query: strings.Repeat("é", maxQueryLen)}, false},
		{"eli", "q=printer&group=hardware&tag=VIP", ticket.ListFilter{Query: "printer", Group: "hardware", Tags: []string{"vip"}}, false},
		{"dana", "assignee=me&requester=bob%40example.com&escalated=false&breached=true&updated_after=2026-11-26T10:00:00Z&sort=updated_at&status=open",
			ticket.ListFilter{Assignee: "dana@example.com", Requester: "bob@example.com", Escalated: &no, Breached: true,
				UpdatedAfter: at, Sort: ticket.SortOldUpdates, Status: ticket.StatusOpen}, false},
	}
	for _, tc := range tests {
		srv, svc := newTriageServer()
		w := srv.send("GET", "/api/v1/tickets?"+tc.query, tc.key, "")
		if tc.bad {
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "/problems/bad-request") {
				t.Errorf("%s: status %d, want 400: %s", abbreviated(tc.query), w.Code, w.Body)
			}
			continue
		}
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d: %s", abbreviated(tc.query), w.Code, w.Body)
			continue
		}
		got := svc.listed[0]
		got.PageRequest = ticket.PageRequest{}
		if strings.HasPrefix(tc.query, "tag=t0") {
			continue // only that it is taken
		}
		if tc.want.Query == "" {
			tc.want.Sort = cmp.Or(tc.want.Sort, ticket.SortNewest) // a search's own order is ""
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: filter %+v, want %+v", abbreviated(tc.query), got, tc.want)
		}
	}
}

func abbreviated(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// TestCursorsBoundToFilters checks that a cursor continues only the listing that made it, new
// filters included, and that a cursor of a listing without them, made as the server made them
// before the filters existed, still continues it.
func TestCursorsBoundToFilters(t *testing.T) {
	srv, _ := newTriageServer()
	cursorOf := func(key, query string) string {
		t.Helper()
		w := srv.send("GET", "/api/v1/tickets?"+query, key, "")
		var p struct {
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusOK || p.NextCursor == nil {
			t.Fatalf("%s: status %d, %v: %s", query, w.Code, err, w.Body)
		}
		return url.QueryEscape(*p.NextCursor)
	}
	tests := []struct {
		name, madeBy, made, usedBy, used string
		ok                               bool
	}{
		{"the same tags", "eli", "tag=vip&tag=printer", "eli", "tag=printer&tag=VIP", true},
		{"other tags", "eli", "tag=vip&tag=printer", "eli", "tag=vip", false},
		{"tags dropped", "eli", "tag=vip", "eli", "", false},
		{"the same group", "eli", "group=hardware", "eli", "group=hardware", true},
		{"another group", "eli", "group=hardware", "eli", "group=billing", false},
		{"unassigned", "eli", "assignee=none", "eli", "assignee=none", true},
		{"unassigned, then anyone", "eli", "assignee=none", "eli", "", false},
		{"me, by me", "dana", "assignee=me", "dana", "assignee=me", true},
		{"me, by someone else", "dana", "assignee=me", "eli", "assignee=me", false},
		{"me, then by my name", "dana", "assignee=me", "eli", "assignee=dana%40example.com", true},
		{"the same requester", "eli", "requester=bob%40example.com", "dana", "requester=%20bob%40example.com", true},
		{"another requester", "eli", "requester=bob%40example.com", "eli", "requester=carol%40example.com", false},
		{"requester dropped", "eli", "requester=bob%40example.com", "eli", "", false},
		{"a customer's own, then an agent's of that requester", "alice", "", "eli", "requester=alice%40example.com", false},
		{"escalated", "eli", "escalated=true", "eli", "escalated=true", true},
		{"escalated, then not", "eli", "escalated=true", "eli", "escalated=false", false},
		{"never escalated, then anything", "eli", "escalated=false", "eli", "", false},
		{"breached", "eli", "breached=true", "eli", "breached=true", true},
		{"breached, then anything", "eli", "breached=true", "eli", "", false},
		{"the same instant in another offset", "eli", "created_after=2026-11-26T10:00:00Z", "eli", "created_after=2026-11-26T11:00:00%2B01:00", true},
		{"another instant", "eli", "created_after=2026-11-26T10:00:00Z", "eli", "created_after=2026-11-26T10:00:00.000001Z", false},
		{"after, then before", "eli", "created_after=2026-11-26T10:00:00Z", "eli", "created_before=2026-11-26T10:00:00Z", false},
		{"created before, then anything", "eli", "created_before=2026-11-26T10:00:00Z", "eli", "", false},
		{"updated after, then created after", "eli", "updated_after=2026-11-26T10:00:00Z", "eli", "created_after=2026-11-26T10:00:00Z", false},
		{"the same order", "eli", "sort=created_at", "eli", "sort=created_at", true},
		{"oldest first, then newest", "eli", "sort=created_at", "eli", "", false},
		{"by update, then the other way", "eli", "sort=-updated_at", "eli", "sort=updated_at", false},
		{"by update, then by creation", "eli", "sort=updated_at", "eli", "sort=created_at", false},
		{"the default order, named", "eli", "sort=-created_at", "eli", "", true},
		{"the default order, then named", "eli", "", "eli", "sort=-created_at", true},
		{"the same search", "eli", "q=printer", "eli", "q=%20printer", true},
		{"another search", "eli", "q=printer", "eli", "q=printers", false},
		{"a search, then none", "eli", "q=printer", "eli", "", false},
		{"no search, then one", "eli", "", "eli", "q=printer", false},
		{"an empty search is none", "eli", "q=%20", "eli", "", true},
		{"a search with a filter, then without", "eli", "q=printer&group=hardware", "eli", "q=printer", false},
		{"a customer's search, then an agent's", "alice", "q=printer", "eli", "q=printer&requester=alice%40example.com", false},
	}
	for _, tc := range tests {
		cursor := cursorOf(tc.madeBy, tc.made)
		w := srv.send("GET", "/api/v1/tickets?"+tc.used+"&cursor="+cursor, tc.usedBy, "")
		if ok := w.Code == http.StatusOK; ok != tc.ok {
			t.Errorf("%s: status %d, want ok=%v: %s", tc.name, w.Code, tc.ok, w.Body)
		}
	}
	for query, scope := range map[string]string{
		"status=open": `tickets status=open priority= requester=""`,
		"":            `tickets status= priority= requester=""`,
		"tag=vip":     `tickets status= priority= requester="" tags=["vip"]`,
	} {
		old := srv.cursors.encode(scope, &ticket.Cursor{At: time.Now(), ID: triageTicket})
		if w := srv.send("GET", "/api/v1/tickets?"+query+"&cursor="+url.QueryEscape(*old), "eli", ""); w.Code != http.StatusOK {
			t.Errorf("?%s: a cursor made before the new filters: status %d: %s", query, w.Code, w.Body)
		}
	}
}

// TestSearchView checks what a search answers: each ticket with its match, which a listing
// without q leaves out, and a cursor that carries the rank of the last.
func TestSearchView(t *testing.T) {
	srv, _ := newTriageServer()
	for _, tc := range []struct {
		query string
		match any
	}{
		{"q=printer", map[string]any{"snippet": "the [printer] jams"}},
		{"", nil},
		{"q=%20", nil},
	} {
		w := srv.send("GET", "/api/v1/tickets?"+tc.query, "alice", "")
		var p struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusOK || len(p.Items) != 1 || p.NextCursor == nil {
			t.Fatalf("?%s: status %d, %v: %s", tc.query, w.Code, err, w.Body)
		}
		match, ok := p.Items[0]["match"]
		if !reflect.DeepEqual(match, tc.match) || ok != (tc.match != nil) {
			t.Errorf("?%s: match %v (there: %v), want %v", tc.query, match, ok, tc.match)
		}
		payload, _, _ := strings.Cut(*p.NextCursor, ".")
		pos, err := ticket.ParseCursor(payload)
		if err != nil || (pos.Rank != 0) != (tc.match != nil) {
			t.Errorf("?%s: the cursor's position %+v, %v", tc.query, pos, err)
		}
	}
}

// TestTicketViewByRole checks the new fields of a ticket's view: a customer's has no
// internal_notes_count at all, and nobody and no tags are written as null and [].
func TestTicketViewByRole(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tk := ticket.Ticket{ID: triageTicket, Title: "t", Status: ticket.StatusOpen, Priority: ticket.PriorityNormal, Version: 3,
		CreatedAt: at, UpdatedAt: at, InternalNotesCount: 2}
	fields := func(by auth.Principal, tk ticket.Ticket) map[string]any {
		t.Helper()
		b, err := json.Marshal(viewTicket(tk, by))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	agent := fields(auth.PrincipalOf(triageKeys["eli"]), tk)
	if agent["internal_notes_count"] != 2.0 || agent["assignee"] != nil || agent["group"] != ticket.DefaultGroup ||
		fmt.Sprint(agent["tags"]) != "[]" || agent["first_responded_at"] != nil {
		t.Errorf("an agent's view: %v", agent)
	}
	if _, ok := agent["assignee"]; !ok {
		t.Error("an agent's view has no assignee, want null")
	}
	customer := fields(auth.PrincipalOf(triageKeys["alice"]), tk)
	if _, ok := customer["internal_notes_count"]; ok {
		t.Errorf("a customer's view has internal_notes_count: %v", customer)
	}
	responded := at.Add(time.Hour)
	tk.Assignee, tk.Group, tk.Tags, tk.FirstRespondedAt = "dana@example.com", "hardware", []string{"vip"}, &responded
	agent = fields(auth.PrincipalOf(triageKeys["eli"]), tk)
	if agent["assignee"] != "dana@example.com" || agent["group"] != "hardware" || fmt.Sprint(agent["tags"]) != "[vip]" ||
		agent["first_responded_at"] != "2026-11-26T11:00:00.000000Z" {
		t.Errorf("an agent's view: %v", agent)
	}

	// The due times are null while no timer runs, and shown to every key while one does; when
	// the SLA escalated the ticket is not.
	for _, name := range []string{"first_response_due_at", "auto_close_at"} {
		if v, ok := agent[name]; !ok || v != nil {
			t.Errorf("a ticket with no timer: %s = %v (there: %v), want null", name, v, ok)
		}
	}
	due, closes := at.Add(2*time.Hour), at.Add(3*time.Hour)
	tk.FirstResponseDueAt, tk.AutoCloseAt, tk.SLABreachedAt = &due, &closes, &due
	for _, by := range []string{"eli", "alice"} {
		view := fields(auth.PrincipalOf(triageKeys[by]), tk)
		if view["first_response_due_at"] != "2026-11-26T12:00:00.000000Z" || view["auto_close_at"] != "2026-11-26T13:00:00.000000Z" {
			t.Errorf("%s's view of the due times: %v, %v", by, view["first_response_due_at"], view["auto_close_at"])
		}
		for name := range view {
			if strings.Contains(name, "breach") {
				t.Errorf("%s's view shows %s", by, name)
			}
		}
	}
	if back := viewTicket(tk, auth.PrincipalOf(triageKeys["eli"])).Domain(); !back.FirstResponseDueAt.Equal(due) ||
		!back.AutoCloseAt.Equal(closes) || back.SLABreachedAt != nil {
		t.Errorf("the view's ticket: due %v, closes %v, breached %v", back.FirstResponseDueAt, back.AutoCloseAt, back.SLABreachedAt)
	}
	c := viewComment(ticket.Comment{ID: "c", Body: "b"}, auth.PrincipalOf(triageKeys["eli"]))
	if c.Visibility != ticket.VisibilityPublic {
		t.Errorf("a comment from before internal notes is %q, want public", c.Visibility)
	}
}
