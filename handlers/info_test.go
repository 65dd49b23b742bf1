package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgsvc/imgsvc/imaging"
)

// TestServer_handleInfo_options: /v1/info names every option it was given,
// in the same order each time, and points the field at the first of them.
func TestServer_handleInfo_options(t *testing.T) {
	src := tinyPNG(t)
	mp, mpType := multipartBody(t, map[string]string{"width": "3", "height": "2", "blur": "1"}, map[string][]byte{"image": src})
	tests := []struct {
		name       string
		target, ct string
		body       []byte
		wantDetail string
		wantField  string
	}{
		{"one query option", "/v1/info?width=3", "image/png", src, `/v1/info takes no options but placeholder, got "width"`, "width"},
		{"query options", "/v1/info?width=3&height=2&blur=1&fit=cover", "image/png", src,
			`/v1/info takes no options but placeholder, got 4: "blur", "fit", "height", "width"`, "blur"},
		{"multipart options", "/v1/info", mpType, mp.Bytes(), `got 3: "blur", "height", "width"`, "blur"},
		{"json options", "/v1/info", "application/json",
			[]byte(`{"image_b64":"` + base64.StdEncoding.EncodeToString(src) + `","options":{"width":3,"height":2,"blur":1}}`),
			`got 3: "blur", "height", "width"`, "options.blur"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Map iteration order differs from run to run: ask several times.
			for range 20 {
				req := httptest.NewRequest(http.MethodPost, tt.target, bytes.NewReader(tt.body))
				req.Header.Set("Content-Type", tt.ct)
				rec := serve(t, New(nil, nil, Config{}), req)
				var p Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
					t.Fatalf("body is not a problem: %v: %s", err, rec.Body)
				}
				if rec.Code != 400 || p.Code != string(imaging.CodeUnknownOption) {
					t.Fatalf("got %d %s, want 400 unknown_option: %s", rec.Code, p.Code, rec.Body)
				}
				if !strings.Contains(p.Detail, tt.wantDetail) {
					t.Fatalf("detail %q does not contain %q", p.Detail, tt.wantDetail)
				}
				if p.Field != tt.wantField {
					t.Fatalf("field = %q, want %q", p.Field, tt.wantField)
				}
			}
		})
	}
}
