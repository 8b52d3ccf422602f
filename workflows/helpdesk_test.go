package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

func ptr[T any](v T) *T { return &v }

// TestAssignAndTags checks that assign and tags apply through the queue like every change, each
// persisted with its event before it answers; that one which changes nothing answers the ticket as
// it is and writes nothing; and that an automation's signals of the same names apply too.
func TestAssignAndTags(t *testing.T) {
	h := newHarness(t)
	outs, _ := h.steps(time.Minute,
		update(ticket.ActionAssign, ticket.Command{Actor: agent, Assignee: ptr("bob"), Group: "billing"}),
		update(ticket.ActionAssign, ticket.Command{Actor: agent, Assignee: ptr("bob")}), // no change
		update(ticket.ActionTags, ticket.Command{Actor: agent, AddTags: []string{"VIP", " printer "}}),
		update(ticket.ActionTags, ticket.Command{Actor: agent, AddTags: []string{"vip"}}), // no change
		signal(ticket.ActionTags, ticket.Command{RemoveTags: []string{"printer"}}),
		signal(ticket.ActionAssign, ticket.Command{Assignee: ptr("")}),
	)
	queried := h.queryAt(10 * time.Minute)
	h.run()
	h.requireCancelled()

	assigned := requireApplied(t, outs[0])
	require.Equal(t, "bob", assigned.Ticket.Assignee)
	require.Equal(t, "billing", assigned.Ticket.Group)
	require.Equal(t, []ticket.EventType{ticket.EventAssigned}, eventTypes(assigned))
	require.Equal(t, map[string]any{"from_assignee": nil, "to_assignee": "bob", "from_group": "support",
		"to_group": "billing"}, assigned.Events[0].Data)

	// The no-op answers the ticket as it stands, persisted nothing, and took no version or seq.
	require.True(t, outs[1].completed)
	require.NoError(t, outs[1].err)
	same := answered(outs[1].value)
	require.Equal(t, assigned.Ticket, same.Ticket)
	require.Empty(t, same.Events)

	tagged := requireApplied(t, outs[2])
	require.Equal(t, []string{"printer", "vip"}, tagged.Ticket.Tags)
	require.Equal(t, map[string]any{"added": []any{"printer", "vip"}, "removed": []any{}}, tagged.Events[0].Data)
	require.Equal(t, tagged.Ticket, answered(outs[3].value).Ticket, "adding a tag it has changes nothing")

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Equal(t, []ticket.EventType{ticket.EventCreated, ticket.EventAssigned, ticket.EventTagsChanged,
		ticket.EventTagsChanged, ticket.EventAssigned}, eventTypes(changes...))
	last := changes[len(changes)-1]
	require.Equal(t, "automation", last.Events[0].Actor)
	require.Equal(t, "", last.Ticket.Assignee)
	require.Equal(t, []string{"vip"}, last.Ticket.Tags)
	require.Equal(t, last.Ticket, *queried)
}

// TestAssignAndTagsValidated checks that the validators refuse, before anything is written, an
// assign or tags that breaks a rule. (TestHandlerRechecks has them after a close.)
func TestAssignAndTagsValidated(t *testing.T) {
	h := newHarness(t)
	tooMany := make([]string, ticket.MaxTags+1)
	for i := range tooMany {
		tooMany[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	outs, _ := h.steps(time.Minute,
		update(ticket.ActionTags, ticket.Command{Actor: agent, AddTags: []string{"no spaces allowed"}}),
		update(ticket.ActionTags, ticket.Command{Actor: agent, AddTags: tooMany}),
		update(ticket.ActionAssign, ticket.Command{Actor: agent, Comment: "a comment", CommentID: "c-1"}),
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "hi", CommentID: "c-2", Group: "billing"}),
	)
	h.run()
	h.requireCancelled()

	requireRefused(t, outs[0], ticket.EINVALID, "add")
	requireRefused(t, outs[1], ticket.EINVALID, "add")
	requireRefused(t, outs[2], ticket.EINVALID, "comment")
	requireRefused(t, outs[3], ticket.EINVALID, "group")
	require.Len(t, h.rec.changes(), 1, "only the creation was written")
}

