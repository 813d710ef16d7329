package http

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/accountd/accountd/internal/account"
)

// maxUserAgentBytes bounds the User-Agent kept on a session.
const maxUserAgentBytes = 512

// clientFrom returns the client that withClient found for the request.
func clientFrom(ctx context.Context) account.Client {
	return infoFrom(ctx).client
}

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

// clientIP is the peer address, unless the peer is a trusted proxy: then
// the rightmost address of X-Forwarded-For that is not a trusted proxy
// (or X-Real-IP), so that a client cannot choose its own address.
func (p proxies) clientIP(r *http.Request) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || !p.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !p.trusted(a) {
			return a
		}
		peer = a
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil && !p.trusted(a.Unmap()) {
		return a.Unmap()
	}
	return peer
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

// client is who sent r: its address and its User-Agent, made safe to store.
func (p proxies) client(r *http.Request) account.Client {
	c := account.Client{UserAgent: cleanUserAgent(r.UserAgent())}
	if a := p.clientIP(r); a.IsValid() {
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
