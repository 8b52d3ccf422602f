package ticket_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// workStatuses are the statuses whose tickets take assign, tags and internal notes.
var workStatuses = []ticket.Status{ticket.StatusOpen, ticket.StatusAnswered, ticket.StatusAwaiting}

// person is how an assigned event shows a person: nil for nobody.
func person(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// manyTags returns n distinct valid tags, t00, t01…, which sort as they are numbered.
func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%02d", i)
	}
	return tags
}

func TestParseVisibility(t *testing.T) {
	tests := []struct {
		in   string
		want ticket.Visibility
		ok   bool
	}{
		{"", ticket.VisibilityPublic, true},
		{"public", ticket.VisibilityPublic, true},
		{"internal", ticket.VisibilityInternal, true},
		{"Internal", "", false},
		{"PUBLIC", "", false},
		{"private", "", false},
		{" internal", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ticket.ParseVisibility(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseVisibility(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNormalizeTag(t *testing.T) {
	tests := []struct{ in, want string }{
		{"vip", "vip"},
		{"  VIP\t", "vip"},
		{"Tier-2:EU_West", "tier-2:eu_west"},
		{"a b", "a b"}, // an inner space is kept, and the tag is then invalid
		{"   ", ""},
	}
	for _, tt := range tests {
		if got := ticket.NormalizeTag(tt.in); got != tt.want {
			t.Errorf("NormalizeTag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCommandNormalizeWork checks what Normalize does to the fields of assign, tags and notes.
func TestCommandNormalizeWork(t *testing.T) {
	assignee := "  bob@example.com "
	got := ticket.Command{Action: ticket.ActionAssign, Assignee: &assignee, Group: " billing ",
		AddTags: []string{" VIP", "eu", "vip"}, RemoveTags: []string{"Old ", "old"}}.Normalize()
	if got.Assignee == nil || *got.Assignee != "bob@example.com" || got.Group != "billing" {
		t.Errorf("Normalize: assignee %s, group %q", show(got.Assignee), got.Group)
	}
	if assignee != "  bob@example.com " {
		t.Errorf("Normalize wrote through the caller's assignee: %q", assignee)
	}
	if !slices.Equal(got.AddTags, []string{"eu", "vip"}) || !slices.Equal(got.RemoveTags, []string{"old"}) {
		t.Errorf("Normalize: add %q, remove %q; want [eu vip], [old]", got.AddTags, got.RemoveTags)
	}
	for in, want := range map[ticket.Visibility]ticket.Visibility{
		"": ticket.VisibilityPublic, "public": ticket.VisibilityPublic, "internal": ticket.VisibilityInternal,
		"secret": "secret", // left for Validate to refuse
	} {
		if got := (ticket.Command{Visibility: in}).Normalize().Visibility; got != want {
			t.Errorf("Normalize(visibility %q) = %q, want %q", in, got, want)
		}
	}
	if got := (ticket.Command{Action: ticket.ActionAssign}).Normalize(); got.Assignee != nil {
		t.Errorf("Normalize made an assignee out of none: %s", show(got.Assignee))
	}
}

// TestCommandValidateWork is TestCommandValidate for the fields of assign, tags and internal notes.
func TestCommandValidateWork(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	multi := func(n int) string { return strings.Repeat("ü", n) }
	assign := func(assignee *string, group string) ticket.Command {
		return ticket.Command{Action: ticket.ActionAssign, Assignee: assignee, Group: group}
	}
	tags := func(add, remove []string) ticket.Command {
		return ticket.Command{Action: ticket.ActionTags, AddTags: add, RemoveTags: remove}
	}
	note := func(vis ticket.Visibility) ticket.Command {
		return ticket.Command{Action: ticket.ActionComment, Comment: "hi", CommentID: "c", Visibility: vis}
	}
	tests := []struct {
		name string
		cmd  ticket.Command
		want []string // the broken fields, none when valid
	}{
		// assign
		{"assign", assign(ptr("bob@example.com"), "billing"), nil},
		{"assign nothing", assign(nil, ""), nil},
		{"unassign", assign(ptr(""), ""), nil},
		{"assignee 320", assign(ptr(long(320)), ""), nil},
		{"assignee 320 multi-byte", assign(ptr(multi(320)), ""), nil},
		{"assignee 320 plus padding", assign(ptr(" "+long(320)+" "), ""), nil},
		{"assignee 321", assign(ptr(long(321)), ""), []string{"assignee"}},
		{"assignee newline", assign(ptr("bob\nalice"), ""), []string{"assignee"}},
		{"assignee control char", assign(ptr("bob\x1b[31m"), ""), []string{"assignee"}},
		{"assignee invalid UTF-8", assign(ptr("bob\xff"), ""), []string{"assignee"}},
		{"group 100", assign(nil, long(100)), nil},
		{"group 100 multi-byte", assign(nil, multi(100)), nil},
		{"group 101", assign(nil, long(101)), []string{"group"}},
		{"group tab", assign(nil, "tier\t2"), []string{"group"}},
		{"group invalid UTF-8", assign(nil, "\xc3"), []string{"group"}},
		{"assignee and group broken", assign(ptr(long(321)), long(101)), []string{"assignee", "group"}},
		{"assign with a comment", ticket.Command{Action: ticket.ActionAssign, Assignee: ptr("bob"), Comment: "hi", CommentID: "c"},
			[]string{"comment"}},
		{"assign with a comment and no comment_id", ticket.Command{Action: ticket.ActionAssign, Comment: "hi"},
			[]string{"comment", "comment_id"}},
		{"assign with a blank comment", ticket.Command{Action: ticket.ActionAssign, Comment: " \n "}, nil},
		{"assign with tags", ticket.Command{Action: ticket.ActionAssign, Assignee: ptr("bob"), AddTags: []string{"vip"}},
			[]string{"add"}},
		{"assign internal", ticket.Command{Action: ticket.ActionAssign, Assignee: ptr("bob"), Visibility: "internal"},
			[]string{"visibility"}},
		// Only assign sets them. The field named is "assignee" for a group too, and "add" for
		// removed tags: one field error says "only assign sets the assignee and the group".
		{"comment with an assignee", ticket.Command{Action: ticket.ActionComment, Comment: "hi", CommentID: "c", Assignee: ptr("bob")},
			[]string{"assignee"}},
		{"close unassigning", ticket.Command{Action: ticket.ActionClose, Assignee: ptr("")}, []string{"assignee"}},
		{"answer with a group", ticket.Command{Action: ticket.ActionAnswer, Group: "billing"}, []string{"group"}},
		{"tags with an assignee", ticket.Command{Action: ticket.ActionTags, Assignee: ptr("bob")}, []string{"assignee"}},
		{"escalate with a blank group", ticket.Command{Action: ticket.ActionEscalate, Group: "  "}, nil},
		// tags
		{"tags", tags([]string{"vip", "tier-2:eu_west", "0"}, []string{"old"}), nil},
		{"tags nothing", tags(nil, nil), nil},
		{"tags upper case and padded", tags([]string{" VIP "}, []string{"Old"}), nil},
		{"tag 50", tags([]string{long(50)}, nil), nil},
		{"tag 51", tags([]string{long(51)}, nil), []string{"add"}},
		{"removed tag 51", tags(nil, []string{long(51)}), []string{"remove"}},
		{"tag with a space", tags([]string{"a b"}, nil), []string{"add"}},
		{"tag with a dot", tags([]string{"v1.2"}, nil), []string{"add"}},
		{"tag with a slash", tags([]string{"a/b"}, nil), []string{"add"}},
		{"tag with an accent", tags([]string{"café"}, nil), []string{"add"}},
		{"tag with an emoji", tags([]string{"🔥"}, nil), []string{"add"}},
		{"empty tag", tags([]string{""}, nil), []string{"add"}},
		{"blank tag", tags([]string{"vip", "  "}, nil), []string{"add"}},
		{"tag control char", tags([]string{"a\x00"}, nil), []string{"add"}},
		{"tag invalid UTF-8", tags([]string{"a\xff"}, nil), []string{"add"}},
		{"removed tag invalid", tags(nil, []string{"a b"}), []string{"remove"}},
		{"added and removed tags invalid", tags([]string{"a b"}, []string{"c d"}), []string{"add", "remove"}},
		{"20 tags added", tags(manyTags(20), nil), nil},
		{"21 tags added", tags(manyTags(21), nil), []string{"add"}},
		{"21 tags added that collapse to 20", tags(append(manyTags(20), "T00"), nil), nil},
		{"a tag both added and removed", tags([]string{"vip", "eu"}, []string{"vip"}), []string{"remove"}},
		{"a tag both added and removed, spelled differently", tags([]string{" VIP"}, []string{"vip "}), []string{"remove"}},
		{"tags with a comment", ticket.Command{Action: ticket.ActionTags, AddTags: []string{"vip"}, Comment: "hi", CommentID: "c"},
			[]string{"comment"}},
		{"tags with a group", ticket.Command{Action: ticket.ActionTags, AddTags: []string{"vip"}, Group: "billing"},
			[]string{"group"}},
		{"comment adding a tag", ticket.Command{Action: ticket.ActionComment, Comment: "hi", CommentID: "c", AddTags: []string{"vip"}},
			[]string{"add"}},
		{"close removing a tag", ticket.Command{Action: ticket.ActionClose, RemoveTags: []string{"vip"}}, []string{"remove"}},
		{"comment adding a blank tag", ticket.Command{Action: ticket.ActionComment, Comment: "hi", CommentID: "c", AddTags: []string{" "}},
			[]string{"add", "add"}},
		// visibility
		{"public comment", note("public"), nil},
		{"default visibility", note(""), nil},
		{"internal note", note("internal"), nil},
		{"internal note without a body", ticket.Command{Action: ticket.ActionComment, Visibility: "internal"}, []string{"body"}},
		{"visibility unknown", note("private"), []string{"visibility"}},
		{"visibility upper case", note("INTERNAL"), []string{"visibility"}},
		{"public answer with a comment", ticket.Command{Action: ticket.ActionAnswer, Comment: "hi", CommentID: "c", Visibility: "public"}, nil},
		{"internal answer", ticket.Command{Action: ticket.ActionAnswer, Comment: "hi", CommentID: "c", Visibility: "internal"},
			[]string{"visibility"}},
		{"internal close without a comment", ticket.Command{Action: ticket.ActionClose, Visibility: "internal"}, []string{"visibility"}},
		{"internal escalate", ticket.Command{Action: ticket.ActionEscalate, Visibility: "internal"}, []string{"visibility"}},
		{"internal tags", ticket.Command{Action: ticket.ActionTags, Visibility: "internal"}, []string{"visibility"}},
		{"unknown visibility on close", ticket.Command{Action: ticket.ActionClose, Visibility: "x"}, []string{"visibility"}},
		{"every new field broken", ticket.Command{Action: ticket.ActionComment, Comment: "hi", CommentID: "c", Visibility: "x",
			Assignee: ptr(long(321)), Group: long(101), AddTags: []string{"a b"}, RemoveTags: []string{"c d"}},
			[]string{"visibility", "assignee", "assignee", "group", "group", "add", "add", "remove", "remove"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cmd.Validate()
			assertFields(t, err, tt.want...)
			// Check and Apply validate the command first, whatever the ticket.
			for _, st := range []ticket.Status{ticket.StatusOpen, ticket.StatusClosed} {
				tk := ticketIn(t, st)
				if len(tt.want) > 0 {
					assertFields(t, tk.Check(tt.cmd), tt.want...)
					ch, err := tk.Apply(tt.cmd, rawNow)
					assertFields(t, err, tt.want...)
					if ch.Ticket.Version != 0 || len(ch.Events) != 0 || ch.Comment != nil {
						t.Errorf("a refused command returned a change: %+v", ch)
					}
				}
			}
		})
	}
	t.Run("messages", func(t *testing.T) {
		for _, c := range []struct {
			cmd          ticket.Command
			field, words string
		}{
			{assign(nil, long(101)), "group", "must be at most 100 characters"},
			{tags([]string{"a b"}, nil), "add", "each tag must be 1 to 50 of a-z, 0-9, _, : and -"},
			{tags(manyTags(21), nil), "add", "a ticket has at most 20 tags"},
			{tags([]string{"vip"}, []string{"vip"}), "remove", "a tag cannot be both added and removed"},
			{ticket.Command{Action: ticket.ActionTags, Comment: "hi", CommentID: "c"}, "comment", "assign and tags take no comment"},
			{note("private"), "visibility", "must be public or internal"},
			{ticket.Command{Action: ticket.ActionClose, Visibility: "internal"}, "visibility", "only a comment can be an internal note"},
		} {
			if got := fieldMessage(c.cmd.Validate(), c.field); got != c.words {
				t.Errorf("%+v: %s message = %q, want %q", c.cmd, c.field, got, c.words)
			}
		}
	})
}

func TestApplyAssign(t *testing.T) {
	const alice, bob = "alice@example.com", "bob@example.com"
	tests := []struct {
		name         string
		assignee     string // the ticket's
		group        string // the ticket's; "" keeps the fixture's DefaultGroup
		cmdAssignee  *string
		cmdGroup     string
		wantAssignee string
		wantGroup    string
		noop         bool // no event, no new version
	}{
		{name: "assign", cmdAssignee: ptr(bob), wantAssignee: bob, wantGroup: "support"},
		{name: "assignee is trimmed", cmdAssignee: ptr(" \t" + bob + " "), wantAssignee: bob, wantGroup: "support"},
		{name: "reassign", assignee: alice, cmdAssignee: ptr(bob), wantAssignee: bob, wantGroup: "support"},
		{name: "unassign", assignee: alice, cmdAssignee: ptr(""), wantAssignee: "", wantGroup: "support"},
		{name: "blank assignee unassigns", assignee: alice, cmdAssignee: ptr("   "), wantAssignee: "", wantGroup: "support"},
		{name: "group only keeps the assignee", assignee: alice, cmdGroup: "billing", wantAssignee: alice, wantGroup: "billing"},
		{name: "group is trimmed", cmdGroup: "  billing\t", wantGroup: "billing"},
		{name: "group is kept as given, case included", cmdGroup: "Tier 2", wantGroup: "Tier 2"},
		{name: "back to the default group", group: "billing", cmdGroup: "support", wantGroup: "support"},
		{name: "assignee and group", assignee: alice, cmdAssignee: ptr(bob), cmdGroup: "billing", wantAssignee: bob, wantGroup: "billing"},
		{name: "unassign into another group", assignee: alice, group: "billing", cmdAssignee: ptr(""), cmdGroup: "support",
			wantAssignee: "", wantGroup: "support"},
		{name: "same assignee, new group", assignee: alice, cmdAssignee: ptr(alice), cmdGroup: "billing",
			wantAssignee: alice, wantGroup: "billing"},
		{name: "new assignee, same group", assignee: alice, group: "billing", cmdAssignee: ptr(bob), cmdGroup: "billing",
			wantAssignee: bob, wantGroup: "billing"},
		// No-ops: the ticket as it was, no event, the same version.
		{name: "nothing asked", assignee: alice, noop: true},
		{name: "blank group leaves it", assignee: alice, group: "billing", cmdGroup: "  ", noop: true},
		{name: "same assignee", assignee: alice, cmdAssignee: ptr(alice), noop: true},
		{name: "same assignee padded", assignee: alice, cmdAssignee: ptr(" " + alice + " "), noop: true},
		{name: "unassign nobody", cmdAssignee: ptr(""), noop: true},
		{name: "same group", cmdGroup: "support", noop: true},
		{name: "same assignee and group", assignee: alice, group: "billing", cmdAssignee: ptr(alice), cmdGroup: " billing ", noop: true},
	}
	for _, st := range workStatuses {
		for _, tt := range tests {
			t.Run(string(st)+"/"+tt.name, func(t *testing.T) {
				tk := ticketIn(t, st)
				tk.Assignee = tt.assignee
				if tt.group != "" {
					tk.Group = tt.group
				}
				cmd := ticket.Command{Action: ticket.ActionAssign, Actor: " " + actor, Assignee: tt.cmdAssignee, Group: tt.cmdGroup}
				ch := applyWork(t, tk, cmd, tt.noop)
				if tt.noop {
					return
				}
				want := next(tk)
				want.Assignee, want.Group = tt.wantAssignee, tt.wantGroup
				assertTicket(t, ch.Ticket, want)
				assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventAssigned, Actor: actor, At: now,
					Data: map[string]any{"from_assignee": person(tk.Assignee), "to_assignee": person(tt.wantAssignee),
						"from_group": tk.Group, "to_group": tt.wantGroup}})
			})
		}
	}
	t.Run("twice", func(t *testing.T) {
		tk := ticketIn(t, ticket.StatusOpen)
		for i, who := range []string{alice, bob, bob, ""} {
			ch, err := tk.Apply(ticket.Command{Action: ticket.ActionAssign, Assignee: ptr(who)}, rawNow)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			tk = ch.Ticket
		}
		if tk.Assignee != "" || tk.Version != 6 { // 3, then alice, bob, (bob again: nothing), nobody
			t.Errorf("after alice, bob, bob, nobody: assignee %q, version %d; want nobody, 6", tk.Assignee, tk.Version)
		}
	})
}

// TestApplyAssignClosed: a closed ticket takes no assign, not even one that would change nothing;
// a command that is itself invalid is refused as invalid first.
func TestApplyAssignClosed(t *testing.T) {
	tests := []struct {
		name string
		cmd  ticket.Command
		code string
	}{
		{"assign", ticket.Command{Assignee: ptr("bob@example.com")}, ticket.ECLOSED},
		{"unassign", ticket.Command{Assignee: ptr("")}, ticket.ECLOSED},
		{"group", ticket.Command{Group: "billing"}, ticket.ECLOSED},
		{"both", ticket.Command{Assignee: ptr("bob"), Group: "billing"}, ticket.ECLOSED},
		{"nothing asked", ticket.Command{}, ticket.ECLOSED},
		{"the same group", ticket.Command{Group: ticket.DefaultGroup}, ticket.ECLOSED},
		{"invalid assignee", ticket.Command{Assignee: ptr("a\nb")}, ticket.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticketIn(t, ticket.StatusClosed)
			before := snapshot(tk)
			tt.cmd.Action = ticket.ActionAssign
			checkErr := tk.Check(tt.cmd)
			ch, err := tk.Apply(tt.cmd, rawNow)
			assertUnchanged(t, before, tk)
			assertCode(t, checkErr, tt.code)
			assertCode(t, err, tt.code)
			if tt.code == ticket.ECLOSED {
				if msg := ticket.ErrorMessage(err); msg != "cannot assign a ticket that is closed" {
					t.Errorf("message = %q", msg)
				}
			}
			if ch.Ticket.Version != 0 || len(ch.Events) != 0 {
				t.Errorf("a refused assign returned a change: %+v", ch)
			}
		})
	}
}

func TestApplyTags(t *testing.T) {
	none := []string{}
	tests := []struct {
		name           string
		tags           []string // the ticket's
		add, remove    []string
		want           []string // the ticket's tags after
		added, removed []string
		noop           bool // no event, no new version
	}{
		{name: "add to none", add: []string{"vip"}, want: []string{"vip"}, added: []string{"vip"}, removed: none},
		{name: "added are sorted", add: []string{"zeta", "alpha", "mid"},
			want: []string{"alpha", "mid", "zeta"}, added: []string{"alpha", "mid", "zeta"}, removed: none},
		{name: "kept sorted among the ticket's", tags: []string{"alpha", "zeta"}, add: []string{"mid", "beta"},
			want: []string{"alpha", "beta", "mid", "zeta"}, added: []string{"beta", "mid"}, removed: none},
		{name: "case and spaces are normalized", add: []string{"  VIP ", "Billing\t", "Tier-2:EU_West"},
			want: []string{"billing", "tier-2:eu_west", "vip"}, added: []string{"billing", "tier-2:eu_west", "vip"}, removed: none},
		{name: "duplicates collapse", add: []string{"vip", "VIP", " vip "}, want: []string{"vip"}, added: []string{"vip"}, removed: none},
		{name: "an existing tag is not added again", tags: []string{"vip"}, add: []string{"VIP", "eu"},
			want: []string{"eu", "vip"}, added: []string{"eu"}, removed: none},
		{name: "remove one", tags: []string{"eu", "vip"}, remove: []string{"vip"}, want: []string{"eu"}, added: none, removed: []string{"vip"}},
		{name: "removed are normalized", tags: []string{"eu", "vip"}, remove: []string{" VIP ", "Vip"},
			want: []string{"eu"}, added: none, removed: []string{"vip"}},
		{name: "remove several, an absent one too", tags: []string{"a", "b", "c"}, remove: []string{"c", "x", "a"},
			want: []string{"b"}, added: none, removed: []string{"a", "c"}},
		{name: "remove the last", tags: []string{"vip"}, remove: []string{"vip"}, want: nil, added: none, removed: []string{"vip"}},
		{name: "add and remove at once", tags: []string{"eu", "vip"}, add: []string{"apac"}, remove: []string{"eu"},
			want: []string{"apac", "vip"}, added: []string{"apac"}, removed: []string{"eu"}},
		{name: "replace every tag", tags: []string{"a", "b"}, add: []string{"c"}, remove: []string{"a", "b"},
			want: []string{"c"}, added: []string{"c"}, removed: []string{"a", "b"}},
		{name: "every character a tag may have", add: []string{"az09_:-", strings.Repeat("z", 50)},
			want: []string{"az09_:-", strings.Repeat("z", 50)}, added: []string{"az09_:-", strings.Repeat("z", 50)}, removed: none},
		// No-ops: the ticket as it was, no event, the same version.
		{name: "nothing asked", tags: []string{"vip"}, noop: true},
		{name: "nothing asked of none", noop: true},
		{name: "add an existing tag", tags: []string{"eu", "vip"}, add: []string{"vip"}, noop: true},
		{name: "add an existing tag in another spelling", tags: []string{"vip"}, add: []string{" VIP", "Vip"}, noop: true},
		{name: "remove an absent tag", tags: []string{"vip"}, remove: []string{"eu"}, noop: true},
		{name: "remove from none", remove: []string{"vip"}, noop: true},
		{name: "add existing, remove absent", tags: []string{"vip"}, add: []string{"vip"}, remove: []string{"eu"}, noop: true},
	}
	for _, st := range workStatuses {
		for _, tt := range tests {
			t.Run(string(st)+"/"+tt.name, func(t *testing.T) {
				tk := ticketIn(t, st)
				tk.Tags = tt.tags
				cmd := ticket.Command{Action: ticket.ActionTags, Actor: actor + " ", AddTags: tt.add, RemoveTags: tt.remove}
				ch := applyWork(t, tk, cmd, tt.noop)
				if tt.noop {
					return
				}
				if !slices.Equal(ch.Ticket.Tags, tt.want) {
					t.Errorf("tags = %#v, want %#v", ch.Ticket.Tags, tt.want)
				}
				if !slices.IsSorted(ch.Ticket.Tags) || len(slices.Compact(slices.Clone(ch.Ticket.Tags))) != len(ch.Ticket.Tags) {
					t.Errorf("tags %q are not distinct and sorted", ch.Ticket.Tags)
				}
				want := next(tk)
				want.Tags = ch.Ticket.Tags // compared above; nil and empty alike (see TestTagsRemovedToNone)
				assertTicket(t, ch.Ticket, want)
				// Data holds []string, never nil: assertEvents compares with reflect.DeepEqual, which
				// tells nil from empty.
				assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventTagsChanged, Actor: actor, At: now,
					Data: map[string]any{"added": tt.added, "removed": tt.removed}})
			})
		}
	}
}

// TestApplyTagsLimit: a ticket has at most MaxTags tags. The command alone cannot know it, so it
// is the ticket's Check that refuses the 21st, with EINVALID on the field add.
func TestApplyTagsLimit(t *testing.T) {
	tests := []struct {
		name        string
		tags        int // how many the ticket has
		add, remove []string
		wantCode    string
		wantCount   int
	}{
		{"the 20th", 19, []string{"new"}, nil, "", 20},
		{"the 21st", 20, []string{"new"}, nil, ticket.EINVALID, 0},
		{"the 20th and 21st", 19, []string{"new", "other"}, nil, ticket.EINVALID, 0},
		{"the 21st in two spellings", 20, []string{"new", "NEW"}, nil, ticket.EINVALID, 0},
		{"an existing one at 20", 20, []string{"T05"}, nil, "", 20},
		{"one in, one out at 20", 20, []string{"new"}, []string{"t00"}, "", 20},
		{"two in, one out at 20", 20, []string{"new", "other"}, []string{"t00"}, ticket.EINVALID, 0},
		{"a removal at 20", 20, nil, []string{"t19"}, "", 19},
		{"20 at once", 0, manyTags(20), nil, "", 20},
		{"21 at once", 0, manyTags(21), nil, ticket.EINVALID, 0},
		{"the 20 the ticket has and one more", 20, manyTags(21), nil, ticket.EINVALID, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticketIn(t, ticket.StatusOpen)
			if tt.tags > 0 {
				tk.Tags = manyTags(tt.tags)
			}
			before := snapshot(tk)
			cmd := ticket.Command{Action: ticket.ActionTags, AddTags: tt.add, RemoveTags: tt.remove}
			checkErr := tk.Check(cmd)
			ch, err := tk.Apply(cmd, rawNow)
			assertUnchanged(t, before, tk)
			assertCode(t, checkErr, tt.wantCode)
			assertCode(t, err, tt.wantCode)
			if tt.wantCode != "" {
				if got := fieldNames(err); !slices.Equal(got, []string{"add"}) {
					t.Errorf("fields = %v, want [add]", got)
				}
				if msg := ticket.ErrorMessage(err); !strings.Contains(msg, "20") {
					t.Errorf("message %q does not give the limit", msg)
				}
				if ch.Ticket.Version != 0 || len(ch.Events) != 0 {
					t.Errorf("a refused tags returned a change: %+v", ch)
				}
				return
			}
			if len(ch.Ticket.Tags) != tt.wantCount {
				t.Errorf("%d tags, want %d", len(ch.Ticket.Tags), tt.wantCount)
			}
		})
	}
	t.Run("the command alone is valid", func(t *testing.T) {
		if err := (ticket.Command{Action: ticket.ActionTags, AddTags: []string{"new"}}).Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a closed ticket is refused as closed first", func(t *testing.T) {
		tk := ticketIn(t, ticket.StatusClosed)
		tk.Tags = manyTags(20)
		_, err := tk.Apply(ticket.Command{Action: ticket.ActionTags, AddTags: []string{"new"}}, rawNow)
		assertCode(t, err, ticket.ECLOSED)
	})
}

// TestApplyTagsClosed: a closed ticket takes no tags change, not even one that would change
// nothing.
func TestApplyTagsClosed(t *testing.T) {
	for name, cmd := range map[string]ticket.Command{
		"add":               {AddTags: []string{"vip"}},
		"remove":            {RemoveTags: []string{"eu"}},
		"add an existing":   {AddTags: []string{"eu"}},
		"remove an absent":  {RemoveTags: []string{"vip"}},
		"nothing asked":     {},
		"add and remove":    {AddTags: []string{"vip"}, RemoveTags: []string{"eu"}},
		"with a request id": {AddTags: []string{"vip"}, RequestID: "r-1"},
	} {
		t.Run(name, func(t *testing.T) {
			tk := ticketIn(t, ticket.StatusClosed)
			tk.Tags = []string{"eu"}
			before := snapshot(tk)
			cmd.Action = ticket.ActionTags
			assertCode(t, tk.Check(cmd), ticket.ECLOSED)
			ch, err := tk.Apply(cmd, rawNow)
			assertCode(t, err, ticket.ECLOSED)
			assertUnchanged(t, before, tk)
			if msg := ticket.ErrorMessage(err); msg != "cannot change the tags of a ticket that is closed" {
				t.Errorf("message = %q", msg)
			}
			if ch.Ticket.Version != 0 || len(ch.Events) != 0 {
				t.Errorf("a refused tags returned a change: %+v", ch)
			}
		})
	}
}

// TestTagsRemovedToNone: a ticket whose last tag is removed has no tags, as one never tagged.
func TestTagsRemovedToNone(t *testing.T) {
	tk := ticketIn(t, ticket.StatusOpen)
	tk.Tags = []string{"vip"}
	ch, err := tk.Apply(ticket.Command{Action: ticket.ActionTags, RemoveTags: []string{"vip"}}, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Ticket.Tags) != 0 {
		t.Fatalf("tags = %q, want none", ch.Ticket.Tags)
	}
	// It takes tags again.
	ch, err = ch.Ticket.Apply(ticket.Command{Action: ticket.ActionTags, AddTags: []string{"eu"}}, rawNow)
	if err != nil || !slices.Equal(ch.Ticket.Tags, []string{"eu"}) || ch.Ticket.Version != 5 {
		t.Fatalf("add after removing every tag: %+v, %v", ch.Ticket, err)
	}
}

// TestWorkEventsNameTheRequest: assigned and tags_changed events carry the request ID as every
// other event does; a no-op writes no event to carry it.
func TestWorkEventsNameTheRequest(t *testing.T) {
	tk := ticketIn(t, ticket.StatusOpen)
	ch, err := tk.Apply(ticket.Command{Action: ticket.ActionAssign, Assignee: ptr("bob"), RequestID: "r-1"}, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventAssigned, At: now, Data: map[string]any{
		"from_assignee": nil, "to_assignee": "bob", "from_group": "support", "to_group": "support", "request_id": "r-1"}})
	ch, err = ch.Ticket.Apply(ticket.Command{Action: ticket.ActionTags, AddTags: []string{"vip"}, RequestID: "r-2"}, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventTagsChanged, At: now, Data: map[string]any{
		"added": []string{"vip"}, "removed": []string{}, "request_id": "r-2"}})
	noop, err := ch.Ticket.Apply(ticket.Command{Action: ticket.ActionTags, AddTags: []string{"vip"}, RequestID: "r-3"}, rawNow)
	if err != nil || len(noop.Events) != 0 || noop.Ticket.Version != ch.Ticket.Version {
		t.Fatalf("no-op with a request id: %+v, %v", noop, err)
	}
}

// TestNoOpPreconditions: a no-op is judged as any command: IfVersion first, so a stale client
// learns it is stale even when its change would be none.
func TestNoOpPreconditions(t *testing.T) {
	tk := ticketIn(t, ticket.StatusOpen) // version 3
	for _, cmd := range []ticket.Command{
		{Action: ticket.ActionAssign, Group: ticket.DefaultGroup},
		{Action: ticket.ActionTags, RemoveTags: []string{"absent"}},
	} {
		cmd.IfVersion = 2
		_, err := tk.Apply(cmd, rawNow)
		assertCode(t, err, ticket.EPRECONDITION)
		cmd.IfVersion = 3
		ch, err := tk.Apply(cmd, rawNow)
		if err != nil || len(ch.Events) != 0 || ch.Ticket.Version != 3 {
			t.Errorf("%s at the current version: %+v, %v", cmd.Action, ch, err)
		}
	}
}

func TestInternalNotes(t *testing.T) {
	tests := []struct {
		name       string
		visibility ticket.Visibility
		internal   bool
	}{
		{"default", "", false},
		{"public", ticket.VisibilityPublic, false},
		{"internal", ticket.VisibilityInternal, true},
	}
	for _, st := range allStatuses {
		for _, tt := range tests {
			t.Run(st+"/"+tt.name, func(t *testing.T) {
				tk := ticketIn(t, ticket.Status(st))
				tk.InternalNotesCount = 4
				before := snapshot(tk)
				cmd := ticket.Command{Action: ticket.ActionComment, Actor: actor, Comment: " Looks like a driver issue. ",
					CommentID: "n-1", Visibility: tt.visibility}
				ch, err := tk.Apply(cmd, rawNow)
				assertUnchanged(t, before, tk)
				if st == "closed" {
					assertCode(t, err, ticket.ECLOSED)
					if msg := ticket.ErrorMessage(err); msg != "cannot comment on a ticket that is closed" {
						t.Errorf("message = %q", msg)
					}
					return
				}
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				want := next(tk)
				wantVis, data := ticket.VisibilityPublic, map[string]any{"comment_id": "n-1"}
				if tt.internal {
					want.InternalNotesCount = tk.InternalNotesCount + 1 // and CommentsCount leaves it out
					wantVis, data["visibility"] = ticket.VisibilityInternal, "internal"
				} else {
					want.CommentsCount = tk.CommentsCount + 1
				}
				assertTicket(t, ch.Ticket, want) // status, FirstRespondedAt and the rest as they were
				wantComment := ticket.Comment{ID: "n-1", TicketID: ticketID, Body: "Looks like a driver issue.",
					Author: actor, CreatedAt: now, Visibility: wantVis}
				if ch.Comment == nil || *ch.Comment != wantComment {
					t.Errorf("comment = %+v, want %+v", ch.Comment, wantComment)
				}
				assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventCommented, Actor: actor, At: now, Data: data})
			})
		}
	}
	t.Run("with a request id", func(t *testing.T) {
		ch, err := ticketIn(t, ticket.StatusOpen).Apply(ticket.Command{Action: ticket.ActionComment, Comment: "x", CommentID: "n",
			Visibility: ticket.VisibilityInternal, RequestID: "r-1"}, rawNow)
		if err != nil {
			t.Fatal(err)
		}
		assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventCommented, At: now,
			Data: map[string]any{"comment_id": "n", "visibility": "internal", "request_id": "r-1"}})
	})
	t.Run("refused on any other action", func(t *testing.T) {
		for _, a := range ticket.Actions {
			if a == ticket.ActionComment {
				continue
			}
			for _, st := range workStatuses {
				tk := ticketIn(t, st)
				before := snapshot(tk)
				cmd := ticket.Command{Action: a, Comment: "x", CommentID: "n", Visibility: ticket.VisibilityInternal}
				if a == ticket.ActionAssign || a == ticket.ActionTags {
					cmd.Comment, cmd.CommentID = "", ""
				}
				ch, err := tk.Apply(cmd, rawNow)
				assertFields(t, err, "visibility")
				assertUnchanged(t, before, tk)
				if ch.Comment != nil || len(ch.Events) != 0 {
					t.Errorf("%s %s: a refused note returned %+v", a, st, ch)
				}
			}
		}
	})
	t.Run("a transition's comment is public", func(t *testing.T) {
		ch, err := ticketIn(t, ticket.StatusOpen).Apply(ticket.Command{Action: ticket.ActionClose, Comment: "bye", CommentID: "c",
			Visibility: ticket.VisibilityPublic}, rawNow)
		if err != nil {
			t.Fatal(err)
		}
		if ch.Comment.Visibility != ticket.VisibilityPublic || ch.Ticket.CommentsCount != 3 || ch.Ticket.InternalNotesCount != 0 {
			t.Errorf("comment %+v, counts %d/%d", ch.Comment, ch.Ticket.CommentsCount, ch.Ticket.InternalNotesCount)
		}
		if _, ok := ch.Events[0].Data["visibility"]; ok {
			t.Errorf("a public comment's event names its visibility: %v", ch.Events[0].Data)
		}
	})
	t.Run("counts", func(t *testing.T) {
		tk := ticketIn(t, ticket.StatusOpen)
		for i, vis := range []ticket.Visibility{"internal", "", "internal", "public", "internal"} {
			ch, err := tk.Apply(ticket.Command{Action: ticket.ActionComment, Comment: "x", CommentID: fmt.Sprint("c-", i), Visibility: vis}, rawNow)
			if err != nil {
				t.Fatal(err)
			}
			tk = ch.Ticket
		}
		if tk.InternalNotesCount != 3 || tk.CommentsCount != 2+2 || tk.Version != 3+5 || tk.Status != ticket.StatusOpen {
			t.Errorf("after 3 notes and 2 comments: notes %d, comments %d, version %d, status %s",
				tk.InternalNotesCount, tk.CommentsCount, tk.Version, tk.Status)
		}
	})
}

