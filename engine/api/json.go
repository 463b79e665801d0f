package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	var b errorBody
	b.Error.Code, b.Error.Message = e.code, e.message
	_ = writeJSON(w, e.status, &b)
}

// noContent answers 204.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// page is the shape of every list response: items and the cursor of the
// next page ("" after the last).
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

func newPage[T any](items []T, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	return page[T]{Items: items, Next: next}
}

// decodeJSON reads one JSON object of at most maxJSONBody bytes into v,
// refusing unknown fields, trailing data and a Content-Type other than
// JSON.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errf(http.StatusUnsupportedMediaType, CodeUnsupportedType, "send Content-Type: application/json")
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, "JSON body over %d bytes", maxJSONBody)
		case errors.Is(err, io.EOF):
			return badRequest("empty body: send a JSON object")
		case errors.As(err, &syn):
			return badRequest("malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return badRequest("field %q must be %s", typ.Field, typ.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return badRequest("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("one JSON object only")
	}
	return nil
}

// pageParams reads cursor and limit (default DefaultPageLimit, at most
// MaxPageLimit).
func pageParams(r *http.Request) (cursor string, limit int, err error) {
	q := r.URL.Query()
	cursor = q.Get("cursor")
	if len(cursor) > 512 {
		return "", 0, badRequest("cursor too long")
	}
	limit = DefaultPageLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return "", 0, badRequest("limit must be a positive integer (at most %d)", MaxPageLimit)
		}
		limit = min(n, MaxPageLimit)
	}
	return cursor, limit, nil
}

// timeParam reads a time query parameter: Unix milliseconds or RFC 3339.
// Absent: 0.
func timeParam(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, badRequest("%s must not be negative", name)
		}
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.UnixMilli() < 0 {
		return 0, badRequest("%s must be Unix milliseconds or an RFC 3339 time", name)
	}
	return t.UnixMilli(), nil
}

// uintParam reads an unsigned integer query parameter; absent: 0, false.
func uintParam(r *http.Request, name string) (uint64, bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, badRequest("%s must be an unsigned integer", name)
	}
	return n, true, nil
}
