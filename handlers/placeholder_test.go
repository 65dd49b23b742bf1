package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/imgsvc/imgsvc/imaging"
)

// redPNG is a 300×200 PNG, red but for a blue stripe on the left.
func redPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			c := color.NRGBA{220, 30, 30, 255}
			if x < 60 {
				c = color.NRGBA{20, 40, 200, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func placeholderServer() *Server {
	return New(imaging.NewPipeline(imaging.Limits{}, inlineRunner{}, nil), nil, Config{})
}

// TestServer_handleInfo_placeholder: placeholder=true, in each of the
// forms, adds a 28-character BlurHash and a #rrggbb dominant colour to the
// usual answer; placeholder=false or none adds nothing.
func TestServer_handleInfo_placeholder(t *testing.T) {
	src := redPNG(t)
	mp, mpType := multipartBody(t, map[string]string{"placeholder": "true"}, map[string][]byte{"image": src})
	jsonBody := func(opts string) []byte {
		return []byte(`{"image_b64":"` + base64.StdEncoding.EncodeToString(src) + `","options":` + opts + `}`)
	}
	tests := []struct {
		name   string
		target string
		ct     string
		body   []byte
		want   bool
	}{
		{"query", "/v1/info?placeholder=true", "image/png", src, true},
		{"bare query flag", "/info?placeholder", "image/png", src, true},
		{"multipart field", "/v1/info", mpType, mp.Bytes(), true},
		{"json option", "/v1/info", "application/json", jsonBody(`{"placeholder":true}`), true},
		{"json option as string", "/v1/info", "application/json", jsonBody(`{"placeholder":"1"}`), true},
		{"false", "/v1/info?placeholder=false", "image/png", src, false},
		{"none", "/v1/info", "image/png", src, false},
	}
	hexRe := regexp.MustCompile(`^#[0-9a-f]{6}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tt.target, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ct)
			rec := serve(t, placeholderServer(), req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got["width"] != 300.0 || got["format"] != "png" {
				t.Errorf("answer %s lacks the image's facts", rec.Body)
			}
			bh, hasBH := got["blurhash"].(string)
			dc, hasDC := got["dominant_color"].(string)
			if !tt.want {
				if hasBH || hasDC {
					t.Errorf("answer %s has placeholder fields, want none", rec.Body)
				}
				return
			}
			if len(bh) != 28 {
				t.Errorf("blurhash %q has %d characters, want 28 (4×3 components)", bh, len(bh))
			}
			if !hexRe.MatchString(dc) {
				t.Errorf("dominant_color %q is not #rrggbb", dc)
			}
			if !strings.HasPrefix(dc, "#d") && !strings.HasPrefix(dc, "#e") {
				t.Errorf("dominant_color %q, want about #dc1e1e (red)", dc)
			}
		})
	}
}

// TestServer_handleInfo_placeholderRefusals: a bad placeholder value is a
// precise invalid_option; every other option is still unknown_option, and a
// near miss of placeholder is pointed at it.
func TestServer_handleInfo_placeholderRefusals(t *testing.T) {
	src := tinyPNG(t)
	jsonReq := `{"image_b64":"` + base64.StdEncoding.EncodeToString(src) + `","options":{"placeholder":"maybe"}}`
	tests := []struct {
		name       string
		target, ct string
		body       []byte
		status     int
		code       imaging.Code
		field      string
		detail     string
	}{
		{"bad value", "/v1/info?placeholder=maybe", "image/png", src, 400, imaging.CodeInvalidOption, "placeholder", `placeholder must be a boolean, got "maybe"`},
		{"bad json value", "/v1/info", "application/json", []byte(jsonReq), 400, imaging.CodeInvalidOption, "options.placeholder", `options.placeholder must be a boolean, got "maybe"`},
		{"two values", "/v1/info?placeholder=true&placeholder=false", "image/png", src, 400, imaging.CodeInvalidOption, "placeholder", `given more than once`},
		{"with another option", "/v1/info?placeholder=true&width=3", "image/png", src, 400, imaging.CodeUnknownOption, "width", `/v1/info takes no options but placeholder, got "width"`},
		{"near miss", "/v1/info?placeholders=true", "image/png", src, 400, imaging.CodeUnknownOption, "placeholders", `did you mean "placeholder"`},
		{"alias", "/v1/info?blurhash=1", "image/png", src, 400, imaging.CodeUnknownOption, "blurhash", `did you mean "placeholder"`},
		{"not an image", "/v1/info?placeholder=true", "image/png", []byte("\x89PNG\r\n\x1a\nnot really"), 400, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tt.target, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ct)
			rec := serve(t, placeholderServer(), req)
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("body is not a problem: %v: %s", err, rec.Body)
			}
			if tt.code == "" {
				if rec.Code < 400 || rec.Code >= 500 {
					t.Errorf("status %d (%s), want a 4xx", rec.Code, rec.Body)
				}
				return
			}
			if rec.Code != tt.status || p.Code != string(tt.code) {
				t.Fatalf("got %d %s, want %d %s: %s", rec.Code, p.Code, tt.status, tt.code, rec.Body)
			}
			if p.Field != tt.field || !strings.Contains(p.Detail, tt.detail) || p.Hint == "" {
				t.Errorf("field %q detail %q hint %q; want field %q, detail containing %q, a hint", p.Field, p.Detail, p.Hint, tt.field, tt.detail)
			}
		})
	}
}
