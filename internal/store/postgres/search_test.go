package postgres_test

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// searchSpec is a ticket of the search tests: its text, comments and notes, and where it is filed.
type searchSpec struct {
	title, description string
	comments, notes    []string // public comments, internal notes
	group              string
	status             ticket.Status
}

// persistSearchSpecs writes the tickets, a minute apart in the order given, each comment a second
// after the one before, and returns them by title.
func persistSearchSpecs(t *testing.T, db *postgres.DB, specs []searchSpec) map[string]ticket.Ticket {
	t.Helper()
	out := map[string]ticket.Ticket{}
	for i, spec := range specs {
		at := base.Add(time.Duration(i) * time.Minute)
		s, ch := start(t, at, ticket.NewTicket{Title: spec.title, Description: spec.description,
			Requester: "alice@example.com", Group: spec.group})
		persist(t, db, ch)
		add := func(body string, vis ticket.Visibility) {
			at = at.Add(time.Second)
			ch = change(t, s, ticket.Command{Action: ticket.ActionComment, Actor: "bob", Comment: body,
				CommentID: newID(t), Visibility: vis}, at)
			persist(t, db, ch)
		}
		for _, c := range spec.comments {
			add(c, ticket.VisibilityPublic)
		}
		for _, n := range spec.notes {
			add(n, ticket.VisibilityInternal)
		}
		if spec.status == ticket.StatusAnswered {
			ch = change(t, s, ticket.Command{Action: ticket.ActionAnswer, Actor: "bob"}, at.Add(time.Second))
			persist(t, db, ch)
		}
		out[spec.title] = ch.Ticket
	}
	return out
}

// searchAll pages through the search with pages of limit, through the cursor's string form as a
// client passes it, checking each cursor against the last item of its page, and returns
// everything found.
func searchAll(t *testing.T, db *postgres.DB, f ticket.ListFilter, upTo ticket.Visibility, limit, total int) []ticket.Found {
	t.Helper()
	f.Limit = limit
	return collect(t, limit, total, func(after *ticket.Cursor) (ticket.Page[ticket.Found], error) {
		if after != nil {
			c, err := ticket.ParseCursor(after.Encode())
			if err != nil {
				t.Fatalf("cursor %+v: %v", *after, err)
			}
			after = c
		}
		f.After = after
		page, err := db.SearchTickets(t.Context(), f, upTo)
		if next := page.Next; err == nil && next != nil {
			last := page.Items[len(page.Items)-1]
			want := ticket.Cursor{Rank: last.Rank, At: last.Ticket.CreatedAt, ID: last.Ticket.ID}
			switch f.Sort {
			case ticket.SortOldest, ticket.SortNewest:
				want.Rank = 0
			case ticket.SortOldUpdates, ticket.SortRecentUpdates:
				want.Rank, want.At = 0, last.Ticket.UpdatedAt
			}
			if next.Rank != want.Rank || !next.At.Equal(want.At) || next.ID != want.ID {
				t.Errorf("the cursor after %s is %+v, want %+v", last.Ticket.Title, *next, want)
			}
		}
		return page, err
	})
}

func foundTitles(fs []ticket.Found) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Ticket.Title
	}
	return out
}

