package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientAddr checks whose address a request is counted as: the peer's, unless the peer is a
// trusted proxy, and then the first address from the right of X-Forwarded-For that is not a
// trusted proxy; never an address a client could have written itself.
func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name    string
		peer    string
		xff     []string // X-Forwarded-For headers, in order
		trusted []netip.Prefix
		want    string // "" for the zero Addr
	}{
		{"no proxies: the peer", "192.0.2.1:5000", nil, nil, "192.0.2.1"},
		{"no proxies: X-Forwarded-For is the client's word", "192.0.2.1:5000", []string{"203.0.113.9"}, nil, "192.0.2.1"},
		{"an untrusted peer's X-Forwarded-For is ignored", "192.0.2.1:5000", []string{"203.0.113.9"}, proxies, "192.0.2.1"},
		{"IPv6 peer", "[2001:db8::1]:5000", nil, nil, "2001:db8::1"},
		{"IPv4 written as IPv6", "[::ffff:192.0.2.1]:5000", nil, nil, "192.0.2.1"},
		{"a peer that is no IP address", "@", nil, proxies, ""},

		{"a trusted proxy names the client", "10.0.0.1:5000", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"spaces around entries", "10.0.0.1:5000", []string{" 203.0.113.9 "}, proxies, "203.0.113.9"},
		{"a chain of trusted proxies", "10.0.0.1:5000", []string{"203.0.113.9, 10.1.2.3, 10.4.5.6"}, proxies, "203.0.113.9"},
		{"what the client wrote left of its address is not read", "10.0.0.1:5000", []string{"198.51.100.1, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"several headers are one list", "10.0.0.1:5000", []string{"198.51.100.1", "203.0.113.9, 10.1.2.3"}, proxies, "203.0.113.9"},
		{"IPv6 client and proxy", "[2001:db8:ffff::1]:5000", []string{"2001:db8:1::5, 2001:db8:ffff::2"}, proxies, "2001:db8:1::5"},
		{"an entry with a port", "10.0.0.1:5000", []string{"203.0.113.9:4711"}, proxies, "203.0.113.9"},
		{"an IPv6 entry with a port", "10.0.0.1:5000", []string{"[2001:db8:1::5]:4711"}, proxies, "2001:db8:1::5"},
		{"a trusted proxy that sent no X-Forwarded-For is the client", "10.0.0.1:5000", nil, proxies, "10.0.0.1"},
		{"every entry a trusted proxy: the farthest one", "10.0.0.1:5000", []string{"10.9.9.9, 10.1.2.3"}, proxies, "10.9.9.9"},
		{"rubbish next to the proxy: the proxy", "10.0.0.1:5000", []string{"203.0.113.9, rubbish"}, proxies, "10.0.0.1"},
		{"rubbish behind a proxy chain: the last trusted proxy", "10.0.0.1:5000", []string{"unknown, 10.1.2.3"}, proxies, "10.1.2.3"},
		{"an empty entry counts as rubbish", "10.0.0.1:5000", []string{"203.0.113.9,"}, proxies, "10.0.0.1"},
		{"rubbish left of the client is never read", "10.0.0.1:5000", []string{"rubbish, 203.0.113.9"}, proxies, "203.0.113.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := clientAddr(r, tc.trusted)
			want := netip.Addr{}
			if tc.want != "" {
				want = netip.MustParseAddr(tc.want)
			}
			if got != want {
				t.Errorf("clientAddr = %v, want %v", got, want)
			}
		})
	}
}
