package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// ProcessFn is a func-field fake of Processor.
type ProcessFn func(ctx context.Context, src []byte, opt imaging.Options) (imaging.Result, error)

func (f ProcessFn) Process(ctx context.Context, src []byte, opt imaging.Options) (imaging.Result, error) {
	return f(ctx, src, opt)
}

// Placeholder fails: tests of placeholders use a real pipeline.
func (f ProcessFn) Placeholder(context.Context, []byte) (imaging.Placeholder, error) {
	return imaging.Placeholder{}, errors.New("ProcessFn computes no placeholder")
}

func tinyPNG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// serve runs one request through a fresh Echo with the server's routes.
func serve(t testing.TB, s *Server, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	e := echo.New()
	s.Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func multipartBody(t testing.TB, parts map[string]string, files map[string][]byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for name, data := range files {
		fw, err := w.CreateFormFile(name, name+".png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	for k, v := range parts {
		w.WriteField(k, v)
	}
	w.Close()
	return &b, w.FormDataContentType()
}

func TestServer_handleProcess_forms(t *testing.T) {
	src := tinyPNG(t)
	out := []byte("encoded-output")
	var gotSrc []byte
	var gotOpt imaging.Options
	proc := ProcessFn(func(_ context.Context, b []byte, opt imaging.Options) (imaging.Result, error) {
		gotSrc, gotOpt = b, opt
		return imaging.Result{Data: out, Format: imaging.FormatPNG, Width: 7, Height: 5}, nil
	})
	b64 := base64.StdEncoding.EncodeToString(src)
	mp, mpType := multipartBody(t, map[string]string{"width": "7", "metadata": `{"id":"42"}`}, map[string][]byte{"image": src})
	mpFile, mpFileType := multipartBody(t, map[string]string{"grayscale": "true"}, map[string][]byte{"file": src})

	tests := []struct {
		name        string
		ct, accept  string
		query       string
		body        []byte
		wantCT      string
		wantJSON    bool
		checkOption func(imaging.Options) bool
	}{
		{"raw png", "image/png", "", "?width=7", src, "image/png", false, func(o imaging.Options) bool { return o.Width == 7 }},
		{"octet-stream is sniffed", "application/octet-stream", "", "", src, "image/png", false, nil},
		{"multipart image part", mpType, "", "", mp.Bytes(), "image/png", false, func(o imaging.Options) bool { return o.Width == 7 }},
		{"multipart file part and query", mpFileType, "", "?height=3", mpFile.Bytes(), "image/png", false,
			func(o imaging.Options) bool { return o.Grayscale && o.Height == 3 }},
		{"json", "application/json", "", "", []byte(`{"image_b64":"` + b64 + `","metadata":{"id":"42","n":[1,2]},"options":{"width":7,"grayscale":true}}`),
			"application/json", true, func(o imaging.Options) bool { return o.Width == 7 && o.Grayscale }},
		{"json asking for image bytes", "application/json", "image/*", "", []byte(`{"image_b64":"` + b64 + `"}`), "image/png", false, nil},
		{"raw asking for json", "image/png", "application/json", "", src, "application/json", true, nil},
		{"json with charset", "application/json; charset=utf-8", "", "", []byte(`{"image_b64":"data:image/png;base64,` + b64 + `"}`), "application/json", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotSrc = nil
			req := httptest.NewRequest(http.MethodPost, "/v1/process"+tt.query, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ct)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := serve(t, New(proc, nil, Config{}), req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.wantCT) {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantCT)
			}
			if !bytes.Equal(gotSrc, src) {
				t.Errorf("the processor got %d bytes, want the %d-byte image", len(gotSrc), len(src))
			}
			if tt.checkOption != nil && !tt.checkOption(gotOpt) {
				t.Errorf("options %+v fail the check", gotOpt)
			}
			if !tt.wantJSON {
				if !bytes.Equal(rec.Body.Bytes(), out) {
					t.Errorf("body = %q, want the processor's output", rec.Body.Bytes())
				}
				return
			}
			var resp struct {
				ImageB64    string          `json:"image_b64"`
				ContentType string          `json:"content_type"`
				Width       int             `json:"width"`
				Height      int             `json:"height"`
				Bytes       int             `json:"bytes"`
				Metadata    json.RawMessage `json:"metadata"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("response is not JSON: %v", err)
			}
			dec, _ := base64.StdEncoding.DecodeString(resp.ImageB64)
			if !bytes.Equal(dec, out) || resp.ContentType != "image/png" || resp.Width != 7 || resp.Height != 5 || resp.Bytes != len(out) {
				t.Errorf("JSON response = %+v", resp)
			}
			if strings.Contains(string(tt.body), `"metadata"`) && string(resp.Metadata) != `{"id":"42","n":[1,2]}` {
				t.Errorf("metadata = %s, want the client's object unchanged", resp.Metadata)
			}
		})
	}
}

func TestServer_handleProcess_errors(t *testing.T) {
	src := tinyPNG(t)
	proc := ProcessFn(func(context.Context, []byte, imaging.Options) (imaging.Result, error) {
		return imaging.Result{}, imaging.Errorf(imaging.CodeOverloaded, "queue full").WithHint("retry")
	})
	noBoundary := "multipart/form-data"
	mp, mpType := multipartBody(t, map[string]string{"width": "1"}, map[string][]byte{"photo": src})
	tests := []struct {
		name       string
		ct, accept string
		query      string
		body       []byte
		wantStatus int
		wantCode   imaging.Code
		wantField  string
		wantDetail string
	}{
		{"no content type", "", "", "", src, 400, CodeMissingContentType, "", "PNG"},
		{"path without content type", "", "", "", []byte("img.jpg"), 400, CodeBodyIsPath, "", `"img.jpg"`},
		{"url as body", "image/jpeg", "", "", []byte("https://example.com/a.jpg"), 400, CodeBodyIsURL, "", "example.com"},
		{"empty body", "image/png", "", "", nil, 400, CodeEmptyBody, "", "empty"},
		{"form urlencoded", "application/x-www-form-urlencoded", "", "", src, 415, CodeUnsupportedContentType, "", "curl -d @file"},
		{"text plain with png bytes", "text/plain", "", "", src, 415, CodeUnsupportedContentType, "", "PNG image"},
		{"mismatch", "image/jpeg", "", "", src, 400, CodeContentTypeMismatch, "", "image/jpeg"},
		{"html bytes", "image/png", "", "", []byte("<!DOCTYPE html><p>hi</p>"), 415, imaging.CodeUnsupportedImageFormat, "", "HTML"},
		{"gzip encoding", "image/png", "", "", src, 415, CodeUnsupportedContentType, "", "Content-Encoding"},
		{"json syntax", "application/json", "", "", []byte("{\n  \"image_b64\": \"x\",\n  oops\n}"), 400, CodeInvalidJSON, "", "line 3, column 3"},
		{"json wrong key", "application/json", "", "", []byte(`{"image":"abc"}`), 400, CodeUnknownField, "image", `did you mean "image_b64"`},
		{"json option at top level", "application/json", "", "", []byte(`{"image_b64":"abc","width":3}`), 400, CodeUnknownField, "width", "is an option"},
		{"json missing image", "application/json", "", "", []byte(`{"metadata":{}}`), 400, CodeMissingField, "image_b64", "no \"image_b64\""},
		{"json image not string", "application/json", "", "", []byte(`{"image_b64":12}`), 400, CodeInvalidFieldType, "image_b64", "a number"},
		{"json bad base64", "application/json", "", "", []byte(`{"image_b64":"iVBOR#w0"}`), 400, CodeInvalidBase64, "image_b64", "offset 5"},
		{"json truncated base64", "application/json", "", "", []byte(`{"image_b64":"iVBORw0KG"}`), 400, CodeInvalidBase64, "image_b64", "truncated"},
		{"json mixed alphabets", "application/json", "", "", []byte(`{"image_b64":"ab+c-d__"}`), 400, CodeInvalidBase64, "image_b64", "mixes"},
		{"json path in image_b64", "application/json", "", "", []byte(`{"image_b64":"C:\\photos\\cat.png"}`), 400, CodeBodyIsPath, "image_b64", "file path"},
		{"json metadata array", "application/json", "", "", []byte(`{"image_b64":"` + base64.StdEncoding.EncodeToString(src) + `","metadata":[1]}`), 400, CodeInvalidMetadata, "metadata", "an array"},
		{"json deep nesting", "application/json", "", "", []byte(`{"image_b64":"a","metadata":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), 400, CodeInvalidJSON, "", "nested"},
		{"json trailing data", "application/json", "", "", []byte(`{"image_b64":"a"} {}`), 400, CodeInvalidJSON, "", "after the JSON object"},
		{"json options not object", "application/json", "", "", []byte(`{"image_b64":"` + base64.StdEncoding.EncodeToString(src) + `","options":[1]}`), 400, CodeInvalidFieldType, "options", "an array"},
		{"json option bad", "application/json", "", "", []byte(`{"image_b64":"` + base64.StdEncoding.EncodeToString(src) + `","options":{"width":-1}}`), 400, imaging.CodeInvalidOption, "options.width", "out of range"},
		{"multipart no boundary", noBoundary, "", "", []byte("--x\r\n"), 400, CodeMalformedMultipart, "", "boundary"},
		{"multipart wrong part name", mpType, "", "", mp.Bytes(), 400, CodeMissingFilePart, "image", `"photo" (file "photo.png"`},
		{"multipart garbage", "multipart/form-data; boundary=zzz", "", "", []byte("not multipart at all"), 400, CodeMalformedMultipart, "", "not multipart"},
		{"unknown option", "image/png", "", "?widht=3", src, 400, imaging.CodeUnknownOption, "widht", `did you mean "width"`},
		{"not acceptable", "image/png", "image/jxl", "", src, 406, CodeNotAcceptable, "", "image/jxl"},
		{"processor error passes through", "image/png", "", "", src, 503, imaging.CodeOverloaded, "", "queue full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/process"+tt.query, bytes.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			if tt.name == "gzip encoding" {
				req.Header.Set("Content-Encoding", "gzip")
			}
			rec := serve(t, New(proc, nil, Config{}), req)
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("body is not a problem: %v: %s", err, rec.Body)
			}
			if rec.Code != tt.wantStatus || p.Code != string(tt.wantCode) || p.Status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d %s: %s", rec.Code, p.Code, tt.wantStatus, tt.wantCode, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != MIMEProblemJSON {
				t.Errorf("Content-Type = %q, want %s", ct, MIMEProblemJSON)
			}
			if p.Field != tt.wantField {
				t.Errorf("field = %q, want %q", p.Field, tt.wantField)
			}
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail %q does not contain %q", p.Detail, tt.wantDetail)
			}
			if p.Hint == "" || p.Title == "" || p.Type != ProblemTypeURI(tt.wantCode) {
				t.Errorf("incomplete problem: %+v", p)
			}
			if tt.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestServer_bodyLimit(t *testing.T) {
	proc := ProcessFn(func(context.Context, []byte, imaging.Options) (imaging.Result, error) {
		t.Error("the processor ran for a body over the limit")
		return imaging.Result{}, nil
	})
	s := New(proc, nil, Config{MaxBodyBytes: 100})
	body := bytes.Repeat([]byte{0xFF}, 101)
	for _, known := range []bool{true, false} {
		req := httptest.NewRequest(http.MethodPost, "/v1/process", bytes.NewReader(body))
		req.Header.Set("Content-Type", "image/jpeg")
		if !known {
			req.ContentLength = -1 // chunked: the limit is enforced while reading
		}
		rec := serve(t, s, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "100 bytes") {
			t.Errorf("content length known=%v: got %d %s, want 413 naming the limit", known, rec.Code, rec.Body)
		}
	}
}

func TestServer_routes(t *testing.T) {
	s := New(nil, nil, Config{})
	tests := []struct {
		method, path string
		wantStatus   int
		wantCode     string
	}{
		{http.MethodGet, "/healthz", 200, ""},
		{http.MethodHead, "/readyz", 200, ""},
		{http.MethodGet, "/v1/openapi.json", 200, ""},
		{http.MethodGet, "/v1/errors/body_is_path", 200, ""},
		{http.MethodGet, "/v1/errors/nope", 404, "not_found"},
		{http.MethodGet, "/v1/process", 405, "method_not_allowed"},
		{http.MethodGet, "/nowhere", 404, "not_found"},
		{http.MethodGet, "/metrics", 404, "not_found"}, // metrics live on the admin port only
	}
	for _, tt := range tests {
		rec := serve(t, s, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.wantStatus {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.wantStatus)
		}
		if tt.wantCode != "" && !strings.Contains(rec.Body.String(), `"code":"`+tt.wantCode+`"`) {
			t.Errorf("%s %s body %s lacks code %s", tt.method, tt.path, rec.Body, tt.wantCode)
		}
		if tt.wantStatus == 405 && rec.Header().Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tt.method, tt.path)
		}
	}
}