// TestSearchTickets searches tickets whose words are in their titles, descriptions, comments and
// internal notes: what it finds, in which order, with which snippet, as an agent and as a
// customer, alone and with the listing's filters.
func TestSearchTickets(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	byTitle := persistSearchSpecs(t, db, []searchSpec{
		{title: "Printer on fire", description: "Smoke everywhere near the copier"},
		{title: "Paper jam", description: "The printer jams on every page"},
		{title: "Laptop will not boot", comments: []string{"Maybe the new printer driver broke it"}},
		{title: "Monitor flickers", comments: []string{"We are looking into it"},
			notes: []string{"Replace the flux capacitor, it costs a fortune"}},
		{title: "Invoice wrong", description: "Charged twice for the toner", group: "billing"},
		{title: "Printers offline", description: "All of them", group: "billing", status: ticket.StatusAnswered},
		{title: "Network trouble", comments: []string{"The router was rebooted"},
			notes: []string{"router router router: the admin password is hunter2"}},
	})
	internal, public := ticket.VisibilityInternal, ticket.VisibilityPublic
	tests := []struct {
		name  string
		f     ticket.ListFilter
		upTo  ticket.Visibility
		want  []string // in order
		match string   // a word each snippet holds, highlighted; "" for any
	}{
		// The titles first (both stem to printer, rank alike: the newer first), then the
		// description, then the comment.
		{"title, description, comment", ticket.ListFilter{Query: "printer"}, internal,
			[]string{"Printers offline", "Printer on fire", "Paper jam", "Laptop will not boot"}, ""},
		{"a word only in a comment", ticket.ListFilter{Query: "driver"}, public, []string{"Laptop will not boot"}, "driver"},
		{"stemming, plural to singular", ticket.ListFilter{Query: "printers"}, public,
			[]string{"Printers offline", "Printer on fire", "Paper jam", "Laptop will not boot"}, ""},
		{"stemming, jams to jam", ticket.ListFilter{Query: "jamming"}, public, []string{"Paper jam"}, ""},
		{"case", ticket.ListFilter{Query: "TONER"}, public, []string{"Invoice wrong"}, "toner"},
		{"a phrase", ticket.ListFilter{Query: `"printer jams"`}, public, []string{"Paper jam"}, "printer"},
		{"a phrase in the wrong order", ticket.ListFilter{Query: `"jams printer"`}, public, nil, ""},
		{"all the words, in the title and description", ticket.ListFilter{Query: "printer smoke"}, public,
			[]string{"Printer on fire"}, "smoke"},
		{"all the words, in the title and a comment", ticket.ListFilter{Query: "monitor looking"}, public, nil, ""},
		{"all the words, in a comment", ticket.ListFilter{Query: "looking into"}, public, []string{"Monitor flickers"}, "looking"},
		{"or", ticket.ListFilter{Query: "toner or copier"}, public, []string{"Invoice wrong", "Printer on fire"}, ""},
		{"not", ticket.ListFilter{Query: "printer -fire"}, public,
			[]string{"Printers offline", "Paper jam", "Laptop will not boot"}, ""},
		{"an internal note, as an agent", ticket.ListFilter{Query: "capacitor"}, internal, []string{"Monitor flickers"}, "capacitor"},
		{"an internal note, as a customer", ticket.ListFilter{Query: "capacitor"}, public, nil, ""},
		{"an internal note's phrase, as a customer", ticket.ListFilter{Query: `"flux capacitor" or fortune`}, public, nil, ""},
		{"a note outranks a comment, as an agent", ticket.ListFilter{Query: "router"}, internal, []string{"Network trouble"}, "router"},
		{"a note outranks a comment, as a customer", ticket.ListFilter{Query: "router"}, public, []string{"Network trouble"}, "router"},
		{"and a group", ticket.ListFilter{Query: "printer", Group: "billing"}, public, []string{"Printers offline"}, "printers"},
		{"and a status", ticket.ListFilter{Query: "printer", Status: ticket.StatusOpen}, public,
			[]string{"Printer on fire", "Paper jam", "Laptop will not boot"}, ""},
		{"and a group, matching none", ticket.ListFilter{Query: "driver", Group: "billing"}, public, nil, ""},
		{"and a requester", ticket.ListFilter{Query: "driver", Requester: "mallory@example.com"}, public, nil, ""},
		{"and a creation bound", ticket.ListFilter{Query: "printer", CreatedAfter: byTitle["Paper jam"].CreatedAt}, public,
			[]string{"Printers offline", "Laptop will not boot"}, ""},
		{"oldest first", ticket.ListFilter{Query: "printer", Sort: ticket.SortOldest}, public,
			[]string{"Printer on fire", "Paper jam", "Laptop will not boot", "Printers offline"}, ""},
		{"recently updated first", ticket.ListFilter{Query: "printer", Sort: ticket.SortRecentUpdates, Status: ticket.StatusOpen}, public,
			[]string{"Laptop will not boot", "Paper jam", "Printer on fire"}, ""},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 2, ticket.MaxPageSize} {
			t.Run(tt.name+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
				got := searchAll(t, db, tt.f, tt.upTo, limit, len(tt.want))
				if titles := foundTitles(got); !slices.Equal(titles, tt.want) {
					t.Fatalf("found\n%q\nwant\n%q", titles, tt.want)
				}
				for i, fd := range got {
					if want := byTitle[fd.Ticket.Title]; !reflect.DeepEqual(fd.Ticket, want) {
						t.Errorf("found\n%+v\nwant\n%+v", fd.Ticket, want)
					}
					if i > 0 && tt.f.Sort == "" && fd.Rank > got[i-1].Rank {
						t.Errorf("%s (rank %v) follows %s (rank %v)", fd.Ticket.Title, fd.Rank, got[i-1].Ticket.Title, got[i-1].Rank)
					}
					if !strings.Contains(fd.Snippet, postgres.HighlightStart) {
						t.Errorf("%s: the snippet %q highlights nothing", fd.Ticket.Title, fd.Snippet)
					}
					if w := tt.match; w != "" && !strings.Contains(strings.ToLower(fd.Snippet), postgres.HighlightStart+w+postgres.HighlightStop) {
						t.Errorf("%s: the snippet %q does not highlight %q", fd.Ticket.Title, fd.Snippet, w)
					}
					if tt.upTo == public && (strings.Contains(fd.Snippet, "hunter2") || strings.Contains(fd.Snippet, "capacitor")) {
						t.Errorf("%s: the customer's snippet %q shows an internal note", fd.Ticket.Title, fd.Snippet)
					}
				}
			})
		}
	}

	// The ranks: a title above a description above a comment, and a note's snippet for an agent.
	got := searchAll(t, db, ticket.ListFilter{Query: "printer"}, internal, ticket.MaxPageSize, 4)
	if r := []float64{got[0].Rank, got[1].Rank, got[2].Rank, got[3].Rank}; !(r[0] == r[1] && r[1] > r[2] && r[2] > r[3] && r[3] > 0) {
		t.Errorf("ranks %v; want two equal titles, above a description, above a comment, above 0", r)
	}
	for _, tt := range []struct {
		upTo      ticket.Visibility
		has, lack string
	}{{internal, "hunter2", ""}, {public, "rebooted", "hunter2"}} {
		got := searchAll(t, db, ticket.ListFilter{Query: "router"}, tt.upTo, 10, 1)
		if s := got[0].Snippet; !strings.Contains(s, tt.has) || (tt.lack != "" && strings.Contains(s, tt.lack)) {
			t.Errorf("as %s, the snippet is %q; want it to hold %q and not %q", tt.upTo, s, tt.has, tt.lack)
		}
	}
}

