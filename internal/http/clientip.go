package http

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/accountd/accountd/internal/account"
)

// maxUserAgentBytes bounds the User-Agent kept on a session.
const maxUserAgentBytes = 512

// clientFrom returns who sent the request that ctx belongs to.
func clientFrom(ctx context.Context) account.Client {
	return infoFrom(ctx).clientInfo()
}

// ClientIPHeader names the one request header in which a trusted proxy
// (a peer in TRUSTED_PROXIES) says who the client is; it is CLIENT_IP_HEADER.
// No other header is read, and this one only from a trusted proxy, so that
// a client cannot pass its own through a proxy that does not overwrite it.
type ClientIPHeader string

// The values of ClientIPHeader. The zero value means ForwardedFor, and any
// value not listed means NoClientIPHeader.
const (
	// ForwardedFor reads X-Forwarded-For, to which each proxy appends the
	// address it got the request from: the client is the rightmost hop
	// that is not a trusted proxy.
	ForwardedFor ClientIPHeader = "X-Forwarded-For"
	// RealIP reads X-Real-IP, which the proxy sets to the client's address
	// (replacing any that the client sent).
	RealIP ClientIPHeader = "X-Real-IP"
	// NoClientIPHeader reads no header: the client is the peer address,
	// even when it is a trusted proxy.
	NoClientIPHeader ClientIPHeader = "none"
)

// proxies decides which peers may say who the client is.
type proxies []netip.Prefix

func (p proxies) trusted(a netip.Addr) bool {
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// clientSource finds who sent a request.
type clientSource struct {
	proxies proxies
	header  ClientIPHeader
}

// clientIP is the peer address, unless the peer is a trusted proxy: then
// what the configured header says. When a trusted proxy named the client
// by something other than an address, the address is invalid and alias
// names the client instead (see forwardedFor).
func (s clientSource) clientIP(r *http.Request) (addr netip.Addr, alias string) {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || !s.proxies.trusted(peer) {
		return peer, ""
	}
	switch s.header {
	case "", ForwardedFor:
		return s.proxies.forwardedFor(peer, r.Header.Values("X-Forwarded-For"))
	case RealIP:
		return realIP(peer, r.Header.Values("X-Real-IP"))
	default:
		return peer, ""
	}
}

// forwardedFor reads X-Forwarded-For (all its lines, in order) from right
// to left: trusted proxies are skipped, and the first other hop is the
// client. Everything left of that hop was written by the client, which can
// put anything there, so it is never read. Empty list elements are skipped,
// as HTTP's list syntax says; when no other hop is left, the client is the
// innermost trusted proxy that was named, or the peer.
//
// A hop that is not an address at the client's place was written by a
// trusted proxy: nginx writes "unknown" for a peer it has no address of,
// and some proxies write obfuscated names. The client's address is then
// unknown. Reading on to the left would let the client pick its address,
// and falling back to the proxy, as accountd once did, puts every such
// client in the bucket of the proxy itself, so that a few of them lock out
// everybody behind it. Instead the hop names the client (as a hash, in
// alias, used for rate limits only): clients that the proxy names alike
// share a limit, others do not, and no client can choose its name.
func (p proxies) forwardedFor(peer netip.Addr, values []string) (netip.Addr, string) {
	client := peer
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop := strings.TrimSpace(hops[j])
			if hop == "" {
				continue
			}
			a, ok := parseHop(hop)
			switch {
			case !ok:
				return netip.Addr{}, aliasOf(hop)
			case !p.trusted(a):
				return a, ""
			}
			client = a
		}
	}
	return client, ""
}

// realIP reads X-Real-IP. Should it come more than once, the last is the
// one that the proxy added. A value that is not an address names the client
// as an unparsable hop of X-Forwarded-For does; none leaves the peer.
func realIP(peer netip.Addr, values []string) (netip.Addr, string) {
	if len(values) == 0 {
		return peer, ""
	}
	v := strings.TrimSpace(values[len(values)-1])
	if v == "" {
		return peer, ""
	}
	if a, ok := parseHop(v); ok {
		return a, ""
	}
	return netip.Addr{}, aliasOf(v)
}

// parseHop parses an address as proxies write it: plain, in brackets, or
// with a port ("192.0.2.1:4711", "[2001:db8::1]:4711"); a zone is dropped.
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// aliasOf names a client by what a proxy wrote in place of its address:
// a short hash, so that the name is bounded and shows nothing of the text.
func aliasOf(hop string) string {
	sum := sha256.Sum256([]byte(hop))
	return hex.EncodeToString(sum[:8])
}

// forwardedTLS reports whether a trusted proxy says the client used https.
func (p proxies) forwardedTLS(r *http.Request) bool {
	peer := peerAddr(r.RemoteAddr)
	return peer.IsValid() && p.trusted(peer) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// client is who sent r: its address (or alias) and its User-Agent, made
// safe to store.
func (s clientSource) client(r *http.Request) account.Client {
	a, alias := s.clientIP(r)
	c := account.Client{Alias: alias, UserAgent: cleanUserAgent(r.UserAgent())}
	if a.IsValid() {
		c.IPAddress = a.String()
	}
	return c
}

// cleanUserAgent makes a User-Agent safe to store: valid UTF-8, no NUL, and
// at most maxUserAgentBytes.
func cleanUserAgent(ua string) string {
	ua = strings.ReplaceAll(strings.ToValidUTF8(ua, "\uFFFD"), "\x00", "")
	if len(ua) > maxUserAgentBytes {
		ua = ua[:maxUserAgentBytes]
		for !utf8.ValidString(ua) {
			ua = ua[:len(ua)-1]
		}
	}
	return ua
}
