package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

// solidPNG is a w×h PNG of one colour; noisy adds noise so that it does
// not compress (a part larger than the first pass keeps).
func solidPNG(t testing.TB, w, h int, c color.NRGBA, noisy bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
		if noisy {
			img.Pix[i+1] = uint8(r.IntN(256))
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestServer_overlay runs overlays through the real pipeline in the
// multipart and JSON forms and looks at the pixels: the overlay's colour in
// the bottom-right corner (the default gravity), the image's in the centre.
func TestServer_overlay(t *testing.T) {
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	registerImageDecoders(t)
	e, _ := newServer(newPipeline(t, imaging.Limits{}, imaging.PoolConfig{}), handlers.Config{})
	blue, red := color.NRGBA{0, 0, 255, 255}, color.NRGBA{255, 0, 0, 255}
	base := solidPNG(t, 200, 120, blue, false)
	logo := solidPNG(t, 40, 20, red, false)
	bigBase := solidPNG(t, 200, 120, blue, true) // over 4 KiB: read on the second pass
	bigLogo := solidPNG(t, 80, 40, red, true)
	if len(bigBase) <= 4<<10 || len(bigLogo) <= 4<<10 {
		t.Fatalf("noisy PNGs of %d and %d bytes: want both over 4 KiB", len(bigBase), len(bigLogo))
	}
	type tc struct {
		name, target, ct string
		body             []byte
		corner           image.Point // a pixel the overlay covers
	}
	mp := func(img, ov []byte, fields ...[3]string) (string, []byte) {
		return multipartBody(t, append([][3]string{{"image", "photo.png", string(img)}, {"overlay", "logo.png", string(ov)}}, fields...)...)
	}
	mpCT, mpBody := mp(base, logo)
	bigCT, bigBody := mp(bigBase, bigLogo)
	optsCT, optsBody := mp(base, logo, [3]string{"overlay_gravity", "", "northwest"}, [3]string{"overlay_margin", "", "4"})
	b64 := base64.StdEncoding.EncodeToString
	tests := []tc{
		{"multipart", "/v1/process", mpCT, mpBody, image.Pt(200-16-1, 120-16-1)},
		{"multipart, both parts large", "/v1/process", bigCT, bigBody, image.Pt(200-16-80, 120-16-40)},
		{"multipart, options as fields", "/v1/process", optsCT, optsBody, image.Pt(4, 4)},
		{"multipart, options in the query", "/v1/process?overlay_gravity=north&overlay_width=20", mpCT, mpBody, image.Pt(100, 16)},
		{"json", "/v1/process", "application/json", jsonBody(t, map[string]any{"image_b64": b64(base), "overlay_b64": b64(logo)}),
			image.Pt(200-16-40, 120-16-20)},
		{"json with options", "/v1/process", "application/json", jsonBody(t, map[string]any{"image_b64": b64(base),
			"overlay_b64": "data:image/png;base64," + b64(logo), "options": map[string]any{"overlay_gravity": "southwest", "overlay_width": 80, "overlay_opacity": 1}}),
			image.Pt(16, 120-16-40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tt.target, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ct)
			req.Header.Set("Accept", "image/*")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			at := func(p image.Point) color.NRGBA { return color.NRGBAModel.Convert(img.At(p.X, p.Y)).(color.NRGBA) }
			if c := at(tt.corner); c.R < 250 || c.B > 5 {
				t.Errorf("pixel %v = %v, want the overlay's red", tt.corner, c)
			}
			if c := at(image.Pt(100, 60)); c.B < 250 || c.R > 5 {
				t.Errorf("centre pixel = %v, want the image's blue", c)
			}
			res := rec.Result()
			validate(t, doc, router, http.MethodPost, tt.target, tt.ct, "image/*", tt.body, true, res, rec.Body.Bytes())
		})
	}
}

// TestServer_overlayErrors: every mistake with an overlay gets its precise
// code, the field at fault, and a hint.
func TestServer_overlayErrors(t *testing.T) {
	real := newPipeline(t, imaging.Limits{MaxInputPixels: 100_000}, imaging.PoolConfig{})
	e, _ := newServer(real, handlers.Config{})
	eSmallBody, _ := newServer(real, handlers.Config{MaxBodyBytes: 2000})
	base := solidPNG(t, 200, 120, color.NRGBA{0, 0, 255, 255}, false)
	logo := solidPNG(t, 40, 20, color.NRGBA{255, 0, 0, 255}, false)
	huge := solidPNG(t, 400, 300, color.NRGBA{255, 0, 0, 255}, false)
	b64 := base64.StdEncoding.EncodeToString
	mp := func(parts ...[3]string) (string, []byte) { return multipartBody(t, parts...) }
	img := [3]string{"image", "photo.png", string(base)}
	type tc struct {
		name, target, ct string
		body             []byte
		e                http.Handler
		status           int
		code             imaging.Code
		field            string
		detail, hint     string // substrings
	}
	var tests []tc
	add := func(name, target, ct string, body []byte, status int, code imaging.Code, field, detail, hint string) {
		tests = append(tests, tc{name, target, ct, body, e, status, code, field, detail, hint})
	}
	add("raw bytes with overlay options", "/v1/process?overlay_gravity=north", "image/png", base, 400, imaging.CodeInvalidOption,
		"overlay_gravity", "cannot carry a second image", "-F overlay=@logo.png")
	ct, body := mp(img, [3]string{"overlay_opacity", "", "0.5"})
	add("multipart options without an overlay", "/v1/process", ct, body, 400, handlers.CodeMissingFilePart,
		"overlay", `parts found: "image", "overlay_opacity"`, "-F overlay=@logo.png")
	ct, body = mp(img, [3]string{"watermark", "logo.png", string(logo)})
	add("multipart overlay under another name", "/v1/process", ct, body, 400, handlers.CodeMissingFilePart,
		"overlay", `file part "watermark"`, `rename the part "watermark" to overlay`)
	ct, body = mp(img, [3]string{"overlay", "", "logo.png"})
	add("multipart overlay is a path", "/v1/process", ct, body, 400, handlers.CodeBodyIsPath,
		"overlay", `"logo.png", a file path`, "-F overlay=@logo.png")
	ct, body = mp(img, [3]string{"overlay", "logo.html", "<!DOCTYPE html><html><body>logo</body></html>"})
	add("multipart overlay is HTML", "/v1/process", ct, body, 415, imaging.CodeUnsupportedImageFormat,
		"overlay", "the overlay image (overlay): the bytes are not a supported image", "web page")
	ct, body = mp(img, [3]string{"overlay", "logo.png", ""})
	add("multipart overlay empty", "/v1/process", ct, body, 400, handlers.CodeEmptyBody, "overlay", `"overlay" part is empty`, "-F overlay=@")
	ct, body = mp(img, [3]string{"overlay", "a.png", string(logo)}, [3]string{"overlay", "b.png", string(logo)})
	add("two overlay parts", "/v1/process", ct, body, 400, handlers.CodeMalformedMultipart, "overlay", "two overlay parts", "at most one")
	ct, body = mp(img, [3]string{"overlay", "logo.png", string(logo[:len(logo)-30])})
	add("overlay truncated", "/v1/process", ct, body, 400, imaging.CodeTruncatedImage, "overlay", "the overlay image (overlay)", "--data-binary")
	ct, body = mp(img, [3]string{"overlay", "logo.png", string(huge)})
	add("overlay over the pixel limit", "/v1/process", ct, body, 422, imaging.CodeImageTooLarge, "overlay", "400×300", "-max-input-pixels")
	ct, body = mp(img, [3]string{"overlay", "logo.png", string(logo)}, [3]string{"overlay_opacity", "", "50"})
	add("opacity as a percentage", "/v1/process", ct, body, 400, imaging.CodeInvalidOption, "overlay_opacity", "out of range", "for 50% give 0.5")
	ct, body = mp(img, [3]string{"overlay", "logo.png", string(logo)})
	add("margin too large", "/v1/process?overlay_margin=60", ct, body, 400, imaging.CodeInvalidOption, "overlay_margin", "leaves no room", "below 60")
	add("bad gravity", "/v1/process?overlay_gravity=bottom-right", ct, body, 400, imaging.CodeInvalidOption, "overlay_gravity", "bottom-right", "southeast")
	add("overlay as a query parameter", "/v1/process?watermark=logo.png", ct, body, 400, imaging.CodeUnknownOption, "watermark",
		"the overlay image is not an option", "multipart part overlay")
	add("info takes no overlay", "/v1/info", ct, body, 400, imaging.CodeUnknownOption, "overlay", "takes no overlay", "/v1/process")
	ct, body = mp(img, [3]string{"overlay", "logo.png", string(solidPNG(t, 40, 40, color.NRGBA{255, 0, 0, 255}, true))})
	tests = append(tests, tc{"the overlay counts toward the body limit", "/v1/process", ct, body, eSmallBody, 413, handlers.CodeBodyTooLarge, "", "limit", "-max-body-bytes"})
	if len(base) > 1500 {
		t.Fatalf("the image alone (%d bytes) must fit the 2000-byte limit", len(base))
	}

	jsonReq := func(v map[string]any) []byte { return jsonBody(t, v) }
	add("json options without overlay_b64", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "options": map[string]any{"overlay_width": 50}}), 400, handlers.CodeMissingField,
		"overlay_b64", `options.overlay_width is set, but the JSON body has no "overlay_b64"`, `"overlay_b64": "..."`)
	add("json watermark key", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "watermark": b64(logo)}), 400, handlers.CodeUnknownField,
		"watermark", `did you mean "overlay_b64"`, "overlay_b64")
	add("json overlay inside options", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "options": map[string]any{"overlay": b64(logo)}}), 400, imaging.CodeUnknownOption,
		"options.overlay", "the overlay image is not an option", "overlay_b64")
	add("json overlay_b64 not a string", "/v1/process", "application/json",
		[]byte(`{"image_b64": "`+b64(base)+`", "overlay_b64": 12}`), 400, handlers.CodeInvalidFieldType, "overlay_b64", `"overlay_b64" must be a string, got a number`, "base64")
	add("json overlay_b64 null", "/v1/process", "application/json",
		[]byte(`{"image_b64": "`+b64(base)+`", "overlay_b64": null, "options": {"overlay_width": 20}}`), 400, handlers.CodeInvalidFieldType, "overlay_b64", "got null", "leave \"overlay_b64\" out")
	add("json overlay_b64 is a path", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "overlay_b64": "C:\\logos\\logo.png"}), 400, handlers.CodeBodyIsPath,
		"overlay_b64", "a file path", "in overlay_b64")
	add("json overlay_b64 bad base64", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "overlay_b64": "iVBOR*w0KGgo"}), 400, handlers.CodeInvalidBase64,
		"overlay_b64", "offset 5 of overlay_b64", "base64")
	add("json overlay_b64 empty", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "overlay_b64": ""}), 400, handlers.CodeEmptyBody, "overlay_b64", `"overlay_b64" is empty`, "overlay image's bytes")
	add("json overlay_b64 not an image", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "overlay_b64": b64([]byte("%PDF-1.7 a logo"))}), 415, imaging.CodeUnsupportedImageFormat,
		"overlay_b64", "the overlay image (overlay_b64)", "send")
	add("json overlay_b64 is JSON text", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "overlay_b64": b64([]byte(`{"logo": true}`))}), 415, imaging.CodeUnsupportedImageFormat,
		"overlay_b64", "they look like JSON text", "PNG")
	add("json bad overlay option", "/v1/process", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "overlay_b64": b64(logo), "options": map[string]any{"overlay_opacity": -1}}), 400, imaging.CodeInvalidOption,
		"options.overlay_opacity", "out of range", "from 0 to 1")
	add("json info with an overlay", "/v1/info", "application/json",
		jsonReq(map[string]any{"image_b64": b64(base), "overlay_b64": b64(logo)}), 400, handlers.CodeUnknownField, "overlay_b64", "takes no overlay_b64", "/v1/process")

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, tt.e, tt.target, tt.ct, tt.body)
			if a.status != tt.status || a.prob.Code != string(tt.code) {
				t.Fatalf("got %d %s (%q), want %d %s", a.status, a.prob.Code, a.prob.Detail, tt.status, tt.code)
			}
			if a.prob.Field != tt.field {
				t.Errorf("field = %q, want %q", a.prob.Field, tt.field)
			}
			if !strings.Contains(a.prob.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", a.prob.Detail, tt.detail)
			}
			if !strings.Contains(a.prob.Hint, tt.hint) {
				t.Errorf("hint = %q, want it to contain %q", a.prob.Hint, tt.hint)
			}
		})
	}
}

