package main

import (
	"bytes"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	accessKey1 = "e2e-key-one-0123456789"
	accessKey2 = "e2e-key-two-9876543210" // from the keys file
	accessKey3 = "e2e-key-env-abcdefabcd" // from IMGSVC_API_KEYS
	accessApp  = "https://app.example.com"
)

// checkSecurityHeaders checks the headers every answer carries.
func checkSecurityHeaders(t *testing.T, what string, h http.Header, corp string) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"X-Frame-Options":              "DENY",
		"Cross-Origin-Resource-Policy": corp,
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if got := h.Get("Server"); got != "" {
		t.Errorf("%s: Server = %q, want none", what, got)
	}
}

func checkUnauthorized(t *testing.T, what string, r response, challenge string) {
	t.Helper()
	if r.status != http.StatusUnauthorized {
		t.Fatalf("%s: status %d, want 401; body %s", what, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type = %q, want application/problem+json", what, ct)
	}
	if got := r.header.Get("WWW-Authenticate"); got != challenge {
		t.Errorf("%s: WWW-Authenticate = %q, want %q", what, got, challenge)
	}
	var p struct{ Code, Hint, Type string }
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("%s: body %q: %v", what, r.body, err)
	}
	if p.Code != "unauthorized" || p.Type != "/v1/errors/unauthorized" || !strings.Contains(p.Hint, "Authorization: Bearer") {
		t.Errorf("%s: problem %s, want code unauthorized with a Bearer hint", what, r.body)
	}
	for _, k := range []string{accessKey1, accessKey2, accessKey3} {
		if bytes.Contains(r.body, []byte(k)) {
			t.Errorf("%s: the answer shows a configured key: %s", what, r.body)
		}
	}
}

