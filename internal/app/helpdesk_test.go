package app_test

// The working surface of a helpdesk, end to end: who works a ticket and in which group, its tags,
// the listings by them, and the internal notes that no customer ever sees.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// changed posts an action and returns the ticket it answers with, failing unless it is a 200.
func (s *system) changed(t *testing.T, id string, action ticket.Action, body any) httpapi.Ticket {
	t.Helper()
	var tk httpapi.Ticket
	s.act(t, id, action, body).expect(t, http.StatusOK, &tk)
	return tk
}

// openTicket opens a ticket with the body's fields.
func (s *system) openTicket(t *testing.T, body map[string]any) httpapi.Ticket {
	t.Helper()
	var tk httpapi.Ticket
	s.do(t, "POST", "/api/v1/tickets", body).expect(t, http.StatusCreated, &tk)
	return tk
}

// assignee is the assignee of a view: "" for nobody.
func assignee(tk httpapi.Ticket) string {
	if tk.Assignee == nil {
		return ""
	}
	return *tk.Assignee
}

// eventsOf returns the events of the type in a trail.
func eventsOf(trail []httpapi.Event, typ ticket.EventType) []httpapi.Event {
	var out []httpapi.Event
	for _, e := range trail {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestAssign assigns, reassigns, moves between groups and unassigns a ticket; a request that
// changes nothing answers the ticket at the same version and records nothing; each move is an
// assigned event with what it moved from and to, by the key's holder.
func TestAssign(t *testing.T) {
	s := startSystem(t)
	dana := s.as(s.newKey(t, "agent-dana", auth.RoleAgent, "dana@example.com"))
	tk := s.create(t, "Printer on fire")
	if tk.Group != ticket.DefaultGroup || tk.Assignee != nil || tk.Tags == nil || len(tk.Tags) != 0 || tk.FirstRespondedAt != nil {
		t.Fatalf("a new ticket: group %q assignee %v tags %v first response %v", tk.Group, tk.Assignee, tk.Tags, tk.FirstRespondedAt)
	}

	steps := []struct {
		name            string
		by              *system
		body            any
		assignee, group string
		version         int64
	}{
		{"assign", dana, map[string]any{"assignee": "dana@example.com"}, "dana@example.com", "support", 2},
		{"reassign to another group", s, map[string]any{"assignee": "eli@example.com", "group": "hardware"}, "eli@example.com", "hardware", 3},
		{"the same again", s, map[string]any{"assignee": "eli@example.com", "group": "hardware"}, "eli@example.com", "hardware", 3},
		{"nothing at all", s, map[string]any{}, "eli@example.com", "hardware", 3},
		{"no body", s, nil, "eli@example.com", "hardware", 3},
		{"the group only", dana, map[string]any{"group": " billing "}, "eli@example.com", "billing", 4},
		{"unassign", dana, map[string]any{"assignee": nil}, "", "billing", 5},
		{"unassign again", s, map[string]any{"assignee": nil}, "", "billing", 5},
	}
	for _, st := range steps {
		r := st.by.act(t, tk.ID, ticket.ActionAssign, st.body)
		var got httpapi.Ticket
		r.expect(t, http.StatusOK, &got)
		if assignee(got) != st.assignee || got.Group != st.group || got.Version != st.version || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, st.version) {
			t.Fatalf("%s: assignee %q group %q v%d ETag %s, want %q %q v%d", st.name, assignee(got), got.Group, got.Version,
				r.header.Get("ETag"), st.assignee, st.group, st.version)
		}
	}
	if got := s.get(t, tk.ID); got.Version != 5 || got.Assignee != nil || got.Group != "billing" {
		t.Fatalf("read back: assignee %v group %q v%d", got.Assignee, got.Group, got.Version)
	}

	// A precondition, a retry and bad input, like any change.
	s.do(t, "POST", "/api/v1/tickets/"+tk.ID+"/assign", map[string]any{"assignee": "eli@example.com"}, "If-Match", `"4"`).
		expectProblem(t, http.StatusPreconditionFailed, "/problems/precondition-failed")
	first := s.post(t, "/api/v1/tickets/"+tk.ID+"/assign", "assign-eli", map[string]any{"assignee": "eli@example.com"})
	again := s.post(t, "/api/v1/tickets/"+tk.ID+"/assign", "assign-eli", map[string]any{"assignee": "eli@example.com"})
	var a, b httpapi.Ticket
	first.expect(t, http.StatusOK, &a)
	again.expect(t, http.StatusOK, &b)
	if a.Version != 6 || b.Version != 6 || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retried assignment: v%d then v%d (replayed %q)", a.Version, b.Version, again.header.Get("Idempotent-Replayed"))
	}
	for name, body := range map[string]any{
		"a group too long":     map[string]any{"group": strings.Repeat("g", 101)},
		"an assignee too long": map[string]any{"assignee": strings.Repeat("a", 321)},
		"a control character":  map[string]any{"assignee": "eli\u001b[2J"},
	} {
		p := s.act(t, tk.ID, ticket.ActionAssign, body).expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation")
		if len(p.Errors) == 0 {
			t.Errorf("%s: no field errors", name)
		}
	}
	s.raw(t, "POST", "/api/v1/tickets/"+tk.ID+"/assign", strings.NewReader(`{"assignee":["eli"]}`), "Content-Type", "application/json").
		expectProblem(t, http.StatusBadRequest, "/problems/bad-request")

	// The trail: one assigned event per move, none for what changed nothing.
	var want []map[string]any
	for _, m := range [][4]any{
		{nil, "dana@example.com", "support", "support"},
		{"dana@example.com", "eli@example.com", "support", "hardware"},
		{"eli@example.com", "eli@example.com", "hardware", "billing"},
		{"eli@example.com", nil, "billing", "billing"},
		{nil, "eli@example.com", "billing", "billing"},
	} {
		want = append(want, map[string]any{"from_assignee": m[0], "to_assignee": m[1], "from_group": m[2], "to_group": m[3]})
	}
	assigned := eventsOf(s.trail(t, tk.ID), ticket.EventAssigned)
	if len(assigned) != len(want) {
		t.Fatalf("%d assigned events, want %d: %+v", len(assigned), len(want), assigned)
	}
	for i, e := range assigned {
		for k, v := range want[i] {
			if e.Data[k] != v {
				t.Errorf("assigned event %d: %s = %v, want %v (data %v)", i, k, e.Data[k], v, e.Data)
			}
		}
	}
	if actors := []string{assigned[0].Actor, assigned[1].Actor, assigned[2].Actor}; !slices.Equal(actors, []string{"dana@example.com", s.actor, "dana@example.com"}) {
		t.Errorf("actors %q: an agent key acts as its subject, else its name", actors)
	}

	// A closed ticket takes no assignment, not even one that would change nothing.
	s.act(t, tk.ID, ticket.ActionClose, nil).expect(t, http.StatusOK, nil)
	for _, body := range []any{map[string]any{"assignee": "dana@example.com"}, map[string]any{}} {
		s.act(t, tk.ID, ticket.ActionAssign, body).expectProblem(t, http.StatusConflict, "/problems/ticket-closed")
	}
	s.act(t, tk.ID, ticket.ActionTags, map[string]any{"add": []string{"late"}}).expectProblem(t, http.StatusConflict, "/problems/ticket-closed")
}

