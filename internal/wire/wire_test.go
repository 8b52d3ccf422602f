package wire_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

var (
	created = time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)
	closed  = created.Add(90 * time.Minute)
	reason  = "resolved"
)

// Domain values with every field set, so that a field the mapping forgets shows as a difference.
// requireFull checks that they stay so when the domain grows a field.
var (
	domainTicket = ticket.Ticket{ID: "0193a0f4-0000-7000-8000-000000000001", Title: "Printer on fire",
		Description: "It is on fire.", Status: ticket.StatusClosed, Priority: ticket.PriorityHigh,
		Requester: "alice@example.com", EscalationLevel: 2, CommentsCount: 1, Version: 5,
		CreatedAt: created, UpdatedAt: closed, ClosedAt: &closed, CloseReason: &reason,
		Group: "billing", Assignee: "bob@example.com", Tags: []string{"printer", "vip"}, InternalNotesCount: 1,
		FirstRespondedAt: &created, FirstResponseDueAt: &closed, AutoCloseAt: &closed, SLABreachedAt: &created}
	domainChange = ticket.Change{
		Ticket: domainTicket,
		Comment: &ticket.Comment{ID: "c-1", TicketID: domainTicket.ID, Body: "Fixed.", Author: "bob",
			CreatedAt: closed, Visibility: ticket.VisibilityInternal},
		Events: []ticket.Event{
			{Seq: 7, Type: ticket.EventCommented, FromStatus: ticket.StatusOpen, ToStatus: ticket.StatusOpen,
				Actor: "agent@example.com", Data: map[string]any{"comment_id": "c-1"}, At: closed},
			{Seq: 8, Type: ticket.EventStatusChanged, FromStatus: ticket.StatusAwaiting, ToStatus: ticket.StatusClosed,
				Actor: "agent@example.com", Data: map[string]any{"reason": reason, "level": float64(2)}, At: closed},
		},
	}
	domainCommand = ticket.Command{Action: ticket.ActionClose, Actor: "agent@example.com", Comment: "Fixed.",
		CommentID: "c-1", Author: "bob", Reason: reason, RequestID: "idem-1", IfVersion: 4,
		Visibility: ticket.VisibilityInternal, Assignee: &domainTicket.Assignee, Group: "billing",
		AddTags: []string{"vip"}, RemoveTags: []string{"printer"}}
	domainNew = ticket.NewTicket{Title: "Printer on fire", Description: "It is on fire.", Priority: "high",
		Requester: "alice@example.com", Group: "billing", Assignee: "bob@example.com", Tags: []string{"printer"}}
	domainPolicy = ticket.Policy{
		FirstResponseSLA:  map[ticket.Priority]time.Duration{ticket.PriorityHigh: 8 * time.Hour, ticket.PriorityLow: 72 * time.Hour},
		MaxSLAEscalations: 3, AutoCloseAfter: 7 * 24 * time.Hour}
	domainState = ticket.State{Ticket: domainTicket, LastSeq: 8, Timers: ticket.TimerState{SLAEscalations: 1},
		Requests: []string{"idem-0", "idem-1"}, Policy: domainPolicy} // the policy travels in the input
)

