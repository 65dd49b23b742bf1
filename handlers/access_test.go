package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

const (
	testKey1 = "k1-0123456789abcdef"
	testKey2 = "k2-fedcba9876543210"
)

// accessEcho is the public API behind the access middleware, in the order
// cmd/imgsvc wires it: security headers, CORS, API keys.
func accessEcho(t testing.TB, s *Server, mw ...echo.MiddlewareFunc) *echo.Echo {
	t.Helper()
	if s == nil {
		s = New(ProcessFn(func(context.Context, []byte, imaging.Options) (imaging.Result, error) {
			return imaging.Result{Data: []byte("out"), Format: imaging.FormatPNG, Width: 3, Height: 2}, nil
		}), nil, Config{})
	}
	e := echo.New()
	e.Use(mw...)
	s.Register(e)
	return e
}

type accessReq struct {
	method, target string
	header         map[string]string
	body           []byte
}

func (r accessReq) do(e *echo.Echo) *httptest.ResponseRecorder {
	req := httptest.NewRequest(r.method, r.target, bytes.NewReader(r.body))
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := rec.Header().Get(echo.HeaderContentType); ct != MIMEProblemJSON {
		t.Fatalf("Content-Type = %q, want %q; body %s", ct, MIMEProblemJSON, rec.Body)
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", rec.Body, err)
	}
	return p
}

