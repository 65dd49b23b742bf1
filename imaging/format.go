package imaging

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Format is an image format, named as in the "format" option. Each format
// is declared in its codec's file (codec_jpeg.go: FormatJPEG, …).
type Format string

// FormatAuto asks for the best format the client accepts (Options.Accept).
const FormatAuto Format = "auto"

// Describe says in a few words what b looks like, for bytes that are not an
// image the service reads: "a PDF document", "HTML", "a HEIC image"...
func Describe(b []byte) string {
	head := b
	if len(head) > 512 {
		head = head[:512]
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	lower := bytes.ToLower(trimmed)
	ftyp := len(b) >= 12 && bytes.Equal(b[4:8], []byte("ftyp"))
	brand := ""
	if ftyp {
		brand = string(b[8:12])
	}
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "a PDF document"
	case ftyp && (brand == "heic" || brand == "heix" || brand == "hevc" || brand == "heim" || brand == "heis" || brand == "mif1" || brand == "msf1"):
		return "a HEIC/HEIF image (" + brand + ")"
	case ftyp && (brand == "avif" || brand == "avis"):
		return "an AVIF image"
	case ftyp:
		return "an ISO media file (" + strings.TrimSpace(brand) + "), such as MP4 or MOV video"
	case bytes.HasPrefix(b, []byte{0xFF, 0x0A}), bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return "a JPEG XL image"
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0x01, 0x00}):
		return "a Windows icon (ICO)"
	case bytes.HasPrefix(b, []byte("8BPS")):
		return "a Photoshop document (PSD)"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "a ZIP archive (or an Office document)"
	case bytes.HasPrefix(b, []byte{0x1F, 0x8B}):
		return "gzip-compressed data"
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "an executable (ELF)"
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")):
		return "an HTML document"
	case bytes.HasPrefix(lower, []byte("<svg")), bytes.HasPrefix(lower, []byte("<?xml")) && bytes.Contains(lower, []byte("<svg")):
		return "an SVG image (vector images are not supported)"
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return "an XML document"
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		return "JSON text"
	case bytes.HasPrefix(lower, []byte("data:")):
		return "a data: URI (send the decoded bytes, or use the JSON form with image_b64)"
	case looksBase64(trimmed):
		return "base64 text (send the decoded bytes, or use the JSON form with image_b64)"
	case utf8.Valid(head) && isPrintable(head):
		return "plain text"
	}
	return "unrecognised binary data"
}

func looksBase64(b []byte) bool {
	if len(b) < 16 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '+', c == '/', c == '=', c == '-', c == '_', c == '\n', c == '\r':
		default:
			return false
		}
	}
	return true
}

func isPrintable(b []byte) bool {
	for _, r := range string(b) {
		if r == utf8.RuneError || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') {
			return false
		}
	}
	return true
}

// PathKind says whether a short text body is a file path or a URL.
type PathKind int

// The kinds of text that clients send instead of image bytes.
const (
	NotAPath PathKind = iota
	IsPath
	IsURL
)

// imageExtensions are the file name endings that make a bare name like
// "photo.jpg" a path rather than arbitrary text.
var imageExtensions = [...]string{".jpg", ".jpeg", ".jpe", ".png", ".gif", ".bmp", ".tif", ".tiff",
	".webp", ".heic", ".heif", ".avif", ".svg", ".ico", ".jfif", ".pjpeg", ".dng", ".raw", ".cr2", ".nef"}

// DetectPath recognises a body that is a file path or a URL rather than image
// bytes: what `requests.post(url, data="img.jpg")` or `curl -d photo.jpg`
// send. It returns the kind and the text, cleaned of quotes and whitespace.
func DetectPath(b []byte) (PathKind, string) {
	if len(b) == 0 || len(b) > 4096 || !utf8.Valid(b) {
		return NotAPath, ""
	}
	s := strings.TrimSpace(string(b))
	s = strings.Trim(s, `"'`)
	if s == "" || strings.ContainsAny(s, "\n\r\x00") {
		return NotAPath, ""
	}
	for _, r := range s {
		if r < 0x20 {
			return NotAPath, ""
		}
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "ftp://"),
		strings.HasPrefix(lower, "s3://"), strings.HasPrefix(lower, "gs://"):
		return IsURL, s
	case strings.HasPrefix(lower, "file://"):
		return IsPath, s
	case strings.HasPrefix(s, "/"), strings.HasPrefix(s, "~/"), strings.HasPrefix(s, "./"), strings.HasPrefix(s, "../"),
		strings.HasPrefix(s, `\\`), strings.HasPrefix(s, `.\`):
		return IsPath, s
	case len(s) >= 3 && isASCIILetter(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/'):
		return IsPath, s // C:\Users\me\photo.jpg
	case strings.HasPrefix(s, "@") && len(s) > 1:
		return IsPath, s // curl -d '@ photo.jpg' style leftovers
	}
	if strings.ContainsAny(s, " \t") && !strings.ContainsAny(s, `/\`) {
		// Free text with spaces and no separators is not a file name
		// unless it ends in an image extension ("my photo.jpg").
		if !hasImageExtension(lower) {
			return NotAPath, ""
		}
	}
	if hasImageExtension(lower) && !strings.ContainsAny(s, "<>{}|") {
		return IsPath, s
	}
	return NotAPath, ""
}

func hasImageExtension(lower string) bool {
	for _, ext := range imageExtensions {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
