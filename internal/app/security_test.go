package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestAuthentication checks that every /api/v1 call needs a valid key, that revocation takes
// effect at once, through the API and from another process, and what needs no key.
func TestAuthentication(t *testing.T) {
	s := startSystem(t)
	anonymous := s.as("")
	r := anonymous.do(t, "GET", "/api/v1/tickets", nil)
	r.expectProblem(t, http.StatusUnauthorized, "/problems/unauthorized")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	anonymous.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "x"}).expectProblem(t, http.StatusUnauthorized, "/problems/unauthorized")
	for _, h := range []string{"Basic dXNlcjpwYXNz", "Bearer", "Bearer tfk_unknown", "bearer " + s.key} {
		anonymous.do(t, "GET", "/api/v1/tickets", nil, "Authorization", h).expectProblem(t, http.StatusUnauthorized, "/problems/unauthorized")
	}
	for _, path := range []string{"/healthz", "/readyz", "/api/openapi.json"} {
		anonymous.do(t, "GET", path, nil).expect(t, http.StatusOK, nil)
	}

	// Revoked through the API by an admin: refused on the very next request.
	admin := s.as(s.newKey(t, "admin", auth.RoleAdmin, ""))
	victim := s.as(s.newKey(t, "leaked", auth.RoleAgent, ""))
	victim.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, nil)
	admin.do(t, "POST", "/api/v1/keys/leaked/revoke", nil).expect(t, http.StatusOK, nil)
	victim.do(t, "GET", "/api/v1/tickets", nil).expectProblem(t, http.StatusUnauthorized, "/problems/unauthorized")

	// Revoked by another process (apiserver keys revoke): the database tells this one at once.
	other := s.as(s.newKey(t, "other", auth.RoleAgent, ""))
	other.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, nil) // now remembered
	if _, err := s.deps.Store.RevokeKey(context.Background(), "other"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "the key revoked by another process to be refused", func() bool {
		return other.do(t, "GET", "/api/v1/tickets", nil).status == http.StatusUnauthorized
	})
}

// TestRoleMatrix sends every role to every endpoint and checks the status of each cell. A
// customer's ticket belongs to alice; bob is another customer, to whom it does not exist.
func TestRoleMatrix(t *testing.T) {
	s := startSystem(t)
	keys := map[string]*system{
		"agent":      s,
		"alice":      s.as(s.newKey(t, "alice", auth.RoleCustomer, "alice@example.com")),
		"bob":        s.as(s.newKey(t, "bob", auth.RoleCustomer, "bob@example.com")),
		"automation": s.as(s.newKey(t, "bot", auth.RoleAutomation, "")),
		"admin":      s.as(s.newKey(t, "root", auth.RoleAdmin, "")),
	}
	roles := []string{"agent", "alice", "bob", "automation", "admin"}
	// aliceTicket opens a ticket of alice's in the given status, as an agent.
	aliceTicket := func(t *testing.T, st ticket.Status) string {
		t.Helper()
		var tk httpapi.Ticket
		s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "alice's", "requester": "alice@example.com"}).
			expect(t, http.StatusCreated, &tk)
		if st == ticket.StatusAnswered {
			s.act(t, tk.ID, ticket.ActionAnswer, nil).expect(t, http.StatusOK, nil)
		}
		return tk.ID
	}
	type cell struct {
		method, path string // {id} is a fresh ticket of alice's, in status from
		from         ticket.Status
		body         any
		want         map[string]int
	}
	all := func(status int) map[string]int {
		return map[string]int{"agent": status, "alice": status, "bob": status, "automation": status, "admin": status}
	}
	with := func(m map[string]int, role string, status int) map[string]int {
		m[role] = status
		return m
	}
	read := with(all(200), "bob", 404)
	cells := []cell{
		{"POST", "/api/v1/tickets", "", map[string]string{"title": "new"}, with(all(201), "automation", 403)},
		{"GET", "/api/v1/tickets", "", nil, all(200)},
		{"GET", "/api/v1/tickets/{id}", ticket.StatusOpen, nil, read},
		{"GET", "/api/v1/tickets/{id}/comments", ticket.StatusOpen, nil, read},
		{"GET", "/api/v1/tickets/{id}/events", ticket.StatusOpen, nil, read},
		{"POST", "/api/v1/tickets/{id}/comments", ticket.StatusOpen, map[string]string{"body": "hi"}, with(all(201), "bob", 404)},
		{"POST", "/api/v1/tickets/{id}/answer", ticket.StatusOpen, nil, with(with(with(all(200), "alice", 403), "bob", 403), "automation", 403)},
		{"POST", "/api/v1/tickets/{id}/await", ticket.StatusAnswered, nil, with(with(all(200), "alice", 403), "bob", 403)},
		{"POST", "/api/v1/tickets/{id}/close", ticket.StatusOpen, nil, with(all(200), "bob", 404)},
		{"POST", "/api/v1/tickets/{id}/escalate", ticket.StatusOpen, nil, with(with(all(200), "alice", 403), "bob", 403)},
		{"GET", "/api/v1/keys", "", nil, with(all(403), "admin", 200)},
		{"POST", "/api/v1/keys", "", map[string]string{"name": "made-by-{role}", "role": "agent"}, with(all(403), "admin", 201)},
		{"POST", "/api/v1/keys/{key}/revoke", "", nil, with(all(403), "admin", 200)},
	}
	for _, c := range cells {
		for _, role := range roles {
			t.Run(fmt.Sprintf("%s %s as %s", c.method, c.path, role), func(t *testing.T) {
				path := c.path
				if strings.Contains(path, "{id}") {
					path = strings.ReplaceAll(path, "{id}", aliceTicket(t, c.from))
				}
				if strings.Contains(path, "{key}") {
					name := "spare-for-" + role
					s.newKey(t, name, auth.RoleAgent, "")
					path = strings.ReplaceAll(path, "{key}", name)
				}
				body := c.body
				if m, ok := body.(map[string]string); ok && m["name"] != "" {
					body = map[string]string{"name": strings.ReplaceAll(m["name"], "{role}", role), "role": m["role"]}
				}
				r := keys[role].do(t, c.method, path, body)
				if r.status != c.want[role] {
					t.Fatalf("status %d, want %d: %s", r.status, c.want[role], r.body)
				}
			})
		}
	}
}

