package postgres

import (
	"context"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Highlight marks begin and end the matched words in a snippet. They are not HTML: the snippet is
// the tickets' text as written, unescaped, and a client that shows it must escape it; marks that
// are no markup cannot be mistaken for the text's own.
const (
	HighlightStart = "«"
	HighlightStop  = "»"
)

// headlineOptions are ts_headline's: up to two fragments of the text around the matches, some
// twenty words in all, and the first words of the text when nothing in it is highlighted (a
// query of negations only).
const headlineOptions = `StartSel=` + HighlightStart + `, StopSel=` + HighlightStop +
	`, MaxFragments=2, MaxWords=15, MinWords=5, FragmentDelimiter=" … "`

// SearchTickets returns a page of the tickets that match f.Query, in web-search syntax
// (websearch_to_tsquery: words, "quoted phrases", or, -word) in the 'english' configuration,
// stemmed, and meet every other condition of f as ListTickets has them. A ticket matches when its
// title and description do, or one of its comments that a reader of visibility upTo may see
// does: every comment for ticket.VisibilityInternal, the public ones only for
// ticket.VisibilityPublic, so that an internal note neither finds a ticket for a customer nor
// shows in their snippet. Each text is matched alone: the words of `printer fire` must all be in
// the ticket's own text or all in one comment, and `printer -fire` finds a ticket whose own text
// has printer without fire even if a comment says fire.
//
// With no f.Sort the page is ordered by rank, most relevant first, then newest (created_at, id
// descending), and keyed on all three: ticket.Cursor{Rank, At, ID}. With one, it is ordered and
// keyed as ListTickets orders that sort, and the rank only chooses the snippet. The rank is
// ts_rank of the ticket's vector (the title weighs 1.0, the description 0.4) plus that of its best
// matching comment (0.2, weight C): for a single word, however often a text repeats it, a match
// in the title ranks above any in the description, and that above any in a comment. Each item's
// snippet is ts_headline of its best matching text: the title and description, or that comment
// when it ranks higher than they do.
//
// Any text is a valid query: what websearch_to_tsquery cannot read it ignores, and a query of
// nothing but stop words, punctuation and negated words (-fire) matches nothing, an empty page. Bytes that are not UTF-8
// and NULs, which PostgreSQL refuses in text, are taken for spaces.
//
// It returns a ticket.EINVALID *ticket.Error for a limit out of range, a cursor that is not one of
// this listing's, a sort that is none of ticket's, or a visibility that is neither.
func (db *DB) SearchTickets(ctx context.Context, f ticket.ListFilter, upTo ticket.Visibility) (ticket.Page[ticket.Found], error) {
	if err := checkPageRequest(f.PageRequest, true); err != nil {
		return ticket.Page[ticket.Found]{}, err
	}
	if c := f.After; c != nil && (math.IsNaN(c.Rank) || math.IsInf(c.Rank, 0) || c.Rank < 0) {
		return ticket.Page[ticket.Found]{}, ticket.Errorf(ticket.EINVALID, "%s", ticket.ErrBadCursor)
	}
	o, ok := orderOf(f.Sort)
	if !ok {
		return ticket.Page[ticket.Found]{}, ticket.Errorf(ticket.EINVALID, "sort %q is none of %s, %s, %s, %s", f.Sort,
			ticket.SortNewest, ticket.SortOldest, ticket.SortRecentUpdates, ticket.SortOldUpdates)
	}
	if err := checkVisibility(upTo); err != nil {
		return ticket.Page[ticket.Found]{}, err
	}
	sql, args := searchTicketsQuery(f, upTo)
	rows, _ := db.pool.Query(ctx, sql, args...)
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ticket.Found, error) {
		var fd ticket.Found
		t, err := scanTicket(extraColumns{row, []any{&fd.Rank, &fd.Snippet}})
		fd.Ticket = t
		return fd, err
	})
	if err != nil {
		return ticket.Page[ticket.Found]{}, translate(ctx, err, "search tickets")
	}
	return newPage(items, f.Limit, func(fd ticket.Found) ticket.Cursor {
		if f.Sort != "" {
			return ticket.Cursor{At: o.key(fd.Ticket), ID: fd.Ticket.ID}
		}
		return ticket.Cursor{Rank: fd.Rank, At: fd.Ticket.CreatedAt, ID: fd.Ticket.ID}
	}), nil
}

// extraColumns is a row of ticketColumns followed by more columns, which scanTicket's Scan reads
// into the destinations given.
type extraColumns struct {
	pgx.CollectableRow
	more []any
}

