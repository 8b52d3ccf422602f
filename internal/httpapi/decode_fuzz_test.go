package httpapi

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// FuzzDecode feeds any body to the strict decoding and validation of a new ticket and of a
// comment: it never panics, and everything it refuses is refused as a client error with a status
// from the one error table.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"title":"Printer on fire","priority":"urgent"}`), "application/json")
	f.Add([]byte(`{"title":"a","title":"b"}`), "application/json; charset=utf-8")
	f.Add([]byte(`{"body":"hi","author":"bob"} trailing`), "application/json")
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`), "application/json")
	f.Add([]byte(`{"title":1e999}`), "application/json")
	f.Add([]byte("{\"title\":\"\xff\"}"), "application/json")
	f.Add([]byte(`{"title":"x"}`), "text/plain")
	f.Add([]byte(`{"assignee":null,"group":"hardware"}`), "application/json")
	f.Add([]byte(`{"add":["VIP"," x "],"remove":["y"]}`), "application/json")
	f.Add([]byte(``), "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, target := range []any{&newTicketRequest{}, &commentRequest{}, &transitionRequest{}, &assignRequest{}, &tagsRequest{}} {
			r := httptest.NewRequest("POST", "/api/v1/tickets", bytes.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			err := decode(httptest.NewRecorder(), r, target, false)
			if err == nil {
				switch v := target.(type) {
				case *newTicketRequest:
					err = v.newTicket().Validate()
				case *commentRequest:
					err = ticket.Command{Action: ticket.ActionComment, Comment: v.Body, CommentID: "c", Author: v.Author,
						Visibility: ticket.Visibility(v.Visibility)}.Validate()
				case *tagsRequest:
					err = ticket.Command{Action: ticket.ActionTags, AddTags: v.Add, RemoveTags: v.Remove}.Validate()
				}
			}
			if err == nil {
				continue
			}
			kind, ok := problems[errorCode(err)]
			if !ok || kind.status < 400 || kind.status >= 500 {
				t.Fatalf("%q (%s) refused with %v: status %d", body, contentType, err, kind.status)
			}
		}
	})
}