// TestFirstRespondedAt follows a ticket from its creation: FirstRespondedAt is set by the first
// answer only, whatever came before it, and kept by every later change.
func TestFirstRespondedAt(t *testing.T) {
	opened, err := ticket.Open(ticketID, ticket.NewTicket{Title: "Printer on fire"}, actor, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	tk := opened.Ticket
	if tk.FirstRespondedAt != nil {
		t.Fatalf("a new ticket has FirstRespondedAt %s", show(tk.FirstRespondedAt))
	}
	first := now.Add(4 * time.Minute) // the fourth step's time
	steps := []struct {
		cmd  ticket.Command
		want *time.Time
	}{
		{ticket.Command{Action: ticket.ActionComment, Comment: "more info", CommentID: "c-1"}, nil},
		{ticket.Command{Action: ticket.ActionComment, Comment: "note", CommentID: "c-2", Visibility: ticket.VisibilityInternal}, nil},
		{ticket.Command{Action: ticket.ActionEscalate}, nil},
		{ticket.Command{Action: ticket.ActionAssign, Assignee: ptr("bob")}, nil},
		{ticket.Command{Action: ticket.ActionAnswer, Comment: "try this", CommentID: "c-3"}, &first},
		{ticket.Command{Action: ticket.ActionAwait}, &first},
		{ticket.Command{Action: ticket.ActionComment, Comment: "did not work", CommentID: "c-4"}, &first},
		{ticket.Command{Action: ticket.ActionAnswer}, &first},
		{ticket.Command{Action: ticket.ActionTags, AddTags: []string{"driver"}}, &first},
		{ticket.Command{Action: ticket.ActionClose, Reason: "fixed"}, &first},
	}
	for i, s := range steps {
		ch, err := tk.Apply(s.cmd, rawNow.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, s.cmd.Action, err)
		}
		tk = ch.Ticket
		if show(tk.FirstRespondedAt) != show(s.want) {
			t.Errorf("step %d (%s): FirstRespondedAt = %s, want %s", i, s.cmd.Action, show(tk.FirstRespondedAt), show(s.want))
		}
	}
	t.Run("a ticket closed unanswered has none", func(t *testing.T) {
		ch, err := opened.Ticket.Apply(ticket.Command{Action: ticket.ActionClose}, rawNow)
		if err != nil || ch.Ticket.FirstRespondedAt != nil {
			t.Errorf("closed from open: FirstRespondedAt %s, %v", show(ch.Ticket.FirstRespondedAt), err)
		}
	})
	t.Run("a ticket from before the field gets it on its next answer", func(t *testing.T) {
		tk := ticketIn(t, ticket.StatusAwaiting)
		tk.FirstRespondedAt = nil // answered before FirstRespondedAt was kept: the domain cannot know when
		ch, err := tk.Apply(ticket.Command{Action: ticket.ActionAnswer}, rawNow)
		if err != nil || show(ch.Ticket.FirstRespondedAt) != show(&now) {
			t.Errorf("FirstRespondedAt = %s, %v; want %s", show(ch.Ticket.FirstRespondedAt), err, show(&now))
		}
	})
	t.Run("a refused answer sets nothing", func(t *testing.T) {
		tk := ticketIn(t, ticket.StatusClosed)
		_, err := tk.Apply(ticket.Command{Action: ticket.ActionAnswer}, rawNow)
		assertCode(t, err, ticket.EINVALIDTRANSITION)
		if ch := tk.Reject(ticket.Command{Action: ticket.ActionAnswer}, err, rawNow); ch.Ticket.FirstRespondedAt != nil {
			t.Errorf("a rejection set FirstRespondedAt %s", show(ch.Ticket.FirstRespondedAt))
		}
	})
}

