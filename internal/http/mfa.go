package http

import (
	"log/slog"
	"mime"
	"net/http"

	"github.com/accountd/accountd/internal/account"
)

// mfaStatusBody is GET /mfa: the caller's second factors.
type mfaStatusBody struct {
	TOTP              bool `json:"totp"`
	Passkeys          int  `json:"passkeys"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

func handleMFAStatus(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := svc.MFAStatus(r.Context(), principal(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, mfaStatusBody{TOTP: f.TOTP, Passkeys: f.Passkeys, RecoveryCodesLeft: f.RecoveryCodesLeft})
	})
}

// totpEnrolmentBody is a new pending secret, shown once.
type totpEnrolmentBody struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
}

func handleEnrollTOTP(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req verifyPasswordRequest
		if decodeJSON(w, r, &req) != nil {
			return
		}
		e, err := svc.EnrollTOTP(r.Context(), principal(r.Context()), req.Password, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, totpEnrolmentBody{Secret: e.Secret, OTPAuthURI: e.URI})
	})
}

type totpCodeRequest struct {
	Code string `json:"code"`
}

// recoveryCodesBody lists the new recovery codes, shown once.
type recoveryCodesBody struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func handleConfirmTOTP(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req totpCodeRequest
		if decodeJSON(w, r, &req) != nil {
			return
		}
		codes, err := svc.ConfirmTOTP(r.Context(), principal(r.Context()), req.Code, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, recoveryCodesBody{RecoveryCodes: codes})
	})
}

type disableTOTPRequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

func handleDisableTOTP(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req disableTOTPRequest
		if decodeJSON(w, r, &req) != nil {
			return
		}
		err := svc.DisableTOTP(r.Context(), principal(r.Context()), req.Password, req.Code, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, messageBody{Message: "Two-factor authentication disabled"})
	})
}

// mfaLoginRequest is the second step of a login, as a form or as JSON.
type mfaLoginRequest struct {
	MFAToken     string `json:"mfa_token" form:"mfa_token"`
	Code         string `json:"code,omitempty" form:"code,optional"`
	RecoveryCode string `json:"recovery_code,omitempty" form:"recovery_code,optional"`
}

func handleTokenMFA(svc *account.Service, c cookies, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req mfaLoginRequest
		decode := decodeForm
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
			decode = decodeJSON
		}
		if decode(w, r, &req) != nil {
			return
		}
		t, err := svc.LoginMFA(r.Context(), account.MFAAttempt{
			Token: req.MFAToken, Code: req.Code, RecoveryCode: req.RecoveryCode,
		}, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeTokens(w, r, c, t)
	})
}

// mfaRequiredBody answers a right password for an account with a second
// factor: the error body with the token that finishes the login.
type mfaRequiredBody struct {
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	MFAToken string `json:"mfa_token"`
}

// writeMFARequired answers 401 mfa_required with the mfa_token, and sets no
// cookie: nobody is signed in yet.
func writeMFARequired(w http.ResponseWriter, e *account.MFARequiredError) {
	api, _ := lookupError(e)
	w.Header().Set("WWW-Authenticate", "Bearer")
	writeJSON(w, api.status, mfaRequiredBody{Detail: api.detail, Code: api.code, MFAToken: e.Token})
}
