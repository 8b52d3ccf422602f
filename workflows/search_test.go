package workflows_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
	"github.com/ticketflow/ticketflow/workflows"
)

// visibility is one upsert of the ticket's search attributes, as the fields it set.
type visibility struct {
	Status   string
	Priority string
	Level    *int64
	Assignee string
	Group    string
	Tags     []string
}

// visibilityLog records the workflow's search-attribute and memo upserts.
type visibilityLog struct {
	mu         sync.Mutex
	attributes []visibility
	memos      []map[string]any
}

// recordVisibility mocks the upserts so that the test sees each one.
func (h *harness) recordVisibility() *visibilityLog {
	l := &visibilityLog{}
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		var v visibility
		v.Status, _ = sa.GetKeyword(workflows.SearchStatus)
		v.Priority, _ = sa.GetKeyword(workflows.SearchPriority)
		if level, ok := sa.GetInt64(workflows.SearchEscalationLevel); ok {
			v.Level = &level
		}
		v.Assignee, _ = sa.GetKeyword(workflows.SearchAssignee)
		v.Group, _ = sa.GetKeyword(workflows.SearchGroup)
		v.Tags, _ = sa.GetKeywordList(workflows.SearchTags) // an upsert that only removes shows as visibility{}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.attributes = append(l.attributes, v)
	}).Return(nil)
	h.env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.memos = append(l.memos, args.Get(0).(map[string]any))
	}).Return(nil)
	return l
}

// TestSearchAttributesFollowTheTicket checks that every change that moves the status or the
// escalation level sets it, that a comment sets nothing, and that the memo holds the title.
func TestSearchAttributesFollowTheTicket(t *testing.T) {
	h := newHarness(t)
	h.in.Policy = wire.FromPolicy(policy)
	log := h.recordVisibility()
	h.steps(time.Minute,
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "hi", CommentID: "c-1"}),
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		signal(ticket.ActionEscalate, ticket.Command{Reason: "vip"}),
		signal(ticket.ActionAnswer, ticket.Command{}), // refused: nothing changes
		update(ticket.ActionAwait, ticket.Command{Actor: agent}),
		update(ticket.ActionClose, ticket.Command{Actor: agent}),
	)
	h.run()
	h.requireCompleted()

	level := func(n int64) *int64 { return &n }
	require.Equal(t, []visibility{
		{Status: "open", Priority: "high", Level: level(0), Group: "support"}, // created
		{Status: "answered"},
		{Level: level(1)},
		{Status: "awaiting"},
		{Status: "closed"},
	}, log.attributes)
	require.Equal(t, []map[string]any{{workflows.MemoTitle: "Printer on fire"}}, log.memos)
}

// TestSearchAttributesFollowTheTimers checks that an escalation by the SLA shows in the level.
func TestSearchAttributesFollowTheTimers(t *testing.T) {
	h := newHarness(t)
	h.in.Policy = wire.FromPolicy(policy)
	h.in.Policy.MaxSLAEscalations = 2
	h.until = 3 * day
	log := h.recordVisibility()
	h.run()
	h.requireCancelled()

	level := func(n int64) *int64 { return &n }
	require.Equal(t, []visibility{
		{Status: "open", Priority: "high", Level: level(0), Group: "support"},
		{Level: level(1)},
		{Level: level(2)},
	}, log.attributes)
}