// TestAccess_E2E starts run with keys (flag and file) and CORS, and checks
// them with real HTTP requests, then with curl.
func TestAccess_E2E(t *testing.T) {
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keysFile, []byte("# imgsvc keys\r\n\r\n"+accessKey2+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	img := encodeImage(t, image.NewNRGBA(image.Rect(0, 0, 8, 6)), "png")
	imgPath := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(imgPath, img, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startRun(t, nil, "-api-keys", accessKey1, "-api-keys-file", keysFile, "-cors-origins", accessApp+",http://localhost:3000")
	pngCT := map[string]string{"Content-Type": "image/png"}
	with := func(kv ...string) map[string]string {
		h := map[string]string{"Content-Type": "image/png"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}

	t.Run("keys", func(t *testing.T) {
		checkUnauthorized(t, "no key", doRequest(t, "POST", s.base+"/v1/process", pngCT, img), `Bearer realm="imgsvc"`)
		checkUnauthorized(t, "wrong key", doRequest(t, "POST", s.base+"/v1/info", with("Authorization", "Bearer "+accessKey1+"x"), img),
			`Bearer realm="imgsvc", error="invalid_token"`)
		checkUnauthorized(t, "key of another instance", doRequest(t, "POST", s.base+"/process", with("X-API-Key", accessKey3), img),
			`Bearer realm="imgsvc", error="invalid_token"`)
		for _, tt := range []struct {
			name, path string
			header     map[string]string
			wantCT     string
		}{
			{"bearer from the flag", "/v1/process", with("Authorization", "Bearer "+accessKey1), "image/png"},
			{"X-API-Key from the file", "/v1/process", with("X-API-Key", accessKey2), "image/png"},
			{"bearer from the file on info", "/v1/info", with("Authorization", "Bearer "+accessKey2), "application/json"},
		} {
			r := doRequest(t, "POST", s.base+tt.path, tt.header, img)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != tt.wantCT {
				t.Errorf("%s: %d %s, want 200 %s; body %.200s", tt.name, r.status, r.header.Get("Content-Type"), tt.wantCT, r.body)
			}
			checkSecurityHeaders(t, tt.name, r.header, "cross-origin")
		}
		for _, path := range []string{"/healthz", "/readyz", "/v1/openapi.json", "/v1/errors/unauthorized"} {
			if r := doRequest(t, "GET", s.base+path, nil, nil); r.status != http.StatusOK {
				t.Errorf("GET %s without a key = %d, want 200 (exempt)", path, r.status)
			}
		}
		r := doRequest(t, "GET", s.base+"/v1/nope", nil, nil)
		if r.status != http.StatusNotFound {
			t.Errorf("GET /v1/nope without a key = %d, want 404", r.status)
		}
		checkSecurityHeaders(t, "404", r.header, "cross-origin")
	})

	t.Run("cors", func(t *testing.T) {
		pre := doRequest(t, "OPTIONS", s.base+"/v1/process", map[string]string{"Origin": accessApp,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}, nil)
		if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != accessApp ||
			pre.header.Get("Access-Control-Allow-Methods") != "POST,GET" ||
			!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
			pre.header.Get("Access-Control-Max-Age") == "" {
			t.Errorf("preflight from an allowed origin = %d %v, want 204 with the CORS headers", pre.status, pre.header)
		}
		checkSecurityHeaders(t, "preflight", pre.header, "cross-origin")
		bad := doRequest(t, "OPTIONS", s.base+"/v1/process", map[string]string{"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"}, nil)
		if got := bad.header.Get("Access-Control-Allow-Origin"); bad.status != http.StatusNoContent || got != "" {
			t.Errorf("preflight from another origin = %d, Access-Control-Allow-Origin %q; want 204 and none", bad.status, got)
		}
		r := doRequest(t, "POST", s.base+"/v1/process", with("Origin", "http://localhost:3000", "Authorization", "Bearer "+accessKey1), img)
		if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
			!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "X-Image-Width") {
			t.Errorf("POST from an allowed origin = %d %v, want 200 with Access-Control-Allow-Origin and Expose-Headers", r.status, r.header)
		}
		r = doRequest(t, "POST", s.base+"/v1/process", with("Origin", accessApp), img)
		if r.status != http.StatusUnauthorized || r.header.Get("Access-Control-Allow-Origin") != accessApp {
			t.Errorf("POST without a key from an allowed origin = %d, Access-Control-Allow-Origin %q; want 401 the page can read",
				r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("admin", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/metrics"} {
			r := doRequest(t, "GET", s.admin+path, nil, nil)
			if r.status != http.StatusOK {
				t.Errorf("admin GET %s without a key = %d, want 200", path, r.status)
			}
			checkSecurityHeaders(t, "admin "+path, r.header, "same-site")
		}
		r := doRequest(t, "GET", s.admin+"/nope", nil, nil)
		checkSecurityHeaders(t, "admin 404", r.header, "same-site")
	})

	t.Run("curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl is not installed: skipping the curl checks (the net/http checks above ran)")
		}
		curlRun := func(args ...string) (status, headers string) {
			t.Helper()
			hdr := filepath.Join(t.TempDir(), "headers")
			all := append([]string{"-s", "-o", os.DevNull, "-D", hdr, "-w", "%{http_code}"}, args...)
			out, err := exec.Command("curl", all...).Output()
			if err != nil {
				t.Fatalf("curl %q: %v", args, err)
			}
			h, _ := os.ReadFile(hdr)
			return string(out), strings.ToLower(string(h))
		}
		st, h := curlRun("--data-binary", "@"+imgPath, "-H", "Content-Type: image/png", s.base+"/v1/process")
		if st != "401" || !strings.Contains(h, `www-authenticate: bearer realm="imgsvc"`) {
			t.Errorf("curl without a key: %s, headers\n%s\nwant 401 with WWW-Authenticate", st, h)
		}
		st, h = curlRun("--data-binary", "@"+imgPath, "-H", "Content-Type: image/png", "-H", "Authorization: Bearer "+accessKey1, s.base+"/v1/process?width=4")
		if st != "200" || !strings.Contains(h, "x-image-width: 4") || !strings.Contains(h, "x-content-type-options: nosniff") {
			t.Errorf("curl with a bearer key: %s, headers\n%s\nwant 200, 4 pixels wide, nosniff", st, h)
		}
		st, _ = curlRun("-F", "image=@"+imgPath, "-H", "X-API-Key: "+accessKey2, s.base+"/v1/info")
		if st != "200" {
			t.Errorf("curl -F with X-API-Key: %s, want 200", st)
		}
		st, h = curlRun("-X", "OPTIONS", "-H", "Origin: "+accessApp, "-H", "Access-Control-Request-Method: POST", s.base+"/v1/process")
		if st != "204" || !strings.Contains(h, "access-control-allow-origin: "+accessApp) {
			t.Errorf("curl preflight: %s, headers\n%s\nwant 204 with Access-Control-Allow-Origin", st, h)
		}
	})

	// No key reaches the logs, whatever the requests above did.
	out := s.log.String()
	for _, k := range []string{accessKey1, accessKey2} {
		if strings.Contains(out, k) {
			t.Errorf("run's output shows a configured key:\n%s", out)
		}
	}
	if !strings.Contains(out, `"api_keys":2`) {
		t.Errorf("run's output does not say 2 API keys are configured:\n%s", out)
	}
}

// TestAccess_E2E_envAndDefaults checks keys and CORS from the environment,
// and that with no configuration no key is needed and no CORS header sent.
func TestAccess_E2E_envAndDefaults(t *testing.T) {
	img := encodeImage(t, image.NewNRGBA(image.Rect(0, 0, 8, 6)), "png")
	t.Run("env", func(t *testing.T) {
		s := startRun(t, map[string]string{"IMGSVC_API_KEYS": accessKey3, "IMGSVC_CORS_ORIGINS": "*", "IMGSVC_API_KEY_HEADER": "X-Imgsvc-Key"})
		checkUnauthorized(t, "X-API-Key is not the header", doRequest(t, "POST", s.base+"/v1/process",
			map[string]string{"Content-Type": "image/png", "X-API-Key": accessKey3}, img), `Bearer realm="imgsvc"`)
		r := doRequest(t, "POST", s.base+"/v1/process", map[string]string{"Content-Type": "image/png", "X-Imgsvc-Key": accessKey3, "Origin": "https://any.test"}, img)
		if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("POST with the env key in X-Imgsvc-Key = %d, Access-Control-Allow-Origin %q; want 200 and *", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
		pre := doRequest(t, "OPTIONS", s.base+"/v1/process", map[string]string{"Origin": "https://any.test", "Access-Control-Request-Method": "POST"}, nil)
		if !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "X-Imgsvc-Key") {
			t.Errorf("preflight Access-Control-Allow-Headers = %q, want X-Imgsvc-Key in it", pre.header.Get("Access-Control-Allow-Headers"))
		}
		if out := s.log.String(); strings.Contains(out, accessKey3) {
			t.Errorf("run's output shows the key:\n%s", out)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		s := startRun(t, nil)
		r := doRequest(t, "POST", s.base+"/v1/process", map[string]string{"Content-Type": "image/png", "Origin": accessApp}, img)
		if r.status != http.StatusOK {
			t.Errorf("POST with no keys configured = %d, want 200; body %s", r.status, r.body)
		}
		for k := range r.header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s = %q with CORS off", k, r.header.Get(k))
			}
		}
		checkSecurityHeaders(t, "default 200", r.header, "same-site")
		r = doRequest(t, "GET", s.base+"/v1/process", nil, nil)
		if r.status != http.StatusMethodNotAllowed {
			t.Errorf("GET /v1/process with no keys = %d, want 405", r.status)
		}
		checkSecurityHeaders(t, "default 405", r.header, "same-site")
	})
}