// TestWorkFieldsSurviveOtherChanges: assignee, group, tags and the notes count are changed by
// their own commands only.
func TestWorkFieldsSurviveOtherChanges(t *testing.T) {
	cmds := map[ticket.Status][]ticket.Command{
		ticket.StatusOpen: {
			{Action: ticket.ActionComment, Comment: "x", CommentID: "c"},
			{Action: ticket.ActionEscalate, Reason: "sla"},
			{Action: ticket.ActionAnswer, Comment: "x", CommentID: "c"},
			{Action: ticket.ActionClose},
		},
		ticket.StatusAnswered: {{Action: ticket.ActionAwait}},
		ticket.StatusAwaiting: {{Action: ticket.ActionAnswer}},
	}
	for st, list := range cmds {
		for _, cmd := range list {
			t.Run(string(st)+"/"+string(cmd.Action), func(t *testing.T) {
				tk := ticketIn(t, st)
				tk.Assignee, tk.Group, tk.Tags, tk.InternalNotesCount = "bob", "billing", []string{"eu", "vip"}, 2
				ch, err := tk.Apply(cmd, rawNow)
				if err != nil {
					t.Fatal(err)
				}
				got := ch.Ticket
				if got.Assignee != "bob" || got.Group != "billing" || !slices.Equal(got.Tags, []string{"eu", "vip"}) || got.InternalNotesCount != 2 {
					t.Errorf("assignee %q, group %q, tags %q, notes %d", got.Assignee, got.Group, got.Tags, got.InternalNotesCount)
				}
			})
		}
	}
}