// TestTags adds and removes tags: they are kept normalized, distinct and sorted, adding what is
// there or removing what is not changes nothing, a ticket holds at most 20, and each change is a
// tags_changed event that says what it added and removed.
func TestTags(t *testing.T) {
	s := startSystem(t)
	tk := s.openTicket(t, map[string]any{"title": "tagged", "tags": []string{" VIP ", "printer", "vip"}})
	if !slices.Equal(tk.Tags, []string{"printer", "vip"}) {
		t.Fatalf("opened with tags %q", tk.Tags)
	}
	steps := []struct {
		name    string
		body    any
		tags    []string
		version int64
	}{
		{"add", map[string]any{"add": []string{"Floor:2", "printer"}}, []string{"floor:2", "printer", "vip"}, 2},
		{"add what is there", map[string]any{"add": []string{"FLOOR:2"}}, []string{"floor:2", "printer", "vip"}, 2},
		{"remove what is not there", map[string]any{"remove": []string{"billing"}}, []string{"floor:2", "printer", "vip"}, 2},
		{"nothing at all", nil, []string{"floor:2", "printer", "vip"}, 2},
		{"add and remove", map[string]any{"add": []string{"on_hold"}, "remove": []string{" VIP"}}, []string{"floor:2", "on_hold", "printer"}, 3},
		{"remove all", map[string]any{"remove": []string{"floor:2", "on_hold", "printer"}}, []string{}, 4},
	}
	for _, st := range steps {
		got := s.changed(t, tk.ID, ticket.ActionTags, st.body)
		if !slices.Equal(got.Tags, st.tags) || got.Version != st.version {
			t.Fatalf("%s: tags %q v%d, want %q v%d", st.name, got.Tags, got.Version, st.tags, st.version)
		}
	}
	// A ticket with no tags shows [], never null or nothing.
	r := s.do(t, "GET", "/api/v1/tickets/"+tk.ID, nil)
	if !strings.Contains(string(r.body), `"tags":[]`) {
		t.Errorf("a ticket without tags: %s", r.body)
	}

	for name, body := range map[string]any{
		"a space":         map[string]any{"add": []string{"no spaces"}},
		"too long":        map[string]any{"add": []string{strings.Repeat("t", 51)}},
		"added and gone":  map[string]any{"add": []string{"x"}, "remove": []string{"X"}},
		"an empty tag":    map[string]any{"add": []string{" "}},
		"another charset": map[string]any{"add": []string{"überfall"}},
	} {
		if p := s.act(t, tk.ID, ticket.ActionTags, body).expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation"); len(p.Errors) == 0 {
			t.Errorf("%s: no field errors", name)
		}
	}
	s.do(t, "POST", "/api/v1/tickets", map[string]any{"title": "bad", "tags": []string{"no spaces"}}).
		expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation")

	// Twenty tags, and not one more.
	var twenty []string
	for i := range 20 {
		twenty = append(twenty, fmt.Sprintf("t%02d", i))
	}
	full := s.changed(t, tk.ID, ticket.ActionTags, map[string]any{"add": twenty})
	if len(full.Tags) != 20 {
		t.Fatalf("%d tags, want 20", len(full.Tags))
	}
	p := s.act(t, tk.ID, ticket.ActionTags, map[string]any{"add": []string{"t20"}}).
		expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation")
	if len(p.Errors) != 1 || p.Errors[0].Field != "add" {
		t.Errorf("the 21st tag: errors %+v, want one on add", p.Errors)
	}
	if swapped := s.changed(t, tk.ID, ticket.ActionTags, map[string]any{"add": []string{"t20"}, "remove": []string{"t00"}}); len(swapped.Tags) != 20 {
		t.Errorf("a swap at 20 tags leaves %d", len(swapped.Tags))
	}
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf("n%02d", i))
	}
	s.do(t, "POST", "/api/v1/tickets", map[string]any{"title": "too many", "tags": many}).
		expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation")

	changes := eventsOf(s.trail(t, tk.ID), ticket.EventTagsChanged)
	want := []struct{ added, removed string }{
		{"[floor:2]", "[]"},
		{"[on_hold]", "[vip]"},
		{"[]", "[floor:2 on_hold printer]"},
		{fmt.Sprint(twenty), "[]"},
		{"[t20]", "[t00]"},
	}
	if len(changes) != len(want) {
		t.Fatalf("%d tags_changed events, want %d: %+v", len(changes), len(want), changes)
	}
	for i, e := range changes {
		if added, removed := fmt.Sprint(e.Data["added"]), fmt.Sprint(e.Data["removed"]); added != want[i].added || removed != want[i].removed || e.Actor != s.actor {
			t.Errorf("tags_changed %d: added %s removed %s by %q, want %s, %s by %q", i, added, removed, e.Actor, want[i].added, want[i].removed, s.actor)
		}
	}
}

