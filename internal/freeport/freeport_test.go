package freeport

import (
	"net"
	"strconv"
	"testing"

	"github.com/ticketflow/ticketflow/internal/devstack"
)

func TestAddrsAreDistinctFreeAndBelowTheEphemeralRange(t *testing.T) {
	addrs, err := Addrs(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 3 {
		t.Fatalf("got %d addresses, want 3", len(addrs))
	}
	low := ephemeralLow()
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			t.Fatalf("%s returned twice in %v", a, addrs)
		}
		seen[a] = true
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		if port, _ := strconv.Atoi(p); port >= low || port < low-span {
			t.Errorf("port %d is outside %d-%d", port, low-span, low-1)
		}
		l, err := net.Listen("tcp", a) // free: Addrs let go of it
		if err != nil {
			t.Fatalf("listening on %s: %v", a, err)
		}
		l.Close()
	}
}

// TestRangeLeavesTheStacksAlone: a test that took a stack's fixed port while that stack is down
// would keep the stack from starting, or be answered by it.
func TestRangeLeavesTheStacksAlone(t *testing.T) {
	low := ephemeralLow()
	for _, p := range devstack.Profiles {
		for _, port := range p.Ports() {
			if port >= low-span && port < low {
				t.Errorf("port %d of the %s stack is in %d-%d, where Addrs takes ports", port, p.Name, low-span, low-1)
			}
		}
	}
}