// TestApplyDoesNotShareWorkState is TestApplyDoesNotShareState for FirstRespondedAt and Tags: a
// caller that edits the change's ticket must not edit the ticket it came from, which the workflow
// still holds. ClosedAt and CloseReason, the other pointers, are set on closed tickets only, which
// take no change, so they could never be shared; FirstRespondedAt and Tags are set on tickets that
// take every change.
func TestApplyDoesNotShareWorkState(t *testing.T) {
	for _, cmd := range []ticket.Command{
		{Action: ticket.ActionComment, Comment: "x", CommentID: "c"},
		{Action: ticket.ActionComment, Comment: "x", CommentID: "c", Visibility: ticket.VisibilityInternal},
		{Action: ticket.ActionAwait},
		{Action: ticket.ActionEscalate},
		{Action: ticket.ActionAssign, Assignee: ptr("bob")},
		{Action: ticket.ActionTags, AddTags: []string{"new"}},
	} {
		t.Run(string(cmd.Action)+string(cmd.Visibility), func(t *testing.T) {
			tk := ticketIn(t, ticket.StatusAnswered)
			tk.Tags = []string{"eu", "vip"}
			before := snapshot(tk)
			ch, err := tk.Apply(cmd, rawNow)
			if err != nil {
				t.Fatal(err)
			}
			*ch.Ticket.FirstRespondedAt = created
			ch.Ticket.Tags[0] = "changed"
			if !tk.FirstRespondedAt.Equal(responded) {
				t.Errorf("the change shares FirstRespondedAt with the ticket it came from: now %s", show(tk.FirstRespondedAt))
			}
			if tk.Tags[0] != "eu" {
				t.Errorf("the change shares Tags with the ticket it came from: now %q", tk.Tags)
			}
			assertUnchanged(t, before, tk)
		})
	}
}

