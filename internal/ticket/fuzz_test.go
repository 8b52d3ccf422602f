package ticket_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// FuzzLifecycle applies any sequence of commands to a new ticket and checks that the ticket never
// leaves the transition table: every status change is one the table allows, a refused command
// changes nothing, the version counts exactly the accepted commands, and closed absorbs everything.
// Along the way: comments and internal notes are counted apart, and FirstRespondedAt is set by the
// first answer and never moves after.
func FuzzLifecycle(f *testing.F) {
	f.Add([]byte{1, 2, 1, 3})       // answer, await, answer, close
	f.Add([]byte{0, 0, 4, 1, 3, 0}) // comment, comment, escalate, answer, close, comment
	f.Add([]byte{2, 3, 3, 1, 4, 0}) // await (refused), close, then everything refused
	f.Add([]byte{1, 1, 2, 2, 1, 2}) // repeated transitions
	// note, comment, note, assign, the same again (no-op), tag t6, untag t6, answer, await, answer
	f.Add([]byte{0x46, 0, 0x4d, 5, 5, 6, 0xe6, 1, 2, 1})
	f.Fuzz(func(t *testing.T, steps []byte) {
		now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
		created, err := ticket.Open("t", ticket.NewTicket{Title: "fuzzed"}, "fuzz", now)
		if err != nil {
			t.Fatal(err)
		}
		tk, accepted, comments, notes := created.Ticket, 0, 0, 0
		var firstResponse *time.Time // the time of the first accepted answer
		for i, b := range steps {
			action := ticket.Actions[int(b)%len(ticket.Actions)]
			cmd := ticket.Command{Action: action, Actor: "fuzz"}
			switch {
			case action == ticket.ActionAssign:
				assignee := fmt.Sprintf("agent-%d", b%3) // the same one again changes nothing
				cmd.Assignee = &assignee
			case action == ticket.ActionTags && b&0x80 != 0:
				cmd.RemoveTags = []string{fmt.Sprintf("t%d", b%32)}
			case action == ticket.ActionTags:
				cmd.AddTags = []string{fmt.Sprintf("t%d", b%32)} // more than MaxTags in all
			case action == ticket.ActionComment || b&0x80 != 0:
				cmd.Comment, cmd.CommentID = "c", "c"
				if action == ticket.ActionComment && b&0x40 != 0 {
					cmd.Visibility = ticket.VisibilityInternal
				}
			}
			at := now.Add(time.Duration(i) * time.Second)
			ch, err := tk.Apply(cmd, at)
			if tk.Status.IsFinal() && err == nil {
				t.Fatalf("step %d: %s applied to a closed ticket", i, action)
			}
			if err != nil {
				code := ticket.ErrorCode(err)
				tooMany := action == ticket.ActionTags && code == ticket.EINVALID && len(tk.Tags) == ticket.MaxTags
				if code != ticket.EINVALIDTRANSITION && code != ticket.ECLOSED && !tooMany {
					t.Fatalf("step %d: %s refused with %q: %v", i, action, code, err)
				}
				continue
			}
			if ch.Ticket.Status != tk.Status && !tk.Status.CanMoveTo(ch.Ticket.Status) {
				t.Fatalf("step %d: %s moved %s to %s, which the table forbids", i, action, tk.Status, ch.Ticket.Status)
			}
			if len(ch.Events) == 0 {
				if !reflect.DeepEqual(ch.Ticket, tk) {
					t.Fatalf("step %d: %s changed the ticket without an event", i, action)
				}
				continue // an assign or tags that changes nothing
			}
			accepted++
			switch {
			case ch.Comment != nil && cmd.Visibility == ticket.VisibilityInternal:
				notes++
			case ch.Comment != nil:
				comments++
			}
			if action == ticket.ActionAnswer && firstResponse == nil {
				firstResponse = &at
			}
			if len(ch.Ticket.Tags) > ticket.MaxTags || !slices.IsSorted(ch.Ticket.Tags) {
				t.Fatalf("step %d: tags %v", i, ch.Ticket.Tags)
			}
			tk = ch.Ticket
			if tk.Version != int64(1+accepted) || tk.CommentsCount != comments || tk.InternalNotesCount != notes ||
				(tk.ClosedAt != nil) != tk.Status.IsFinal() {
				t.Fatalf("step %d: ticket %+v after %d accepted, %d comments, %d notes", i, tk, accepted, comments, notes)
			}
			if (tk.FirstRespondedAt == nil) != (firstResponse == nil) || (firstResponse != nil && !tk.FirstRespondedAt.Equal(*firstResponse)) {
				t.Fatalf("step %d: FirstRespondedAt %v, the first answer at %v", i, tk.FirstRespondedAt, firstResponse)
			}
		}
	})
}

// FuzzNewTicket feeds any text to the validation of a new ticket: it never panics, and what it
// accepts is stored trimmed, valid UTF-8, within its limits and free of control characters.
func FuzzNewTicket(f *testing.F) {
	f.Add("Printer on fire", "smoke\nlots", "urgent", "alice@example.com")
	f.Add("  ", "", "", "")
	f.Add("\xff\xfe", "\x00", "NORMAL", strings.Repeat("r", 321))
	f.Add("日本語のタイトル", "\t", "low", " bob ")
	f.Fuzz(func(t *testing.T, title, description, priority, requester string) {
		ch, err := ticket.Open("t", ticket.NewTicket{Title: title, Description: description, Priority: priority, Requester: requester}, "fuzz", time.Now())
		if err != nil {
			if ticket.ErrorCode(err) != ticket.EINVALID || len(ticket.ErrorFields(err)) == 0 {
				t.Fatalf("refused without field errors: %v", err)
			}
			return
		}
		tk := ch.Ticket
		for _, s := range []string{tk.Title, tk.Description, tk.Requester} {
			if !utf8.ValidString(s) || s != strings.TrimSpace(s) {
				t.Fatalf("accepted %q", s)
			}
		}
		if n := utf8.RuneCountInString(tk.Title); n < 1 || n > ticket.MaxTitleLen || strings.ContainsAny(tk.Title, "\x00\n\r\t") {
			t.Fatalf("accepted title %q", tk.Title)
		}
		if _, err := ticket.ParsePriority(string(tk.Priority)); err != nil {
			t.Fatalf("accepted priority %q", tk.Priority)
		}
	})
}
