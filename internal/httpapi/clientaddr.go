package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the address of the client that sent r: the TCP peer, or, when the peer is one
// of the trusted proxies, the address that the proxies in front of it name in X-Forwarded-For.
//
// Each proxy appends the address it received the request from, so the list is read from the
// right: entries added by trusted proxies are skipped, and the first address that is not a trusted
// proxy is the client. Everything left of it was written by the client itself and may be forged,
// so it is never read. The walk stops at an entry that is not an address (a trusted proxy writes
// none such), and then, or when every entry is a trusted proxy, the last trusted proxy seen is
// taken as the client: a client cannot pass itself off as anyone else by sending rubbish.
//
// The zero Addr means that r.RemoteAddr is not an IP address (a test, a Unix socket).
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	addr := parseAddr(r.RemoteAddr)
	if !addr.IsValid() || !isTrusted(addr, trusted) {
		return addr
	}
	// Several X-Forwarded-For headers are one list, in order (RFC 9110, section 5.3).
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			hop := parseAddr(strings.TrimSpace(entries[j]))
			if !hop.IsValid() {
				return addr
			}
			if !isTrusted(hop, trusted) {
				return hop
			}
			addr = hop
		}
	}
	return addr
}

// parseAddr reads an IP address with or without a port ("192.0.2.1", "192.0.2.1:443",
// "[2001:db8::1]:443", "2001:db8::1"); the zero Addr when s is none. An IPv4 address written as
// IPv6 (::ffff:192.0.2.1) is returned as IPv4, and a zone is dropped, so that it matches the
// prefixes it belongs to.
func parseAddr(s string) netip.Addr {
	// With a port first: that is how every request's RemoteAddr reads.
	ap, err := netip.ParseAddrPort(s)
	a := ap.Addr()
	if err != nil {
		if a, err = netip.ParseAddr(s); err != nil {
			return netip.Addr{}
		}
	}
	return a.Unmap().WithZone("")
}

// isTrusted reports whether a is inside one of the prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
