package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// Status is the HTTP status of an error code: the one table of the service.
func Status(code imaging.Code) int {
	switch code {
	case CodeMissingContentType, CodeEmptyBody, CodeBodyIsPath, CodeBodyIsURL,
		CodeContentTypeMismatch, imaging.CodeCorruptImage, imaging.CodeTruncatedImage, CodeInvalidJSON, CodeUnknownField,
		CodeMissingField, CodeInvalidFieldType, CodeInvalidBase64, CodeInvalidMetadata,
		CodeMalformedMultipart, CodeMissingFilePart, imaging.CodeInvalidOption, imaging.CodeUnknownOption:
		return http.StatusBadRequest
	case CodeUnsupportedContentType, imaging.CodeUnsupportedImageFormat, imaging.CodeUnsupportedImageFeature:
		return http.StatusUnsupportedMediaType
	case CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case imaging.CodeImageTooLarge, imaging.CodeOutputTooLarge:
		return http.StatusUnprocessableEntity
	case CodeNotAcceptable:
		return http.StatusNotAcceptable
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeNotFound:
		return http.StatusNotFound
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case imaging.CodeRequestTimeout:
		return http.StatusRequestTimeout
	case imaging.CodeOverloaded, imaging.CodeProcessingTimeout:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Codes lists every error code the service answers with, in catalogue order.
func Codes() []imaging.Code {
	return []imaging.Code{
		CodeMissingContentType, CodeUnsupportedContentType, CodeEmptyBody,
		CodeBodyIsPath, CodeBodyIsURL, CodeContentTypeMismatch,
		imaging.CodeUnsupportedImageFormat, imaging.CodeUnsupportedImageFeature, imaging.CodeCorruptImage, imaging.CodeTruncatedImage,
		CodeInvalidJSON, CodeUnknownField, CodeMissingField, CodeInvalidFieldType,
		CodeInvalidBase64, CodeInvalidMetadata, CodeMalformedMultipart,
		CodeMissingFilePart, imaging.CodeInvalidOption, imaging.CodeUnknownOption,
		CodeBodyTooLarge, imaging.CodeImageTooLarge, imaging.CodeOutputTooLarge,
		CodeNotAcceptable, CodeMethodNotAllowed, CodeNotFound, CodeUnauthorized,
		imaging.CodeRequestTimeout, imaging.CodeOverloaded, imaging.CodeProcessingTimeout, imaging.CodeInternal,
	}
}

// Title is the short, fixed summary of an error code.
func Title(code imaging.Code) string {
	switch code {
	case CodeMissingContentType:
		return "Missing Content-Type"
	case CodeUnsupportedContentType:
		return "Unsupported Content-Type"
	case CodeEmptyBody:
		return "Empty body"
	case CodeBodyIsPath:
		return "Body is a file path, not image bytes"
	case CodeBodyIsURL:
		return "Body is a URL, not image bytes"
	case CodeContentTypeMismatch:
		return "Content-Type does not match the bytes"
	case imaging.CodeUnsupportedImageFormat:
		return "Unsupported image format"
	case imaging.CodeUnsupportedImageFeature:
		return "Unsupported image feature"
	case imaging.CodeCorruptImage:
		return "Corrupt image"
	case imaging.CodeTruncatedImage:
		return "Truncated image"
	case CodeInvalidJSON:
		return "Invalid JSON"
	case CodeUnknownField:
		return "Unknown JSON field"
	case CodeMissingField:
		return "Missing JSON field"
	case CodeInvalidFieldType:
		return "JSON field has the wrong type"
	case CodeInvalidBase64:
		return "Invalid base64"
	case CodeInvalidMetadata:
		return "Invalid metadata"
	case CodeMalformedMultipart:
		return "Malformed multipart body"
	case CodeMissingFilePart:
		return "No image part in the multipart body"
	case imaging.CodeInvalidOption:
		return "Invalid option value"
	case imaging.CodeUnknownOption:
		return "Unknown option"
	case CodeBodyTooLarge:
		return "Body too large"
	case imaging.CodeImageTooLarge:
		return "Image too large"
	case imaging.CodeOutputTooLarge:
		return "Output too large"
	case CodeNotAcceptable:
		return "Not acceptable"
	case CodeMethodNotAllowed:
		return "Method not allowed"
	case CodeNotFound:
		return "Not found"
	case CodeUnauthorized:
		return "Missing or invalid API key"
	case imaging.CodeRequestTimeout:
		return "Request timeout"
	case imaging.CodeOverloaded:
		return "Overloaded"
	case imaging.CodeProcessingTimeout:
		return "Processing timeout"
	}
	return "Internal error"
}

// Problem is an RFC 9457 problem details object, with the service's extensions.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	Hint      string `json:"hint,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Instance  string `json:"instance,omitempty"`
}

// ProblemTypeURI is the type URI of a code: a page of the service itself
// that describes it (see handleErrorType).
func ProblemTypeURI(code imaging.Code) string { return "/v1/errors/" + string(code) }

// MIMEProblemJSON is the media type of error bodies.
const MIMEProblemJSON = "application/problem+json"

// errorContextKey is where the error handler leaves the code for logs and metrics.
const errorContextKey = "imgsvc.error_code"

// ErrorCodeOf returns the error code recorded on c by the error handler, or "".
func ErrorCodeOf(c echo.Context) string {
	if s, ok := c.Get(errorContextKey).(string); ok {
		return s
	}
	return ""
}

// toError turns any error a handler or Echo returns into an *imaging.Error.
func (s *Server) toError(c echo.Context, err error) *imaging.Error {
	var ie *imaging.Error
	if errors.As(err, &ie) {
		return ie
	}
	var be *echo.BindingError
	if errors.As(err, &be) {
		// Echo's value binders: a query, path or form value that does not parse.
		return imaging.Errorf(imaging.CodeInvalidOption, "invalid %s %q: %s", truncate(be.Field, 60), truncate(strings.Join(be.Values, ","), 64), echoMessage(be.HTTPError)).
			WithField(be.Field).WithHint("see GET /v1/openapi.json for the type and range of each parameter")
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Internal != nil && errors.As(he.Internal, &ie) {
			return ie
		}
		return s.echoError(c, he, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return imaging.Errorf(imaging.CodeRequestTimeout, "the request ended before it was served").Wrap(err)
	}
	return (&imaging.Error{Code: imaging.CodeInternal, Detail: "an unexpected error occurred"}).Wrap(err)
}

// withClientHints completes a domain error's hint with what only this
// layer knows: the flag an operator raises for the limit that refused the
// request, and how the clients people use send a whole file. It returns a
// copy; the error itself is not changed.
func withClientHints(ie *imaging.Error) *imaging.Error {
	e := *ie
	if e.Limit != "" {
		flag := "-" + strings.ReplaceAll(string(e.Limit), "_", "-")
		e.Hint = strings.TrimSuffix(e.Hint, ".") + ", or ask the operator to raise " + flag
	}
	if e.Code == imaging.CodeCorruptImage || e.Code == imaging.CodeTruncatedImage {
		e.Hint += `; with curl use --data-binary @file (not -d), in Python open the file with open(path, "rb")`
	}
	return &e
}

// echoError maps an error Echo or one of its middlewares raised to the code
// its status has in the table. A status no code fits is an internal error,
// logged with Echo's message: a middleware raised something the table does
// not know, and the table needs a row for it.
func (s *Server) echoError(c echo.Context, he *echo.HTTPError, err error) *imaging.Error {
	req := c.Request()
	switch he.Code {
	case http.StatusBadRequest:
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(he.Internal, &se):
			return imaging.Errorf(CodeInvalidJSON, "JSON syntax error at byte offset %d: %s", max(se.Offset-1, 0), strings.TrimPrefix(se.Error(), "json: ")).
				WithHint(`check the JSON near that position; in Python let requests encode it: requests.post(url, json={...})`)
		case errors.As(he.Internal, &te):
			return imaging.Errorf(CodeInvalidFieldType, "the JSON field %q is a %s, want %s", truncate(te.Field, 60), te.Value, te.Type).
				WithField(te.Field).WithHint("send the value with the type GET /v1/openapi.json gives it")
		case he.Internal != nil:
			// Echo's binder: a query, path or form value that does not fit its field.
			return imaging.Errorf(imaging.CodeInvalidOption, "a request parameter does not parse: %s", echoMessage(he)).
				WithHint("see GET /v1/openapi.json for the type and range of each parameter")
		}
	case http.StatusUnauthorized:
		if c.Response().Header().Get(echo.HeaderWWWAuthenticate) == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="`+authRealm+`"`)
		}
		return imaging.Errorf(CodeUnauthorized, "the request is not authorized%s", echoReason(he)).
			WithHint("send the key as a bearer token: curl -H 'Authorization: Bearer $KEY' ...; Python: requests.post(url, headers={\"Authorization\": f\"Bearer {key}\"}). The operator of the service issues keys")
	case http.StatusNotFound:
		return imaging.Errorf(CodeNotFound, "no route for %s %s", req.Method, truncPath(req.URL.Path)).
			WithHint("the routes are POST /v1/process, POST /v1/info, GET /v1/openapi.json, GET /v1/errors/{code}, GET /healthz, GET /readyz")
	case http.StatusMethodNotAllowed:
		allow := c.Response().Header().Get(echo.HeaderAllow)
		e := imaging.Errorf(CodeMethodNotAllowed, "%s is not allowed on %s; allowed: %s", req.Method, truncPath(req.URL.Path), allow)
		if strings.Contains(allow, http.MethodPost) {
			return e.WithHint("send the image with POST: curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' ...")
		}
		return e.WithHint("use GET: curl %s", truncPath(req.URL.Path))
	case http.StatusNotAcceptable:
		return imaging.Errorf(CodeNotAcceptable, "Accept %q allows nothing this route produces%s", truncate(req.Header.Get(echo.HeaderAccept), 120), echoReason(he)).
			WithHint("accept image/* or application/json, or leave Accept out")
	case http.StatusRequestTimeout:
		return imaging.Errorf(imaging.CodeRequestTimeout, "the request was not received in time%s", echoReason(he)).
			WithHint("send the body faster; check the network between the client and the service")
	case http.StatusRequestEntityTooLarge:
		return s.bodyTooLarge(-1)
	case http.StatusUnsupportedMediaType:
		return imaging.Errorf(CodeUnsupportedContentType, "Content-Type %q is not accepted%s", truncate(req.Header.Get(echo.HeaderContentType), 80), echoReason(he)).
			WithHint("send image/jpeg, image/png, image/gif, image/webp, image/bmp, image/tiff, application/octet-stream, multipart/form-data or application/json")
	case http.StatusTooManyRequests:
		return imaging.Errorf(imaging.CodeOverloaded, "too many requests%s", echoReason(he)).
			WithHint("retry after the number of seconds in the Retry-After header, with backoff")
	case http.StatusServiceUnavailable:
		return imaging.Errorf(imaging.CodeOverloaded, "the service is not able to take this request now%s", echoReason(he)).
			WithHint("retry after the number of seconds in the Retry-After header")
	}
	return imaging.Errorf(imaging.CodeInternal, "Echo answered %d (%s), a status no code of the table fits", he.Code, echoMessage(he)).Wrap(err)
}

// echoMessage is the message of an Echo error, or its status text.
func echoMessage(he *echo.HTTPError) string {
	if he.Message == nil {
		return http.StatusText(he.Code)
	}
	return truncate(fmt.Sprint(he.Message), 200)
}

// echoReason is Echo's message in parentheses, or "" when it says no more
// than the status text.
func echoReason(he *echo.HTTPError) string {
	m := echoMessage(he)
	if m == "" || m == http.StatusText(he.Code) {
		return ""
	}
	return " (" + m + ")"
}

func truncPath(p string) string { return truncate(p, 100) }

// HTTPErrorHandler writes every error as application/problem+json. It is
// installed as echo.Echo.HTTPErrorHandler.
func (s *Server) HTTPErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return // already answered (the request logger hands errors over first)
	}
	ie := withClientHints(s.toError(c, err))
	status := Status(ie.Code)
	c.Set(errorContextKey, string(ie.Code))
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("request_id", rid), slog.String("code", string(ie.Code)),
			slog.String("detail", ie.Detail), slog.Any("err", ie.Err))
	}
	p := Problem{
		Type: ProblemTypeURI(ie.Code), Title: Title(ie.Code), Status: status, Detail: ie.Detail,
		Code: string(ie.Code), Hint: ie.Hint, Field: ie.Field, RequestID: rid,
	}
	if ie.Code == imaging.CodeInternal {
		p.Detail = "an unexpected error occurred; the request ID identifies it in the service's logs"
		p.Hint = "retry; if it keeps failing, report the request_id to the operator"
	}
	h := c.Response().Header()
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(s.retryAfterSeconds()))
	}
	h.Set(echo.HeaderCacheControl, "no-store")
	drainBody(c.Request(), maxDrainBytes)
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, MIMEProblemJSON)
		_ = c.NoContent(status)
		return
	}
	body, mErr := jsonMarshal(p)
	if mErr != nil {
		body = []byte(fmt.Sprintf(`{"status":%d,"code":%q}`, status, ie.Code))
	}
	_ = c.Blob(status, MIMEProblemJSON, append(body, '\n'))
}

// maxDrainBytes is how much of an unread body an error answer reads first.
const maxDrainBytes = 1 << 20

// drainBody reads what is left of a small request body before an error is
// answered. Refused before its body was read (a Content-Encoding, a bad
// Content-Type), a client may still be sending when the connection closes,
// and the kernel then resets it: the client sees "connection reset" instead
// of the answer. Larger bodies are not read (that is the point of refusing
// them); their clients should send Expect: 100-continue.
func drainBody(r *http.Request, max int64) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength > max {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, max))
}

func (s *Server) retryAfterSeconds() int {
	n := int(s.cfg.RetryAfter.Seconds() + 0.5)
	return max(n, 1)
}

// handleErrorType describes one error code: the dereferenceable "type" of
// every problem the service returns.
func (s *Server) handleErrorType(c echo.Context) error {
	code := imaging.Code(strings.TrimSpace(c.Param("code")))
	for _, k := range Codes() {
		if k == code {
			return c.JSON(http.StatusOK, map[string]any{
				"code": k, "status": Status(k), "title": Title(k),
				"docs": "docs/errors.md#" + string(k),
			})
		}
	}
	return imaging.Errorf(CodeNotFound, "there is no error code %q", truncPath(string(code))).
		WithHint("see GET /v1/openapi.json or docs/errors.md for the list of codes")
}
