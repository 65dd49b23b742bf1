package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

// loadOpenAPI loads and validates the served document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(handlers.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid: %v", err)
	}
	return doc
}

func TestOpenAPI_Valid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("document is not treated as OpenAPI 3.1")
	}
	// Every option ParseOptions knows is a query parameter of /v1/process,
	// and a property of the JSON options object; nothing else is.
	op := doc.Paths.Value("/v1/process").Post
	var params []string
	for _, p := range op.Parameters {
		if p.Value.In == openapi3.ParameterInQuery {
			params = append(params, p.Value.Name)
		}
	}
	if got, want := strings.Join(params, ","), strings.Join(imaging.OptionNames(), ","); got != want {
		t.Errorf("query parameters of /v1/process = %s, want %s", got, want)
	}
	props := doc.Components.Schemas["Options"].Value.Properties
	if len(props) != len(imaging.OptionNames()) {
		t.Errorf("Options has %d properties, want %d", len(props), len(imaging.OptionNames()))
	}
	for _, n := range imaging.OptionNames() {
		if props[n] == nil {
			t.Errorf("Options has no property %q", n)
		}
	}
	// The Problem schema has the fields of handlers.Problem.
	var p map[string]any
	b, _ := json.Marshal(handlers.Problem{Hint: "h", Field: "f", RequestID: "r", Instance: "i"})
	_ = json.Unmarshal(b, &p)
	pp := doc.Components.Schemas["Problem"].Value.Properties
	for k := range p {
		if pp[k] == nil {
			t.Errorf("Problem schema has no property %q", k)
		}
	}
	if len(pp) != len(p) {
		t.Errorf("Problem schema has %d properties, handlers.Problem %d", len(pp), len(p))
	}
}

// TestOpenAPI_OptionDefaults checks the documented defaults against DefaultOptions.
func TestOpenAPI_OptionDefaults(t *testing.T) {
	doc := loadOpenAPI(t)
	d := imaging.DefaultOptions()
	want := map[string]any{
		"fit": string(d.Fit), "gravity": string(d.Gravity), "gamma": d.Gamma, "auto_orient": d.AutoOrient,
		"strip": d.Strip, "grayscale": d.Grayscale, "lossless": d.Lossless,
		"rotate": d.Rotate, "blur": d.Blur, "sharpen": d.Sharpen, "brightness": d.Brightness, "contrast": d.Contrast,
	}
	for _, p := range doc.Paths.Value("/v1/process").Post.Parameters {
		w, ok := want[p.Value.Name]
		if !ok {
			continue
		}
		if got := p.Value.Schema.Value.Default; got != w {
			t.Errorf("default of %s = %v (%T), want %v (%T)", p.Value.Name, got, got, w, w)
		}
	}
}

// newPNG and newJPEG build small test images in code.
func newPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), 90, uint8(y * 255 / h), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// processFn is a func-field fake Processor.
type processFn func(ctx context.Context, src []byte, opt imaging.Options) (imaging.Result, error)

func (f processFn) Process(ctx context.Context, src []byte, opt imaging.Options) (imaging.Result, error) {
	return f(ctx, src, opt)
}

func (f processFn) Placeholder(context.Context, []byte) (imaging.Placeholder, error) {
	return imaging.Placeholder{}, errors.New("processFn computes no placeholder")
}

type saturated bool

func (s saturated) Saturated() bool { return bool(s) }

// newServer wires handlers the way cmd/imgsvc does (request IDs, the error
// handler) around proc.
func newServer(proc handlers.Processor, cfg handlers.Config) (*echo.Echo, *handlers.Server) {
	e := echo.New()
	s := handlers.New(proc, nil, cfg)
	e.Use(middleware.RequestID())
	s.Register(e)
	return e, s
}

// newPipeline is a real pipeline on a small pool.
func newPipeline(t *testing.T, l imaging.Limits, pc imaging.PoolConfig) *imaging.Pipeline {
	t.Helper()
	if pc.Workers == 0 {
		pc.Workers = 2
	}
	pool := imaging.NewPool(pc)
	t.Cleanup(pool.Close)
	return imaging.NewPipeline(l, pool, nil)
}

