package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// The system tests of q= on GET /api/v1/tickets: a full-text search, on the real stack.

// word returns a word that no other ticket holds, of letters only, so that the search's parser
// takes it as one word and no stemming makes it another's.
func word() string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'g' + (r - '0')
		}
		if r == '-' {
			return -1
		}
		return r
	}, "zq"+uuid.NewString()[:12])
}

// open opens a ticket with the fields given, through the API.
func (s *system) open(t *testing.T, fields map[string]any) httpapi.Ticket {
	t.Helper()
	var tk httpapi.Ticket
	s.do(t, "POST", "/api/v1/tickets", fields).expect(t, http.StatusCreated, &tk)
	return tk
}

// comment adds a comment of the visibility to a ticket.
func (s *system) comment(t *testing.T, id, body string, vis ticket.Visibility) {
	t.Helper()
	s.act(t, id, ticket.ActionComment, map[string]string{"body": body, "visibility": string(vis)}).expect(t, http.StatusCreated, nil)
}

// search returns every ticket that q finds with the other query parameters, reading every page.
func (s *system) search(t *testing.T, q string, more url.Values) []httpapi.Ticket {
	t.Helper()
	v := url.Values{"q": {q}}
	for k, vs := range more {
		v[k] = vs
	}
	return listPages[httpapi.Ticket](t, s, "/api/v1/tickets?"+v.Encode(), ticket.MaxPageSize, nil)
}

func ids(list []httpapi.Ticket) []string {
	return each(list, func(tk httpapi.Ticket) string { return tk.ID })
}

// TestSearchFindsACommentsWord: a word that only a comment holds finds its ticket, with a
// snippet, and no other; a listing without q carries no match.
func TestSearchFindsACommentsWord(t *testing.T) {
	s := startSystem(t)
	w := word()
	found := s.create(t, "The printer on floor two")
	other := s.create(t, "The scanner on floor two")
	s.comment(t, found.ID, "It says "+w+" on its display", ticket.VisibilityPublic)
	s.comment(t, other.ID, "It says nothing on its display", ticket.VisibilityPublic)

	got := s.search(t, w, nil)
	if !slices.Equal(ids(got), []string{found.ID}) {
		t.Fatalf("q=%s found %v, want only %s", w, ids(got), found.ID)
	}
	if got[0].Match == nil || !strings.Contains(strings.ToLower(got[0].Match.Snippet), w) {
		t.Errorf("the match %+v does not show the word %s", got[0].Match, w)
	}
	if got[0].Title != found.Title || got[0].CommentsCount != 1 {
		t.Errorf("the ticket found: %+v", got[0])
	}
	// In upper case and among spaces, it is the same search.
	if again := s.search(t, "  "+strings.ToUpper(w)+" ", nil); !slices.Equal(ids(again), []string{found.ID}) {
		t.Errorf("q=%s in upper case found %v", w, ids(again))
	}

	var all page[httpapi.Ticket]
	s.do(t, "GET", "/api/v1/tickets?q=%20", nil).expect(t, http.StatusOK, &all)
	if len(all.Items) != 2 {
		t.Errorf("an empty q listed %d tickets, want every one (2)", len(all.Items))
	}
	for _, tk := range all.Items {
		if tk.Match != nil {
			t.Errorf("a listing without a search shows a match: %+v", tk.Match)
		}
	}
}

// TestSearchRanksTitleFirst: a ticket whose title holds the word comes before one that holds it
// in a comment only, though that one is newer; tickets that match alike come newest first.
func TestSearchRanksTitleFirst(t *testing.T) {
	s := startSystem(t)
	w := word()
	inTitle := s.create(t, "Toner "+w+" is empty")
	inComment := s.create(t, "Paper tray is stuck")
	s.comment(t, inComment.ID, "Also the "+w+" is empty", ticket.VisibilityPublic)
	got := s.search(t, w, nil)
	if !slices.Equal(ids(got), []string{inTitle.ID, inComment.ID}) {
		t.Errorf("q=%s found %v, want the title's match %s before the comment's %s", w, ids(got), inTitle.ID, inComment.ID)
	}

	// Alike: the same title three times, newest first.
	v := word()
	var want []string
	for range 3 {
		want = append([]string{s.create(t, "Alike "+v).ID}, want...)
	}
	if got := s.search(t, v, nil); !slices.Equal(ids(got), want) {
		t.Errorf("q=%s found %v, want newest first %v", v, ids(got), want)
	}
}