// TestServer_overlayReachesProcessor: the overlay's bytes, and its field,
// reach the processor exactly as sent, whatever the size of its part.
func TestServer_overlayReachesProcessor(t *testing.T) {
	base := newPNG(t, 30, 20)
	for _, logo := range [][]byte{solidPNG(t, 10, 10, color.NRGBA{255, 0, 0, 255}, false), solidPNG(t, 64, 64, color.NRGBA{255, 0, 0, 255}, true)} {
		var got imaging.Options
		e, _ := newServer(processFn(func(_ context.Context, src []byte, opt imaging.Options) (imaging.Result, error) {
			got = opt
			return imaging.Result{Data: []byte("x"), Format: imaging.FormatPNG, Width: 1, Height: 1}, nil
		}), handlers.Config{})
		ct, body := multipartBody(t, [3]string{"overlay", "logo.png", string(logo)}, [3]string{"image", "a.png", string(base)})
		if a := post(t, e, "/v1/process?overlay_margin=3", ct, body); a.status != http.StatusOK {
			t.Fatalf("multipart: %d %s", a.status, a.prob.Detail)
		}
		if !bytes.Equal(got.Overlay, logo) || got.OverlayField != "overlay" || got.OverlayMargin != 3 {
			t.Errorf("multipart: overlay of %d bytes (field %q, margin %d), want the %d sent, \"overlay\", 3", len(got.Overlay), got.OverlayField, got.OverlayMargin, len(logo))
		}
		got = imaging.Options{}
		js := jsonBody(t, map[string]any{"image_b64": base64.StdEncoding.EncodeToString(base), "overlay_b64": base64.RawURLEncoding.EncodeToString(logo)})
		if a := post(t, e, "/v1/process", "application/json", js); a.status != http.StatusOK {
			t.Fatalf("json: %d %s", a.status, a.prob.Detail)
		}
		if !bytes.Equal(got.Overlay, logo) || got.OverlayField != "overlay_b64" {
			t.Errorf("json: overlay of %d bytes (field %q), want the %d sent and \"overlay_b64\"", len(got.Overlay), got.OverlayField, len(logo))
		}
	}
}