// TestWorkIsActivity: a note, an assign and a retag are changes, and postpone the auto-close as
// any change does; a no-op is none, and postpones nothing.
func TestWorkIsActivity(t *testing.T) {
	for name, c := range map[string]struct {
		cmd       ticket.Command
		postpones bool
	}{
		"internal note": {ticket.Command{Action: ticket.ActionComment, Comment: "x", CommentID: "c", Visibility: ticket.VisibilityInternal}, true},
		"assign":        {ticket.Command{Action: ticket.ActionAssign, Assignee: ptr("bob")}, true},
		"tags":          {ticket.Command{Action: ticket.ActionTags, AddTags: []string{"vip"}}, true},
		"no-op assign":  {ticket.Command{Action: ticket.ActionAssign, Group: ticket.DefaultGroup}, false},
		"no-op tags":    {ticket.Command{Action: ticket.ActionTags, RemoveTags: []string{"vip"}}, false},
	} {
		t.Run(name, func(t *testing.T) {
			tk := ticketIn(t, ticket.StatusAnswered)
			d, ok := policy.Next(tk, ticket.TimerState{})
			if !ok {
				t.Fatal("no auto-close")
			}
			ch, err := tk.Apply(c.cmd, rawNow) // before the auto-close falls due
			if err != nil {
				t.Fatal(err)
			}
			after, ok := policy.Next(ch.Ticket, ticket.TimerState{})
			if !ok || after.Timer != ticket.TimerAutoClose {
				t.Fatalf("after %s: %+v, %v", name, after, ok)
			}
			if got := after.At.After(d.At); got != c.postpones {
				t.Errorf("auto-close moved from %v to %v; want postponed = %v", d.At, after.At, c.postpones)
			}
		})
	}
}

