package http

import (
	"fmt"
	"net/http"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// Cookie names and paths of the contract.
const (
	accessCookie  = "access_token"
	refreshCookie = "refresh_token"
	// hintCookie tells a page's JavaScript when its tokens expire; it is
	// the one cookie that is not HttpOnly, and holds no secret.
	hintCookie  = "session_hint"
	accessPath  = "/"
	refreshPath = accountsPath
	hintPath    = "/"
)

// CookieConfig says how token cookies are set.
type CookieConfig struct {
	// Secure is "auto" (Secure when the request came over TLS, or through a
	// trusted proxy that says https), "true" or "false".
	Secure   string
	SameSite http.SameSite
	Domain   string
}

type cookies struct {
	CookieConfig
	proxies proxies
}

func (c cookies) secure(r *http.Request) bool {
	switch c.Secure {
	case "true":
		return true
	case "false":
		return false
	default:
		return r.TLS != nil || c.proxies.forwardedTLS(r)
	}
}

func (c cookies) cookie(r *http.Request, name, value, path string, maxAge time.Duration) *http.Cookie {
	seconds := int(maxAge / time.Second)
	if seconds <= 0 {
		seconds = -1 // delete now
	}
	//nolint:gosec // G124: HttpOnly and SameSite are always set; Secure follows COOKIE_SECURE (auto: TLS or a trusted proxy's https)
	return &http.Cookie{
		Name: name, Value: value, Path: path, Domain: c.Domain, MaxAge: seconds,
		HttpOnly: name != hintCookie, Secure: c.secure(r), SameSite: c.SameSite,
	}
}

// set puts both token cookies and the session hint on the response. The
// hint lives as long as the refresh cookie.
func (c cookies) set(w http.ResponseWriter, r *http.Request, t account.Tokens) {
	http.SetCookie(w, c.cookie(r, accessCookie, t.AccessToken, accessPath, t.AccessExpiresIn))
	http.SetCookie(w, c.cookie(r, refreshCookie, t.RefreshToken, refreshPath, t.RefreshExpiresIn))
	http.SetCookie(w, c.cookie(r, hintCookie, hintValue(t), hintPath, t.RefreshExpiresIn))
}

// clear removes both token cookies and the session hint, repeating their
// Path and Domain.
func (c cookies) clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, c.cookie(r, accessCookie, "", accessPath, 0))
	http.SetCookie(w, c.cookie(r, refreshCookie, "", refreshPath, 0))
	http.SetCookie(w, c.cookie(r, hintCookie, "", hintPath, 0))
}

// hintValue is the session hint of the contract:
// <access_exp>.<refresh_exp>.<session_exp>, in Unix seconds.
func hintValue(t account.Tokens) string {
	return fmt.Sprintf("%d.%d.%d", t.AccessExpiresAt.Unix(), t.RefreshExpiresAt.Unix(), t.SessionExpiresAt.Unix())
}

// cookieValue returns the value of the named cookie, or "".
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