func multipartBody(t *testing.T, parts ...[3]string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts { // name, filename, content
		var pw io.Writer
		var err error
		if p[1] != "" {
			pw, err = w.CreateFormFile(p[0], p[1])
		} else {
			pw, err = w.CreateFormField(p[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write([]byte(p[2]))
	}
	_ = w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errReader fails like a connection that drops mid-body.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// registerImageDecoders lets openapi3filter read image bodies (and the
// playground's files) as strings. The registry is global, so it is undone
// when the test ends.
func registerImageDecoders(t *testing.T) {
	for _, mt := range []string{"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff", "image/webp",
		"text/html", "text/javascript", "text/css"} {
		openapi3filter.RegisterBodyDecoder(mt, openapi3filter.FileBodyDecoder)
		t.Cleanup(func() { openapi3filter.UnregisterBodyDecoder(mt) })
	}
}

// TestOpenAPI_RealResponses drives the real handlers, on a real pipeline,
// and validates every answer against the document.
func TestOpenAPI_RealResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	registerImageDecoders(t)

	pngImg := newPNG(t, 40, 30)
	jpgImg := newJPEG(t, 64, 48)
	b64 := base64.StdEncoding.EncodeToString(pngImg)

	real := newPipeline(t, imaging.Limits{}, imaging.PoolConfig{})
	eReal, _ := newServer(real, handlers.Config{})
	eDrain, sDrain := newServer(real, handlers.Config{})
	sDrain.SetDraining(true)
	eFull, _ := newServer(real, handlers.Config{Saturation: saturated(true), RetryAfter: 3 * time.Second})
	eSmallBody, _ := newServer(real, handlers.Config{MaxBodyBytes: 100})
	eSmallPixels, _ := newServer(newPipeline(t, imaging.Limits{MaxInputPixels: 1000}, imaging.PoolConfig{}), handlers.Config{})
	eSlowJob, _ := newServer(newPipeline(t, imaging.Limits{}, imaging.PoolConfig{JobTimeout: time.Nanosecond}), handlers.Config{})
	eKeys, _ := newServer(real, handlers.Config{})
	ePlay, _ := newServer(real, handlers.Config{})
	handlers.RegisterPlayground(ePlay)
	pageETag := serve(ePlay, http.MethodGet, "/", nil).Header().Get("ETag")
	eKeys.Use(handlers.APIKey("k1-0123456789abcdef"))
	eFake := func(err error) *echo.Echo {
		e, _ := newServer(processFn(func(context.Context, []byte, imaging.Options) (imaging.Result, error) {
			return imaging.Result{}, err
		}), handlers.Config{})
		return e
	}

	mpCT, mpBody := multipartBody(t, [3]string{"image", "a.png", string(pngImg)}, [3]string{"metadata", "", `{"id":"42"}`}, [3]string{"width", "", "20"})
	mpNoImgCT, mpNoImg := multipartBody(t, [3]string{"photo", "a.png", string(pngImg)}, [3]string{"width", "", "20"})
	mpBadMetaCT, mpBadMeta := multipartBody(t, [3]string{"image", "a.png", string(pngImg)}, [3]string{"metadata", "", `[1,2]`})
	mpInfoCT, mpInfo := multipartBody(t, [3]string{"file", "a.jpg", string(jpgImg)}, [3]string{"metadata", "", `{"k":true}`})
	mpBigFieldCT, mpBigField := multipartBody(t, [3]string{"image", "a.png", string(pngImg)}, [3]string{"blur", "", strings.Repeat("1", 70<<10)})

	type tc struct {
		name     string
		e        *echo.Echo
		method   string
		target   string
		ct       string
		accept   string
		header   map[string]string
		body     []byte
		reader   io.Reader
		status   int
		code     imaging.Code
		wantCT   string
		validReq bool // the request itself must match the document
	}
	tests := []tc{
		// Success in each form.
		{name: "raw png", e: eReal, method: "POST", target: "/v1/process?width=20", ct: "image/png", body: pngImg, status: 200, wantCT: "image/png", validReq: true},
		{name: "raw jpeg to png", e: eReal, method: "POST", target: "/v1/process?format=png&grayscale=true", ct: "image/jpeg", body: jpgImg, status: 200, wantCT: "image/png", validReq: true},
		{name: "octet-stream", e: eReal, method: "POST", target: "/process?width=16&height=16&fit=cover&gravity=north", ct: "application/octet-stream", body: jpgImg, status: 200, wantCT: "image/jpeg", validReq: true},
		{name: "raw Accept json", e: eReal, method: "POST", target: "/v1/process?rotate=90", ct: "image/png", accept: "application/json", body: pngImg, status: 200, wantCT: "application/json", validReq: true},
		{name: "Accept picks format", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", accept: "image/gif", body: pngImg, status: 200, wantCT: "image/gif", validReq: true},
		{name: "multipart", e: eReal, method: "POST", target: "/v1/process", ct: mpCT, body: mpBody, status: 200, wantCT: "image/png", validReq: true},
		{name: "json", e: eReal, method: "POST", target: "/v1/process", ct: "application/json",
			body:   jsonBody(t, map[string]any{"image_b64": b64, "metadata": map[string]any{"id": 7}, "options": map[string]any{"width": 10, "format": "bmp", "strip": true}}),
			status: 200, wantCT: "application/json", validReq: true},
		{name: "json Accept image", e: eReal, method: "POST", target: "/v1/process", ct: "application/json", accept: "image/*",
			body: jsonBody(t, map[string]any{"image_b64": "data:image/png;base64," + b64, "options": map[string]any{"format": "tiff"}}), status: 200, wantCT: "image/tiff", validReq: true},
		{name: "info raw", e: eReal, method: "POST", target: "/v1/info", ct: "image/jpeg", body: jpgImg, status: 200, wantCT: "application/json", validReq: true},
		{name: "info alias json", e: eReal, method: "POST", target: "/info", ct: "application/json", body: jsonBody(t, map[string]any{"image_b64": b64}), status: 200, wantCT: "application/json", validReq: true},
		{name: "info multipart", e: eReal, method: "POST", target: "/v1/info", ct: mpInfoCT, body: mpInfo, status: 200, wantCT: "application/json", validReq: true},
		{name: "info placeholder", e: eReal, method: "POST", target: "/v1/info?placeholder=true", ct: "image/jpeg", body: jpgImg, status: 200, wantCT: "application/json", validReq: true},
		{name: "info placeholder json", e: eReal, method: "POST", target: "/info", ct: "application/json", body: jsonBody(t, map[string]any{"image_b64": b64, "options": map[string]any{"placeholder": true}}), status: 200, wantCT: "application/json", validReq: true},
		{name: "info placeholder not a boolean", e: eReal, method: "POST", target: "/v1/info?placeholder=maybe", ct: "image/png", body: pngImg, status: 400, code: imaging.CodeInvalidOption},
		{name: "openapi", e: eReal, method: "GET", target: "/v1/openapi.json", status: 200, wantCT: "application/json", validReq: true},
		{name: "error type", e: eReal, method: "GET", target: "/v1/errors/invalid_option", status: 200, wantCT: "application/json", validReq: true},
		{name: "healthz", e: eReal, method: "GET", target: "/healthz", status: 200, wantCT: "application/json", validReq: true},
		{name: "readyz", e: eReal, method: "GET", target: "/readyz", status: 200, wantCT: "application/json", validReq: true},
		{name: "playground", e: ePlay, method: "GET", target: "/", status: 200, wantCT: "text/html; charset=utf-8", validReq: true},
		{name: "playground unchanged", e: ePlay, method: "GET", target: "/", header: map[string]string{"If-None-Match": pageETag}, status: 304, validReq: true},
		{name: "playground script", e: ePlay, method: "GET", target: "/playground/playground.js", status: 200, wantCT: "text/javascript; charset=utf-8", validReq: true},
		{name: "playground style", e: ePlay, method: "GET", target: "/playground/playground.css", status: 200, wantCT: "text/css; charset=utf-8", validReq: true},

		// Errors.
		{name: "missing content type", e: eReal, method: "POST", target: "/v1/process", body: pngImg, status: 400, code: handlers.CodeMissingContentType},
		{name: "text/plain", e: eReal, method: "POST", target: "/v1/process", ct: "text/plain", body: []byte("hello there"), status: 415, code: handlers.CodeUnsupportedContentType},
		{name: "form-urlencoded", e: eReal, method: "POST", target: "/v1/info", ct: "application/x-www-form-urlencoded", body: []byte("abc=def"), status: 415, code: handlers.CodeUnsupportedContentType},
		{name: "gzip", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", header: map[string]string{"Content-Encoding": "gzip"}, body: pngImg, status: 415, code: handlers.CodeUnsupportedContentType},
		{name: "empty body", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", status: 400, code: handlers.CodeEmptyBody},
		{name: "body is path", e: eReal, method: "POST", target: "/v1/process", body: []byte("img.jpg"), status: 400, code: handlers.CodeBodyIsPath},
		{name: "body is url", e: eReal, method: "POST", target: "/v1/info", ct: "image/jpeg", body: []byte("https://example.com/a.jpg"), status: 400, code: handlers.CodeBodyIsURL},
		{name: "content type mismatch", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", body: jpgImg, status: 400, code: handlers.CodeContentTypeMismatch},
		{name: "html", e: eReal, method: "POST", target: "/v1/process", ct: "application/octet-stream", body: []byte("<!DOCTYPE html><html></html>"), status: 415, code: imaging.CodeUnsupportedImageFormat},
		{name: "json not an image", e: eReal, method: "POST", target: "/v1/info", ct: "application/json", body: jsonBody(t, map[string]any{"image_b64": base64.StdEncoding.EncodeToString([]byte("%PDF-1.7 hello"))}), status: 415, code: imaging.CodeUnsupportedImageFormat},
		{name: "unsupported feature", e: eReal, method: "POST", target: "/v1/process", ct: "image/jpeg", body: jpeg12(t, jpgImg), status: 415, code: imaging.CodeUnsupportedImageFeature},
		{name: "corrupt", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", body: corruptPNG(pngImg), status: 400, code: imaging.CodeCorruptImage},
		{name: "truncated", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", body: pngImg[:60], status: 400, code: imaging.CodeTruncatedImage},
		{name: "invalid json", e: eReal, method: "POST", target: "/v1/process", ct: "application/json", body: []byte(`{"image_b64": "abc",}`), status: 400, code: handlers.CodeInvalidJSON},
		{name: "unknown field", e: eReal, method: "POST", target: "/v1/process", ct: "application/json", body: []byte(`{"image": "abc"}`), status: 400, code: handlers.CodeUnknownField},
		{name: "missing field", e: eReal, method: "POST", target: "/v1/info", ct: "application/json", body: []byte(`{"metadata": {}}`), status: 400, code: handlers.CodeMissingField},
		{name: "invalid field type", e: eReal, method: "POST", target: "/v1/process", ct: "application/json", body: []byte(`{"image_b64": 12}`), status: 400, code: handlers.CodeInvalidFieldType},
		{name: "invalid base64", e: eReal, method: "POST", target: "/v1/process", ct: "application/json", body: []byte(`{"image_b64": "iVBOR*w0KGgo"}`), status: 400, code: handlers.CodeInvalidBase64},
		{name: "invalid metadata", e: eReal, method: "POST", target: "/v1/process", ct: mpBadMetaCT, body: mpBadMeta, status: 400, code: handlers.CodeInvalidMetadata},
		{name: "malformed multipart", e: eReal, method: "POST", target: "/v1/process", ct: "multipart/form-data", body: mpBody, status: 400, code: handlers.CodeMalformedMultipart},
		{name: "missing file part", e: eReal, method: "POST", target: "/v1/process", ct: mpNoImgCT, body: mpNoImg, status: 400, code: handlers.CodeMissingFilePart},
		{name: "invalid option", e: eReal, method: "POST", target: "/v1/process?width=0", ct: "image/png", body: pngImg, status: 400, code: imaging.CodeInvalidOption},
		{name: "crop outside", e: eReal, method: "POST", target: "/v1/process?crop=0,0,400,400", ct: "image/png", body: pngImg, status: 400, code: imaging.CodeInvalidOption},
		{name: "info big field", e: eReal, method: "POST", target: "/v1/info", ct: mpBigFieldCT, body: mpBigField, status: 400, code: imaging.CodeInvalidOption},
		{name: "unknown option", e: eReal, method: "POST", target: "/v1/process?w=300", ct: "image/png", body: pngImg, status: 400, code: imaging.CodeUnknownOption},
		{name: "info takes no options", e: eReal, method: "POST", target: "/v1/info?width=3", ct: "image/png", body: pngImg, status: 400, code: imaging.CodeUnknownOption},
		{name: "body too large", e: eSmallBody, method: "POST", target: "/v1/process", ct: "image/png", body: pngImg, status: 413, code: handlers.CodeBodyTooLarge},
		{name: "info body too large", e: eSmallBody, method: "POST", target: "/v1/info", ct: "image/png", body: pngImg, status: 413, code: handlers.CodeBodyTooLarge},
		{name: "image too large", e: eSmallPixels, method: "POST", target: "/v1/process", ct: "image/png", body: pngImg, status: 422, code: imaging.CodeImageTooLarge},
		{name: "output too large", e: eReal, method: "POST", target: "/v1/process?width=65535&height=65535&fit=fill", ct: "image/png", body: pngImg, status: 422, code: imaging.CodeOutputTooLarge},
		{name: "not acceptable", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", accept: "text/html", body: pngImg, status: 406, code: handlers.CodeNotAcceptable},
		{name: "method not allowed", e: eReal, method: "GET", target: "/v1/process", status: 405, code: handlers.CodeMethodNotAllowed},
		{name: "method not allowed healthz", e: eReal, method: "DELETE", target: "/healthz", status: 405, code: handlers.CodeMethodNotAllowed},
		{name: "unauthorized", e: eKeys, method: "POST", target: "/v1/process", ct: "image/png", body: pngImg, status: 401, code: handlers.CodeUnauthorized},
		{name: "info wrong key", e: eKeys, method: "POST", target: "/v1/info", ct: "image/png", header: map[string]string{"Authorization": "Bearer nope-nope-nope-nope"}, body: pngImg, status: 401, code: handlers.CodeUnauthorized},
		{name: "key given", e: eKeys, method: "POST", target: "/v1/info", ct: "image/png", header: map[string]string{"X-API-Key": "k1-0123456789abcdef"}, body: pngImg, status: 200, wantCT: "application/json", validReq: true},
		{name: "not found", e: eReal, method: "GET", target: "/v2/process", status: 404, code: handlers.CodeNotFound},
		{name: "no such error code", e: eReal, method: "GET", target: "/v1/errors/nope", status: 404, code: handlers.CodeNotFound},
		{name: "no such playground file", e: ePlay, method: "GET", target: "/playground/nope.js", status: 404, code: handlers.CodeNotFound},
		{name: "playground method not allowed", e: ePlay, method: "POST", target: "/", status: 405, code: handlers.CodeMethodNotAllowed},
		{name: "playground off", e: eReal, method: "GET", target: "/", status: 404, code: handlers.CodeNotFound},
		{name: "request timeout", e: eReal, method: "POST", target: "/v1/process", ct: "image/png", reader: errReader{}, status: 408, code: imaging.CodeRequestTimeout},
		{name: "info request timeout", e: eReal, method: "POST", target: "/v1/info", ct: "image/png", reader: errReader{}, status: 408, code: imaging.CodeRequestTimeout},
		{name: "overloaded", e: eFake(imaging.Errorf(imaging.CodeOverloaded, "queue full")), method: "POST", target: "/v1/process", ct: "image/png", body: pngImg, status: 503, code: imaging.CodeOverloaded},
		{name: "processing timeout", e: eSlowJob, method: "POST", target: "/v1/process?blur=5", ct: "image/png", body: pngImg, status: 503, code: imaging.CodeProcessingTimeout},
		{name: "internal", e: eFake(errors.New("disk on fire at /var/secret")), method: "POST", target: "/v1/process", ct: "image/png", body: pngImg, status: 500, code: imaging.CodeInternal},
		{name: "readyz draining", e: eDrain, method: "GET", target: "/readyz", status: 503, code: imaging.CodeOverloaded},
		{name: "readyz saturated", e: eFull, method: "GET", target: "/readyz", status: 503, code: imaging.CodeOverloaded},
	}
	seen := map[imaging.Code]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tt.body)
			if tt.reader != nil {
				body = tt.reader
			}
			req := httptest.NewRequest(tt.method, tt.target, body)
			if tt.reader != nil {
				req.ContentLength = -1
			}
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			tt.e.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body %s", res.StatusCode, tt.status, rec.Body.String())
			}
			if tt.code != "" {
				var p handlers.Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
					t.Fatalf("problem body: %v", err)
				}
				if p.Code != string(tt.code) {
					t.Fatalf("code = %q, want %q (detail %q)", p.Code, tt.code, p.Detail)
				}
				if tt.code == imaging.CodeInternal && strings.Contains(rec.Body.String(), "secret") {
					t.Errorf("internal error leaks its cause: %s", rec.Body.String())
				}
				seen[tt.code] = true
			} else if got := res.Header.Get("Content-Type"); got != tt.wantCT {
				t.Fatalf("Content-Type = %q, want %q", got, tt.wantCT)
			}
			validate(t, doc, router, tt.method, tt.target, tt.ct, tt.accept, tt.body, tt.validReq, res, rec.Body.Bytes())
		})
	}
	for _, c := range handlers.Codes() {
		if !seen[c] {
			t.Errorf("no case triggers %s", c)
		}
	}
}

// validate checks a real answer against the document. Answers of paths the
// document does not have (404 for unknown routes) are checked against the
// Problem schema; 405 against the operation of the method the path does take.
func validate(t *testing.T, doc *openapi3.T, router routers.Router, method, target, ct, accept string, reqBody []byte, validReq bool,
	res *http.Response, body []byte) {
	t.Helper()
	ctx := context.Background()
	req := httptest.NewRequest(method, target, bytes.NewReader(reqBody))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	route, params, err := router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("the document has no %s %s, but the service answered %d", method, target, res.StatusCode)
		}
		allow := strings.Split(res.Header.Get("Allow"), ", ")
		for _, m := range allow {
			if m == http.MethodOptions {
				continue
			}
			alt := httptest.NewRequest(m, target, nil)
			if route, params, err = router.FindRoute(alt); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("no documented operation for Allow %q on %s", res.Header.Get("Allow"), target)
		}
	case err != nil:
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("the document has no %s %s (%v), but the service answered %d", method, target, err, res.StatusCode)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if err := doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Fatalf("404 body does not match Problem: %v", err)
		}
		if res.Header.Get("X-Request-ID") == "" {
			t.Errorf("no X-Request-ID")
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if validReq {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("request does not match the document: %v", err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("response does not match the document: %v", err)
	}
}

// TestOpenAPI_Served checks GET /v1/openapi.json serves the document itself.
func TestOpenAPI_Served(t *testing.T) {
	e, _ := newServer(processFn(nil), handlers.Config{})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), handlers.OpenAPI()) {
		t.Fatalf("GET /v1/openapi.json = %d, %d bytes; want 200 and the embedded document", rec.Code, rec.Body.Len())
	}
}

// TestOpenAPI_formatsFromCodecTable keeps the document's format enums equal
// to what the codec table reads and writes.
func TestOpenAPI_formatsFromCodecTable(t *testing.T) {
	doc := loadOpenAPI(t)
	enum := func(s *openapi3.Schema) string {
		var out []string
		for _, v := range s.Enum {
			out = append(out, fmt.Sprint(v))
		}
		return strings.Join(out, ",")
	}
	// The formats the table declares, whether or not this machine has the
	// libraries of all of them: the document describes the product.
	var w, r []string
	for _, c := range imaging.Codecs() {
		if c.Encoder != nil {
			w = append(append(w, string(c.Format)), c.Aliases...)
		}
		if c.Decoder != nil {
			r = append(r, string(c.Format))
		}
	}
	writes, reads := strings.Join(append(w, "auto"), ","), strings.Join(r, ",")
	s := doc.Components.Schemas
	for name, got := range map[string]string{
		"parameter format":               enum(doc.Components.Parameters["format"].Value.Schema.Value),
		"Options.format":                 enum(s["Options"].Value.Properties["format"].Value),
		"ProcessMultipartRequest.format": enum(s["ProcessMultipartRequest"].Value.Properties["format"].Value),
	} {
		if got != writes {
			t.Errorf("%s enum = %s, want the table's %s", name, got, writes)
		}
	}
	if got := enum(s["Info"].Value.Properties["format"].Value); got != reads {
		t.Errorf("Info.format enum = %s, want the table's %s", got, reads)
	}
	maxEffort := 0
	for _, c := range imaging.Codecs() {
		if c.Encoder != nil {
			maxEffort = max(maxEffort, c.Encoder.Effort.Max)
		}
	}
	if m := doc.Components.Parameters["effort"].Value.Schema.Value.Max; m == nil || int(*m) != maxEffort {
		t.Errorf("effort maximum = %v, want %d", m, maxEffort)
	}
}

// corruptPNG returns a copy of a PNG whose IHDR says bit depth 3 (with its
// CRC fixed): well-formed chunks, an impossible image.
func corruptPNG(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[24] = 3
	binary.BigEndian.PutUint32(c[29:], crc32.ChecksumIEEE(c[12:29]))
	return c
}