// TestOpenWork: a new ticket names its group, assignee and tags, normalized, or takes the
// defaults: the default group, nobody, no tags.
func TestOpenWork(t *testing.T) {
	tests := []struct {
		name                 string
		group, assignee      string
		tags                 []string
		wantGroup, wantAssig string
		wantTags             []string
	}{
		{"defaults", "", "", nil, "support", "", nil},
		{"blank group is the default", " \t ", "  ", []string{}, "support", "", nil},
		{"given", "billing", "bob@example.com", []string{"vip"}, "billing", "bob@example.com", []string{"vip"}},
		{"trimmed", "  billing ", " bob@example.com\t", nil, "billing", "bob@example.com", nil},
		{"group kept as given, case included", "Tier 2", "", nil, "Tier 2", "", nil},
		{"tags normalized, distinct and sorted", "", "", []string{" VIP", "eu", "vip ", "Apac", "EU"}, "support", "",
			[]string{"apac", "eu", "vip"}},
		{"20 tags", "", "", manyTags(20), "support", "", manyTags(20)},
		{"21 tags that collapse to 20", "", "", append(manyTags(20), " T19 "), "support", "", manyTags(20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ticket.NewTicket{Title: "Printer on fire", Group: tt.group, Assignee: tt.assignee, Tags: slices.Clone(tt.tags)}
			ch, err := ticket.Open(ticketID, in, actor, rawNow)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want := ticket.Ticket{ID: ticketID, Title: "Printer on fire", Status: ticket.StatusOpen, Priority: ticket.PriorityNormal,
				Version: 1, CreatedAt: now, UpdatedAt: now, Group: tt.wantGroup, Assignee: tt.wantAssig, Tags: tt.wantTags}
			assertTicket(t, ch.Ticket, want)
			if !slices.Equal(in.Tags, tt.tags) {
				t.Errorf("Open changed the caller's tags to %q", in.Tags)
			}
			// The created event is as it was: assignee, group and tags are on the ticket.
			assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventCreated, ToStatus: ticket.StatusOpen, Actor: actor, At: now,
				Data: map[string]any{"priority": "normal"}})
			n := in.Normalize()
			if n.Group != tt.wantGroup || n.Assignee != tt.wantAssig || !slices.Equal(n.Tags, tt.wantTags) {
				t.Errorf("Normalize = %+v", n)
			}
		})
	}
}

