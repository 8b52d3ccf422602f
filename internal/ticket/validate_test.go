package ticket_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

func TestNewTicketValidate(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name    string
		in      ticket.NewTicket
		want    []string // the broken fields, none when valid
		wantMsg string   // a message of the first broken field, when it matters
	}{
		{"title only", ticket.NewTicket{Title: "Printer on fire"}, nil, ""},
		{"title empty", ticket.NewTicket{}, []string{"title"}, "must not be empty"},
		{"title whitespace only", ticket.NewTicket{Title: " \t\n\r  "}, []string{"title"}, "must not be empty"},
		{"title 200", ticket.NewTicket{Title: r("x", 200)}, nil, ""},
		{"title 201", ticket.NewTicket{Title: r("x", 201)}, []string{"title"}, "must be at most 200 characters"},
		{"title 200 two-byte characters", ticket.NewTicket{Title: r("é", 200)}, nil, ""},
		{"title 200 three-byte characters", ticket.NewTicket{Title: r("日", 200)}, nil, ""},
		{"title 200 four-byte characters", ticket.NewTicket{Title: r("🔥", 200)}, nil, ""},
		{"title 201 two-byte characters", ticket.NewTicket{Title: r("é", 201)}, []string{"title"}, "must be at most 200 characters"},
		{"title 200 with padding", ticket.NewTicket{Title: "   " + r("x", 200) + "\n"}, nil, ""},
		{"title newline inside", ticket.NewTicket{Title: "Printer\non fire"}, []string{"title"}, "must not contain control characters"},
		{"title tab inside", ticket.NewTicket{Title: "Printer\ton fire"}, []string{"title"}, "must not contain control characters"},
		{"title NUL", ticket.NewTicket{Title: "a\x00b"}, []string{"title"}, "must not contain control characters"},
		{"title DEL", ticket.NewTicket{Title: "a\x7fb"}, []string{"title"}, "must not contain control characters"},
		{"title escape", ticket.NewTicket{Title: "a\x1b[2Jb"}, []string{"title"}, "must not contain control characters"},
		{"title C1 control", ticket.NewTicket{Title: "a\u009bb"}, []string{"title"}, "must not contain control characters"},
		{"title invalid UTF-8", ticket.NewTicket{Title: "Printer \xff\xfe"}, []string{"title"}, "must be valid UTF-8"},
		{"title truncated UTF-8", ticket.NewTicket{Title: "caf\xc3"}, []string{"title"}, "must be valid UTF-8"},
		{"description 20000", ticket.NewTicket{Title: "t", Description: r("x", 20000)}, nil, ""},
		{"description 20000 multi-byte", ticket.NewTicket{Title: "t", Description: r("ß", 20000)}, nil, ""},
		{"description 20001", ticket.NewTicket{Title: "t", Description: r("x", 20001)}, []string{"description"}, "must be at most 20000 characters"},
		{"description newlines and tabs", ticket.NewTicket{Title: "t", Description: "line 1\nline 2\r\n\tindented"}, nil, ""},
		{"description control char", ticket.NewTicket{Title: "t", Description: "bell\a"}, []string{"description"}, "must not contain control characters"},
		{"description invalid UTF-8", ticket.NewTicket{Title: "t", Description: "\x80"}, []string{"description"}, "must be valid UTF-8"},
		{"requester 320", ticket.NewTicket{Title: "t", Requester: r("a", 311) + "@ex.ample"}, nil, ""},
		{"requester 321", ticket.NewTicket{Title: "t", Requester: r("a", 312) + "@ex.ample"}, []string{"requester"}, "must be at most 320 characters"},
		{"requester newline", ticket.NewTicket{Title: "t", Requester: "alice\nbob"}, []string{"requester"}, ""},
		{"priority low", ticket.NewTicket{Title: "t", Priority: "low"}, nil, ""},
		{"priority normal", ticket.NewTicket{Title: "t", Priority: "normal"}, nil, ""},
		{"priority high", ticket.NewTicket{Title: "t", Priority: "high"}, nil, ""},
		{"priority urgent", ticket.NewTicket{Title: "t", Priority: "urgent"}, nil, ""},
		{"priority padded", ticket.NewTicket{Title: "t", Priority: " urgent "}, nil, ""},
		{"priority unknown", ticket.NewTicket{Title: "t", Priority: "critical"}, []string{"priority"}, ""},
		{"priority upper case", ticket.NewTicket{Title: "t", Priority: "HIGH"}, []string{"priority"}, ""},
		{"every field broken", ticket.NewTicket{Title: "", Description: r("x", 20001), Requester: r("x", 321), Priority: "p0"},
			[]string{"title", "description", "requester", "priority"}, ""},
		{"two fields broken", ticket.NewTicket{Title: "\xff", Priority: "p0"}, []string{"title", "priority"}, ""},
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
			// Open validates the same way.
			ch, err := ticket.Open(ticketID, tt.in, actor, rawNow)
			assertFields(t, err, tt.want...)
			if err != nil && (ch.Ticket.ID != "" || len(ch.Events) != 0) {
				t.Errorf("Open failed but returned a change: %+v", ch)
			}
		})
	}
}

