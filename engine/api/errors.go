package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/shard/routing"
	"github.com/kefu-im/kefu/storage"
)

// Error codes: the stable "code" of an error response. Clients switch on
// the code, never on the message.
const (
	CodeBadRequest       = "bad_request"        // 400: malformed JSON, invalid field, bad query parameter
	CodeUnauthenticated  = "unauthenticated"    // 401: no, malformed, unknown or expired credentials
	CodeForbidden        = "forbidden"          // 403: authenticated, but the role or state does not allow it
	CodeNotFound         = "not_found"          // 404: no such resource in the caller's site, or no such endpoint
	CodeMethodNotAllowed = "method_not_allowed" // 405: the path exists with other methods (see Allow)
	CodeConflict         = "conflict"           // 409: duplicate email or shortcut, limit reached, state conflict
	CodeUnsupported      = "unsupported"        // 409: the operation is not available (routing disabled)
	CodeTooLarge         = "too_large"          // 413: body over its limit
	CodeUnsupportedType  = "unsupported_type"   // 415: content type not allowed, or content does not match it
	CodeThrottled        = "throttled"          // 429: too many failed logins; see Retry-After
	CodeInternal         = "internal"           // 500: storage or internal failure (retryable)
	CodeBusy             = "busy"               // 503: overloaded or timed out (retryable)
	CodeUnavailable      = "unavailable"        // 503: the feature is not enabled on this server
	CodeDraining         = "draining"           // 503: shutting down (retry elsewhere)
)

// apiError is an error with its HTTP status and code.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, CodeBadRequest, format, args...)
}

func notFound(what string) *apiError {
	return errf(http.StatusNotFound, CodeNotFound, "no such %s", what)
}

var (
	errForbiddenAdmin = errf(http.StatusForbidden, CodeForbidden, "this needs the admin role")
	errUnauth         = errf(http.StatusUnauthorized, CodeUnauthenticated, "send Authorization: Bearer <session token>")
	errBadSession     = errf(http.StatusUnauthorized, CodeUnauthenticated, "invalid or ended session; log in again")
	errExpired        = errf(http.StatusUnauthorized, CodeUnauthenticated, "session expired; log in again")
)

// asAPIError maps an error from accounts, storage, webhook, routing or a
// Call to a response. what names the resource for not-found answers.
func asAPIError(err error, what string) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, webhook.ErrNotFound),
		errors.Is(err, routing.ErrUnknownConversation), errors.Is(err, routing.ErrUnknownAgent),
		errors.Is(err, routing.ErrUnknownGroup):
		return notFound(what)
	case errors.Is(err, accounts.ErrInvalid), errors.Is(err, routing.ErrInvalid):
		return badRequest("%s", trimPrefix(err))
	case errors.Is(err, storage.ErrCursor), errors.Is(err, webhook.ErrCursor):
		return badRequest("invalid cursor")
	case errors.Is(err, accounts.ErrEmailTaken), errors.Is(err, accounts.ErrShortcutTaken),
		errors.Is(err, accounts.ErrTooMany), errors.Is(err, routing.ErrDefaultGroup):
		return errf(http.StatusConflict, CodeConflict, "%s", trimPrefix(err))
	case errors.Is(err, accounts.ErrThrottled):
		return errf(http.StatusTooManyRequests, CodeThrottled, "too many failed logins; try again later")
	case errors.Is(err, accounts.ErrBadCredentials):
		return errf(http.StatusUnauthorized, CodeUnauthenticated, "bad email or password")
	case errors.Is(err, shard.ErrBusy), errors.Is(err, shard.ErrDeskBusy),
		errors.Is(err, context.DeadlineExceeded):
		return errf(http.StatusServiceUnavailable, CodeBusy, "the server is busy; retry")
	case errors.Is(err, storage.ErrClosed):
		return errf(http.StatusServiceUnavailable, CodeDraining, "the server is shutting down")
	}
	return errf(http.StatusInternalServerError, CodeInternal, "internal error")
}

// trimPrefix drops the "accounts: " style package prefix of a sentinel
// error's text, leaving the field-naming message.
func trimPrefix(err error) string {
	s := err.Error()
	for _, p := range []string{"accounts: invalid argument: ", "routing: invalid argument: ", "accounts: ", "routing: "} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}

// fromEnvelope maps an ERROR reply of Conversations.Call.
func fromEnvelope(e *proto.Error) *apiError {
	msg := e.GetMessage()
	switch e.GetCode() {
	case proto.Code_CODE_BAD_REQUEST:
		return errf(http.StatusBadRequest, CodeBadRequest, "%s", msg)
	case proto.Code_CODE_UNAUTHENTICATED:
		return errf(http.StatusUnauthorized, CodeUnauthenticated, "%s", msg)
	case proto.Code_CODE_FORBIDDEN:
		return errf(http.StatusForbidden, CodeForbidden, "%s", msg)
	case proto.Code_CODE_NOT_FOUND:
		return errf(http.StatusNotFound, CodeNotFound, "%s", msg)
	case proto.Code_CODE_BUSY:
		return errf(http.StatusServiceUnavailable, CodeBusy, "%s", msg)
	case proto.Code_CODE_TOO_LARGE:
		return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, "%s", msg)
	case proto.Code_CODE_UNSUPPORTED:
		return errf(http.StatusConflict, CodeUnsupported, "%s", msg)
	case proto.Code_CODE_DRAINING:
		return errf(http.StatusServiceUnavailable, CodeDraining, "%s", msg)
	}
	return errf(http.StatusInternalServerError, CodeInternal, "%s", msg)
}
