package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

// newPlaygroundServer wires the public routes as the service does: the
// security headers first, then optional API keys, the API and the playground.
func newPlaygroundServer(t *testing.T, playground bool, keys ...string) *echo.Echo {
	t.Helper()
	e := echo.New()
	e.Use(handlers.SecureHeaders())
	if len(keys) > 0 {
		exempt := append(strings.Split(handlers.DefaultAuthExempt, ","), handlers.PlaygroundPaths()...)
		e.Use(handlers.APIKeyWithConfig(handlers.APIKeyConfig{Keys: keys, Exempt: exempt}))
	}
	s := handlers.New(newPipeline(t, imaging.Limits{}, imaging.PoolConfig{}), nil, handlers.Config{})
	s.Register(e)
	if playground {
		handlers.RegisterPlayground(e)
	}
	return e
}

func serve(e *echo.Echo, method, target string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestPlayground_page(t *testing.T) {
	e := newPlaygroundServer(t, true)
	rec := serve(e, http.MethodGet, "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /: %d, want 200; %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", ct)
	}
	if csp := h.Get("Content-Security-Policy"); csp != handlers.PlaygroundCSP {
		t.Errorf("Content-Security-Policy = %q, want %q", csp, handlers.PlaygroundCSP)
	}
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(handlers.PlaygroundCSP, d) {
			t.Errorf("the playground's policy lacks %s", d)
		}
	}
	if strings.Contains(handlers.PlaygroundCSP, "unsafe-") {
		t.Errorf("the playground's policy allows something unsafe: %s", handlers.PlaygroundCSP)
	}
	// The other security headers stay as on every answer.
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	// The page obeys its own policy: no inline script, style or handler,
	// and nothing from another origin.
	page := rec.Body.String()
	checks := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"an inline script", regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)},
		{"a style element", regexp.MustCompile(`<style`)},
		{"a style attribute", regexp.MustCompile(`\sstyle\s*=`)},
		{"an event handler attribute", regexp.MustCompile(`\son[a-z]+\s*=`)},
		{"a javascript: URL", regexp.MustCompile(`javascript:`)},
		{"another origin", regexp.MustCompile(`(?:src|href)\s*=\s*"(?:https?:)?//`)},
	}
	for _, c := range checks {
		if m := c.re.FindString(page); m != "" {
			t.Errorf("the page has %s: %q", c.what, m)
		}
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="/playground/`) {
			t.Errorf("the page has a script that is not the playground's file: %s", tag)
		}
	}
	for _, asset := range []string{`src="/playground/playground.js"`, `href="/playground/playground.css"`} {
		if !strings.Contains(page, asset) {
			t.Errorf("the page does not load %s", asset)
		}
	}
}

func TestPlayground_assets(t *testing.T) {
	e := newPlaygroundServer(t, true)
	for path, ct := range map[string]string{
		"/":                          "text/html; charset=utf-8",
		"/playground/playground.js":  "text/javascript; charset=utf-8",
		"/playground/playground.css": "text/css; charset=utf-8",
	} {
		get := serve(e, http.MethodGet, path, nil)
		if get.Code != http.StatusOK || get.Header().Get("Content-Type") != ct || get.Body.Len() == 0 {
			t.Errorf("GET %s: %d %q, %d bytes; want 200 %q with a body", path, get.Code, get.Header().Get("Content-Type"), get.Body.Len(), ct)
			continue
		}
		head := serve(e, http.MethodHead, path, nil)
		if head.Code != http.StatusOK || head.Header().Get("Content-Type") != ct || head.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d %q, %d bytes; want 200 %q without a body", path, head.Code, head.Header().Get("Content-Type"), head.Body.Len(), ct)
		}
		if cl := head.Header().Get("Content-Length"); cl != get.Header().Get("Content-Length") || cl == "" {
			t.Errorf("HEAD %s: Content-Length %q, GET's %q", path, cl, get.Header().Get("Content-Length"))
		}
		// Revalidated by ETag: unchanged files cost a 304.
		etag := get.Header().Get("ETag")
		if etag == "" || get.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q; want an ETag and no-cache", path, etag, get.Header().Get("Cache-Control"))
			continue
		}
		if rec := serve(e, http.MethodGet, path, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("GET %s with If-None-Match: %d, %d bytes; want 304 without a body", path, rec.Code, rec.Body.Len())
		}
	}
	// Only the playground's files, and not the page again under another name.
	for _, path := range []string{"/playground/index.html", "/playground/nope.js", "/playground/..%2Fopenapi.json", "/playground/"} {
		rec := serve(e, http.MethodGet, path, nil)
		checkProblem(t, "GET "+path, rec, http.StatusNotFound, handlers.CodeNotFound)
	}
	rec := serve(e, http.MethodPost, "/", nil)
	checkProblem(t, "POST /", rec, http.StatusMethodNotAllowed, handlers.CodeMethodNotAllowed)
}

