package http

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/accountd/accountd/internal/account"
)

// The cookie that ties a passkey login ceremony to the browser that began
// it: HttpOnly, sent only to the passkey endpoints, gone with the ceremony.
const (
	ceremonyCookie = "webauthn_ceremony"
	ceremonyPath   = accountsPath + "/passkeys"
)

// errPasskeysDisabled answers the passkey endpoints while no relying party
// is configured.
var errPasskeysDisabled = apiError{http.StatusNotFound, "passkeys_disabled",
	"Passkeys are not enabled on this server (set WEBAUTHN_RP_ID or PUBLIC_URL)"}

// passkeysOn answers 404 passkeys_disabled, before anything else, while
// passkeys are off (pk is nil).
func passkeysOn(pk *account.Passkeys) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if pk != nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeAPIError(w, errPasskeysDisabled) })
	}
}

// passkeyBody is a passkey as the API shows it.
type passkeyBody struct {
	// ID is the credential id in base64url, as the browser's
	// PublicKeyCredential.id spells it.
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func toPasskeyBody(p account.Passkey) passkeyBody {
	b := passkeyBody{ID: account.PasskeyID(p.ID), Name: p.Name, CreatedAt: p.CreatedAt.UTC()}
	if !p.LastUsedAt.IsZero() {
		used := p.LastUsedAt.UTC()
		b.LastUsedAt = &used
	}
	return b
}

// readCredential reads what the browser created or asserted: a JSON object,
// passed on as it is, with an optional string member "name". On failure it
// answers 415, 413 or 422 and returns errAnswered.
func readCredential(w http.ResponseWriter, r *http.Request) (body []byte, name string, err error) {
	body, _, err = readBody(w, r, "application/json")
	if err != nil {
		return nil, "", err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		typ, msg := "json_invalid", "JSON decode error"
		if json.Valid(body) {
			typ, msg = "model_attributes_type", "Input should be a valid dictionary or object to extract fields from"
		}
		writeValidation(w, "body", &account.ValidationError{Fields: []account.FieldError{{Type: typ, Message: msg}}})
		return nil, "", errAnswered
	}
	if raw, ok := obj["name"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &name); err != nil {
			writeValidation(w, "body", &account.ValidationError{Fields: []account.FieldError{{
				Field: "name", Type: "string_type", Message: "Input should be a valid string"}}})
			return nil, "", errAnswered
		}
	}
	return body, name, nil
}

func handlePasskeys(pk *account.Passkeys, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := pk.List(r.Context(), principal(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		out := make([]passkeyBody, len(list))
		for i, p := range list {
			out[i] = toPasskeyBody(p)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func handlePasskeyRegisterBegin(pk *account.Passkeys, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		options, err := pk.BeginRegistration(r.Context(), principal(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, json.RawMessage(options))
	})
}

func handlePasskeyRegisterFinish(pk *account.Passkeys, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		credential, name, err := readCredential(w, r)
		if err != nil {
			return
		}
		p, err := pk.FinishRegistration(r.Context(), principal(r.Context()), name, credential, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, toPasskeyBody(p))
	})
}

func handleDeletePasskey(pk *account.Passkeys, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := pk.Delete(r.Context(), principal(r.Context()), chi.URLParam(r, "id"), clientFrom(r.Context())); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, messageBody{Message: "Passkey removed"})
	})
}

func handlePasskeyLoginBegin(pk *account.Passkeys, c cookies, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		options, ceremony, err := pk.BeginLogin(r.Context())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		http.SetCookie(w, c.cookie(r, ceremonyCookie, ceremony, ceremonyPath, account.PasskeyCeremonyTTL))
		writeJSON(w, http.StatusOK, json.RawMessage(options))
	})
}

func handlePasskeyLoginFinish(pk *account.Passkeys, c cookies, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assertion, _, err := readCredential(w, r)
		if err != nil {
			return
		}
		// The ceremony is used up now, whatever the outcome.
		http.SetCookie(w, c.cookie(r, ceremonyCookie, "", ceremonyPath, 0))
		t, err := pk.FinishLogin(r.Context(), cookieValue(r, ceremonyCookie), assertion, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeTokens(w, r, c, t)
	})
}