func TestNewTicketNormalize(t *testing.T) {
	got := ticket.NewTicket{Title: "  Printer on fire \n", Description: "\n\n  smoke\n\n", Requester: " alice@example.com ", Priority: ""}.Normalize()
	want := ticket.NewTicket{Title: "Printer on fire", Description: "smoke", Requester: "alice@example.com", Priority: "normal",
		Group: ticket.DefaultGroup}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize = %+v, want %+v", got, want)
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name     string
		in       ticket.NewTicket
		priority ticket.Priority
	}{
		{"default priority", ticket.NewTicket{Title: "  Printer on fire  ", Description: " It burns.\nHelp. ", Requester: " alice@example.com "}, ticket.PriorityNormal},
		{"low", ticket.NewTicket{Title: "Printer on fire", Description: "It burns.\nHelp.", Requester: "alice@example.com", Priority: "low"}, ticket.PriorityLow},
		{"urgent padded", ticket.NewTicket{Title: "Printer on fire", Description: "It burns.\nHelp.", Requester: "alice@example.com", Priority: " urgent "}, ticket.PriorityUrgent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := ticket.Open(ticketID, tt.in, "  "+actor+" ", rawNow)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want := ticket.Ticket{
				ID:          ticketID,
				Title:       "Printer on fire",
				Description: "It burns.\nHelp.",
				Status:      ticket.StatusOpen,
				Priority:    tt.priority,
				Requester:   "alice@example.com",
				Group:       ticket.DefaultGroup,
				Version:     1,
				CreatedAt:   now,
				UpdatedAt:   now,
			}
			assertTicket(t, ch.Ticket, want)
			if ch.Comment != nil {
				t.Errorf("Open made comment %+v", ch.Comment)
			}
			assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventCreated, ToStatus: ticket.StatusOpen,
				Actor: actor, At: now, Data: map[string]any{"priority": string(tt.priority)}})
		})
	}
	t.Run("opened ticket takes the lifecycle", func(t *testing.T) {
		ch, err := ticket.Open(ticketID, ticket.NewTicket{Title: "t"}, actor, rawNow)
		if err != nil {
			t.Fatal(err)
		}
		steps := []ticket.Action{"comment", "answer", "await", "answer", "escalate", "close"}
		tk := ch.Ticket
		for i, a := range steps {
			next, err := tk.Apply(ticket.Command{Action: a, Comment: "c", CommentID: "c"}, rawNow.Add(time.Duration(i+1)*time.Second))
			if err != nil {
				t.Fatalf("step %d (%s): %v", i, a, err)
			}
			tk = next.Ticket
		}
		if tk.Status != ticket.StatusClosed || tk.Version != int64(1+len(steps)) || tk.CommentsCount != len(steps) || tk.EscalationLevel != 1 {
			t.Errorf("after %v: %+v", steps, tk)
		}
		if !tk.UpdatedAt.Equal(now.Add(6*time.Second)) || !tk.CreatedAt.Equal(now) {
			t.Errorf("times: created %v updated %v", tk.CreatedAt, tk.UpdatedAt)
		}
	})
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"nanoseconds are cut", time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 999999000, time.UTC)},
		{"microseconds are kept", time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)},
		{"zone becomes UTC", time.Date(2026, 1, 2, 3, 4, 5, 1500, time.FixedZone("X", -7*3600)), time.Date(2026, 1, 2, 10, 4, 5, 1000, time.UTC)},
		{"before 1970 truncates toward the past", time.Date(1960, 1, 1, 0, 0, 0, 999, time.UTC), time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"the test clock", rawNow, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ticket.Timestamp(tt.in)
			if !got.Equal(tt.want) || got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
				t.Errorf("Timestamp(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if got != tt.want {
				t.Errorf("Timestamp(%v) = %#v, not == %#v", tt.in, got, tt.want)
			}
		})
	}
	t.Run("monotonic reading is dropped", func(t *testing.T) {
		wall := time.Now()
		got := ticket.Timestamp(wall)
		if got != got.Round(0) {
			t.Errorf("Timestamp kept the monotonic clock reading: %v", got)
		}
		if d := wall.Sub(got); d < 0 || d >= time.Microsecond {
			t.Errorf("Timestamp moved the time by %v", d)
		}
	})
	t.Run("Apply and Reject use it", func(t *testing.T) {
		tk := ticketIn(t, ticket.StatusOpen)
		ch, err := tk.Apply(ticket.Command{Action: "close", Comment: "bye", CommentID: "c"}, rawNow)
		if err != nil {
			t.Fatal(err)
		}
		times := []time.Time{ch.Ticket.UpdatedAt, *ch.Ticket.ClosedAt, ch.Comment.CreatedAt, ch.Events[0].At, ch.Events[1].At,
			tk.Reject(ticket.Command{Action: "await"}, nil, rawNow).Events[0].At}
		for i, at := range times {
			if at != now {
				t.Errorf("time %d = %#v, want %#v", i, at, now)
			}
		}
	})
}
