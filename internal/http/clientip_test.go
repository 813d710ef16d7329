package http

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Who the client is, for each CLIENT_IP_HEADER: only the configured header
// is read, only from a trusted proxy, never left of the first hop that a
// trusted proxy wrote; a hop that is not an address names the client by
// itself, neither by the proxy nor by what the client wrote.
func TestClientIP(t *testing.T) {
	trusted := proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	const (
		proxy    = "10.0.0.1:40000"
		stranger = "203.0.113.9:40000"
	)
	type headers map[string][]string
	cases := []struct {
		name   string
		header ClientIPHeader
		peer   string
		h      headers
		want   string // the address, or "" for none
		alias  string // the hop that names the client, when it is not an address
	}{
		// X-Forwarded-For, the default.
		{"xff: a stranger's X-Forwarded-For is ignored", ForwardedFor, stranger,
			headers{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.9", ""},
		{"xff: a stranger's X-Real-IP is ignored", ForwardedFor, stranger,
			headers{"X-Real-IP": {"198.51.100.1"}}, "203.0.113.9", ""},
		{"xff: the proxy's hop", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1", ""},
		{"xff: the zero value is X-Forwarded-For", "", proxy,
			headers{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1", ""},
		{"xff: rightmost untrusted hop; what the client wrote left of it is ignored", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"192.0.2.99, 198.51.100.1, 10.0.0.2"}}, "198.51.100.1", ""},
		{"xff: several header lines are one list", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"192.0.2.99", "198.51.100.1, 10.0.0.2"}}, "198.51.100.1", ""},
		{"xff: X-Real-IP is not read", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1"}, "X-Real-IP": {"192.0.2.50"}}, "198.51.100.1", ""},
		{"xff: X-Real-IP alone is not read", ForwardedFor, proxy,
			headers{"X-Real-IP": {"192.0.2.50"}}, "10.0.0.1", ""},
		{"xff: no header is the proxy itself", ForwardedFor, proxy, nil, "10.0.0.1", ""},
		{"xff: only trusted hops is the innermost", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"10.0.0.3, 10.0.0.2"}}, "10.0.0.3", ""},
		{"xff: empty elements are skipped", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1, ,", ""}}, "198.51.100.1", ""},
		{"xff: a hop with a port", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1:4711"}}, "198.51.100.1", ""},
		{"xff: an IPv6 hop with a port", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"[2001:db8::1]:4711"}}, "2001:db8::1", ""},
		{"xff: an IPv6 hop in brackets, then a trusted IPv6 proxy", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"[2001:db8::1], 2001:db8:ffff::2"}}, "2001:db8::1", ""},
		{"xff: an IPv4-mapped hop", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"::ffff:198.51.100.1"}}, "198.51.100.1", ""},
		{"xff: a garbage hop from the proxy names the client", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1, unknown"}}, "", "unknown"},
		{"xff: a garbage hop between trusted hops names the client", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1, _hidden, 10.0.0.2"}}, "", "_hidden"},
		{"xff: garbage the client wrote left of the proxy's hop is ignored", ForwardedFor, proxy,
			headers{"X-Forwarded-For": {"unknown, 198.51.100.1"}}, "198.51.100.1", ""},
		{"xff: a stranger's garbage is ignored", ForwardedFor, stranger,
			headers{"X-Forwarded-For": {"unknown"}}, "203.0.113.9", ""},

		// X-Real-IP.
		{"real-ip: the proxy's X-Real-IP; the client's X-Forwarded-For passed through is not read", RealIP, proxy,
			headers{"X-Real-IP": {"192.0.2.50"}, "X-Forwarded-For": {"198.51.100.1"}}, "192.0.2.50", ""},
		{"real-ip: X-Forwarded-For alone is not read", RealIP, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1"}}, "10.0.0.1", ""},
		{"real-ip: a stranger's X-Real-IP is ignored", RealIP, stranger,
			headers{"X-Real-IP": {"192.0.2.50"}}, "203.0.113.9", ""},
		{"real-ip: the proxy's is the last line", RealIP, proxy,
			headers{"X-Real-IP": {"192.0.2.66", "192.0.2.50"}}, "192.0.2.50", ""},
		{"real-ip: with a port", RealIP, proxy,
			headers{"X-Real-IP": {"192.0.2.50:4711"}}, "192.0.2.50", ""},
		{"real-ip: empty is the proxy itself", RealIP, proxy,
			headers{"X-Real-IP": {" "}}, "10.0.0.1", ""},
		{"real-ip: garbage names the client", RealIP, proxy,
			headers{"X-Real-IP": {"unknown"}}, "", "unknown"},

		// none.
		{"none: the peer even behind a trusted proxy", NoClientIPHeader, proxy,
			headers{"X-Forwarded-For": {"198.51.100.1"}, "X-Real-IP": {"192.0.2.50"}}, "10.0.0.1", ""},
		{"none: a stranger is the peer", NoClientIPHeader, stranger,
			headers{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.9", ""},
		{"an unknown setting reads no header", "X-Client-IP", proxy,
			headers{"X-Forwarded-For": {"198.51.100.1"}, "X-Client-IP": {"192.0.2.50"}}, "10.0.0.1", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for k, vs := range c.h {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		src := clientSource{proxies: trusted, header: c.header}
		addr, alias := src.clientIP(r)
		got := ""
		if addr.IsValid() {
			got = addr.String()
		}
		wantAlias := ""
		if c.alias != "" {
			wantAlias = aliasOf(c.alias)
		}
		if got != c.want || alias != wantAlias {
			t.Errorf("%s: clientIP = %q, alias %q; want %q, alias %q", c.name, got, alias, c.want, wantAlias)
		}
		client := src.client(r)
		if client.IPAddress != c.want || client.Alias != wantAlias {
			t.Errorf("%s: client = %+v, want IPAddress %q and Alias %q", c.name, client, c.want, wantAlias)
		}
	}
}

// Aliases are short, and different hops give different ones.
func TestAliasOf(t *testing.T) {
	a, b := aliasOf("unknown"), aliasOf("unknown2")
	if len(a) != 16 || a == b || aliasOf("unknown") != a {
		t.Fatalf("aliasOf = %q and %q, want two different stable 16-character names", a, b)
	}
}
