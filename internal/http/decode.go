package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/accountd/accountd/internal/account"
)

// maxBodyBytes is the largest request body accepted.
const maxBodyBytes = 64 << 10

// errAnswered tells a handler that the decoder already answered the request.
var errAnswered = errors.New("request answered")

// readBody reads a body of one of the media types, answering 415 or 413
// itself.
func readBody(w http.ResponseWriter, r *http.Request, mediaTypes ...string) ([]byte, string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !contains(mediaTypes, mt) {
		writeAPIError(w, errMediaType)
		return nil, "", errAnswered
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAPIError(w, errTooLarge)
		} else {
			writeValidation(w, "body", &account.ValidationError{Fields: []account.FieldError{
				{Type: "body_read_error", Message: "Could not read the request body"}}})
		}
		return nil, "", errAnswered
	}
	return body, mt, nil
}

// stringFields lists the JSON names of dst's string fields; each one is
// required unless its tag says omitempty.
func stringFields(dst any) (names []string, fields []reflect.Value, optional []bool) {
	v := reflect.ValueOf(dst).Elem()
	for i := 0; i < v.NumField(); i++ {
		name, opts, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && v.Field(i).Kind() == reflect.String {
			names = append(names, name)
			fields = append(fields, v.Field(i))
			optional = append(optional, opts == "omitempty")
		}
	}
	return names, fields, optional
}

// decodeJSON reads a JSON object into dst, a pointer to a struct of string
// fields, required unless tagged omitempty. On failure it answers 415, 413 or a FastAPI-style 422 that
// lists every missing or mistyped field, and returns errAnswered.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	body, _, err := readBody(w, r, "application/json")
	if err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil || trailing(dec) || obj == nil {
		var v account.ValidationError
		typ, msg := "json_invalid", "JSON decode error"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) || (err == nil && obj == nil) {
			typ, msg = "model_attributes_type", "Input should be a valid dictionary or object to extract fields from"
		}
		v.Fields = append(v.Fields, account.FieldError{Type: typ, Message: msg})
		writeValidation(w, "body", &v)
		return errAnswered
	}
	var v account.ValidationError
	names, fields, optional := stringFields(dst)
	for i, name := range names {
		raw, ok := obj[name]
		if !ok {
			if optional[i] {
				continue
			}
			v.Fields = append(v.Fields, account.FieldError{Field: name, Type: "missing", Message: "Field required"})
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(raw, []byte("null")) {
			v.Fields = append(v.Fields, account.FieldError{Field: name, Type: "string_type", Message: "Input should be a valid string"})
			continue
		}
		fields[i].SetString(s)
	}
	if len(v.Fields) > 0 {
		writeValidation(w, "body", &v)
		return errAnswered
	}
	return nil
}

// trailing reports whether anything but white space follows the value dec
// decoded. (Decoder.More misses a stray ']' or '}'.)
func trailing(dec *json.Decoder) bool {
	return dec.Decode(new(json.RawMessage)) != io.EOF
}

// decodeForm reads an urlencoded or multipart form into dst, a pointer to a
// struct of string fields tagged `form:"name"` (`form:"name,optional"` for
// optional ones). Failures are answered as decodeJSON does.
func decodeForm(w http.ResponseWriter, r *http.Request, dst any) error {
	body, mt, err := readBody(w, r, "application/x-www-form-urlencoded", "multipart/form-data")
	if err != nil {
		return err
	}
	values, err := parseForm(r, body, mt)
	if err != nil {
		writeValidation(w, "body", &account.ValidationError{Fields: []account.FieldError{
			{Type: "value_error", Message: "Could not parse the form"}}})
		return errAnswered
	}
	var v account.ValidationError
	rv := reflect.ValueOf(dst).Elem()
	for i := 0; i < rv.NumField(); i++ {
		name, opt, _ := strings.Cut(rv.Type().Field(i).Tag.Get("form"), ",")
		if name == "" {
			continue
		}
		vals, ok := values[name]
		if !ok || len(vals) == 0 || vals[0] == "" {
			if opt != "optional" {
				v.Fields = append(v.Fields, account.FieldError{Field: name, Type: "missing", Message: "Field required"})
			}
			continue
		}
		rv.Field(i).SetString(vals[0])
	}
	if len(v.Fields) > 0 {
		writeValidation(w, "body", &v)
		return errAnswered
	}
	return nil
}

func parseForm(r *http.Request, body []byte, mediaType string) (url.Values, error) {
	if mediaType == "application/x-www-form-urlencoded" {
		return url.ParseQuery(string(body))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// body is already capped at maxBodyBytes by readBody, so the parse is
	// bounded and every part stays in memory.
	if err := r.ParseMultipartForm(maxBodyBytes); err != nil { //nolint:gosec // G120: bounded, see above
		return nil, err
	}
	return r.MultipartForm.Value, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
