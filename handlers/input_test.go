package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

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
			if p.Code != string(CodeMissingFilePart) || p.Field != "image" {
				t.Errorf("code, field = %s, %q, want %s, \"image\" (detail %q)", p.Code, p.Field, CodeMissingFilePart, p.Detail)
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

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"},               // é is 2 bytes: not cut in half
		{"ééé", 4, "éé…"},             // a boundary at n keeps the rune before it
		{"ab€cd", 4, "ab…"},           // € is 3 bytes
		{"a😀b", 3, "a…"},              // 4-byte rune
		{"名前名前名前", 7, "名前…"},          // 3-byte runes
		{"a\xffb\xffc", 3, "a\xffb…"}, // bytes that are not UTF-8 stay whole
		{"éé", 0, "…"},
	}
	for _, tt := range tests {
		got := truncate(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if utf8.ValidString(tt.s) && !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, which is not valid UTF-8", tt.s, tt.n, got)
		}
	}
}

// TestProblemDetails_cutOnRuneBoundaries: long client text with multi-byte
// characters, quoted in a detail (by handlers or by imaging), is cut between
// characters, never inside one.
func TestProblemDetails_cutOnRuneBoundaries(t *testing.T) {
	// Each é is 2 bytes; the cuts fall at 100 bytes of the path, 80 of the
	// media type and 64 of the option value, each after an odd number of
	// ASCII bytes, so a byte cut would split an é.
	long := strings.Repeat("é", 150)
	src := tinyPNG(t)
	tests := []struct {
		name, method, target, ct string
		body                     []byte
	}{
		{"unknown route (truncPath)", http.MethodGet, "/" + url.PathEscape(long), "", nil},
		{"Content-Type (handlers)", http.MethodPost, "/v1/process", "text/" + long, src},
		{"option value (imaging)", http.MethodPost, "/v1/process?fit=a" + url.QueryEscape(long), "image/png", src},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, bytes.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			rec := serve(t, New(nil, nil, Config{}), req)
			if !utf8.Valid(rec.Body.Bytes()) {
				t.Fatalf("the answer is not valid UTF-8: %q", rec.Body)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("body is not a problem: %v: %s", err, rec.Body)
			}
			if !strings.Contains(p.Detail, "é…") {
				t.Errorf("detail %q does not end its quote of the text with a whole character and …", p.Detail)
			}
			if strings.ContainsRune(p.Detail, utf8.RuneError) || strings.Contains(p.Detail, `\x`) {
				t.Errorf("detail %q holds half a character", p.Detail)
			}
		})
	}
}