// TestParseConfig_access checks the access flags' errors, which must never
// quote a key.
func TestParseConfig_access(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte("# ok\n"+accessKey2+"\nshort-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# no keys yet\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		wantIn []string
	}{
		{name: "short key flag", args: []string{"-api-keys", accessKey1 + ",short-secret"}, wantIn: []string{"-api-keys", "key 2", "12 characters"}},
		{name: "short key env", env: map[string]string{"IMGSVC_API_KEYS": "short-secret"}, wantIn: []string{"IMGSVC_API_KEYS", "key 1"}},
		{name: "key with a space", args: []string{"-api-keys", "short secret with spaces"}, wantIn: []string{"-api-keys", "offset 5"}},
		{name: "bad line in file", args: []string{"-api-keys-file", keys}, wantIn: []string{"-api-keys-file", keys, "line 3"}},
		{name: "file from env", env: map[string]string{"IMGSVC_API_KEYS_FILE": keys}, wantIn: []string{"IMGSVC_API_KEYS_FILE", "line 3"}},
		{name: "file without keys", args: []string{"-api-keys-file", empty}, wantIn: []string{"-api-keys-file", "has no key"}},
		{name: "missing file", args: []string{"-api-keys-file", filepath.Join(dir, "nope")}, wantIn: []string{"-api-keys-file", "no such file"}},
		{name: "header Authorization", args: []string{"-api-key-header", "Authorization"}, wantIn: []string{"-api-key-header"}},
		{name: "header not a token", args: []string{"-api-key-header", "X API Key"}, wantIn: []string{"-api-key-header", "X API Key"}},
		{name: "exempt not a path", args: []string{"-auth-exempt", "healthz"}, wantIn: []string{"-auth-exempt", "healthz"}},
		{name: "origin with a slash", args: []string{"-cors-origins", "https://app.example.com/"}, wantIn: []string{"-cors-origins", "has a path"}},
		{name: "origin env", env: map[string]string{"IMGSVC_CORS_ORIGINS": "app.example.com"}, wantIn: []string{"IMGSVC_CORS_ORIGINS", "not an origin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := configError(t, tt.args, tt.env, tt.wantIn)
			for _, secret := range []string{"short-secret", "secret with", accessKey1, accessKey2} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes a key", err)
				}
			}
		})
	}

	c, err := parseConfig([]string{"-api-keys", " " + accessKey1 + ", ", "-api-keys-file", empty + "-x"}, cfgEnv(nil), io.Discard)
	if err == nil {
		t.Errorf("parseConfig with a missing keys file = %+v, want an error", c)
	}
	if err := os.WriteFile(keys, []byte(accessKey2+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = parseConfig([]string{"-api-keys", " " + accessKey1 + ", "}, cfgEnv(map[string]string{"IMGSVC_API_KEYS_FILE": keys, "IMGSVC_AUTH_EXEMPT": "none"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.keys, ",") != accessKey1+","+accessKey2 || c.AuthExempt != "none" {
		t.Errorf("keys = %d of them, auth-exempt %q; want the flag's and the file's, and none", len(c.keys), c.AuthExempt)
	}
}
