package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/cache"
)

// accountBody is the public view of an account.
type accountBody struct {
	UUID      string    `json:"uuid"`
	AccountID string    `json:"account_id"`
	CreatedAt time.Time `json:"created_at"`
}

func toAccountBody(a account.Account) accountBody {
	return accountBody{UUID: a.UUID, AccountID: a.AccountID, CreatedAt: a.CreatedAt.UTC()}
}

type registerRequest struct {
	AccountID string `json:"account_id"`
	Password  string `json:"password"`
}

func handleRegister(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req registerRequest
		if decodeJSON(w, r, &req) != nil {
			return
		}
		a, err := svc.Register(r.Context(), req.AccountID, req.Password, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, toAccountBody(a))
	})
}

type existsBody struct {
	AccountID string `json:"account_id"`
	Exists    bool   `json:"exists"`
}

func handleExists(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// chi matches on the escaped path, so "john%40example.com" arrives
		// escaped; an id that does not unescape is invalid anyway.
		id, err := url.PathUnescape(chi.URLParam(r, "account_id"))
		if err != nil {
			id = chi.URLParam(r, "account_id")
		}
		exists, err := svc.Exists(r.Context(), id)
		var verr *account.ValidationError
		switch {
		case errors.As(err, &verr):
			writeValidation(w, "path", verr)
		case err != nil:
			writeError(w, r, log, err)
		default:
			writeJSON(w, http.StatusOK, existsBody{AccountID: id, Exists: exists})
		}
	})
}

func handleMe(svc *account.Service, log *slog.Logger) http.Handler {
	bodies := newEncodedProfiles()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := svc.Profile(r.Context(), principal(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		w.Header()["Content-Type"] = jsonContentValue
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(bodies.get(a))
	})
}

// encodedProfileGeneration bounds the cache of encoded /me bodies (two
// generations of it).
const encodedProfileGeneration = 50_000

// encodedProfiles keeps each account's /me body once encoded: the fields it
// shows (uuid, account_id, created_at) never change, so neither does the
// body, and /me then costs no encoding.
type encodedProfiles struct {
	m *cache.Map[string, []byte]
}

func newEncodedProfiles() encodedProfiles {
	return encodedProfiles{m: cache.New[string, []byte](encodedProfileGeneration, 0)}
}

func (e encodedProfiles) get(a account.Account) []byte {
	if b, ok := e.m.Get(a.UUID); ok {
		return b
	}
	b, _ := json.Marshal(toAccountBody(a)) // strings and a time: it always encodes
	b = append(b, '\n')
	e.m.Put(a.UUID, b, time.Time{})
	return b
}

type verifyPasswordRequest struct {
	Password string `json:"password"`
}

func handleVerifyPassword(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req verifyPasswordRequest
		if decodeJSON(w, r, &req) != nil {
			return
		}
		if err := svc.VerifyPassword(r.Context(), principal(r.Context()), req.Password, clientFrom(r.Context())); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, messageBody{Message: "Password is valid"})
	})
}

type changePasswordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

func handleChangePassword(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req changePasswordRequest
		if decodeJSON(w, r, &req) != nil {
			return
		}
		err := svc.ChangePassword(r.Context(), principal(r.Context()), req.OldPassword, req.NewPassword,
			clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, messageBody{Message: "Password changed; other sessions were signed out"})
	})
}

type deleteAccountRequest struct {
	Password string `json:"password"`
}

func handleDeleteMe(svc *account.Service, c cookies, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req deleteAccountRequest
		if decodeJSON(w, r, &req) != nil {
			return
		}
		err := svc.DeleteAccount(r.Context(), principal(r.Context()), req.Password, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		c.clear(w, r)
		writeJSON(w, http.StatusOK, messageBody{Message: "Account deleted"})
	})
}
