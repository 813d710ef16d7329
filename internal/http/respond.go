package http

import (
	"encoding/json"
	"net/http"
)

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; they always marshal.
		http.Error(w, `{"detail":"Internal Server Error","code":"internal_error"}`, http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = jsonContentValue
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// messageBody is the contract's success message.
type messageBody struct {
	Message string `json:"message"`
}