// TestTriageFilters lists tickets by assignee (a named one, me for two agents of their own, and
// nobody), by group and by tags (every one of them), each combined with the others, page by page.
func TestTriageFilters(t *testing.T) {
	s := startSystem(t)
	dana := s.as(s.newKey(t, "agent-dana", auth.RoleAgent, "dana@example.com"))
	eli := s.as(s.newKey(t, "agent-eli", auth.RoleAgent, "eli@example.com"))

	mine := dana.create(t, "dana's")
	dana.changed(t, mine.ID, ticket.ActionAssign, map[string]any{"assignee": "me@example.com"})
	dana.changed(t, mine.ID, ticket.ActionAssign, map[string]any{"assignee": "dana@example.com"})
	elis := eli.openTicket(t, map[string]any{"title": "eli's", "assignee": "eli@example.com"})
	nobodys := s.openTicket(t, map[string]any{"title": "nobody's", "tags": []string{"vip"}})
	hardware := dana.openTicket(t, map[string]any{"title": "dana's printer", "assignee": "dana@example.com", "group": "hardware",
		"tags": []string{"printer", "VIP"}})
	anyones := s.openTicket(t, map[string]any{"title": "a vip's printer", "group": "hardware", "tags": []string{"vip"}})
	dana.changed(t, anyones.ID, ticket.ActionTags, map[string]any{"add": []string{"printer"}, "remove": []string{"vip"}})
	own := s.openTicket(t, map[string]any{"title": "the bare key's", "assignee": s.actor})

	ids := func(list []httpapi.Ticket) []string {
		var out []string
		for _, tk := range list {
			out = append(out, tk.Title)
		}
		return out
	}
	titles := func(tks ...httpapi.Ticket) []string { return ids(tks) }
	tests := []struct {
		by    *system
		query string
		want  []string // newest first
	}{
		{dana, "assignee=me", titles(hardware, mine)},
		{eli, "assignee=me", titles(elis)},
		{s, "assignee=me", titles(own)},
		{eli, "assignee=" + url.QueryEscape("dana@example.com"), titles(hardware, mine)},
		{s, "assignee=none", titles(anyones, nobodys)},
		{s, "group=hardware", titles(anyones, hardware)},
		{s, "group=support&assignee=none", titles(nobodys)},
		{s, "tag=vip", titles(hardware, nobodys)},
		{s, "tag=printer", titles(anyones, hardware)},
		{s, "tag=vip&tag=printer", titles(hardware)},
		{s, "tag=VIP&tag=%20Printer", titles(hardware)},
		{dana, "assignee=me&tag=vip&group=hardware&status=open", titles(hardware)},
		{s, "assignee=none&tag=printer&tag=vip", nil},
		{s, "group=billing", nil},
		{s, "tag=unused", nil},
	}
	for _, tc := range tests {
		got := ids(listPages[httpapi.Ticket](t, tc.by, "/api/v1/tickets?"+tc.query, 1, nil))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}

	// A cursor continues only its own listing: other filters, or another caller's me, are 400.
	var first page[httpapi.Ticket]
	dana.do(t, "GET", "/api/v1/tickets?assignee=me&limit=1", nil).expect(t, http.StatusOK, &first)
	if first.NextCursor == nil {
		t.Fatal("no next page")
	}
	cursor := url.QueryEscape(*first.NextCursor)
	dana.do(t, "GET", "/api/v1/tickets?assignee=me&limit=1&cursor="+cursor, nil).expect(t, http.StatusOK, nil)
	for _, other := range []struct {
		by    *system
		query string
	}{
		{eli, "assignee=me"}, {dana, "assignee=none"}, {dana, ""}, {dana, "assignee=me&tag=vip"}, {dana, "assignee=me&group=support"},
	} {
		other.by.do(t, "GET", "/api/v1/tickets?"+other.query+"&limit=1&cursor="+cursor, nil).
			expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	}
	for _, bad := range []string{"tag=no%20spaces", "tag=" + strings.Repeat("t", 51), "group=" + strings.Repeat("g", 101),
		"assignee=" + strings.Repeat("a", 321), "assignee=a%07b"} {
		s.do(t, "GET", "/api/v1/tickets?"+bad, nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	}
	for _, e := range eventsOf(s.trail(t, mine.ID), ticket.EventAssigned) {
		if e.Actor != "dana@example.com" {
			t.Errorf("dana's assignment by %q", e.Actor)
		}
	}
}

// TestInternalNotes writes internal notes beside the public conversation: agents see them and
// their count; the customer sees none of them, through any endpoint, nor even their count, and
// may not write one.
func TestInternalNotes(t *testing.T) {
	s := startSystem(t)
	alice := s.as(s.newKey(t, "alice", auth.RoleCustomer, "alice@example.com"))
	tk := alice.create(t, "Printer on fire")
	const secret = "between us: the printer was never plugged in"
	commentsPath := "/api/v1/tickets/" + tk.ID + "/comments"

	alice.act(t, tk.ID, ticket.ActionComment, map[string]any{"body": "any news?"}).expect(t, http.StatusCreated, nil)
	var note httpapi.Comment
	s.post(t, commentsPath, "note-1", map[string]any{"body": secret, "visibility": "internal"}).expect(t, http.StatusCreated, &note)
	if note.Visibility != ticket.VisibilityInternal {
		t.Fatalf("the note is %q", note.Visibility)
	}
	var reply httpapi.Comment
	s.act(t, tk.ID, ticket.ActionComment, map[string]any{"body": "on it", "visibility": "public"}).expect(t, http.StatusCreated, &reply)
	if reply.Visibility != ticket.VisibilityPublic {
		t.Fatalf("the reply is %q", reply.Visibility)
	}
	s.act(t, tk.ID, ticket.ActionComment, map[string]any{"body": "hm", "visibility": "secret"}).
		expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation")

	// The agent sees everything.
	got := s.get(t, tk.ID)
	if got.CommentsCount != 2 || got.InternalNotesCount == nil || *got.InternalNotesCount != 1 {
		t.Fatalf("an agent's view: %d comments, %v notes", got.CommentsCount, got.InternalNotesCount)
	}
	comments := listPages[httpapi.Comment](t, s, commentsPath, 200, nil)
	if len(comments) != 3 || comments[1].ID != note.ID || comments[1].Visibility != ticket.VisibilityInternal || comments[2].Visibility != ticket.VisibilityPublic {
		t.Fatalf("an agent's comments: %+v", comments)
	}
	var noted bool
	for _, e := range s.trail(t, tk.ID) {
		noted = noted || (e.Type == ticket.EventCommented && e.Data["comment_id"] == note.ID && e.Data["visibility"] == "internal")
	}
	if !noted {
		t.Error("the agent's trail does not record the note")
	}

	// The customer sees none of it: not the note, not its event, not its count, not on a replay
	// of the note's request with the same Idempotency-Key, and may write none.
	alice.act(t, tk.ID, ticket.ActionComment, map[string]any{"body": "let me see", "visibility": "internal"}).
		expectProblem(t, http.StatusForbidden, "/problems/forbidden")
	// Idempotency-Keys are the customer's own: the agent's key names no outcome of theirs.
	replay := alice.post(t, commentsPath, "note-1", map[string]any{"body": secret, "visibility": "internal"})
	replay.expectProblem(t, http.StatusForbidden, "/problems/forbidden")
	reused := alice.post(t, commentsPath, "note-1", map[string]any{"body": "and now?"})
	reused.expectProblem(t, http.StatusUnprocessableEntity, "/problems/idempotency-key-reused")
	var theirs httpapi.Comment
	alice.post(t, commentsPath, "note-2", map[string]any{"body": "and now?"}).expect(t, http.StatusCreated, &theirs)
	leaks := func(what string, body []byte) {
		t.Helper()
		// The word itself may be in a refusal's detail; as a value, it would be a note's.
		for _, s := range []string{secret, note.ID, `"internal"`} {
			if strings.Contains(string(body), s) {
				t.Errorf("%s shows the customer %q: %s", what, s, body)
			}
		}
	}
	leaks("the replay", replay.body)
	leaks("the reused key", reused.body)
	view := alice.do(t, "GET", "/api/v1/tickets/"+tk.ID, nil)
	var fields map[string]json.RawMessage
	view.expect(t, http.StatusOK, &fields)
	if _, ok := fields["internal_notes_count"]; ok || string(fields["comments_count"]) != "3" {
		t.Errorf("the customer's view of the ticket: %s", view.body)
	}
	leaks("the ticket", view.body)
	list := alice.do(t, "GET", "/api/v1/tickets", nil)
	list.expect(t, http.StatusOK, nil)
	if strings.Contains(string(list.body), "internal_notes_count") || !strings.Contains(string(list.body), tk.ID) {
		t.Errorf("the customer's listing: %s", list.body)
	}
	for _, limit := range []int{1, 200} {
		theirComments := listPages[httpapi.Comment](t, alice, commentsPath, limit, nil)
		var bodies []string
		for _, c := range theirComments {
			bodies = append(bodies, c.Body)
		}
		if !slices.Equal(bodies, []string{"any news?", "on it", "and now?"}) {
			t.Errorf("the customer's comments, %d a page: %q", limit, bodies)
		}
		for _, e := range listPages[httpapi.Event](t, alice, "/api/v1/tickets/"+tk.ID+"/events", limit, nil) {
			if e.Data["comment_id"] == note.ID || e.Data["visibility"] != nil {
				t.Errorf("the customer's trail, %d a page, shows %+v", limit, e)
			}
		}
	}
	for _, path := range []string{commentsPath, "/api/v1/tickets/" + tk.ID + "/events"} {
		leaks(path, alice.do(t, "GET", path, nil).body)
	}
	answered := s.changed(t, tk.ID, ticket.ActionAnswer, map[string]any{"comment": "plug it in"})
	if answered.FirstRespondedAt == nil || !answered.FirstRespondedAt.Equal(answered.UpdatedAt) {
		t.Errorf("first responded at %v, answered at %v", answered.FirstRespondedAt, answered.UpdatedAt)
	}
	// What a customer gets back from a change of their own is their view too.
	r := alice.act(t, tk.ID, ticket.ActionClose, nil)
	r.expect(t, http.StatusOK, nil)
	leaks("the customer's close", r.body)
}

// TestCustomerTriage checks what a customer key may not do to the working surface: assign, tag,
// or open a ticket with an assignee or tags; it may name the group it asks. Automation and admin
// keys may assign and tag.
func TestCustomerTriage(t *testing.T) {
	s := startSystem(t)
	alice := s.as(s.newKey(t, "alice", auth.RoleCustomer, "alice@example.com"))
	bot := s.as(s.newKey(t, "bot", auth.RoleAutomation, ""))
	admin := s.as(s.newKey(t, "root", auth.RoleAdmin, ""))

	for _, body := range []map[string]any{
		{"title": "assigned", "assignee": "dana@example.com"},
		{"title": "tagged", "tags": []string{"vip"}},
	} {
		alice.do(t, "POST", "/api/v1/tickets", body).expectProblem(t, http.StatusForbidden, "/problems/forbidden")
	}
	tk := alice.openTicket(t, map[string]any{"title": "billing question", "group": "billing"})
	if tk.Group != "billing" || tk.Assignee != nil {
		t.Fatalf("a customer's ticket: group %q assignee %v", tk.Group, tk.Assignee)
	}
	alice.act(t, tk.ID, ticket.ActionAssign, map[string]any{"assignee": "alice@example.com"}).
		expectProblem(t, http.StatusForbidden, "/problems/forbidden")
	alice.act(t, tk.ID, ticket.ActionTags, map[string]any{"add": []string{"vip"}}).
		expectProblem(t, http.StatusForbidden, "/problems/forbidden")
	if got := s.get(t, tk.ID); got.Version != 1 {
		t.Fatalf("refused changes moved the ticket to v%d", got.Version)
	}
	if got := bot.changed(t, tk.ID, ticket.ActionAssign, map[string]any{"group": "support"}); got.Group != "support" || got.Version != 2 {
		t.Errorf("an automation's assignment: group %q v%d", got.Group, got.Version)
	}
	if got := admin.changed(t, tk.ID, ticket.ActionTags, map[string]any{"add": []string{"refund"}}); !slices.Equal(got.Tags, []string{"refund"}) {
		t.Errorf("an admin's tags: %q", got.Tags)
	}
	if got := alice.get(t, tk.ID); got.Group != "support" || !slices.Equal(got.Tags, []string{"refund"}) || got.InternalNotesCount != nil {
		t.Errorf("the customer's view: group %q tags %q notes %v", got.Group, got.Tags, got.InternalNotesCount)
	}
}