type saturation bool

func (s saturation) Saturated() bool { return bool(s) }

func TestServer_handleReadyz(t *testing.T) {
	tests := []struct {
		name      string
		saturated bool
		draining  bool
		want      int
	}{
		{"ready", false, false, 200},
		{"queue full", true, false, 503},
		{"draining", false, true, 503},
	}
	for _, tt := range tests {
		s := New(nil, nil, Config{Saturation: saturation(tt.saturated)})
		s.SetDraining(tt.draining)
		rec := serve(t, s, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != tt.want {
			t.Errorf("%s: /readyz = %d, want %d", tt.name, rec.Code, tt.want)
		}
		live := serve(t, s, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if live.Code != 200 {
			t.Errorf("%s: /healthz = %d, want 200 (liveness only)", tt.name, live.Code)
		}
		if got, want := live.Header().Get("Connection") == "close", tt.draining; got != want {
			t.Errorf("%s: Connection: close = %v, want %v (only while draining)", tt.name, got, want)
		}
	}
}

func TestServer_handleInfo(t *testing.T) {
	s := New(nil, nil, Config{})
	src := tinyPNG(t)
	req := httptest.NewRequest(http.MethodPost, "/v1/info", strings.NewReader(`{"image_b64":"`+base64.RawURLEncoding.EncodeToString(src)+`","metadata":{"k":1}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := serve(t, s, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got map[string]any
	json.Unmarshal(rec.Body.Bytes(), &got)
	if got["format"] != "png" || got["width"] != 3.0 || got["height"] != 2.0 || got["frames"] != 1.0 {
		t.Errorf("info = %v", got)
	}
	if m, _ := got["metadata"].(map[string]any); m["k"] != 1.0 {
		t.Errorf("metadata = %v, want it echoed", got["metadata"])
	}

	req = httptest.NewRequest(http.MethodPost, "/v1/info?width=3", bytes.NewReader(src))
	req.Header.Set("Content-Type", "image/png")
	if rec := serve(t, s, req); rec.Code != 400 || !strings.Contains(rec.Body.String(), "unknown_option") {
		t.Errorf("info with an option = %d %s, want 400 unknown_option", rec.Code, rec.Body)
	}
}

func TestDecodeBase64(t *testing.T) {
	data := []byte{0xfb, 0xff, 0xbf, 0x00, 0x10, 0x7f}
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(data), base64.RawStdEncoding.EncodeToString(data),
		base64.URLEncoding.EncodeToString(data), base64.RawURLEncoding.EncodeToString(data),
		"data:image/png;base64," + base64.StdEncoding.EncodeToString(data),
		"+/+/\nABB/\r\n", // wrapped lines
	} {
		got, err := decodeBase64(s)
		if err != nil {
			t.Errorf("decodeBase64(%q) error %v", s, err)
			continue
		}
		if s != "+/+/\nABB/\r\n" && !bytes.Equal(got, data) {
			t.Errorf("decodeBase64(%q) = %x, want %x", s, got, data)
		}
	}
	for _, bad := range []string{"ab=c", "abc\x00", "data:image/png,abc", "data:nocomma", "a"} {
		if _, err := decodeBase64(bad); imaging.ErrorCode(err) != CodeInvalidBase64 {
			t.Errorf("decodeBase64(%q) = %v, want invalid_base64", bad, err)
		}
	}
}

func TestNegotiate(t *testing.T) {
	src := tinyPNG(t)
	tests := []struct {
		accept, form string
		format       imaging.Format
		wantKind     outKind
		wantFormat   imaging.Format
		wantErr      bool
	}{
		{"", formRaw, "", outImage, "", false},
		{"", formJSON, "", outJSON, "", false},
		{"*/*", formJSON, "", outJSON, "", false},
		{"image/*", formJSON, "", outImage, "", false},
		{"application/json", formRaw, "", outJSON, "", false},
		{"image/jpeg", formRaw, "", outImage, imaging.FormatJPEG, false},
		{"image/png;q=0.5, image/gif", formRaw, "", outImage, imaging.FormatGIF, false},
		{"image/jxl", formRaw, "", outImage, "", true},
		{"image/avif", formRaw, "", outImage, imaging.FormatAVIF, false},
		{"image/webp", formRaw, "", outImage, imaging.FormatWebP, false},
		{"image/avif,image/webp,*/*", formRaw, imaging.FormatAuto, outImage, imaging.FormatAuto, false},
		{"text/html", formRaw, imaging.FormatAuto, outImage, imaging.FormatAuto, false},
		{"application/json", formRaw, imaging.FormatAuto, outJSON, imaging.FormatAuto, false},
		{"image/png", formRaw, imaging.FormatJPEG, outImage, imaging.FormatJPEG, true},
		{"image/*;q=0, application/json", formJSON, "", outJSON, "", false},
		{"garbage", formRaw, "", outImage, "", false},
	}
	for _, tt := range tests {
		opt := imaging.DefaultOptions()
		opt.Format = tt.format
		kind, err := negotiate(tt.accept, &input{form: tt.form, image: src}, &opt)
		if (err != nil) != tt.wantErr {
			t.Errorf("negotiate(%q) error = %v, want error %v", tt.accept, err, tt.wantErr)
			continue
		}
		if err == nil && (kind != tt.wantKind || opt.Format != tt.wantFormat) {
			t.Errorf("negotiate(%q, %s) = %v %q, want %v %q", tt.accept, tt.form, kind, opt.Format, tt.wantKind, tt.wantFormat)
		}
	}
}

func TestServer_smallJPEGBase64IsNotAPath(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 2, 2)), nil); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(b.Bytes())
	if !strings.HasPrefix(b64, "/9j/") {
		t.Fatalf("a JPEG's base64 should start with /9j/, got %q", b64[:4])
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/info", strings.NewReader(`{"image_b64":"`+b64+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if rec := serve(t, New(nil, nil, Config{}), req); rec.Code != http.StatusOK {
		t.Fatalf("small JPEG as JSON = %d %s, want 200", rec.Code, rec.Body)
	}
}

// TestServer_errorDrainsSmallBody: an answer given before the body was read
// reads the rest of a small body first, so the client, still sending, is
// not reset before it sees the answer; a large one is left alone.
func TestServer_errorDrainsSmallBody(t *testing.T) {
	for _, tt := range []struct {
		size      int
		wantDrain bool
	}{{64 << 10, true}, {2 << 20, false}} {
		body := bytes.NewReader(make([]byte, tt.size))
		req := httptest.NewRequest(http.MethodPost, "/v1/process", body)
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("Content-Encoding", "gzip")
		rec := serve(t, New(nil, nil, Config{}), req)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Fatalf("status %d, want 415", rec.Code)
		}
		if drained := body.Len() == 0; drained != tt.wantDrain {
			t.Errorf("%d-byte body: drained = %v, want %v", tt.size, drained, tt.wantDrain)
		}
	}
}

// TestNegotiate_auto: format=auto collects the formats the client's Accept
// names itself, in the table's order of preference; "image/*" names none.
func TestNegotiate_auto(t *testing.T) {
	tests := []struct {
		accept string
		want   []imaging.Format
	}{
		{"image/avif,image/webp,image/apng,image/*,*/*;q=0.8", []imaging.Format{imaging.FormatAVIF, imaging.FormatWebP}},
		{"image/webp,image/avif;q=0.9", []imaging.Format{imaging.FormatAVIF, imaging.FormatWebP}},
		{"image/webp;q=0.5", []imaging.Format{imaging.FormatWebP}},
		{"image/webp;q=0", nil},
		{"image/*,*/*", nil},
		{"", nil},
	}
	for _, tt := range tests {
		opt := imaging.DefaultOptions()
		opt.Format = imaging.FormatAuto
		if _, err := negotiate(tt.accept, &input{form: formRaw, image: tinyPNG(t)}, &opt); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(opt.Accept) != fmt.Sprint(tt.want) {
			t.Errorf("Accept %q: formats %v, want %v", tt.accept, opt.Accept, tt.want)
		}
	}
}