// TestCustomerScope checks what a customer key sees and sets: only their own tickets, opened
// for themselves only, and their key's name as the actor of their changes.
func TestCustomerScope(t *testing.T) {
	s := startSystem(t)
	alice := s.as(s.newKey(t, "alice", auth.RoleCustomer, "alice@example.com"))
	s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "bob's", "requester": "bob@example.com"}).expect(t, http.StatusCreated, nil)
	var mine httpapi.Ticket
	alice.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "mine"}).expect(t, http.StatusCreated, &mine)
	if mine.Requester != "alice@example.com" {
		t.Fatalf("a customer's ticket has requester %q", mine.Requester)
	}
	alice.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "for bob", "requester": "bob@example.com"}).
		expectProblem(t, http.StatusForbidden, "/problems/forbidden")

	var list page[httpapi.Ticket]
	alice.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != mine.ID {
		t.Fatalf("alice lists %+v, want only her ticket", list.Items)
	}
	s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &list)
	if len(list.Items) != 2 {
		t.Fatalf("an agent lists %d tickets, want 2", len(list.Items))
	}

	alice.act(t, mine.ID, ticket.ActionComment, map[string]string{"body": "any news?"}).expect(t, http.StatusCreated, nil)
	var events page[httpapi.Event]
	alice.do(t, "GET", "/api/v1/tickets/"+mine.ID+"/events", nil).expect(t, http.StatusOK, &events)
	if last := events.Items[len(events.Items)-1]; last.Actor != "alice" || events.Items[0].Actor != "alice" {
		t.Fatalf("actors %q and %q, want the key's name", events.Items[0].Actor, last.Actor)
	}
}

// TestRateLimit gives one key a small budget: past it the key gets 429 with Retry-After and
// nothing is done, while another key is unaffected.
func TestRateLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.RateLimit, cfg.RateBurst = 0.5, 3
	s := startSystem(t, withConfig(cfg))
	other := s.as(s.newKey(t, "other", auth.RoleAgent, ""))
	for range 3 {
		s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, nil)
	}
	r := s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "one too many"})
	r.expectProblem(t, http.StatusTooManyRequests, "/problems/rate-limited")
	if wait, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || wait < 1 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	var list page[httpapi.Ticket]
	other.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatal("a refused request created a ticket")
	}
}

