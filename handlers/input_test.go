package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgsvc/imgsvc/imaging"
)

// strayFileBody is a multipart body with a file part named name (size bytes,
// starting with a PNG's bytes) and, when withImage is set, an image part too.
func strayFileBody(t *testing.T, name string, size int, withImage []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile(name, "photo.png")
	if err != nil {
		t.Fatal(err)
	}
	data := append(tinyPNG(t), make([]byte, size)...)[:size]
	fw.Write(data)
	if withImage != nil {
		iw, err := w.CreateFormFile("image", "real.png")
		if err != nil {
			t.Fatal(err)
		}
		iw.Write(withImage)
	}
	w.WriteField("width", "2")
	w.Close()
	return &b, w.FormDataContentType()
}

// TestServer_parseMultipart_strayFilePart: a file sent under another part
// name (requests files={"upload": f}) is missing_file_part naming it, its
// file name and its size, whatever its size; with an image part as well, it
// is ignored.
func TestServer_parseMultipart_strayFilePart(t *testing.T) {
	src := tinyPNG(t)
	proc := ProcessFn(func(_ context.Context, b []byte, _ imaging.Options) (imaging.Result, error) {
		if !bytes.Equal(b, src) {
			t.Errorf("the processor got %d bytes, want the %d-byte image part", len(b), len(src))
		}
		return imaging.Result{Data: []byte("out"), Format: imaging.FormatPNG, Width: 2, Height: 1}, nil
	})
	tests := []struct {
		name       string
		size       int
		withImage  []byte
		wantStatus int
		wantDetail []string
	}{
		{"small stray file", 1000, nil, 400, []string{`"upload" (file "photo.png", 1000 bytes)`, `"width"`, "no part named image or file"}},
		{"stray file at the field limit", maxFieldBytes + 1, nil, 400, []string{`"upload" (file "photo.png", 65537 bytes)`}},
		{"large stray file", 3 << 20, nil, 400, []string{`"upload" (file "photo.png", 3145728 bytes)`, `"width"`, "no part named image or file"}},
		{"large stray file next to the image part", 3 << 20, src, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := strayFileBody(t, "upload", tt.size, tt.withImage)
			req := httptest.NewRequest(http.MethodPost, "/v1/process", body)
			req.Header.Set("Content-Type", ct)
			rec := serve(t, New(proc, nil, Config{}), req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == 200 {
				return
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("body is not a problem: %v: %s", err, rec.Body)
			}
			if p.Code != string(imaging.CodeMissingFilePart) || p.Field != "image" {
				t.Errorf("code, field = %s, %q, want %s, \"image\" (detail %q)", p.Code, p.Field, imaging.CodeMissingFilePart, p.Detail)
			}
			if !strings.Contains(p.Hint, `rename the part "upload" to image`) {
				t.Errorf("hint %q does not name the part to rename", p.Hint)
			}
			for _, want := range tt.wantDetail {
				if !strings.Contains(p.Detail, want) {
					t.Errorf("detail %q does not contain %q", p.Detail, want)
				}
			}
		})
	}
}
