package ticket_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// FuzzLifecycle applies any sequence of commands to a new ticket and checks that the ticket never
// leaves the transition table: every status change is one the table allows, a refused command
// changes nothing, the version counts exactly the accepted commands, and closed absorbs everything.
func FuzzLifecycle(f *testing.F) {
	f.Add([]byte{1, 2, 1, 3})       // answer, await, answer, close
	f.Add([]byte{0, 0, 4, 1, 3, 0}) // comment, comment, escalate, answer, close, comment
	f.Add([]byte{2, 3, 3, 1, 4, 0}) // await (refused), close, then everything refused
	f.Add([]byte{1, 1, 2, 2, 1, 2}) // repeated transitions
	f.Fuzz(func(t *testing.T, steps []byte) {
		now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
		created, err := ticket.Open("t", ticket.NewTicket{Title: "fuzzed"}, "fuzz", now)
		if err != nil {
			t.Fatal(err)
		}
		tk, accepted, comments := created.Ticket, 0, 0
		for i, b := range steps {
			action := ticket.Actions[int(b)%len(ticket.Actions)]
			cmd := ticket.Command{Action: action, Actor: "fuzz"}
			if action == ticket.ActionComment || b&0x80 != 0 {
				cmd.Comment, cmd.CommentID = "c", "c"
			}
			ch, err := tk.Apply(cmd, now.Add(time.Duration(i)*time.Second))
			if tk.Status.IsFinal() && err == nil {
				t.Fatalf("step %d: %s applied to a closed ticket", i, action)
			}
			if err != nil {
				if code := ticket.ErrorCode(err); code != ticket.EINVALIDTRANSITION && code != ticket.ECLOSED {
					t.Fatalf("step %d: %s refused with %q: %v", i, action, code, err)
				}
				continue
			}
			if ch.Ticket.Status != tk.Status && !tk.Status.CanMoveTo(ch.Ticket.Status) {
				t.Fatalf("step %d: %s moved %s to %s, which the table forbids", i, action, tk.Status, ch.Ticket.Status)
			}
			accepted++
			if ch.Comment != nil {
				comments++
			}
			tk = ch.Ticket
			if tk.Version != int64(1+accepted) || tk.CommentsCount != comments || (tk.ClosedAt != nil) != tk.Status.IsFinal() {
				t.Fatalf("step %d: ticket %+v after %d accepted, %d comments", i, tk, accepted, comments)
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