// TestSearchTicketsPagesThroughTies pages through tickets of equal rank, some created at the same
// time, and of several ranks: every ticket once, in the order of rank, then newest, then ID.
func TestSearchTicketsPagesThroughTies(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	type want struct {
		tk   ticket.Ticket
		rank int // 2 title, 1 description, 0 comment
	}
	var all []want
	for i := range 12 {
		at := base.Add(time.Duration(i/3) * time.Minute) // three tickets a minute
		n := ticket.NewTicket{Title: "Keyboard sticky", Requester: "alice@example.com"}
		rank := 2
		switch i % 4 {
		case 1:
			n.Title, n.Description, rank = "Input device", "The keyboard is sticky", 1
		case 3:
			n.Title, rank = "Input device", 0
		}
		s, ch := start(t, at, n)
		persist(t, db, ch)
		if rank == 0 {
			ch = change(t, s, comment("It is the keyboard", newID(t)), at)
			persist(t, db, ch)
		}
		all = append(all, want{ch.Ticket, rank})
	}
	slices.SortFunc(all, func(a, b want) int {
		if a.rank != b.rank {
			return b.rank - a.rank
		}
		if c := b.tk.CreatedAt.Compare(a.tk.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.tk.ID, a.tk.ID)
	})
	var wantIDs []string
	for _, w := range all {
		wantIDs = append(wantIDs, w.tk.ID)
	}
	for _, upTo := range []ticket.Visibility{ticket.VisibilityPublic, ticket.VisibilityInternal} {
		for _, limit := range []int{1, 2, 3, 5, 12, ticket.MaxPageSize} {
			t.Run(string(upTo)+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
				got := searchAll(t, db, ticket.ListFilter{Query: "keyboards"}, upTo, limit, len(all))
				ids := make([]string, len(got))
				for i, fd := range got {
					ids[i] = fd.Ticket.ID
				}
				if !slices.Equal(ids, wantIDs) {
					t.Errorf("found\n%q\nwant\n%q", ids, wantIDs)
				}
			})
		}
	}
}

