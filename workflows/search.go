package workflows

import (
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The search attributes that each ticket's workflow keeps up to date, so that ops can list tickets
// in the Temporal UI and CLI, e.g. TicketStatus = 'open' AND TicketEscalationLevel > 0. They must be
// registered in the namespace (internal/devstack does it for the local servers from SearchAttributes).
var (
	SearchStatus          = temporal.NewSearchAttributeKeyKeyword("TicketStatus")
	SearchPriority        = temporal.NewSearchAttributeKeyKeyword("TicketPriority")
	SearchEscalationLevel = temporal.NewSearchAttributeKeyInt64("TicketEscalationLevel")
	// The queue's: e.g. TicketGroup = 'billing' AND TicketAssignee IS NULL. Runs since
	// changeHelpdesk keep them. Search attributes are not encrypted, so they hold nothing a
	// customer wrote and not the requester: the assignee is an agent, the group and tags are ours.
	SearchAssignee = temporal.NewSearchAttributeKeyKeyword("TicketAssignee")
	SearchGroup    = temporal.NewSearchAttributeKeyKeyword("TicketGroup")
	SearchTags     = temporal.NewSearchAttributeKeyKeywordList("TicketTags")
)

// SearchAttributes is every key above. The local servers register this list (internal/devstack),
// and docker-compose.yml's is checked against it: a key left out would not be registered, and
// the workflow that sets it would fail.
var SearchAttributes = []temporal.SearchAttributeKey{SearchStatus, SearchPriority, SearchEscalationLevel,
	SearchAssignee, SearchGroup, SearchTags}

// MemoTitle is the memo field that shows the ticket's title next to its workflow in the UI.
const MemoTitle = "title"

// describe puts the ticket's title in the workflow's memo. The title never changes, and
// continue-as-new carries the memo into the next run, so this happens once per ticket.
func (s *ticketState) describe(ctx workflow.Context) error {
	return workflow.UpsertMemo(ctx, map[string]any{MemoTitle: s.ticket.Title})
}

// publish sets the search attributes that no longer match the ticket. Comparing with what the
// workflow already holds keeps a comment, which changes none of them, from adding an event.
func (s *ticketState) publish(ctx workflow.Context) error {
	have := workflow.GetTypedSearchAttributes(ctx)
	var set []temporal.SearchAttributeUpdate
	if v, ok := have.GetKeyword(SearchStatus); !ok || v != string(s.ticket.Status) {
		set = append(set, SearchStatus.ValueSet(string(s.ticket.Status)))
	}
	if v, ok := have.GetKeyword(SearchPriority); !ok || v != string(s.ticket.Priority) {
		set = append(set, SearchPriority.ValueSet(string(s.ticket.Priority)))
	}
	if v, ok := have.GetInt64(SearchEscalationLevel); !ok || v != int64(s.ticket.EscalationLevel) {
		set = append(set, SearchEscalationLevel.ValueSet(int64(s.ticket.EscalationLevel)))
	}
	if s.has.helpdesk {
		set = append(set, s.queueAttributes(have)...)
	}
	if len(set) == 0 {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, set...)
}

// queueAttributes returns the updates of the queue's search attributes that no longer match the
// ticket. Nobody assigned is no TicketAssignee at all, which is what IS NULL finds.
func (s *ticketState) queueAttributes(have temporal.SearchAttributes) []temporal.SearchAttributeUpdate {
	var set []temporal.SearchAttributeUpdate
	switch v, ok := have.GetKeyword(SearchAssignee); {
	case s.ticket.Assignee == "" && ok:
		set = append(set, SearchAssignee.ValueUnset())
	case s.ticket.Assignee != "" && (!ok || v != s.ticket.Assignee):
		set = append(set, SearchAssignee.ValueSet(s.ticket.Assignee))
	}
	if v, ok := have.GetKeyword(SearchGroup); !ok || v != s.ticket.Group {
		set = append(set, SearchGroup.ValueSet(s.ticket.Group))
	}
	switch v, ok := have.GetKeywordList(SearchTags); {
	case len(s.ticket.Tags) == 0 && ok:
		set = append(set, SearchTags.ValueUnset())
	case len(s.ticket.Tags) > 0 && !slices.Equal(v, s.ticket.Tags):
		set = append(set, SearchTags.ValueSet(s.ticket.Tags))
	}
	return set
}