func (r extraColumns) Scan(dest ...any) error {
	return r.CollectableRow.Scan(append(dest, r.more...)...)
}

// searchTicketsQuery returns SearchTickets' statement and its arguments, for a valid visibility.
//
// The candidates are the tickets whose own vector matches UNION those with a matching comment,
// each side a bitmap scan of its GIN index (tickets_search_idx, comments_search_idx); then the
// filters of ListTickets; then each candidate's best comment (its matching comments are read
// through comments_ticket_created_idx) and rank; then the order, the cursor and the limit. Only
// the rows of the page get a headline, which reads and parses the whole text: the expensive part.
func searchTicketsQuery(f ticket.ListFilter, upTo ticket.Visibility) (string, []any) {
	var q query
	// The query is one argument, referred to wherever it is needed: an expression of it, not a
	// column of a CTE, is what the planner can take into an index condition. ts_rank scores a
	// negated word (-fire) as if it matched nowhere, which drags every rank to nothing, so the
	// ranks are of the query's positive part, querytree's; what that part lacks (T, for a query
	// of negations only) no index can find, and such a query finds nothing rather than reading
	// every row of both tables.
	tsq := "websearch_to_tsquery('english', " + q.arg(searchText(f.Query)) + ")"
	positive := "querytree(" + tsq + ")"
	rq := positive + "::tsquery"
	visible := ""
	if upTo == ticket.VisibilityPublic {
		visible = " AND visibility = 'public'"
	}
	q.where("id IN (SELECT id FROM hits)")
	q.filter(f)
	// Relevance, then newest; or the listing's order of f.Sort, which candidates can be cut to.
	orderBy, page := "rank DESC, created_at DESC, id DESC", ""
	if f.Sort != "" {
		o, _ := orderOf(f.Sort)
		orderBy = o.keyset(&q, f.After)
	} else if c := f.After; c != nil {
		page = " WHERE (rank, created_at, id) < (" + q.arg(c.Rank) + "::float8, " + q.arg(c.At) + ", " + q.arg(c.ID) + ")"
	}
	sql := `WITH hits AS (
	SELECT id FROM tickets WHERE search @@ ` + tsq + ` AND ` + positive + ` <> 'T'
	UNION
	SELECT ticket_id FROM comments WHERE search @@ ` + tsq + visible + ` AND ` + positive + ` <> 'T'
), candidates AS (
	SELECT * FROM tickets` + q.whereClause() + `
), own AS (
	SELECT candidates.*, search @@ ` + tsq + ` AS own_match,
		CASE WHEN search @@ ` + tsq + ` THEN ts_rank(search, ` + rq + `)::float8 ELSE 0 END AS own_rank
	FROM candidates
), ranked AS (
	SELECT own.*, best.id AS best_id, best.rank AS best_rank, own_rank + coalesce(best.rank, 0) AS rank
	FROM own LEFT JOIN LATERAL (
		SELECT id, ts_rank(search, ` + rq + `)::float8 AS rank FROM comments
		WHERE ticket_id = own.id AND search @@ ` + tsq + visible + `
		ORDER BY rank DESC, created_at, id LIMIT 1
	) AS best ON true
), page AS (
	SELECT * FROM ranked` + page + ` ORDER BY ` + orderBy + ` LIMIT ` + q.arg(f.Limit+1) + `
)
SELECT ` + ticketColumns + `, rank,
	CASE WHEN best_id IS NOT NULL AND (NOT own_match OR best_rank > own_rank)
		THEN ts_headline('english', (SELECT body FROM comments WHERE comments.id = best_id), ` + tsq + `, '` + headlineOptions + `')
		ELSE ts_headline('english', title || E'\n' || description, ` + tsq + `, '` + headlineOptions + `')
	END
FROM page ORDER BY ` + orderBy
	return sql, q.args
}

// searchText is the query as PostgreSQL takes text: a NUL or a byte that is not UTF-8 would fail
// the statement, where to web-search syntax it is no word anyway. And negations with no word
// between them cancel out in pairs (- -printer is printer), which websearch_to_tsquery would
// stack instead, failing past a few dozen.
func searchText(s string) string {
	b := []byte(strings.ReplaceAll(strings.ToValidUTF8(s, " "), "\x00", " "))
	pending := -1 // the index of a '-' with no word after it yet
	for i, c := range b {
		switch {
		case c == '-' && pending >= 0:
			b[pending], b[i], pending = ' ', ' ', -1
		case c == '-':
			pending = i
		case c == '"' || c >= utf8.RuneSelf || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)):
			pending = -1
		}
	}
	return string(b)
}
