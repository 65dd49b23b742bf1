package imaging

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	img := newGradient(8, 8)
	tests := []struct {
		name string
		b    []byte
		want Format
	}{
		{"jpeg", encodeAs(t, img, FormatJPEG), FormatJPEG},
		{"png", encodeAs(t, img, FormatPNG), FormatPNG},
		{"gif", encodeAs(t, img, FormatGIF), FormatGIF},
		{"bmp", encodeAs(t, img, FormatBMP), FormatBMP},
		{"tiff", encodeAs(t, img, FormatTIFF), FormatTIFF},
		{"webp header", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), FormatWebP},
		{"riff but not webp", []byte("RIFF\x10\x00\x00\x00WAVEfmt "), ""},
		{"html", []byte("<!DOCTYPE html><html>"), ""},
		{"empty", nil, ""},
		{"two bytes of jpeg", []byte{0xFF, 0xD8}, ""},
	}
	for _, tt := range tests {
		if got := Sniff(tt.b); got != tt.want {
			t.Errorf("Sniff(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		b    string
		want string
	}{
		{"%PDF-1.7\n...", "PDF"},
		{"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC"},
		{"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", "AVIF"},
		{"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", "ISO media"},
		{"  <!doctype HTML><html><body>404</body></html>", "HTML"},
		{"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG"},
		{"<?xml version='1.0'?><svg></svg>", "SVG"},
		{`{"image": "abc"}`, "JSON"},
		{"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64"},
		{"data:image/png;base64,iVBORw0KGgo", "data: URI"},
		{"hello world", "plain text"},
		{"PK\x03\x04rest", "ZIP"},
		{"\x1f\x8b\x08\x00", "gzip"},
		{"\x01\x02\x03\xff\xfe", "binary"},
	}
	for _, tt := range tests {
		if got := Describe([]byte(tt.b)); !strings.Contains(got, tt.want) {
			t.Errorf("Describe(%q) = %q, want it to mention %q", tt.b, got, tt.want)
		}
	}
}

func TestDetectPath(t *testing.T) {
	tests := []struct {
		in   string
		want PathKind
	}{
		{"img.jpg", IsPath},
		{"photo.JPEG\n", IsPath},
		{`"cat.png"`, IsPath},
		{"my holiday photo.jpg", IsPath},
		{"/home/me/photo.jpg", IsPath},
		{"/tmp/upload", IsPath},
		{"./a.png", IsPath},
		{"../images/a", IsPath},
		{"~/Pictures/cat.webp", IsPath},
		{`C:\Users\me\Pictures\cat.png`, IsPath},
		{"C:/Users/me/cat.png", IsPath},
		{`\\server\share\cat.png`, IsPath},
		{"file:///home/me/cat.png", IsPath},
		{"@photo.jpg", IsPath},
		{"https://example.com/cat.png", IsURL},
		{"HTTP://EXAMPLE.COM/x", IsURL},
		{"s3://bucket/key.jpg", IsURL},
		{"hello world", NotAPath},
		{"", NotAPath},
		{"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", NotAPath},
		{"line1\nline2.jpg", NotAPath},
		{"<img src=a.png>", NotAPath},
		{strings.Repeat("a", 5000) + ".jpg", NotAPath},
		{"\xff\xd8\xff\xe0.jpg", NotAPath},
	}
	for _, tt := range tests {
		got, _ := DetectPath([]byte(tt.in))
		if got != tt.want {
			t.Errorf("DetectPath(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFormatFromMediaType(t *testing.T) {
	for mt, want := range map[string]Format{
		"image/jpeg": FormatJPEG, "image/jpg": FormatJPEG, "image/png": FormatPNG, "image/gif": FormatGIF,
		"image/webp": FormatWebP, "image/bmp": FormatBMP, "image/x-ms-bmp": FormatBMP, "image/tiff": FormatTIFF,
		"image/avif": FormatAVIF, "image/heic": FormatHEIC, "image/heif": FormatHEIC,
	} {
		if got, ok := FormatFromMediaType(mt); !ok || got != want {
			t.Errorf("FormatFromMediaType(%q) = %q, %v; want %q", mt, got, ok, want)
		}
	}
	if _, ok := FormatFromMediaType("image/jxl"); ok {
		t.Error("image/jxl should not be readable")
	}
}