func checkProblem(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, code imaging.Code) {
	t.Helper()
	var p handlers.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != status || p.Code != string(code) {
		t.Errorf("%s: %d %s, want %d %s", what, rec.Code, rec.Body, status, code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != handlers.MIMEProblemJSON {
		t.Errorf("%s: Content-Type %q, want %s", what, ct, handlers.MIMEProblemJSON)
	}
}

// TestPlayground_off: without the playground, / is a path like any other
// unknown one.
func TestPlayground_off(t *testing.T) {
	e := newPlaygroundServer(t, false)
	for _, path := range []string{"/", "/playground/playground.js"} {
		rec := serve(e, http.MethodGet, path, nil)
		checkProblem(t, "GET "+path+" with the playground off", rec, http.StatusNotFound, handlers.CodeNotFound)
		if csp := rec.Header().Get("Content-Security-Policy"); csp == handlers.PlaygroundCSP {
			t.Errorf("GET %s with the playground off has the playground's policy", path)
		}
	}
}

// TestPlayground_apiKeys: with keys on, the page and its files load without
// a key (the browser cannot send one for them), and the API still needs one.
func TestPlayground_apiKeys(t *testing.T) {
	const key = "pg-key-0123456789abcdef"
	e := newPlaygroundServer(t, true, key)
	for _, path := range []string{"/", "/playground/playground.js", "/playground/playground.css"} {
		if rec := serve(e, http.MethodGet, path, nil); rec.Code != http.StatusOK {
			t.Errorf("GET %s with keys on and no key: %d, want 200; %s", path, rec.Code, rec.Body)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/process?width=8", strings.NewReader(string(newPNG(t, 16, 16))))
	req.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	checkProblem(t, "POST /v1/process without a key", rec, http.StatusUnauthorized, handlers.CodeUnauthorized)

	// The page's own call: the key as a bearer token, which works whatever
	// -api-key-header says.
	req = httptest.NewRequest(http.MethodPost, "/v1/process?width=8", strings.NewReader(string(newPNG(t, 16, 16))))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+key)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("X-Image-Width") != "8" {
		t.Errorf("POST /v1/process with the key: %d, width %q; want 200, 8", rec.Code, rec.Header().Get("X-Image-Width"))
	}
}

// TestPlayground_scriptMatchesService checks the names the script relies on
// against the service: the key travels as a bearer token, the options come
// from /v1/openapi.json's /v1/process parameters, the result's size from
// X-Image-Width and X-Image-Height.
func TestPlayground_scriptMatchesService(t *testing.T) {
	e := newPlaygroundServer(t, true)
	js := serve(e, http.MethodGet, "/playground/playground.js", nil).Body.String()
	for _, want := range []string{`"Bearer "`, `"/v1/openapi.json"`, `doc.paths["/v1/process"].post`, `"X-Image-Width"`, `"X-Image-Height"`, `"/v1/process"`} {
		if !strings.Contains(js, want) {
			t.Errorf("playground.js does not use %s", want)
		}
	}
	html := serve(e, http.MethodGet, "/", nil).Body.String()
	// Every element the script looks up by id is in the page.
	for _, m := range regexp.MustCompile(`\$\("([a-z-]+)"\)`).FindAllStringSubmatch(js, -1) {
		if !strings.Contains(html, `id="`+m[1]+`"`) {
			t.Errorf("playground.js looks up #%s, which the page does not have", m[1])
		}
	}
}
