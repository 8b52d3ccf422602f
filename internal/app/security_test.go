package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"ticketflow/internal/auth"
	"ticketflow/internal/ticket"
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
	deadline := time.Now().Add(3 * time.Second)
	for other.do(t, "GET", "/api/v1/tickets", nil).status != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("a key revoked by another process still works after 3 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
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
		var tk ticket.Ticket
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
	var mine ticket.Ticket
	alice.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "mine"}).expect(t, http.StatusCreated, &mine)
	if mine.Requester != "alice@example.com" {
		t.Fatalf("a customer's ticket has requester %q", mine.Requester)
	}
	alice.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "for bob", "requester": "bob@example.com"}).
		expectProblem(t, http.StatusForbidden, "/problems/forbidden")

	var page ticket.Page[ticket.Ticket]
	alice.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &page)
	if len(page.Items) != 1 || page.Items[0].ID != mine.ID {
		t.Fatalf("alice lists %+v, want only her ticket", page.Items)
	}
	s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &page)
	if len(page.Items) != 2 {
		t.Fatalf("an agent lists %d tickets, want 2", len(page.Items))
	}

	alice.act(t, mine.ID, ticket.ActionComment, map[string]string{"body": "any news?"}).expect(t, http.StatusCreated, nil)
	var events ticket.Page[ticket.Event]
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
	s := startSystemWith(t, cfg)
	other := s.as(s.newKey(t, "other", auth.RoleAgent, ""))
	for range 3 {
		s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, nil)
	}
	r := s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "one too many"})
	r.expectProblem(t, http.StatusTooManyRequests, "/problems/rate-limited")
	if wait, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || wait < 1 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	var page ticket.Page[ticket.Ticket]
	other.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &page)
	if len(page.Items) != 0 {
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
