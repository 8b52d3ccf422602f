package app_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestSlowSendersDoNotStallChanges checks that clients who send a change's headers and then only
// half its body hold none of the ticket's slots: with more of them than the ticket has slots, some
// with the agent's own kind of key and some with another customer's, an agent's change to the
// ticket is still applied at once. The stalled senders are answered 400 once the body is overdue.
func TestSlowSendersDoNotStallChanges(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "busy")
	mallory := s.newKey(t, "mallory", auth.RoleCustomer, "mallory@example.com")
	stalledAgent := s.newKey(t, "slow-agent", auth.RoleAgent, "")
	u, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	// Each sender announces a body of 100 bytes and sends 10 of them.
	stall := func(key, action string) net.Conn {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "POST /api/v1/tickets/%s/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"body\":\"", tk.ID, action, u.Host, key)
		return conn
	}
	var agents []net.Conn
	for i := range 10 { // more than the ticket's slots (8)
		agents = append(agents, stall(stalledAgent, []string{"comments", "escalate"}[i%2]))
		stall(mallory, "comments")
	}
	time.Sleep(300 * time.Millisecond) // the senders' headers are in and their handlers are waiting

	start := time.Now()
	var got httpapi.Ticket
	s.act(t, tk.ID, ticket.ActionAnswer, map[string]string{"comment": "on it"}).expect(t, http.StatusOK, &got)
	if took := time.Since(start); took > 3*time.Second || got.Status != ticket.StatusAnswered {
		t.Fatalf("the agent's change took %s with senders stalled on the ticket (status %s), want it at once", took, got.Status)
	}

	// A stalled sender is answered once its body is overdue, and its change is not made.
	conn := agents[0]
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the stalled sender got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("the stalled sender got %d %s, want a 400 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if after := s.get(t, tk.ID); after.Version != got.Version {
		t.Errorf("the ticket moved from version %d to %d: a stalled change was made", got.Version, after.Version)
	}
}