// TestInternalNote checks that an internal note counts apart from the public comments and says
// so in its event, which is what keeps it from customers downstream.
func TestInternalNote(t *testing.T) {
	h := newHarness(t)
	outs, _ := h.steps(time.Minute,
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "customer is a VIP", CommentID: "c-1",
			Visibility: ticket.VisibilityInternal}),
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "Looking into it", CommentID: "c-2"}),
		update(ticket.ActionAnswer, ticket.Command{Actor: agent, Comment: "internal?", CommentID: "c-3",
			Visibility: ticket.VisibilityInternal}),
	)
	h.run()
	h.requireCancelled()

	note := requireApplied(t, outs[0])
	require.Equal(t, ticket.VisibilityInternal, note.Comment.Visibility)
	require.Equal(t, 1, note.Ticket.InternalNotesCount)
	require.Equal(t, 0, note.Ticket.CommentsCount)
	require.Equal(t, map[string]any{"comment_id": "c-1", "visibility": "internal"}, note.Events[0].Data)
	public := requireApplied(t, outs[1])
	require.Equal(t, ticket.VisibilityPublic, public.Comment.Visibility)
	require.Equal(t, 1, public.Ticket.CommentsCount)
	require.Equal(t, map[string]any{"comment_id": "c-2"}, public.Events[0].Data)
	requireRefused(t, outs[2], ticket.EINVALID, "visibility")
}

// TestQueueSearchAttributes checks that the queue's search attributes follow the assignee, the
// group and the tags, and that unassigning and removing the last tag remove them, so that
// TicketAssignee IS NULL finds the ticket.
func TestQueueSearchAttributes(t *testing.T) {
	h := newHarness(t)
	log := h.recordVisibility()
	h.steps(time.Minute,
		update(ticket.ActionAssign, ticket.Command{Actor: agent, Assignee: ptr("bob")}),
		update(ticket.ActionTags, ticket.Command{Actor: agent, AddTags: []string{"vip"}}),
		update(ticket.ActionAssign, ticket.Command{Actor: agent, Group: "billing"}),
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "hi", CommentID: "c-1"}),
		update(ticket.ActionAssign, ticket.Command{Actor: agent, Assignee: ptr("")}),
		update(ticket.ActionTags, ticket.Command{Actor: agent, RemoveTags: []string{"vip"}}),
	)
	h.run()
	h.requireCancelled()

	level := func(n int64) *int64 { return &n }
	require.Equal(t, []visibility{
		{Status: "open", Priority: "high", Level: level(0), Group: "support"}, // created
		{Assignee: "bob"},
		{Tags: []string{"vip"}},
		{Group: "billing"},
		// the comment sets nothing
		{}, // TicketAssignee removed
		{}, // TicketTags removed
	}, log.attributes)
}

// TestRecordedHistoriesCoverHelpdesk checks that the recorded histories hold what the replay must
// prove of changeHelpdesk: a run since it, with assign and tags as updates and as signals, a no-op
// assign, an internal note, and the queue's search attributes set and removed.
func TestRecordedHistoriesCoverHelpdesk(t *testing.T) {
	found := map[string]bool{}
	for _, r := range recordedHistories(t) {
		for _, ev := range r.history.GetEvents() {
			if m := ev.GetMarkerRecordedEventAttributes(); m.GetMarkerName() == "Version" &&
				strings.Contains(string(m.GetDetails()["change-id"].GetPayloads()[0].GetData()), "helpdesk-search-attributes") {
				found["a run since the change"] = true
			}
			if u := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); u != nil {
				input := u.GetAcceptedRequest().GetInput()
				found["an update "+input.GetName()] = true
				for _, p := range input.GetArgs().GetPayloads() {
					if strings.Contains(string(p.GetData()), `"visibility":"internal"`) {
						found["an internal note"] = true
					}
				}
			}
			if s := ev.GetWorkflowExecutionSignaledEventAttributes(); s != nil {
				found["a signal "+s.GetSignalName()] = true
			}
			if u := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); u != nil {
				for name, p := range u.GetSearchAttributes().GetIndexedFields() {
					if string(p.GetData()) == "null" || len(p.GetData()) == 0 {
						found[name+" removed"] = true
					} else {
						found[name+" set"] = true
					}
				}
			}
		}
	}
	for _, want := range []string{
		"a run since the change", "an update assign", "an update tags", "a signal assign", "a signal tags",
		"an internal note", "TicketAssignee set", "TicketAssignee removed", "TicketGroup set", "TicketTags set",
	} {
		require.True(t, found[want], "no recorded history has %s", want)
	}
}