// TestNewTicketValidateWork is TestNewTicketValidate for group, assignee and tags.
func TestNewTicketValidateWork(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name    string
		in      ticket.NewTicket
		want    []string
		wantMsg string
	}{
		{"group 100", ticket.NewTicket{Title: "t", Group: r("g", 100)}, nil, ""},
		{"group 100 multi-byte", ticket.NewTicket{Title: "t", Group: r("ü", 100)}, nil, ""},
		{"group 101", ticket.NewTicket{Title: "t", Group: r("g", 101)}, []string{"group"}, "must be at most 100 characters"},
		{"group newline", ticket.NewTicket{Title: "t", Group: "a\nb"}, []string{"group"}, "must not contain control characters"},
		{"group invalid UTF-8", ticket.NewTicket{Title: "t", Group: "\xff"}, []string{"group"}, "must be valid UTF-8"},
		{"assignee 320", ticket.NewTicket{Title: "t", Assignee: r("a", 320)}, nil, ""},
		{"assignee 321", ticket.NewTicket{Title: "t", Assignee: r("a", 321)}, []string{"assignee"}, "must be at most 320 characters"},
		{"assignee control char", ticket.NewTicket{Title: "t", Assignee: "bob\x07"}, []string{"assignee"}, "must not contain control characters"},
		{"tags", ticket.NewTicket{Title: "t", Tags: []string{"vip", "Tier-2:EU_west"}}, nil, ""},
		{"tag 50", ticket.NewTicket{Title: "t", Tags: []string{r("a", 50)}}, nil, ""},
		{"tag 51", ticket.NewTicket{Title: "t", Tags: []string{r("a", 51)}}, []string{"tags"}, "each tag must be 1 to 50 of a-z, 0-9, _, : and -"},
		{"tag with a space", ticket.NewTicket{Title: "t", Tags: []string{"a b"}}, []string{"tags"}, ""},
		{"tag with an accent", ticket.NewTicket{Title: "t", Tags: []string{"É"}}, []string{"tags"}, ""},
		{"empty tag", ticket.NewTicket{Title: "t", Tags: []string{"vip", ""}}, []string{"tags"}, ""},
		{"20 tags", ticket.NewTicket{Title: "t", Tags: manyTags(20)}, nil, ""},
		{"21 tags", ticket.NewTicket{Title: "t", Tags: manyTags(21)}, []string{"tags"}, "a ticket has at most 20 tags"},
		{"21 tags, one invalid", ticket.NewTicket{Title: "t", Tags: append(manyTags(20), "a b")}, []string{"tags"},
			"each tag must be 1 to 50 of a-z, 0-9, _, : and -"}, // one error for the field, the first
		{"every new field broken", ticket.NewTicket{Title: "t", Group: r("g", 101), Assignee: "\x00", Tags: []string{"!"}},
			[]string{"group", "assignee", "tags"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Normalize().Validate()
			assertFields(t, err, tt.want...)
			if tt.wantMsg != "" {
				if got := fieldMessage(err, tt.want[0]); got != tt.wantMsg {
					t.Errorf("%s message = %q, want %q", tt.want[0], got, tt.wantMsg)
				}
			}
			ch, err := ticket.Open(ticketID, tt.in, actor, rawNow)
			assertFields(t, err, tt.want...)
			if err != nil && (ch.Ticket.ID != "" || len(ch.Events) != 0) {
				t.Errorf("Open failed but returned a change: %+v", ch)
			}
		})
	}
}

// applyWork applies an assign or tags command that Check accepts, and checks what every such change
// keeps: the ticket it came from as it was, no comment, and for a no-op (noop) the ticket as it
// was, same version and UpdatedAt, with no event.
func applyWork(t *testing.T, tk ticket.Ticket, cmd ticket.Command, noop bool) ticket.Change {
	t.Helper()
	before := snapshot(tk)
	if err := tk.Check(cmd); err != nil {
		t.Fatalf("Check: %v", err)
	}
	ch, err := tk.Apply(cmd, rawNow)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertUnchanged(t, before, tk)
	if ch.Comment != nil {
		t.Errorf("%s made comment %+v", cmd.Action, ch.Comment)
	}
	if noop {
		assertTicket(t, ch.Ticket, before)
		if len(ch.Events) != 0 {
			t.Errorf("a no-op wrote events %+v", ch.Events)
		}
	}
	return ch
}
