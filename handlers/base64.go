package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/imgsvc/imgsvc/imaging"
)

// jsonPeek records the kind of a top-level JSON value (its first byte) and,
// unless it is a long string, the value itself. The image's base64 is not
// copied: base64Field decodes it from the body in a second pass.
type jsonPeek struct {
	kind byte
	raw  json.RawMessage
}

// maxPeekString is the longest string value jsonPeek keeps.
const maxPeekString = 4 << 10

func (p *jsonPeek) UnmarshalJSON(b []byte) error {
	if len(b) > 0 {
		p.kind = b[0]
	}
	if p.kind != '"' || len(b) <= maxPeekString {
		p.raw = bytes.Clone(b)
	}
	return nil
}

// base64Field decodes a JSON string of base64 straight into one buffer
// charged to the request's body memory. Strings the fast path does not take
// (escapes other than \/ \n \r \t, bad characters, mixed alphabets) go
// through decodeBase64, which says exactly what is wrong.
type base64Field struct {
	hold  *bodyHold
	field string // the JSON field, for errors; "" means image_b64
	data  []byte
	err   error // why the last occurrence did not decode
}

// UnmarshalJSON decodes one occurrence of the field. As encoding/json does
// for duplicate keys, the last occurrence wins, so its error is kept for the
// caller rather than returned: an earlier bad one must not stop a later good one.
func (f *base64Field) UnmarshalJSON(lit []byte) error {
	if f.data != nil {
		f.hold.free(int64(cap(f.data)))
		f.data = nil
	}
	f.err = renameField(f.decode(lit), f.field)
	return nil
}

func (f *base64Field) decode(lit []byte) error {
	if len(lit) < 2 || lit[0] != '"' {
		return imaging.Errorf(CodeInvalidFieldType, "\"image_b64\" must be a string, got %s", jsonKind(lit)).WithField("image_b64").
			WithHint(`send the base64 text as a JSON string; in Python base64.b64encode(data).decode() (decode() turns bytes into str)`)
	}
	data, ok, err := decodeBase64Literal(lit[1:len(lit)-1], f.hold)
	if err != nil {
		return err
	}
	if ok && (imaging.Sniff(data) != "" || len(lit) > maxPeekString) {
		f.data = data
		return nil
	}
	// The slow path: unquote the string and decode it with full diagnostics.
	// It holds the string, its cleaned copy and the output for a moment.
	if ok {
		f.hold.free(int64(cap(data)))
	}
	n := int64(len(lit)) * 3
	if err := f.hold.alloc(n); err != nil {
		return err
	}
	defer f.hold.free(n)
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		return imaging.Errorf(CodeEmptyBody, "\"image_b64\" is empty").WithField("image_b64").
			WithHint("put the base64 of the image's bytes in image_b64; check that the file was read")
	}
	img, err := decodeBase64(s)
	if (err != nil || imaging.Sniff(img) == "") && !looksLikeImageBase64(s) {
		// Only text that is not an image's base64 can be a path: a JPEG's
		// base64 starts with "/9j/", which looks like one.
		if perr := pathError([]byte(s), "image_b64"); perr != nil {
			return perr
		}
	}
	if err != nil {
		return err
	}
	if err := f.hold.alloc(int64(cap(img))); err != nil {
		return err
	}
	f.data = img
	return nil
}

// decodeBase64Literal decodes the body of a JSON string literal holding
// base64 (standard or URL-safe, padded or not, with a data: URI prefix,
// wrapped with \n), decoding 4 KiB of characters at a time into one output
// buffer. ok is false for anything it does not take; err is set only when
// the body memory cannot be had.
func decodeBase64Literal(s []byte, h *bodyHold) (out []byte, ok bool, err error) {
	if len(s) > 5 && strings.EqualFold(string(s[:5]), "data:") {
		comma := bytes.IndexByte(s[:min(len(s), 257)], ',')
		if comma < 0 || !strings.HasSuffix(strings.ToLower(string(s[:comma])), ";base64") {
			return nil, false, nil
		}
		s = s[comma+1:]
	}
	if len(s) == 0 {
		return nil, false, nil
	}
	size := int64(len(s)/4*3 + 3)
	if err := h.alloc(size); err != nil {
		return nil, false, err
	}
	out = make([]byte, 0, size)
	fail := func() ([]byte, bool, error) {
		h.free(size)
		return nil, false, nil
	}
	var chunk [4096]byte
	n := 0
	std, url, padded := false, false, false
	enc := func() *base64.Encoding {
		if url {
			return base64.RawURLEncoding
		}
		return base64.RawStdEncoding
	}
	flush := func() bool {
		m, err := enc().Decode(out[len(out):cap(out)], chunk[:n])
		out = out[:len(out)+m]
		n = 0
		return err == nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		case c == '=':
			padded = true
			continue
		case c == ' ':
			continue
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n', 'r', 't':
				continue
			case '/':
				c, std = '/', true
			default:
				return fail()
			}
		default:
			return fail()
		}
		if padded || std && url {
			return fail()
		}
		chunk[n] = c
		n++
		if n == len(chunk) && !flush() {
			return fail()
		}
	}
	if n%4 == 1 || !flush() || len(out) == 0 {
		return fail()
	}
	return out, true, nil
}

