package postgres_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestFanOut: each event that comes out after a webhook was created becomes one delivery of it,
// if the webhook takes its type, however many pumps fan out at once; a webhook created later
// starts from then, and a disabled one gets nothing more.
func TestFanOut(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := t.Context()
	at := base
	next := func() time.Time { at = at.Add(time.Second); return at }

	all, err := db.CreateWebhook(ctx, "https://example.com/all", nil, "every event")
	if err != nil {
		t.Fatal(err)
	}
	printer, ch := start(t, next(), ticket.NewTicket{Title: "Printer on fire", Requester: "alice@example.com"})
	persist(t, db, ch)
	statuses, err := db.CreateWebhook(ctx, "https://example.com/statuses", []ticket.EventType{ticket.EventStatusChanged}, "status changes")
	if err != nil {
		t.Fatal(err)
	}
	persist(t, db, change(t, printer, ticket.Command{Action: ticket.ActionAnswer, Actor: "eve", Comment: "Unplug it",
		CommentID: newID(t)}, next())) // commented and status_changed
	persist(t, db, change(t, printer, ticket.Command{Action: ticket.ActionTags, Actor: "eve", AddTags: []string{"fire"}}, next()))

	fanOut := func() {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := db.FanOut(ctx, ticket.MaxPageSize); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if _, err := db.FanOut(ctx, ticket.MaxPageSize); err != nil { // whatever a race left
			t.Fatal(err)
		}
	}
	fanOut()
	want := map[string][]ticket.EventType{
		all.ID:      {ticket.EventCreated, ticket.EventCommented, ticket.EventStatusChanged, ticket.EventTagsChanged},
		statuses.ID: {ticket.EventStatusChanged},
	}
	for id, types := range want {
		if got := deliveryTypes(t, db, id); !slices.Equal(got, types) {
			t.Errorf("webhook %s: deliveries of %q, want %q", id, got, types)
		}
	}

	if _, err := db.SetWebhookEnabled(ctx, statuses.ID, false); err != nil {
		t.Fatal(err)
	}
	persist(t, db, change(t, printer, ticket.Command{Action: ticket.ActionClose, Actor: "eve"}, next()))
	fanOut()
	want[all.ID] = append(want[all.ID], ticket.EventStatusChanged)
	for id, types := range want {
		if got := deliveryTypes(t, db, id); !slices.Equal(got, types) {
			t.Errorf("after disabling %s, webhook %s: deliveries of %q, want %q", statuses.ID, id, got, types)
		}
	}
}

// deliveryTypes returns the types of a webhook's deliveries' events, oldest first.
func deliveryTypes(t *testing.T, db *postgres.DB, webhookID string) []ticket.EventType {
	t.Helper()
	page, err := db.ListDeliveries(t.Context(), webhookID, ticket.PageRequest{Limit: ticket.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var types []ticket.EventType
	for _, d := range slices.Backward(page.Items) {
		types = append(types, d.EventType)
	}
	return types
}