// TestHostileInput sends requests a hostile or careless client would: each gets a 4xx
// problem+json, never a 5xx, and changes nothing.
func TestHostileInput(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "target")
	id := tk.ID
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
	}{
		{"invalid UTF-8", "POST", "/api/v1/tickets", "{\"title\":\"\xff\xfe\"}", nil, 400},
		{"control characters", "POST", "/api/v1/tickets", `{"title":"bell\u0007"}`, nil, 422},
		{"NUL in a comment", "POST", "/api/v1/tickets/" + id + "/comments", `{"body":"a\u0000b"}`, nil, 422},
		{"huge number", "POST", "/api/v1/tickets", `{"title":1e999999}`, nil, 400},
		{"number for a string", "POST", "/api/v1/tickets", `{"title":12}`, nil, 400},
		{"array for an object", "POST", "/api/v1/tickets", `[{"title":"a"}]`, nil, 400},
		{"deep JSON", "POST", "/api/v1/tickets", deep, nil, 400},
		{"duplicate keys", "POST", "/api/v1/tickets", `{"title":"a","title":"b"}`, nil, 400},
		{"nested duplicate keys", "POST", "/api/v1/tickets/" + id + "/close", `{"reason":"a","reason":"b"}`, nil, 400},
		{"null body", "POST", "/api/v1/tickets", `null`, nil, 422},
		{"SQL in the id", "GET", "/api/v1/tickets/1'%20OR%20'1'='1", "", nil, 404},
		{"SQL in a filter", "GET", "/api/v1/tickets?status=open'--", "", nil, 400},
		{"SQL in the cursor", "GET", "/api/v1/tickets?cursor=%27%3B%20DROP%20TABLE%20tickets%3B--", "", nil, 400},
		{"path traversal", "GET", "/api/v1/tickets/..%2F..%2Fetc%2Fpasswd", "", nil, 404},
		{"upper-case id", "GET", "/api/v1/tickets/" + strings.ToUpper(id) + "x", "", nil, 404},
		{"nil UUID", "POST", "/api/v1/tickets/00000000-0000-0000-0000-000000000000/answer", "", nil, 404},
		{"huge limit", "GET", "/api/v1/tickets?limit=99999999999999999999", "", nil, 400},
		{"negative limit", "GET", "/api/v1/tickets?limit=-1", "", nil, 400},
		{"bad Idempotency-Key", "POST", "/api/v1/tickets", `{"title":"a"}`, []string{"Idempotency-Key", "a\u00e9b"}, 400},
		{"bad If-Match", "POST", "/api/v1/tickets/" + id + "/answer", "", []string{"If-Match", `W/"1"`}, 400},
		{"unknown field", "POST", "/api/v1/tickets/" + id + "/escalate", `{"level":99}`, nil, 400},
		{"field of another action", "POST", "/api/v1/tickets/" + id + "/escalate", `{"comment":"x"}`, nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := append([]string{"Content-Type", "application/json"}, tc.header...)
			r := s.raw(t, tc.method, tc.path, strings.NewReader(tc.body), header...)
			if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s %s, want %d problem+json", r.status, r.header.Get("Content-Type"), r.body, tc.status)
			}
		})
	}
	if got := s.get(t, id); got.Version != 1 || got.CommentsCount != 0 || got.Status != ticket.StatusOpen {
		t.Errorf("hostile requests changed the ticket: %+v", got)
	}
	if n := s.countTickets(t); n != 1 {
		t.Errorf("hostile requests made tickets: %d", n)
	}
}

// TestSecurityHeaders checks the headers of API and docs responses, and that CORS is off.
func TestSecurityHeaders(t *testing.T) {
	s := startSystem(t)
	for _, path := range []string{"/api/v1/tickets", "/healthz", "/api/openapi"} {
		r := s.do(t, "GET", path, nil, "Origin", "https://evil.example")
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Server") != "" ||
			r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: headers %v", path, r.header)
		}
	}
	csp := s.do(t, "GET", "/api/redoc", nil).header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") && !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("docs page Content-Security-Policy %q", csp)
	}
}