// looksLikeImageBase64 reports whether s starts as the base64 of an image
// would, whatever comes later: "/9j/4AAQ$$$$" is a broken JPEG, not a path.
func looksLikeImageBase64(s string) bool {
	end := 0
	for end < len(s) && end < 64 && isBase64Char(s[end]) {
		end++
	}
	end -= end % 4
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(s[:end]); err == nil && imaging.Sniff(b) != "" {
			return true
		}
	}
	return false
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

// decodeBase64 accepts standard or URL-safe base64, padded or not, wrapped
// in lines or not, with or without a data: URI prefix, and reports the exact
// offset of the first bad character.
func decodeBase64(s string) ([]byte, error) {
	field := "image_b64"
	start := 0
	if len(s) > 5 && strings.EqualFold(s[:5], "data:") {
		comma := strings.IndexByte(s, ',')
		if comma < 0 || comma > 256 {
			return nil, imaging.Errorf(CodeInvalidBase64, "image_b64 starts with \"data:\" but has no comma ending the data URI header").WithField(field).
				WithHint("use data:image/jpeg;base64,<base64>, or the bare base64")
		}
		if !strings.HasSuffix(strings.ToLower(s[:comma]), ";base64") {
			return nil, imaging.Errorf(CodeInvalidBase64, "the data URI %q is not base64-encoded", truncate(s[:comma], 60)).WithField(field).
				WithHint("use data:image/jpeg;base64,<base64>, or the bare base64")
		}
		start = comma + 1
	}
	clean := make([]byte, 0, len(s)-start)
	std, url := -1, -1 // offsets of the first character only one alphabet has
	pad := -1
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '+' || c == '/':
			if std < 0 {
				std = i
			}
		case c == '-' || c == '_':
			if url < 0 {
				url = i
			}
		case c == '=':
			if pad < 0 {
				pad = i
			}
			continue
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
			continue
		default:
			return nil, badBase64(fmt.Sprintf("invalid character %s at offset %d of image_b64", describeByte(s, i), i))
		}
		if pad >= 0 {
			return nil, badBase64(fmt.Sprintf("padding '=' at offset %d of image_b64 is followed by more data at offset %d", pad, i))
		}
		clean = append(clean, c)
	}
	if std >= 0 && url >= 0 {
		return nil, badBase64(fmt.Sprintf("image_b64 mixes the standard alphabet ('%c' at offset %d) with the URL-safe one ('%c' at offset %d)", s[std], std, s[url], url))
	}
	if len(clean)%4 == 1 {
		return nil, badBase64(fmt.Sprintf("image_b64 has %d base64 characters, which cannot encode whole bytes: it is probably truncated", len(clean)))
	}
	enc := base64.RawStdEncoding
	if url >= 0 {
		enc = base64.RawURLEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil {
		return nil, badBase64(fmt.Sprintf("image_b64 does not decode: %v", err))
	}
	return out[:n], nil
}

func describeByte(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError || r < 0x20 {
		return fmt.Sprintf("byte 0x%02x", s[i])
	}
	return fmt.Sprintf("%q", r)
}

func badBase64(detail string) *imaging.Error {
	return imaging.Errorf(CodeInvalidBase64, "%s", detail).WithField("image_b64").
		WithHint("encode the raw file bytes: in Python base64.b64encode(open(path, \"rb\").read()).decode(); in a shell base64 -w0 photo.jpg")
}
