package http

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// eventBody is one entry of the security history.
type eventBody struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	IPAddress string    `json:"ip_address"`
	UserAgent string    `json:"user_agent"`
	SessionID *string   `json:"session_id"`
}

func toEventBody(e account.Event) eventBody {
	b := eventBody{
		ID: e.ID, Type: string(e.Type), CreatedAt: e.CreatedAt.UTC(), IPAddress: e.IPAddress, UserAgent: e.UserAgent,
	}
	if e.SessionID != "" {
		b.SessionID = &e.SessionID
	}
	return b
}

// eventQuery reads limit and before from the query string. A value that is
// not an integer, or a before below 1, is a *ValidationError; the domain
// checks the range of limit.
func eventQuery(r *http.Request) (account.EventQuery, error) {
	q := account.EventQuery{Limit: account.DefaultEventLimit}
	var v account.ValidationError
	values := r.URL.Query()
	if s, ok := values["limit"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil {
			v.Fields = append(v.Fields, intParsing("limit"))
		}
		q.Limit = n
	}
	if s, ok := values["before"]; ok {
		n, err := strconv.ParseInt(s[0], 10, 64)
		switch {
		case err != nil:
			v.Fields = append(v.Fields, intParsing("before"))
		case n < 1:
			v.Fields = append(v.Fields, account.FieldError{
				Field: "before", Type: "greater_than_equal", Message: "Input should be greater than or equal to 1"})
		}
		q.Before = n
	}
	if len(v.Fields) > 0 {
		return q, &v
	}
	return q, nil
}

func intParsing(field string) account.FieldError {
	return account.FieldError{
		Field: field, Type: "int_parsing", Message: "Input should be a valid integer, unable to parse string as an integer"}
}

func handleEvents(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := eventQuery(r)
		var list []account.Event
		if err == nil {
			list, err = svc.Events(r.Context(), principal(r.Context()), q)
		}
		var verr *account.ValidationError
		switch {
		case errors.As(err, &verr):
			writeValidation(w, "query", verr)
		case err != nil:
			writeError(w, r, log, err)
		default:
			out := make([]eventBody, len(list))
			for i, e := range list {
				out[i] = toEventBody(e)
			}
			writeJSON(w, http.StatusOK, out)
		}
	})
}