func TestAPIKeyWithConfig(t *testing.T) {
	png := tinyPNG(t)
	img := map[string]string{echo.HeaderContentType: "image/png"}
	with := func(kv ...string) map[string]string {
		h := map[string]string{echo.HeaderContentType: "image/png"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	wrongSameLength := testKey1[:len(testKey1)-1] + "X"
	tests := []struct {
		name      string
		cfg       APIKeyConfig
		req       accessReq
		want      int
		challenge string // WWW-Authenticate of a 401
		detail    string // part of the 401 detail
	}{
		{name: "bearer, first key", req: accessReq{"POST", "/v1/process", with("Authorization", "Bearer "+testKey1), png}, want: 200},
		{name: "bearer, last key", req: accessReq{"POST", "/v1/info", with("Authorization", "Bearer "+testKey2), png}, want: 200},
		{name: "bearer scheme in lower case", req: accessReq{"POST", "/v1/process", with("Authorization", "bearer "+testKey2), png}, want: 200},
		{name: "X-API-Key", req: accessReq{"POST", "/v1/process", with("X-API-Key", testKey1), png}, want: 200},
		{name: "X-API-Key on an alias", req: accessReq{"POST", "/process", with("x-api-key", testKey2), png}, want: 200},
		{name: "wrong bearer, right X-API-Key", req: accessReq{"POST", "/v1/process", with("Authorization", "Bearer nope-nope-nope-nope", "X-API-Key", testKey1), png}, want: 200},
		{name: "custom header", cfg: APIKeyConfig{Header: "X-Imgsvc-Key"},
			req: accessReq{"POST", "/v1/process", with("X-Imgsvc-Key", testKey1), png}, want: 200},
		{name: "custom header replaces X-API-Key", cfg: APIKeyConfig{Header: "X-Imgsvc-Key"},
			req: accessReq{"POST", "/v1/process", with("X-API-Key", testKey1), png}, want: 401,
			challenge: `Bearer realm="imgsvc"`, detail: "carries none"},

		{name: "missing key", req: accessReq{"POST", "/v1/process", img, png}, want: 401,
			challenge: `Bearer realm="imgsvc"`, detail: "carries none"},
		{name: "missing key, no body either", req: accessReq{"POST", "/v1/info", nil, nil}, want: 401,
			challenge: `Bearer realm="imgsvc"`, detail: "carries none"},
		{name: "wrong key, same length, last byte differs", req: accessReq{"POST", "/v1/process", with("Authorization", "Bearer "+wrongSameLength), png}, want: 401,
			challenge: `Bearer realm="imgsvc", error="invalid_token"`, detail: "not valid"},
		{name: "prefix of a key", req: accessReq{"POST", "/v1/process", with("X-API-Key", testKey1[:len(testKey1)-1]), png}, want: 401,
			challenge: `Bearer realm="imgsvc", error="invalid_token"`, detail: "not valid"},
		{name: "key with a suffix", req: accessReq{"POST", "/v1/process", with("X-API-Key", testKey1+"0"), png}, want: 401,
			challenge: `Bearer realm="imgsvc", error="invalid_token"`, detail: "not valid"},
		{name: "two keys joined", req: accessReq{"POST", "/v1/process", with("X-API-Key", testKey1+","+testKey2), png}, want: 401,
			challenge: `Bearer realm="imgsvc", error="invalid_token"`, detail: "not valid"},
		{name: "key without the Bearer scheme", req: accessReq{"POST", "/v1/process", with("Authorization", testKey1), png}, want: 401,
			challenge: `Bearer realm="imgsvc"`, detail: `form "Bearer <key>"`},
		{name: "basic auth", req: accessReq{"POST", "/v1/process", with("Authorization", "Basic dXNlcjpwYXNz"), png}, want: 401,
			challenge: `Bearer realm="imgsvc"`, detail: `form "Bearer <key>"`},
		{name: "empty bearer", req: accessReq{"POST", "/v1/process", with("Authorization", "Bearer "), png}, want: 401,
			challenge: `Bearer realm="imgsvc"`},
		{name: "wrong method on a protected path needs a key first", req: accessReq{"GET", "/v1/process", nil, nil}, want: 401,
			challenge: `Bearer realm="imgsvc"`},
		{name: "HEAD on a protected path", req: accessReq{"HEAD", "/v1/info", nil, nil}, want: 401,
			challenge: `Bearer realm="imgsvc"`},

		{name: "healthz exempt", req: accessReq{"GET", "/healthz", nil, nil}, want: 200},
		{name: "healthz HEAD exempt", req: accessReq{"HEAD", "/healthz", nil, nil}, want: 200},
		{name: "readyz exempt", req: accessReq{"GET", "/readyz", nil, nil}, want: 200},
		{name: "openapi exempt", req: accessReq{"GET", "/v1/openapi.json", nil, nil}, want: 200},
		{name: "error type exempt", req: accessReq{"GET", "/v1/errors/unauthorized", nil, nil}, want: 200},
		{name: "wrong method on an exempt path is 405", req: accessReq{"POST", "/healthz", nil, nil}, want: 405},
		{name: "unknown path is 404 without a key", req: accessReq{"POST", "/v1/resize", img, png}, want: 404},
		{name: "trailing slash is 404 without a key", req: accessReq{"POST", "/v1/process/", img, png}, want: 404},
		{name: "OPTIONS needs no key", req: accessReq{"OPTIONS", "/v1/process", nil, nil}, want: 204},
		{name: "exempt list replaced", cfg: APIKeyConfig{Exempt: []string{"/healthz"}},
			req: accessReq{"GET", "/v1/openapi.json", nil, nil}, want: 401, challenge: `Bearer realm="imgsvc"`},
		{name: "exempt in OpenAPI form", cfg: APIKeyConfig{Exempt: []string{"/v1/errors/{code}"}},
			req: accessReq{"GET", "/v1/errors/not_found", nil, nil}, want: 200},
		{name: "exempt nothing", cfg: APIKeyConfig{Exempt: []string{}},
			req: accessReq{"GET", "/healthz", nil, nil}, want: 401, challenge: `Bearer realm="imgsvc"`},
		{name: "exempt process", cfg: APIKeyConfig{Exempt: []string{"/v1/process"}},
			req: accessReq{"POST", "/v1/process", img, png}, want: 200},
		{name: "exempting one alias leaves the other protected", cfg: APIKeyConfig{Exempt: []string{"/v1/process"}},
			req: accessReq{"POST", "/process", img, png}, want: 401, challenge: `Bearer realm="imgsvc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Keys = []string{testKey1, testKey2}
			rec := tt.req.do(accessEcho(t, nil, APIKeyWithConfig(cfg)))
			if rec.Code != tt.want {
				t.Fatalf("%s %s = %d, want %d; body %s", tt.req.method, tt.req.target, rec.Code, tt.want, rec.Body)
			}
			got := rec.Header().Get(echo.HeaderWWWAuthenticate)
			if tt.want != http.StatusUnauthorized {
				if got != "" {
					t.Errorf("WWW-Authenticate = %q on a %d, want none", got, rec.Code)
				}
				return
			}
			if got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			// Nothing about the configured keys leaks, not even a prefix.
			for _, k := range cfg.Keys {
				if strings.Contains(rec.Body.String(), k[:8]) {
					t.Errorf("the 401 body shows a configured key: %s", rec.Body)
				}
			}
			if tt.req.method == http.MethodHead {
				return
			}
			p := problemOf(t, rec)
			if p.Code != string(CodeUnauthorized) || p.Status != 401 || p.Type != "/v1/errors/unauthorized" || p.Title != Title(CodeUnauthorized) {
				t.Errorf("problem = %+v, want code unauthorized, status 401", p)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.detail)
			}
			hdr := cfg.Header
			if hdr == "" {
				hdr = "X-API-Key"
			}
			for _, s := range []string{`curl -H 'Authorization: Bearer $KEY'`, `requests.post(url, headers={"Authorization": f"Bearer {key}"})`, hdr} {
				if !strings.Contains(p.Hint, s) {
					t.Errorf("hint = %q, want it to contain %q", p.Hint, s)
				}
			}
			if cc := rec.Header().Get(echo.HeaderCacheControl); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

func TestAPIKeyWithConfig_panicsWithoutKeys(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("APIKeyWithConfig with no keys did not panic")
		}
	}()
	APIKeyWithConfig(APIKeyConfig{})
}

// TestKeySet_match exercises the constant-time path directly: every
// configured key is compared (the last one matches too), and near misses of
// every kind fail.
func TestKeySet_match(t *testing.T) {
	keys := []string{testKey1, testKey2, "k3-" + strings.Repeat("z", 61)}
	ks := newKeySet(keys)
	if len(ks.digests) != len(keys) {
		t.Fatalf("newKeySet kept %d digests, want %d", len(ks.digests), len(keys))
	}
	tests := []struct {
		key  string
		want bool
	}{
		{testKey1, true},
		{testKey2, true},
		{keys[2], true},
		{"", false},
		{testKey1[:len(testKey1)-1], false},
		{testKey1 + "\x00", false},
		{strings.ToUpper(testKey1), false},
		{testKey1[:len(testKey1)-1] + "g", false},
		{"X" + testKey1[1:], false},
		{testKey1 + testKey2, false},
		{strings.Repeat("a", 10000), false},
	}
	for _, tt := range tests {
		if got := ks.match(tt.key); got != tt.want {
			t.Errorf("match(%.20q…) = %v, want %v", tt.key, got, tt.want)
		}
	}
	// The set holds digests only, never the keys.
	for _, d := range ks.digests {
		for _, k := range keys {
			if bytes.Contains(d[:], []byte(k[:8])) {
				t.Errorf("a digest contains a key's bytes")
			}
		}
	}
}

func TestParseAPIKeyFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "one key, no newline", in: testKey1, want: []string{testKey1}},
		{name: "comments and blank lines", in: "# keys for imgsvc\n\n" + testKey1 + "\n   \n# old: revoked\n" + testKey2 + "\n\n", want: []string{testKey1, testKey2}},
		{name: "CRLF", in: "# windows\r\n" + testKey1 + "\r\n\r\n" + testKey2 + "\r\n", want: []string{testKey1, testKey2}},
		{name: "indented and trailing spaces", in: "  " + testKey1 + "\t \n\t# indented comment\n", want: []string{testKey1}},
		{name: "too short", in: testKey1 + "\nshort-key\n", wantErr: "line 2: the key is 9 characters long"},
		{name: "space inside", in: "# x\n\n" + "abcdefgh ijklmnopq\n", wantErr: "line 3: the key has a character"},
		{name: "comma inside", in: testKey1 + "," + testKey2, wantErr: "line 1: the key has a character"},
		{name: "not ASCII", in: "clé-0123456789abcdef", wantErr: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAPIKeyFile(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAPIKeyFile error = %v, want one containing %q", err, tt.wantErr)
				}
				for _, secret := range []string{"short-key", "abcdefgh", testKey1, "0123456789"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q quotes a key", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAPIKeyFile error = %v, want nil", err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("ParseAPIKeyFile = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseAPIKeyList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: testKey1, want: []string{testKey1}},
		{in: " " + testKey1 + " , ," + testKey2 + ",", want: []string{testKey1, testKey2}},
		{in: testKey1 + ",secret", wantErr: "key 2 is 6 characters long"},
	}
	for _, tt := range tests {
		got, err := ParseAPIKeyList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseAPIKeyList(%q) error = %v, want one containing %q and no key", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("ParseAPIKeyList(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckOrigin(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"*", ""},
		{"https://app.example.com", ""},
		{"http://localhost:3000", ""},
		{"https://*.example.com", ""},
		{"https://app.example.com/", "has a path"},
		{"https://app.example.com/ui", "has a path"},
		{"app.example.com", "not an origin"},
		{"https://", "not an origin"},
	}
	for _, tt := range tests {
		err := CheckOrigin(tt.in)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckOrigin(%q) = %v, want %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestCORSWithConfig(t *testing.T) {
	const app = "https://app.example.com"
	preflight := func(origin, method string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": method,
			"Access-Control-Request-Headers": "authorization,content-type"}
	}
	png := tinyPNG(t)
	tests := []struct {
		name       string
		origins    []string
		req        accessReq
		want       int
		wantOrigin string // Access-Control-Allow-Origin; "" for none
	}{
		{name: "preflight, allowed origin", origins: []string{app}, req: accessReq{"OPTIONS", "/v1/process", preflight(app, "POST"), nil}, want: 204, wantOrigin: app},
		{name: "preflight, second allowed origin", origins: []string{"http://localhost:3000", app}, req: accessReq{"OPTIONS", "/v1/info", preflight(app, "POST"), nil}, want: 204, wantOrigin: app},
		{name: "preflight, wildcard", origins: []string{"*"}, req: accessReq{"OPTIONS", "/v1/process", preflight("https://any.test", "POST"), nil}, want: 204, wantOrigin: "*"},
		{name: "preflight, subdomain pattern", origins: []string{"https://*.example.com"}, req: accessReq{"OPTIONS", "/v1/process", preflight(app, "POST"), nil}, want: 204, wantOrigin: app},
		{name: "preflight, disallowed origin", origins: []string{app}, req: accessReq{"OPTIONS", "/v1/process", preflight("https://evil.test", "POST"), nil}, want: 204},
		{name: "preflight, look-alike origin", origins: []string{app}, req: accessReq{"OPTIONS", "/v1/process", preflight("https://app.example.com.evil.test", "POST"), nil}, want: 204},
		{name: "simple request, allowed origin, with key", origins: []string{app},
			req:  accessReq{"POST", "/v1/process", map[string]string{"Origin": app, "Content-Type": "image/png", "Authorization": "Bearer " + testKey1}, png},
			want: 200, wantOrigin: app},
		{name: "simple request, allowed origin, no key: the 401 is readable", origins: []string{app},
			req:  accessReq{"POST", "/v1/process", map[string]string{"Origin": app, "Content-Type": "image/png"}, png},
			want: 401, wantOrigin: app},
		{name: "simple request, disallowed origin", origins: []string{app},
			req:  accessReq{"POST", "/v1/process", map[string]string{"Origin": "https://evil.test", "Content-Type": "image/png", "Authorization": "Bearer " + testKey1}, png},
			want: 200},
		{name: "GET, allowed origin", origins: []string{app}, req: accessReq{"GET", "/healthz", map[string]string{"Origin": app}, nil}, want: 200, wantOrigin: app},
		{name: "no Origin", origins: []string{app}, req: accessReq{"GET", "/healthz", nil, nil}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := accessEcho(t, nil, CORS(tt.origins...), APIKey(testKey1))
			rec := tt.req.do(e)
			if rec.Code != tt.want {
				t.Fatalf("%s %s = %d, want %d; body %s", tt.req.method, tt.req.target, rec.Code, tt.want, rec.Body)
			}
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("Access-Control-Allow-Credentials = %q, want none", got)
			}
			if tt.req.header["Origin"] != "" && !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary = %q, want Origin in it", h.Values("Vary"))
			}
			if tt.wantOrigin == "" {
				for k := range h {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("%s: %q on an answer to a disallowed origin", k, h.Get(k))
					}
				}
				return
			}
			if tt.req.method == http.MethodOptions {
				want := map[string]string{
					"Access-Control-Allow-Methods": "POST,GET",
					"Access-Control-Allow-Headers": "Content-Type,Authorization,X-API-Key,X-Request-ID,Accept",
					"Access-Control-Max-Age":       "600",
				}
				for k, v := range want {
					if got := h.Get(k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if rec.Body.Len() != 0 {
					t.Errorf("preflight body = %q, want none", rec.Body)
				}
				return
			}
			expose := h.Get("Access-Control-Expose-Headers")
			for _, s := range []string{"X-Request-ID", "X-Image-Width", "X-Image-Height", "Retry-After"} {
				if !strings.Contains(expose, s) {
					t.Errorf("Access-Control-Expose-Headers = %q, want %s in it", expose, s)
				}
			}
		})
	}
}

func TestCORSWithConfig_keyHeaderAllowed(t *testing.T) {
	e := accessEcho(t, nil, CORSWithConfig(CORSConfig{AllowOrigins: []string{"*"}, KeyHeader: "X-Imgsvc-Key", MaxAge: 7200e9}))
	rec := accessReq{"OPTIONS", "/v1/process", map[string]string{"Origin": "https://a.test", "Access-Control-Request-Method": "POST"}, nil}.do(e)
	if got := rec.Header().Get("Access-Control-Allow-Headers"); !strings.Contains(got, "X-Imgsvc-Key") {
		t.Errorf("Access-Control-Allow-Headers = %q, want X-Imgsvc-Key in it", got)
	}
	if got := rec.Header().Get("Access-Control-Max-Age"); got != "7200" {
		t.Errorf("Access-Control-Max-Age = %q, want 7200", got)
	}
}

// TestSecureHeadersWithConfig checks the headers are on every kind of answer,
// errors included, on a server with the whole access chain.
func TestSecureHeadersWithConfig(t *testing.T) {
	draining := New(ProcessFn(nil), nil, Config{})
	draining.SetDraining(true)
	panics := New(ProcessFn(func(context.Context, []byte, imaging.Options) (imaging.Result, error) {
		return imaging.Result{}, imaging.Errorf(imaging.CodeOverloaded, "queue full")
	}), nil, Config{})
	auth := map[string]string{"Authorization": "Bearer " + testKey1}
	png := tinyPNG(t)
	tests := []struct {
		name string
		srv  *Server
		cfg  SecureHeadersConfig
		req  accessReq
		want int
		corp string
	}{
		{name: "200", req: accessReq{"GET", "/healthz", nil, nil}, want: 200},
		{name: "200 image", req: accessReq{"POST", "/v1/process", map[string]string{"Authorization": "Bearer " + testKey1, "Content-Type": "image/png"}, png}, want: 200},
		{name: "400", req: accessReq{"POST", "/v1/process", auth, png}, want: 400},
		{name: "401", req: accessReq{"POST", "/v1/process", nil, png}, want: 401},
		{name: "404", req: accessReq{"GET", "/nope", nil, nil}, want: 404},
		{name: "405", req: accessReq{"DELETE", "/healthz", nil, nil}, want: 405},
		{name: "503 readyz", srv: draining, req: accessReq{"GET", "/readyz", nil, nil}, want: 503},
		{name: "503 overloaded", srv: panics, req: accessReq{"POST", "/v1/process", map[string]string{"Authorization": "Bearer " + testKey1, "Content-Type": "image/png"}, png}, want: 503},
		{name: "204 preflight", req: accessReq{"OPTIONS", "/v1/process", map[string]string{"Origin": "https://a.test", "Access-Control-Request-Method": "POST"}, nil}, want: 204},
		{name: "cross-origin when CORS is on", cfg: SecureHeadersConfig{CrossOriginResourcePolicy: "cross-origin"},
			req: accessReq{"GET", "/v1/openapi.json", nil, nil}, want: 200, corp: "cross-origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := accessEcho(t, tt.srv, SecureHeadersWithConfig(tt.cfg), CORS("*"), APIKey(testKey1))
			rec := tt.req.do(e)
			if rec.Code != tt.want {
				t.Fatalf("%s %s = %d, want %d; body %s", tt.req.method, tt.req.target, rec.Code, tt.want, rec.Body)
			}
			corp := tt.corp
			if corp == "" {
				corp = "same-site"
			}
			want := map[string]string{
				"X-Content-Type-Options":       "nosniff",
				"Referrer-Policy":              "no-referrer",
				"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
				"Cross-Origin-Resource-Policy": corp,
				"X-Frame-Options":              "DENY",
			}
			for k, v := range want {
				if got := rec.Header().Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want exactly %q", k, got, v)
				}
			}
			for _, k := range []string{"Server", "X-Powered-By", "X-XSS-Protection", "Strict-Transport-Security"} {
				if got := rec.Header().Get(k); got != "" {
					t.Errorf("%s = %q, want none", k, got)
				}
			}
		})
	}
}

func TestEchoPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/healthz", "/healthz"},
		{" /v1/errors/{code} ", "/v1/errors/:code"},
		{"/v1/errors/:code", "/v1/errors/:code"},
		{"/a/{b}/c/{d}", "/a/:b/c/:d"},
		{"/broken/{x", "/broken/{x"},
	}
	for _, tt := range tests {
		if got := echoPath(tt.in); got != tt.want {
			t.Errorf("echoPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