// TestSearchTicketsAnyText: whatever a client types is a query, never an error; what has no word
// to search for finds nothing; SQL is text like any other.
func TestSearchTicketsAnyText(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	db, conn := open(t, dsn), connect(t, dsn)
	persistSearchSpecs(t, db, []searchSpec{
		{title: "Printer on fire", description: "Drop the table before it burns"},
		{title: "Emoji 🔥 in the title", comments: []string{"naïve café façade — ünïcödé"}},
	})
	long := strings.Repeat("printer ", 250)
	for _, tt := range []struct {
		query string
		n     int // tickets found; -1 for any
	}{
		{"", 0},
		{"'; DROP TABLE tickets; --", 0}, // drop, table, ticket: no ticket has all three
		{"'; DROP TABLE comments; --", -1},
		{"\"unclosed", 0},
		{"\"printer", 1},
		{"-", 0},
		{"--", 0},
		{"or", 0},
		{"or or or", 0},
		{"printer or", 1},
		{"or printer", 1},
		{"!!!", 0},
		{"&|!():*<->", 0},
		{"printer & fire | !x", 0}, // no tsquery operators in web-search syntax: x is a word
		{"printer & fire | !", 1},
		{"-fire", 0},       // negations only
		{"-printer -x", 0}, // negations only
		{"printer:*", 1},
		{"the and of a", 0}, // stop words only
		{"🔥", 0},
		{"🔥 emoji", 1},
		{"café", 1},
		{"ünïcödé", 1},
		{"\x00printer\x00", 1},
		{"printer\xff\xfe", 1},
		{"\\", 0},
		{"$1", 0},
		{long[:2000], 1},
		{strings.Repeat("x", 2000), 0},
		{strings.Repeat("x", 3000), 0},
		{strings.Repeat("\"-or (", 400), 0},
		{strings.Repeat("a -b ", 400), -1},
		{strings.Repeat("-", 1000), 0},
		{strings.Repeat("- (", 100) + "printer", 1}, // negations in pairs cancel out
		{strings.Repeat("- (", 101) + "printer", 0}, // and one is left
		{strings.Repeat("-!", 100) + "-printer", 0},
		{"printer--fire", 1},
		{"e-mail", 0},
	} {
		for _, upTo := range []ticket.Visibility{ticket.VisibilityPublic, ticket.VisibilityInternal} {
			page, err := db.SearchTickets(t.Context(), ticket.ListFilter{PageRequest: ticket.PageRequest{Limit: 10}, Query: tt.query}, upTo)
			name := tt.query
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			if err != nil {
				t.Errorf("%q as %s: %v", name, upTo, err)
				continue
			}
			if page.Items == nil {
				t.Errorf("%q as %s: items is nil, want a slice", name, upTo)
			}
			if tt.n >= 0 && len(page.Items) != tt.n {
				t.Errorf("%q as %s: found %q, want %d", name, upTo, foundTitles(page.Items), tt.n)
			}
		}
	}
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM comments)`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d tickets and comments are left (%v), want 3", n, err)
	}
}

// TestSearchTicketsBadRequest: what the caller should have refused is refused, not guessed at.
func TestSearchTicketsBadRequest(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ok := ticket.ListFilter{PageRequest: ticket.PageRequest{Limit: 10}, Query: "printer"}
	cursor := func(r float64) ticket.ListFilter {
		f := ok
		f.After = &ticket.Cursor{Rank: r, At: base, ID: newID(t)}
		return f
	}
	bad := func(f ticket.ListFilter, mod func(*ticket.ListFilter)) ticket.ListFilter { mod(&f); return f }
	for _, tt := range []struct {
		name string
		f    ticket.ListFilter
		upTo ticket.Visibility
	}{
		{"no visibility", ok, ""},
		{"an unknown visibility", ok, "Public"},
		{"limit 0", bad(ok, func(f *ticket.ListFilter) { f.Limit = 0 }), ticket.VisibilityPublic},
		{"limit too large", bad(ok, func(f *ticket.ListFilter) { f.Limit = ticket.MaxPageSize + 1 }), ticket.VisibilityPublic},
		{"a bad sort", bad(ok, func(f *ticket.ListFilter) { f.Sort = "rank" }), ticket.VisibilityPublic},
		{"a cursor without an ID", bad(ok, func(f *ticket.ListFilter) { f.After = &ticket.Cursor{At: base} }), ticket.VisibilityPublic},
		{"a NaN rank", cursor(math.NaN()), ticket.VisibilityPublic},
		{"an infinite rank", cursor(math.Inf(1)), ticket.VisibilityPublic},
		{"a negative rank", cursor(-1), ticket.VisibilityPublic},
	} {
		_, err := db.SearchTickets(t.Context(), tt.f, tt.upTo)
		if code := ticket.ErrorCode(err); code != ticket.EINVALID {
			t.Errorf("%s: got error %v (code %q), want code %q", tt.name, err, code, ticket.EINVALID)
		}
	}
	if _, err := db.SearchTickets(t.Context(), cursor(0.5), ticket.VisibilityPublic); err != nil {
		t.Errorf("a cursor of rank 0.5: %v", err)
	}
}

// TestSearchTicketsUseIndexes asks PostgreSQL how it would search a few thousand tickets and
// comments: each side of the candidates through its GIN index, with the listing's filters or not.
func TestSearchTicketsUseIndexes(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	conn := connect(t, dsn)
	// 5,000 tickets in 17 groups and 10,000 comments; one ticket in 1,000 has the word zeppelin in its
	// title, one comment in 1,999 has it, and internal notes are a fifth of the comments.
	execAll(t, conn, `
