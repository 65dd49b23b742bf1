package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// echoBindError returns the error Echo's own binder gives for a request.
func echoBindError(t *testing.T, target, ct, body string) error {
	t.Helper()
	e := echo.New()
	method := http.MethodPost
	if body == "" {
		method = http.MethodGet // Echo binds query parameters for GET, DELETE and HEAD only
	}
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if ct != "" {
		req.Header.Set(echo.HeaderContentType, ct)
	}
	c := e.NewContext(req, httptest.NewRecorder())
	var v struct {
		Width int    `json:"width" query:"width"`
		Fit   string `json:"fit"`
	}
	err := c.Bind(&v)
	if err == nil {
		t.Fatalf("Bind(%s %q) succeeded", ct, body)
	}
	return err
}

// TestServer_HTTPErrorHandler_echoErrors: the errors Echo and its middleware
// raise get the code of their status from the table, not invalid_option.
func TestServer_HTTPErrorHandler_echoErrors(t *testing.T) {
	var widthErr int
	e0 := echo.New()
	bindingErr := echo.QueryParamsBinder(e0.NewContext(httptest.NewRequest(http.MethodPost, "/v1/process?width=abc", nil), httptest.NewRecorder())).
		Int("width", &widthErr).BindError()
	if bindingErr == nil {
		t.Fatal("ValueBinder accepted width=abc")
	}
	tests := []struct {
		name       string
		err        error
		header     http.Header // set on the answer before the handler runs, as Echo does
		wantStatus int
		wantCode   imaging.Code
		wantField  string
		wantHeader map[string]string
		wantDetail string
	}{
		{"404", echo.ErrNotFound, nil, 404, CodeNotFound, "", nil, "no route"},
		{"405 with Allow", echo.ErrMethodNotAllowed, http.Header{"Allow": {"OPTIONS, POST"}}, 405, CodeMethodNotAllowed, "",
			map[string]string{"Allow": "OPTIONS, POST"}, "allowed: OPTIONS, POST"},
		{"406", echo.ErrNotAcceptable, nil, 406, CodeNotAcceptable, "", nil, `Accept "text/html"`},
		{"408", echo.ErrRequestTimeout, nil, 408, imaging.CodeRequestTimeout, "", nil, "in time"},
		{"413 (BodyLimit)", echo.ErrStatusRequestEntityTooLarge, nil, 413, CodeBodyTooLarge, "", nil, "limit"},
		{"415 (Bind)", echoBindError(t, "/v1/process", "text/csv", "a,b"), nil, 415, CodeUnsupportedContentType, "", nil, "text/csv"},
		{"401", echo.ErrUnauthorized, nil, 401, CodeUnauthorized, "",
			map[string]string{"WWW-Authenticate": `Bearer realm="imgsvc"`}, ""},
		{"401 with its own challenge (BasicAuth)", echo.ErrUnauthorized, http.Header{"Www-Authenticate": {`basic realm="x"`}}, 401, CodeUnauthorized, "",
			map[string]string{"WWW-Authenticate": `basic realm="x"`}, ""},
		{"400 from a value binder", bindingErr, nil, 400, imaging.CodeInvalidOption, "width", nil, `"abc"`},
		{"400 from binding query parameters", echoBindError(t, "/v1/process?width=abc", "", ""), nil, 400, imaging.CodeInvalidOption, "", nil, "abc"},
		{"400 from a JSON syntax error", echoBindError(t, "/v1/process", "application/json", `{"width": 3,}`), nil, 400, CodeInvalidJSON, "", nil, "offset"},
		{"400 from a JSON type error", echoBindError(t, "/v1/process", "application/json", `{"width": "x"}`), nil, 400, CodeInvalidFieldType, "width", nil, "width"},
		{"429 (RateLimiter)", echo.ErrTooManyRequests, nil, 503, imaging.CodeOverloaded, "", map[string]string{"Retry-After": "1"}, "too many requests"},
		{"503", echo.ErrServiceUnavailable, nil, 503, imaging.CodeOverloaded, "", map[string]string{"Retry-After": "1"}, ""},
		{"403 has no row", echo.NewHTTPError(http.StatusForbidden, "invalid csrf token"), nil, 500, imaging.CodeInternal, "", nil, ""},
		{"bare 400 has no row", echo.ErrBadRequest, nil, 500, imaging.CodeInternal, "", nil, ""},
		{"409 has no row", echo.ErrConflict, nil, 500, imaging.CodeInternal, "", nil, ""},
		{"502", echo.ErrBadGateway, nil, 500, imaging.CodeInternal, "", nil, ""},
		{"wrapped 404", errors.Join(errors.New("context"), echo.ErrNotFound), nil, 404, CodeNotFound, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			var logs bytes.Buffer
			s := New(nil, slog.New(slog.NewTextHandler(&logs, nil)), Config{})
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/process", nil)
			req.Header.Set(echo.HeaderContentType, "text/csv")
			req.Header.Set(echo.HeaderAccept, "text/html")
			c := e.NewContext(req, rec)
			for k, vs := range tt.header {
				for _, v := range vs {
					c.Response().Header().Add(k, v)
				}
			}
			s.HTTPErrorHandler(tt.err, c)
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("body is not a problem: %v: %s", err, rec.Body)
			}
			if rec.Code != tt.wantStatus || p.Code != string(tt.wantCode) || p.Status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d %s: %s", rec.Code, p.Code, tt.wantStatus, tt.wantCode, rec.Body)
			}
			if got := Status(imaging.Code(p.Code)); got != rec.Code {
				t.Errorf("status %d is not the table's %d for %s", rec.Code, got, p.Code)
			}
			if p.Field != tt.wantField {
				t.Errorf("field = %q, want %q", p.Field, tt.wantField)
			}
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail %q does not contain %q", p.Detail, tt.wantDetail)
			}
			if tt.wantCode == imaging.CodeInternal && !strings.Contains(logs.String(), fmt.Sprintf("Echo answered %d", tt.err.(*echo.HTTPError).Code)) {
				t.Errorf("the log does not name Echo's status: %s", logs.String())
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestWithClientHints: the domain names the limit, this layer names the flag
// and the client's way of sending a whole file, on a copy of the error.
func TestWithClientHints(t *testing.T) {
	lim := imaging.Errorf(imaging.CodeImageTooLarge, "too large").WithHint("downscale it").WithLimit(imaging.LimitInputPixels)
	if got := withClientHints(lim).Hint; got != "downscale it, or ask the operator to raise -max-input-pixels" {
		t.Errorf("hint = %q", got)
	}
	if lim.Hint != "downscale it" {
		t.Errorf("the domain error was changed: %q", lim.Hint)
	}
	bad := imaging.Errorf(imaging.CodeCorruptImage, "broken").WithHint("check the file")
	if got := withClientHints(bad).Hint; !strings.Contains(got, "--data-binary") || !strings.HasPrefix(got, "check the file") {
		t.Errorf("corrupt hint = %q", got)
	}
}
