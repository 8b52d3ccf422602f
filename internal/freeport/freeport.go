// Package freeport finds local TCP addresses for the processes that tests start.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// span is how many ports below the kernel's ephemeral range are tried: above the well-known
// ones and the fixed ports of the stacks (internal/devstack.Profiles; a test checks).
const span = 5000

// Addrs returns n distinct local addresses that nothing listens on right now.
//
// They are taken below the kernel's ephemeral range. A port of that range that was free a moment
// ago can be given to any outgoing connection (a client's, a pool's) before the process under
// test listens on it, or while an API restarted by a test is down; a port below the range is
// only ever taken by a listener that asks for it. Each search starts at a random port, so that
// test packages running at once seldom try the same ones.
func Addrs(n int) ([]string, error) {
	low := ephemeralLow()
	var (
		addrs []string
		held  []net.Listener
	)
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	first := rand.IntN(span)
	for i := 0; i < span && len(addrs) < n; i++ {
		port := low - 1 - (first+i)%span
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // taken
		}
		held = append(held, l) // held until all n are found, so that none is returned twice
		addrs = append(addrs, l.Addr().String())
	}
	if len(addrs) < n {
		return nil, fmt.Errorf("freeport: fewer than %d free ports in %d-%d", n, low-span, low-1)
	}
	return addrs, nil
}

// ephemeralLow returns the first port of the kernel's ephemeral range, or Linux's default
// when it cannot be read.
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if low, err := strconv.Atoi(f[0]); err == nil && low > 2*span {
				return low
			}
		}
	}
	return 32768
}
