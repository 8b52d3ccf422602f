package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/ticketflow/ticketflow/internal/apiclient"
)

// The client that oapi-codegen generates from openapi.json (internal/apiclient) drives a ticket
// through its whole life here: the document is only a contract if a generated client can use it.

// contractTransport sends a generated client's requests and checks each response against the
// document, as (*system).raw does for the other end-to-end tests.
type contractTransport struct{ t *testing.T }

func (c contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	validateResponse(c.t, req.Method, req.URL.RequestURI(), res.StatusCode, res.Header, body)
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

// generatedClient returns a generated client of the system that presents its key.
func (s *system) generatedClient(t *testing.T) *apiclient.ClientWithResponses {
	t.Helper()
	key := s.key
	c, err := apiclient.NewClientWithResponses(s.url,
		apiclient.WithHTTPClient(&http.Client{Transport: contractTransport{t}}),
		apiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// must fails the test on a transport or decoding error, and unless the response has the status.
func must[R interface{ StatusCode() int }](t *testing.T, want int) func(R, error) R {
	return func(r R, err error) R {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode() != want {
			t.Fatalf("%T: status %d, want %d", r, r.StatusCode(), want)
		}
		return r
	}
}

func TestGeneratedClientLifecycle(t *testing.T) {
	s := startSystem(t)
	c := s.generatedClient(t)
	ctx := context.Background()

	// Open a ticket; a retry with the same Idempotency-Key is the same ticket, marked as a replay.
	create := &apiclient.CreateTicketParams{IdempotencyKey: ptr("gen-client-create")}
	body := apiclient.NewTicket{Title: "Printer on fire", Priority: ptr(apiclient.PriorityHigh), Requester: ptr("alice@example.com")}
	created := must[*apiclient.CreateTicketResponse](t, http.StatusCreated)(c.CreateTicketWithResponse(ctx, create, body))
	tk := *created.JSON201
	if tk.Status != apiclient.StatusOpen || tk.Priority != apiclient.PriorityHigh || tk.Version != 1 || tk.ClosedAt != nil {
		t.Fatalf("created %+v", tk)
	}
	if h := created.Headers201; h.ETag != `"1"` || h.Location != "/api/v1/tickets/"+tk.Id.String() {
		t.Errorf("created with headers %+v", h)
	}
	replay := must[*apiclient.CreateTicketResponse](t, http.StatusCreated)(c.CreateTicketWithResponse(ctx, create, body))
	if replay.JSON201.Id != tk.Id || replay.Headers201.IdempotentReplayed == nil || *replay.Headers201.IdempotentReplayed != "true" {
		t.Errorf("the retry got ticket %s, Idempotent-Replayed %v", replay.JSON201.Id, replay.Headers201.IdempotentReplayed)
	}

	// A body that breaks a rule is decoded as the validation variant of the 422 union.
	bad := must[*apiclient.CreateTicketResponse](t, http.StatusUnprocessableEntity)(
		c.CreateTicketWithResponse(ctx, nil, apiclient.NewTicket{Title: "   "}))
	if v, err := bad.ApplicationproblemJSON422.ValueByDiscriminator(); err != nil {
		t.Errorf("422: %v", err)
	} else if vp, ok := v.(apiclient.ValidationProblem); !ok || len(vp.Errors) == 0 || vp.Errors[0].Field != "title" {
		t.Errorf("422 decoded as %#v", v)
	}

	// Each change is applied on the version the client read (If-Match) and moves it on by one.
	version := tk.Version
	changed := func(what string, got *apiclient.Ticket, etag string, status apiclient.Status) {
		t.Helper()
		if got.Status != status || got.Version != version+1 || etag != strconv.Quote(strconv.Itoa(got.Version)) {
			t.Fatalf("after %s: %s v%d (ETag %s), want %s v%d", what, got.Status, got.Version, etag, status, version+1)
		}
		version = got.Version
	}
	ifMatch := func() *string { return ptr(strconv.Quote(strconv.Itoa(version))) }

	comment := must[*apiclient.AddCommentResponse](t, http.StatusCreated)(c.AddCommentWithResponse(ctx, tk.Id,
		&apiclient.AddCommentParams{IfMatch: ifMatch()}, apiclient.NewComment{Body: "Have you tried water?", Author: ptr("bob")}))
	if cm := comment.JSON201; cm.TicketId != tk.Id || cm.Body != "Have you tried water?" || cm.Author != "bob" {
		t.Fatalf("comment %+v", cm)
	}
	// A comment leaves the status as it is.
	got := must[*apiclient.GetTicketResponse](t, http.StatusOK)(c.GetTicketWithResponse(ctx, tk.Id, nil))
	changed("a comment", got.JSON200, got.Headers200.ETag, apiclient.StatusOpen)

	answered := must[*apiclient.AnswerTicketResponse](t, http.StatusOK)(c.AnswerTicketWithResponse(ctx, tk.Id,
		&apiclient.AnswerTicketParams{IfMatch: ifMatch()}, apiclient.AnswerRequest{Comment: ptr("It is out now.")}))
	changed("answer", answered.JSON200, answered.Headers200.ETag, apiclient.StatusAnswered)

	awaiting := must[*apiclient.AwaitTicketResponse](t, http.StatusOK)(c.AwaitTicketWithResponse(ctx, tk.Id,
		&apiclient.AwaitTicketParams{IfMatch: ifMatch()}, apiclient.AwaitRequest{Comment: ptr("Does it print again?")}))
	changed("await", awaiting.JSON200, awaiting.Headers200.ETag, apiclient.StatusAwaiting)

	answered = must[*apiclient.AnswerTicketResponse](t, http.StatusOK)(c.AnswerTicketWithResponse(ctx, tk.Id,
		&apiclient.AnswerTicketParams{IfMatch: ifMatch()}, apiclient.AnswerRequest{}))
	changed("the second answer", answered.JSON200, answered.Headers200.ETag, apiclient.StatusAnswered)

	closed := must[*apiclient.CloseTicketResponse](t, http.StatusOK)(c.CloseTicketWithResponse(ctx, tk.Id,
		&apiclient.CloseTicketParams{IfMatch: ifMatch()}, apiclient.CloseRequest{Reason: ptr("resolved")}))
	changed("close", closed.JSON200, closed.Headers200.ETag, apiclient.StatusClosed)
	if tk := closed.JSON200; tk.ClosedAt == nil || tk.CloseReason == nil || *tk.CloseReason != "resolved" || tk.CommentsCount != 3 {
		t.Errorf("closed ticket %+v", tk)
	}

	// Refused changes: the discriminator tells the variants of the one 409 union apart.
	refusedAnswer := must[*apiclient.AnswerTicketResponse](t, http.StatusConflict)(
		c.AnswerTicketWithResponse(ctx, tk.Id, nil, apiclient.AnswerRequest{}))
	if v, err := refusedAnswer.ApplicationproblemJSON409.ValueByDiscriminator(); err != nil {
		t.Errorf("409 on answer: %v", err)
	} else if p, ok := v.(apiclient.InvalidTransitionProblem); !ok ||
		p.Type != apiclient.InvalidTransitionProblemTypeProblemsinvalidTransition || p.Detail == "" {
		t.Errorf("409 on answer decoded as %#v", v)
	}
	refusedComment := must[*apiclient.AddCommentResponse](t, http.StatusConflict)(
		c.AddCommentWithResponse(ctx, tk.Id, nil, apiclient.NewComment{Body: "too late"}))
	if v, err := refusedComment.ApplicationproblemJSON409.ValueByDiscriminator(); err != nil {
		t.Errorf("409 on comment: %v", err)
	} else if p, ok := v.(apiclient.TicketClosedProblem); !ok || p.Status != apiclient.TicketClosedProblemStatusN409 {
		t.Errorf("409 on comment decoded as %#v", v)
	}
	if got := must[*apiclient.GetTicketResponse](t, http.StatusOK)(c.GetTicketWithResponse(ctx, tk.Id, nil)); got.JSON200.Version != version {
		t.Errorf("refused changes moved the version from %d to %d", version, got.JSON200.Version)
	}

	// Tickets, newest first, two to a page; the test's database holds only these three.
	second := must[*apiclient.CreateTicketResponse](t, http.StatusCreated)(c.CreateTicketWithResponse(ctx, nil, apiclient.NewTicket{Title: "second"})).JSON201
	third := must[*apiclient.CreateTicketResponse](t, http.StatusCreated)(c.CreateTicketWithResponse(ctx, nil, apiclient.NewTicket{Title: "third"})).JSON201
	var listed []string
	params := &apiclient.ListTicketsParams{Limit: ptr(2)}
	for page := 0; ; page++ {
		r := must[*apiclient.ListTicketsResponse](t, http.StatusOK)(c.ListTicketsWithResponse(ctx, params))
		if page == 0 && (len(r.JSON200.Items) != 2 || r.JSON200.NextCursor == nil) {
			t.Fatalf("first page: %d items, next cursor %v", len(r.JSON200.Items), r.JSON200.NextCursor)
		}
		for _, it := range r.JSON200.Items {
			listed = append(listed, it.Id.String())
		}
		if r.JSON200.NextCursor == nil || page > 3 {
			break
		}
		params.Cursor = r.JSON200.NextCursor
	}
	if want := []string{third.Id.String(), second.Id.String(), tk.Id.String()}; !slices.Equal(listed, want) {
		t.Errorf("listed %v, want %v", listed, want)
	}
	closedOnly := must[*apiclient.ListTicketsResponse](t, http.StatusOK)(
		c.ListTicketsWithResponse(ctx, &apiclient.ListTicketsParams{Status: ptr(apiclient.StatusClosed)}))
	if items := closedOnly.JSON200.Items; len(items) != 1 || items[0].Id != tk.Id || closedOnly.JSON200.NextCursor != nil {
		t.Errorf("closed tickets: %+v", closedOnly.JSON200)
	}

	// Comments, oldest first, two to a page: the one added alone and those of the changes.
	var bodies []string
	cparams := &apiclient.ListCommentsParams{Limit: ptr(2)}
	for page := 0; ; page++ {
		r := must[*apiclient.ListCommentsResponse](t, http.StatusOK)(c.ListCommentsWithResponse(ctx, tk.Id, cparams))
		for _, cm := range r.JSON200.Items {
			bodies = append(bodies, cm.Body)
		}
		if r.JSON200.NextCursor == nil || page > 3 {
			break
		}
		cparams.Cursor = r.JSON200.NextCursor
	}
	if want := []string{"Have you tried water?", "It is out now.", "Does it print again?"}; !slices.Equal(bodies, want) {
		t.Errorf("comments %q, want %q", bodies, want)
	}

	// The audit trail, oldest first, three to a page: numbered without gaps, every move in order.
	var seqs []int
	var moves []string
	commented := 0
	eparams := &apiclient.ListEventsParams{Limit: ptr(3)}
	for page := 0; ; page++ {
		r := must[*apiclient.ListEventsResponse](t, http.StatusOK)(c.ListEventsWithResponse(ctx, tk.Id, eparams))
		for _, e := range r.JSON200.Items {
			seqs = append(seqs, e.Seq)
			switch e.Type {
			case apiclient.EventTypeStatusChanged:
				if e.FromStatus == nil || e.ToStatus == nil {
					t.Fatalf("event %d: a status change without its statuses: %+v", e.Seq, e)
				}
				moves = append(moves, fmt.Sprintf("%s>%s", *e.FromStatus, *e.ToStatus))
			case apiclient.EventTypeCommented:
				commented++
			}
		}
		if r.JSON200.NextCursor == nil || page > 10 {
			break
		}
		eparams.Cursor = r.JSON200.NextCursor
	}
	for i, seq := range seqs {
		if seq != i+1 {
			t.Fatalf("event numbers %v, want 1, 2, 3, …", seqs)
		}
	}
	if want := []string{"open>answered", "answered>awaiting", "awaiting>answered", "answered>closed"}; !slices.Equal(moves, want) || commented != 3 {
		t.Errorf("moves %v and %d comments, want %v and 3", moves, commented, want)
	}
}
