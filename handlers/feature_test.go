package handlers_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

// jpeg12 turns a baseline JPEG into what a 12-bit extended-sequential JPEG
// starts as: SOF1 with sample precision 12. Debian's cjpeg (libjpeg-turbo
// 2.1) has no -precision 12, so the header is patched; the refusal happens
// from the header, before any entropy-coded data is read.
func jpeg12(t *testing.T, jpg []byte) []byte {
	t.Helper()
	out := bytes.Clone(jpg)
	for i := 2; i+4 < len(out); {
		if out[i] != 0xFF {
			t.Fatal("jpeg12: lost the marker chain")
		}
		if out[i+1] == 0xC0 {
			out[i+1], out[i+4] = 0xC1, 12
			return out
		}
		i += 2 + int(out[i+2])<<8 + int(out[i+3])
	}
	t.Fatal("jpeg12: no SOF0")
	return nil
}

// sofMarker replaces the SOF0 marker of a baseline JPEG with m (0xC3:
// lossless, 0xC5: hierarchical), as jpeg12 does.
func sofMarker(t *testing.T, jpg []byte, m byte) []byte {
	t.Helper()
	out := jpeg12(t, jpg)
	for i := 2; i+4 < len(out); i += 2 + int(out[i+2])<<8 + int(out[i+3]) {
		if out[i+1] == 0xC1 {
			out[i+1], out[i+4] = m, 8
			break
		}
	}
	return out
}

type answer struct {
	status int
	prob   handlers.Problem
	info   imaging.Info
	ct     string
	body   []byte
}

func post(t *testing.T, h http.Handler, target, ct string, body []byte) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, ct: rec.Header().Get("Content-Type"), body: rec.Body.Bytes()}
	switch {
	case rec.Code >= 400:
		if err := json.Unmarshal(rec.Body.Bytes(), &a.prob); err != nil {
			t.Fatalf("problem body: %v: %s", err, rec.Body.String())
		}
	case strings.HasSuffix(target, "/info"):
		if err := json.Unmarshal(rec.Body.Bytes(), &a.info); err != nil {
			t.Fatalf("info body: %v: %s", err, rec.Body.String())
		}
	}
	return a
}

// A valid JPEG using a coding feature the decoders do not take is refused
// with 415 unsupported_image_feature naming it, while /v1/info still
// answers from its header.
func TestServer_unsupportedImageFeature_jpeg(t *testing.T) {
	e, _ := newServer(newPipeline(t, imaging.Limits{}, imaging.PoolConfig{}), handlers.Config{})
	jpg := newJPEG(t, 64, 48)
	for _, tt := range []struct {
		name, detail string
		body         []byte
	}{
		{"12-bit", "the JPEG uses 12-bit samples, which imgsvc does not decode", jpeg12(t, jpg)},
		{"lossless", "lossless or hierarchical coding", sofMarker(t, jpg, 0xC3)},
		{"hierarchical", "lossless or hierarchical coding", sofMarker(t, jpg, 0xC5)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, e, "/v1/process?format=png", "image/jpeg", tt.body)
			if a.status != http.StatusUnsupportedMediaType || a.prob.Code != string(imaging.CodeUnsupportedImageFeature) {
				t.Fatalf("process: %d %s %q, want 415 unsupported_image_feature", a.status, a.prob.Code, a.prob.Detail)
			}
			if !strings.Contains(a.prob.Detail, tt.detail) || !strings.Contains(a.prob.Hint, "convert it to") {
				t.Errorf("process: detail %q hint %q, want the feature named (%q) and what to convert to", a.prob.Detail, a.prob.Hint, tt.detail)
			}
			if a.prob.Title != "Unsupported image feature" {
				t.Errorf("title %q", a.prob.Title)
			}
			a = post(t, e, "/v1/info", "image/jpeg", tt.body)
			if a.status != http.StatusOK || a.info.Width != 64 || a.info.Height != 48 || a.info.Format != imaging.FormatJPEG {
				t.Fatalf("info: %d %+v %q, want 200 64×48 jpeg", a.status, a.info, a.prob.Detail)
			}
		})
	}
}

// RLE BMP, CIELab TIFF and JPEG-compressed TIFF, which the libraries refuse,
// are decoded; a 16-bit CIELab TIFF is refused with 415 naming it. The
// fixtures are imaging's (see imaging/testdata/README).
func TestServer_decodesRLEBMPLabAndJPEGTIFF(t *testing.T) {
	e, _ := newServer(newPipeline(t, imaging.Limits{}, imaging.PoolConfig{}), handlers.Config{})
	for _, tt := range []struct {
		file, ct string
		w, h     int
	}{
		{"rle8-imagemagick.bmp", "image/bmp", 40, 30},
		{"lab-pillow.tif", "image/tiff", 32, 24},
		{"jpeg-tiles.tif", "image/tiff", 32, 24},
	} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("../imaging/testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			a := post(t, e, "/v1/info", tt.ct, b)
			if a.status != http.StatusOK || a.info.Width != tt.w || a.info.Height != tt.h {
				t.Fatalf("info: %d %+v %q", a.status, a.info, a.prob.Detail)
			}
			a = post(t, e, "/v1/process?format=png", tt.ct, b)
			if a.status != http.StatusOK || a.ct != "image/png" {
				t.Fatalf("process: %d %s %q", a.status, a.ct, a.prob.Detail)
			}
			img, err := png.Decode(bytes.NewReader(a.body))
			if err != nil || img.Bounds().Dx() != tt.w || img.Bounds().Dy() != tt.h {
				t.Fatalf("process answered %v, %v; want a %d×%d PNG", img.Bounds(), err, tt.w, tt.h)
			}
			a = post(t, e, "/v1/process", tt.ct, b) // the input's format
			if a.status != http.StatusOK || a.ct != tt.ct {
				t.Fatalf("process to the same format: %d %s %q", a.status, a.ct, a.prob.Detail)
			}
		})
	}

	// 16-bit CIELab: the Lab fixture with BitsPerSample patched to 16 (the
	// refusal comes from the header).
	b, err := os.ReadFile("../imaging/testdata/lab-pillow.tif")
	if err != nil {
		t.Fatal(err)
	}
	lab16 := bytes.Clone(b)
	off := int(binary.LittleEndian.Uint32(lab16[4:]))
	for i := range int(binary.LittleEndian.Uint16(lab16[off:])) {
		p := lab16[off+2+12*i:]
		if binary.LittleEndian.Uint16(p) == 258 { // BitsPerSample: three SHORTs, out of line
			vo := int(binary.LittleEndian.Uint32(p[8:]))
			for k := range 3 {
				binary.LittleEndian.PutUint16(lab16[vo+2*k:], 16)
			}
		}
	}
	a := post(t, e, "/v1/process", "image/tiff", lab16)
	if a.status != http.StatusUnsupportedMediaType || a.prob.Code != string(imaging.CodeUnsupportedImageFeature) ||
		a.prob.Detail != "the TIFF is 16-bit CIELab (imgsvc decodes 8-bit CIELab), which imgsvc does not decode" {
		t.Fatalf("16-bit Lab: %d %s %q", a.status, a.prob.Code, a.prob.Detail)
	}
	if a = post(t, e, "/v1/info", "image/tiff", lab16); a.status != http.StatusOK || a.info.Width != 32 {
		t.Fatalf("16-bit Lab info: %d %+v %q", a.status, a.info, a.prob.Detail)
	}
}