// TestSearchAnyText: whatever q holds, the answer is a page, never a 4xx or a 5xx: the search's
// syntax, quotes left open, operators alone, SQL, unicode, emoji, control characters, bytes
// that are not UTF-8 and a very long search. A sort orders what it finds.
func TestSearchAnyText(t *testing.T) {
	s := startSystem(t)
	w := word()
	tk := s.create(t, "Printer "+w+" jams")
	customer := s.as(s.newKey(t, "alice-"+w, auth.RoleCustomer, "alice@example.com"))
	queries := []string{
		`"printer jams"`, `"printer`, `printer"`, `""`, `"`, `-`, `--`, `-printer`, `- -`, `or`, `OR`, `printer or`,
		`or printer`, `printer or or scanner`, `!`, `&`, `|`, `&&`, `||`, `!!printer`, `printer & scanner`, `(printer`,
		`printer)`, `()`, `<->`, `printer <-> jams`, `:*`, `printer:*`, `printer:A`, `*`, `\`, `\\`, `'`, `''`, `'; DROP TABLE tickets; --`,
		`' OR '1'='1`, `1; SELECT pg_sleep(10)`, `%`, `_`, `%_%`, `$1`, `NULL`, `null`, `a:b:c`, `&!|()<>:*'"`,
		`Ölbrenner überhitzt`, `日本語のプリンター`, `принтер`, `طابعة`, `🖨️🔥`, `👩‍👩‍👧‍👦`, "a\u200bb", "\u202eprinter",
		"tab\there", "new\nline", "bell\a", "nul\x00byte", "not utf-8 \xff\xfe", "\xc3", strings.Repeat("printer ", 250),
		strings.Repeat("x", 2000), strings.Repeat("🖨", 2000), strings.Repeat(`"a" or -b `, 200), strings.Repeat("-", 2000),
		w + " " + strings.Repeat("-", 1000),
	}
	for _, q := range queries {
		for _, c := range []*system{s, customer} {
			r := c.do(t, "GET", "/api/v1/tickets?"+url.Values{"q": {q}}.Encode(), nil)
			var p page[httpapi.Ticket]
			if r.status != http.StatusOK {
				t.Errorf("q=%q: status %d, want 200: %s", abbreviate([]byte(q)), r.status, r.body)
				continue
			}
			r.expect(t, http.StatusOK, &p)
		}
	}
	// The quoted phrase and the exclusion mean what they say.
	if got := s.search(t, `"printer `+w+`"`, nil); !slices.Equal(ids(got), []string{tk.ID}) {
		t.Errorf("the phrase found %v, want %s", ids(got), tk.ID)
	}
	if got := s.search(t, `"`+w+` printer"`, nil); len(got) != 0 {
		t.Errorf("the phrase in another order found %v", ids(got))
	}
	if got := s.search(t, w+" -jams", nil); len(got) != 0 {
		t.Errorf("%s -jams found %v", w, ids(got))
	}
	if got := s.search(t, "zzznothing or "+w, nil); !slices.Equal(ids(got), []string{tk.ID}) {
		t.Errorf("or found %v, want %s", ids(got), tk.ID)
	}
	// With a sort, the tickets found are in its order; an unknown sort is refused as ever.
	later := s.create(t, "Scanner "+w)
	for sort, want := range map[string][]string{
		"created_at": {tk.ID, later.ID}, "-created_at": {later.ID, tk.ID}, "updated_at": {tk.ID, later.ID},
	} {
		if got := s.search(t, w, url.Values{"sort": {sort}}); !slices.Equal(ids(got), want) {
			t.Errorf("q=%s&sort=%s found %v, want %v", w, sort, ids(got), want)
		}
	}
	s.do(t, "GET", "/api/v1/tickets?q="+w+"&sort=relevance", nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
}

// TestSearchCustomer: a customer's search never matches an internal note, not even on their own
// ticket, nor shows one in a snippet, and never finds another customer's ticket.
func TestSearchCustomer(t *testing.T) {
	s := startSystem(t)
	alice := s.as(s.newKey(t, "alice", auth.RoleCustomer, "alice@example.com"))
	bob := s.as(s.newKey(t, "bob", auth.RoleCustomer, "bob@example.com"))
	secret, shared, bobs := word(), word(), word()

	mine := alice.open(t, map[string]any{"title": "My laptop will not boot", "group": "search-customer"})
	s.comment(t, mine.ID, "Between us: "+secret+" is the cause, "+shared+" too", ticket.VisibilityInternal)
	alice.comment(t, mine.ID, "It shows "+shared+" on boot", ticket.VisibilityPublic)
	theirs := bob.open(t, map[string]any{"title": "Bob's " + bobs + " " + shared + " " + secret, "group": "search-customer"})

	if got := alice.search(t, secret, nil); len(got) != 0 {
		t.Errorf("alice's search of the internal note's word found %v", ids(got))
	}
	got := alice.search(t, shared, nil)
	if !slices.Equal(ids(got), []string{mine.ID}) {
		t.Fatalf("alice's search of %s found %v, want only her %s", shared, ids(got), mine.ID)
	}
	if m := got[0].Match; m == nil || strings.Contains(m.Snippet, secret) || strings.Contains(m.Snippet, "Between us") {
		t.Errorf("alice's snippet %+v shows the internal note", m)
	}
	if got[0].InternalNotesCount != nil {
		t.Errorf("alice's search shows internal_notes_count")
	}
	for _, q := range []string{bobs, bobs + " or " + shared, "Bob"} {
		for _, tk := range alice.search(t, q, nil) {
			if tk.ID == theirs.ID {
				t.Errorf("alice's search %q found bob's ticket", q)
			}
		}
	}
	if got := alice.search(t, bobs, url.Values{"requester": {"bob@example.com"}}); len(got) != 0 {
		t.Errorf("alice's search of bob's tickets found %v", ids(got))
	}
	// The agent's search finds the note, and both tickets.
	if got := s.search(t, secret, nil); !slices.Equal(ids(got), []string{theirs.ID, mine.ID}) && !slices.Equal(ids(got), []string{mine.ID, theirs.ID}) {
		t.Errorf("the agent's search of %s found %v, want both", secret, ids(got))
	}
	// A customer's cursor is theirs: bob cannot go on with alice's search.
	alice.open(t, map[string]any{"title": "Second " + shared})
	var p page[httpapi.Ticket]
	alice.do(t, "GET", "/api/v1/tickets?limit=1&q="+shared, nil).expect(t, http.StatusOK, &p)
	if p.NextCursor == nil {
		t.Fatal("no next page")
	}
	bob.do(t, "GET", "/api/v1/tickets?limit=1&q="+shared+"&cursor="+url.QueryEscape(*p.NextCursor), nil).
		expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
}

// TestSearchPages: a search's pages, read with its cursor, hold every match once in the order
// of a single page; a cursor of another search, or of no search, is refused.
func TestSearchPages(t *testing.T) {
	s := startSystem(t)
	w := word()
	var want []string
	for i := range 7 {
		title := "Monitor flickers"
		if i%3 == 0 {
			title = "Monitor " + w + " flickers" // some in the title, ranked first
		}
		tk := s.create(t, title)
		if i%3 != 0 {
			s.comment(t, tk.ID, "Seen "+w+" again", ticket.VisibilityPublic)
		}
		want = append(want, tk.ID)
	}
	s.create(t, "Monitor is fine")
	whole := s.search(t, w, nil)
	if len(whole) != 7 {
		t.Fatalf("one page found %d, want 7", len(whole))
	}
	for _, limit := range []int{1, 2, 3} {
		paged := listPages[httpapi.Ticket](t, s, "/api/v1/tickets?q="+w, limit, nil)
		if !slices.Equal(ids(paged), ids(whole)) {
			t.Errorf("pages of %d: %v, want %v", limit, ids(paged), ids(whole))
		}
	}
	got := ids(whole)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}

	var p page[httpapi.Ticket]
	s.do(t, "GET", "/api/v1/tickets?limit=2&q="+w, nil).expect(t, http.StatusOK, &p)
	if p.NextCursor == nil {
		t.Fatal("no next page")
	}
	c := url.QueryEscape(*p.NextCursor)
	s.do(t, "GET", "/api/v1/tickets?limit=2&q=%20"+w+"%20&cursor="+c, nil).expect(t, http.StatusOK, nil)
	for _, other := range []string{"q=" + w + "x", "q=monitor", "", "q=" + w + "&group=support"} {
		s.do(t, "GET", "/api/v1/tickets?limit=2&"+other+"&cursor="+c, nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	}
	var plain page[httpapi.Ticket]
	s.do(t, "GET", "/api/v1/tickets?limit=2", nil).expect(t, http.StatusOK, &plain)
	s.do(t, "GET", "/api/v1/tickets?limit=2&q="+w+"&cursor="+url.QueryEscape(*plain.NextCursor), nil).
		expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
}

// TestSearchWithFilters: q and the filters hold together.
func TestSearchWithFilters(t *testing.T) {
	s := startSystem(t)
	w, group := word(), "search-filters-"+word()
	a := s.open(t, map[string]any{"title": "Keyboard " + w, "group": group})
	b := s.open(t, map[string]any{"title": "Mouse", "description": "The " + w + " one", "group": group})
	s.open(t, map[string]any{"title": "Keyboard " + w, "group": "search-filters-elsewhere"})
	s.open(t, map[string]any{"title": "Keyboard", "group": group})
	s.do(t, "POST", "/api/v1/tickets/"+b.ID+"/tags", map[string]any{"add": []string{"vip"}}).expect(t, http.StatusOK, nil)

	if got := s.search(t, w, url.Values{"group": {group}}); !slices.Equal(ids(got), []string{a.ID, b.ID}) {
		t.Errorf("q with group= found %v, want %v", ids(got), []string{a.ID, b.ID})
	}
	if got := s.search(t, w, url.Values{"group": {group}, "tag": {"VIP"}}); !slices.Equal(ids(got), []string{b.ID}) {
		t.Errorf("q with group= and tag= found %v, want %s", ids(got), b.ID)
	}
	if got := s.search(t, w, url.Values{"group": {group}, "status": {"closed"}}); len(got) != 0 {
		t.Errorf("q with status=closed found %v", ids(got))
	}
}