// TestMappingKeepsEveryField maps each domain value to its payload, through JSON as Temporal and
// Redis carry it, and back: it must come back equal.
func TestMappingKeepsEveryField(t *testing.T) {
	for _, v := range []any{domainTicket, domainChange, domainCommand, domainNew, domainPolicy, domainState} {
		requireFull(t, reflect.ValueOf(v), reflect.TypeOf(v).String())
	}
	require.Equal(t, domainTicket, wire.DomainTicket(viaJSON(t, wire.FromTicket(domainTicket))))
	require.Equal(t, domainChange, wire.DomainChange(viaJSON(t, wire.FromChange(domainChange))))
	require.Equal(t, []ticket.Change{domainChange}, wire.DomainChanges(viaJSON(t, wire.FromChanges([]ticket.Change{domainChange}))))
	require.Equal(t, domainCommand, wire.DomainCommand(domainCommand.Action, viaJSON(t, wire.FromCommand(domainCommand))))
	require.Equal(t, domainNew, viaJSON(t, wire.FromNewTicket(domainNew)).Domain())
	require.Equal(t, domainPolicy, viaJSON(t, wire.FromPolicy(domainPolicy)).Domain())
	require.Equal(t, ticket.Policy{}, wire.FromPolicy(ticket.Policy{}).Domain(), "the zero policy")
	state := viaJSON(t, wire.FromState(domainState)).Domain()
	require.Equal(t, domainState.Ticket, state.Ticket)
	require.Equal(t, domainState.LastSeq, state.LastSeq)
	require.Equal(t, domainState.Timers, state.Timers)
	require.Equal(t, domainState.Requests, state.Requests)
	require.True(t, state.Seen("idem-1"), "the carried state remembers its requests")

	// A change without a comment or events keeps them absent.
	bare := ticket.Change{Ticket: domainTicket}
	require.Equal(t, bare, wire.DomainChange(viaJSON(t, wire.FromChange(bare))))
}

// TestPayloadsStayCompatible holds the JSON of every payload to what the builds before wrote, which
// is what the histories of running tickets and the cache hold: testdata has one file per change of
// the payloads (v1.json, the first; then one for each set of fields added), each written once and
// never regenerated. Today's payload of the same values must still write every name and value a
// file holds, and each file must decode into today's types with no field left over. A difference
// is a change of the wire format, which ticketflow's package comment says how to make instead.
func TestPayloadsStayCompatible(t *testing.T) {
	files, err := filepath.Glob("testdata/v1*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	got := map[string]any{
		"ticket":     wire.FromTicket(domainTicket),
		"change":     wire.FromChange(domainChange),
		"command":    wire.FromCommand(domainCommand),
		"new_ticket": wire.FromNewTicket(domainNew),
		"policy":     wire.FromPolicy(domainPolicy),
		"state":      wire.FromState(domainState),
	}
	for _, file := range files {
		golden, err := os.ReadFile(file)
		require.NoError(t, err)
		var want map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(golden, &want))
		require.Len(t, want, len(got), file)
		for name, v := range got {
			b, err := json.Marshal(v)
			require.NoError(t, err)
			var then, now any
			require.NoError(t, json.Unmarshal(want[name], &then))
			require.NoError(t, json.Unmarshal(b, &now))
			requireWrites(t, then, now, file+": "+name)

			// And what that build wrote decodes with no field left over.
			back := reflect.New(reflect.TypeOf(v))
			dec := json.NewDecoder(bytes.NewReader(want[name]))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(back.Interface()), "%s: the %s payload", file, name)
		}
	}
}

// requireWrites fails unless now, a decoded JSON value, holds every name and value of then.
func requireWrites(t *testing.T, then, now any, path string) {
	t.Helper()
	switch then := then.(type) {
	case map[string]any:
		now, ok := now.(map[string]any)
		require.True(t, ok, "%s is no longer an object", path)
		for name, v := range then {
			require.Contains(t, now, name, "%s.%s is no longer written", path, name)
			requireWrites(t, v, now[name], path+"."+name)
		}
	case []any:
		now, ok := now.([]any)
		require.True(t, ok, "%s is no longer an array", path)
		require.Len(t, now, len(then), path)
		for i := range then {
			requireWrites(t, then[i], now[i], fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		require.Equal(t, then, now, path)
	}
}

// viaJSON returns v as it reads after a trip through JSON.
func viaJSON[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// requireFull fails when an exported field of v, or of a struct within it, is zero.
func requireFull(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		require.False(t, v.IsNil(), "%s is nil", path)
		requireFull(t, v.Elem(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				requireFull(t, v.Field(i), path+"."+f.Name)
			}
		}
	case reflect.Slice:
		require.NotZero(t, v.Len(), "%s is empty", path)
		for i := range v.Len() {
			requireFull(t, v.Index(i), path)
		}
	default:
		require.False(t, v.IsZero(), "%s is zero", path)
	}
}
