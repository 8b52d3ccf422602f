package ticket

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// Page sizes of every listing.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Cursor marks where the next page of a listing starts: after the item with this key. Tickets and
// comments are keyed by (At, ID), events by Seq. Clients see it only as an opaque string, which
// the API signs for the listing that made it (internal/httpapi).
type Cursor struct {
	At  time.Time `json:"t,omitzero"`
	ID  string    `json:"i,omitempty"`
	Seq int64     `json:"s,omitempty"`
	// Rank is the relevance of the last item of a search's page, which the next page goes on from.
	Rank float64 `json:"r,omitempty"`
}

// Encode returns the cursor as the opaque string clients pass back.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c) // a struct of plain fields always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is returned by ParseCursor for a string that no listing produced.
var ErrBadCursor = errors.New("malformed cursor")

// ParseCursor decodes a string made by Encode. The empty string is the start of the listing.
func ParseCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c Cursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() || c.Encode() != s {
		// Re-encoding catches what the decoder forgives (key case, trailing data, extra fields).
		return nil, ErrBadCursor
	}
	byTime := !c.At.IsZero() && c.ID != "" && c.Seq == 0
	bySeq := c.Seq > 0 && c.At.IsZero() && c.ID == ""
	if !byTime && !bySeq {
		return nil, ErrBadCursor
	}
	return &c, nil
}

// PageRequest asks for one page of a listing.
type PageRequest struct {
	Limit int     // 1..MaxPageSize
	After *Cursor // nil for the first page
}

// ListFilter asks for one page of tickets, newest first, with every condition it sets.
type ListFilter struct {
	PageRequest
	Status     Status   // "" for any
	Priority   Priority // "" for any
	Requester  string   // "" for any; a customer's listing holds only their own tickets
	Assignee   string   // "" for any
	Unassigned bool     // only the tickets that nobody works
	Group      string   // "" for any
	Tags       []string // normalized; the ticket has every one
	// Escalated, when set, keeps the tickets escalated at least once (true) or never (false).
	Escalated *bool
	// Breached keeps the tickets whose first-response SLA was missed: open past their
	// FirstResponseDueAt, or escalated by the SLA (SLABreachedAt set).
	Breached bool
	// CreatedAfter, CreatedBefore and UpdatedAfter bound the times when set (non-zero).
	CreatedAfter, CreatedBefore, UpdatedAfter time.Time
	// Sort orders the page; "" is SortNewest for a listing, relevance then newest for a search
	// (Query).
	Sort Sort
	// Query is a full-text search in web-search syntax over the title, the description and the
	// comments (internal notes only for a reader who may see them); "" for none.
	Query string
}

// Found is a ticket that a search found, how well it matched, and the words around the match.
type Found struct {
	Ticket  Ticket
	Rank    float64
	Snippet string
}

// Sort is an order of a listing of tickets. Cursors are keyed on its column, then the ID.
type Sort string

// The orders of GET /tickets' sort.
const (
	SortNewest        Sort = "-created_at" // the default
	SortOldest        Sort = "created_at"
	SortRecentUpdates Sort = "-updated_at"
	SortOldUpdates    Sort = "updated_at"
)

// ParseSort returns the Sort named by s; "" is SortNewest.
func ParseSort(s string) (Sort, bool) {
	switch Sort(s) {
	case "", SortNewest:
		return SortNewest, true
	case SortOldest, SortRecentUpdates, SortOldUpdates:
		return Sort(s), true
	}
	return "", false
}

// Page is one page of a listing and where the next starts, nil on the last page.
type Page[T any] struct {
	Items []T
	Next  *Cursor
}