// TestOpenAPI_overlayDefaults checks the documented defaults of the overlay
// options against DefaultOptions, in the parameters and the JSON schema.
func TestOpenAPI_overlayDefaults(t *testing.T) {
	doc := loadOpenAPI(t)
	d := imaging.DefaultOptions()
	want := map[string]any{
		imaging.OptOverlayGravity: string(d.OverlayGravity),
		imaging.OptOverlayMargin:  float64(d.OverlayMargin),
		imaging.OptOverlayOpacity: d.OverlayOpacity,
	}
	for name, w := range want {
		if got := doc.Components.Parameters[name].Value.Schema.Value.Default; got != w {
			t.Errorf("default of parameter %s = %v (%T), want %v", name, got, got, w)
		}
		if got := doc.Components.Schemas["Options"].Value.Properties[name].Value.Default; got != w {
			t.Errorf("default of options.%s = %v (%T), want %v", name, got, got, w)
		}
	}
	if d.OverlayWidth != 0 || doc.Components.Parameters[imaging.OptOverlayWidth].Value.Schema.Value.Default != nil {
		t.Errorf("overlay_width has a default; it should be the overlay's own width")
	}
	for _, s := range []string{"ProcessMultipartRequest", "ProcessJSONRequest"} {
		field := map[string]string{"ProcessMultipartRequest": "overlay", "ProcessJSONRequest": "overlay_b64"}[s]
		if doc.Components.Schemas[s].Value.Properties[field] == nil {
			t.Errorf("%s has no property %s", s, field)
		}
	}
}