INSERT INTO tickets (id, title, description, status, priority, version, created_at, updated_at, group_name)
SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid,
	CASE WHEN i % 1000 = 0 THEN 'Zeppelin ' || i ELSE 'Ticket ' || i END,
	'Something about printers, laptops and the network, number ' || i,
	'open', 'normal', 1, at, at, 'group' || i % 17
FROM generate_series(1, 5000) AS i, LATERAL (SELECT timestamptz '2026-01-01' + i * interval '1 minute') AS t(at)`, `
INSERT INTO comments (id, ticket_id, body, created_at, visibility)
SELECT gen_random_uuid(), ('00000000-0000-0000-0000-' || lpad((i % 5000 + 1)::text, 12, '0'))::uuid,
	CASE WHEN i % 1999 = 0 THEN 'The zeppelin again, ' || i ELSE 'Have you tried turning it off and on, ' || i END,
	timestamptz '2026-02-01' + i * interval '1 second',
	CASE WHEN i % 5 = 0 THEN 'internal' ELSE 'public' END
FROM generate_series(1, 10000) AS i`,
		// VACUUM as autovacuum would soon: it moves the new rows out of the GIN indexes' pending
		// lists, which the planner would otherwise rightly find dearer to read than the tables.
		`VACUUM ANALYZE tickets`, `VACUUM ANALYZE comments`)
	later := ticket.PageRequest{After: &ticket.Cursor{Rank: 0.05, At: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), ID: newID(t)}}
	for _, tt := range []struct {
		name string
		f    ticket.ListFilter
		upTo ticket.Visibility
	}{
		{"a word", ticket.ListFilter{Query: "zeppelin"}, ticket.VisibilityPublic},
		{"a word, as an agent", ticket.ListFilter{Query: "zeppelin"}, ticket.VisibilityInternal},
		{"a word, a later page", ticket.ListFilter{Query: "zeppelin", PageRequest: later}, ticket.VisibilityPublic},
		{"a phrase or a word", ticket.ListFilter{Query: `"zeppelin again" or zeppelins`}, ticket.VisibilityPublic},
		{"a word and a group", ticket.ListFilter{Query: "zeppelin", Group: "group3"}, ticket.VisibilityInternal},
		{"a word and a status", ticket.ListFilter{Query: "zeppelin", Status: ticket.StatusOpen}, ticket.VisibilityPublic},
		{"a word, by update, a later page", ticket.ListFilter{Query: "zeppelin", Sort: ticket.SortRecentUpdates, PageRequest: later}, ticket.VisibilityPublic},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.f
			f.Limit = ticket.DefaultPageSize
			sql, args := postgres.SearchTicketsQuery(f, tt.upTo)
			rows, _ := conn.Query(t.Context(), "EXPLAIN "+sql, args...)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			for _, index := range []string{"tickets_search_idx", "comments_search_idx"} {
				if !strings.Contains(plan, "Bitmap Index Scan on "+index) {
					t.Errorf("the plan does not use %s:\n%s", index, plan)
				}
			}
			if strings.Contains(plan, "Seq Scan") {
				t.Errorf("the plan reads a whole table:\n%s", plan)
			}
		})
	}
}

// TestMigrateSearch migrates a database holding a ticket and a comment of the schema before
// 000007_search: they are found; the migration runs again harmlessly; down removes what it added
// and keeps the rows.
func TestMigrateSearch(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	if err := postgres.MigrateTo(dsn, 6); err != nil {
		t.Fatalf("down to 6: %v", err)
	}
	conn := connect(t, dsn)
	requireSearchSchema(t, conn, false)
	id, at := newID(t), ticket.Timestamp(base)
	execArgs := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	execArgs(`INSERT INTO tickets (id, title, description, status, priority, requester, comments_count, version, created_at, updated_at)
		VALUES ($1, 'Old printer', 'Older than this schema', 'open', 'normal', 'dave@example.com', 1, 2, $2, $2)`, id, at)
	execArgs(`INSERT INTO comments (id, ticket_id, body, author, created_at) VALUES ($1, $2, 'A dusty scanner', 'dave', $3)`,
		newID(t), id, at)
	finds := func(t *testing.T) {
		t.Helper()
		db := open(t, dsn)
		for _, q := range []string{"printers", "schema", "scanner"} {
			page, err := db.SearchTickets(t.Context(), ticket.ListFilter{PageRequest: ticket.PageRequest{Limit: 10}, Query: q},
				ticket.VisibilityPublic)
			if err != nil || len(page.Items) != 1 || page.Items[0].Ticket.ID != id {
				t.Errorf("%q found %+v (%v), want the old ticket", q, page.Items, err)
			}
		}
	}

	if err := postgres.Migrate(dsn); err != nil {
		t.Fatalf("up: %v", err)
	}
	requireSearchSchema(t, conn, true)
	finds(t)
	runAgain(t, conn, "000007_search.up.sql")
	requireSearchSchema(t, conn, true)
	finds(t)

	if err := postgres.MigrateTo(dsn, 6); err != nil {
		t.Fatalf("down to 6 again: %v", err)
	}
	requireSearchSchema(t, conn, false)
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM comments)`).Scan(&n); err != nil || n != 2 {
		t.Errorf("after down, %d rows are left (%v); want the ticket and its comment", n, err)
	}
	if err := postgres.Migrate(dsn); err != nil {
		t.Fatalf("up again: %v", err)
	}
	requireSearchSchema(t, conn, true)
	finds(t)
}

// requireSearchSchema checks that what 000007_search adds is all there, its indexes valid, or that
// none of it is.
func requireSearchSchema(t *testing.T, conn *pgx.Conn, want bool) {
	t.Helper()
	requireObjects(t, conn, "000007_search", want, schemaObjects{
		columns: []string{"tickets.search", "comments.search"},
		indexes: []string{"tickets_search_idx", "comments_search_idx"},
	})
}