// TestNotFoundIsOneAnswer checks that a customer cannot tell another customer's ticket from one
// that does not exist: on every route of a ticket, the two answers have the same body, once the
// ticket's ID in it is set aside, and the same headers, apart from the date and the request ID.
// An agent asking for a ticket that does not exist, whose answer comes from another layer (the
// workflow's client), gets the same body too.
func TestNotFoundIsOneAnswer(t *testing.T) {
	s := startSystem(t)
	bob := s.as(s.newKey(t, "bob", auth.RoleCustomer, "bob@example.com"))
	var alices httpapi.Ticket
	s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "alice's", "requester": "alice@example.com"}).
		expect(t, http.StatusCreated, &alices)
	missing := uuid.Must(uuid.NewV7()).String()

	routes := []struct {
		method, path string // {id} is the ticket's ID
		body         any
	}{
		{"GET", "/api/v1/tickets/{id}", nil},
		{"GET", "/api/v1/tickets/{id}/comments", nil},
		{"GET", "/api/v1/tickets/{id}/events", nil},
		{"POST", "/api/v1/tickets/{id}/comments", map[string]string{"body": "is this yours?"}},
		{"POST", "/api/v1/tickets/{id}/close", map[string]string{"reason": "mine now"}},
	}
	// answer sends the request about the ticket id and returns its body with the ID replaced,
	// and its headers without the ones that differ on every response.
	answer := func(t *testing.T, c *system, method, path string, body any, id string) ([]byte, http.Header) {
		t.Helper()
		r := c.do(t, method, strings.ReplaceAll(path, "{id}", id), body)
		r.expectProblem(t, http.StatusNotFound, "/problems/not-found")
		h := r.header.Clone()
		h.Del("Date")
		h.Del("X-Request-Id")
		return bytes.ReplaceAll(r.body, []byte(id), []byte("{id}")), h
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			othersBody, othersHeader := answer(t, bob, rt.method, rt.path, rt.body, alices.ID)
			missingBody, missingHeader := answer(t, bob, rt.method, rt.path, rt.body, missing)
			if !bytes.Equal(othersBody, missingBody) {
				t.Errorf("another's ticket:\n%s\na missing one:\n%s", othersBody, missingBody)
			}
			if !reflect.DeepEqual(othersHeader, missingHeader) {
				t.Errorf("another's ticket: headers %v\na missing one: headers %v", othersHeader, missingHeader)
			}
			agentBody, _ := answer(t, s, rt.method, rt.path, rt.body, missing)
			if !bytes.Equal(agentBody, missingBody) {
				t.Errorf("a missing ticket, to an agent:\n%s\nto a customer:\n%s", agentBody, missingBody)
			}
		})
	}
	if got := s.get(t, alices.ID); got.Version != 1 || got.Status != ticket.StatusOpen {
		t.Errorf("bob changed alice's ticket: %s v%d", got.Status, got.Version)
	}
}

// TestCommentAuthor checks who a comment says wrote it: a customer's comments carry their key's
// subject, and a customer who names someone else is refused; agents and automations may name an
// author (a team, a bot), and otherwise carry their key's name.
func TestCommentAuthor(t *testing.T) {
	s := startSystem(t)
	alice := s.as(s.newKey(t, "alice", auth.RoleCustomer, "alice@example.com"))
	bot := s.as(s.newKey(t, "bot", auth.RoleAutomation, ""))
	var tk httpapi.Ticket
	alice.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "who said that?"}).expect(t, http.StatusCreated, &tk)
	comment := func(c *system, body map[string]string) httpapi.Comment {
		t.Helper()
		var cm httpapi.Comment
		c.act(t, tk.ID, ticket.ActionComment, body).expect(t, http.StatusCreated, &cm)
		return cm
	}

	for _, author := range []string{"Support Team (agent)", "bob@example.com", "alice"} {
		alice.act(t, tk.ID, ticket.ActionComment, map[string]string{"body": "trust me", "author": author}).
			expectProblem(t, http.StatusForbidden, "/problems/forbidden")
	}
	tests := []struct {
		name   string
		client *system
		body   map[string]string
		want   string
	}{
		{"a customer", alice, map[string]string{"body": "any news?"}, "alice@example.com"},
		{"a customer naming themselves", alice, map[string]string{"body": "me again", "author": "alice@example.com"}, "alice@example.com"},
		{"an agent", s, map[string]string{"body": "looking"}, s.actor},
		{"an agent naming a team", s, map[string]string{"body": "fixed", "author": "Support Team"}, "Support Team"},
		{"an automation naming itself", bot, map[string]string{"body": "reminder", "author": "SLA bot"}, "SLA bot"},
	}
	var want []string
	for _, tc := range tests {
		if got := comment(tc.client, tc.body); got.Author != tc.want {
			t.Errorf("%s: author %q, want %q", tc.name, got.Author, tc.want)
		}
		want = append(want, tc.want)
	}
	var listed page[httpapi.Comment]
	alice.do(t, "GET", "/api/v1/tickets/"+tk.ID+"/comments", nil).expect(t, http.StatusOK, &listed)
	var got []string
	for _, c := range listed.Items {
		got = append(got, c.Author)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the listing shows authors %q, want %q: the refused comments must leave no trace", got, want)
	}
}
