package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/imgsvc/imgsvc/imaging"
)

// jsonFields are the keys of a JSON request.
func jsonFields() []string { return []string{"image_b64", "metadata", "options", overlayJSONField} }

func jsonAliases() map[string]string {
	return map[string]string{
		"image": "image_b64", "img": "image_b64", "data": "image_b64", "file": "image_b64", "base64": "image_b64",
		"image_base64": "image_b64", "imageb64": "image_b64", "b64": "image_b64", "content": "image_b64",
		"photo": "image_b64", "picture": "image_b64", "bytes": "image_b64", "image_data": "image_b64",
		"imagedata": "image_b64", "img_b64": "image_b64", "image64": "image_b64", "blob": "image_b64",
		"meta": "metadata", "info": "metadata", "extra": "metadata", "tags": "metadata",
		"option": "options", "opts": "options", "params": "options", "parameters": "options", "settings": "options",
		"operations": "options", "transform": "options", "transforms": "options",
		"overlay": overlayJSONField, "watermark": overlayJSONField, "logo": overlayJSONField, "overlay_base64": overlayJSONField,
		"overlay_image": overlayJSONField, "watermark_b64": overlayJSONField, "watermark_base64": overlayJSONField, "logo_b64": overlayJSONField,
	}
}

func parseJSON(body []byte, hold *bodyHold) (*input, error) {
	if !utf8.Valid(body) {
		off := invalidUTF8Offset(body)
		line, col := lineCol(body, off)
		return nil, imaging.Errorf(CodeInvalidJSON, "the JSON body is not valid UTF-8 at byte %d (line %d, column %d)", off, line, col).
			WithHint("send UTF-8 JSON; put binary data in image_b64 as base64")
	}
	if err := checkDepth(body); err != nil {
		return nil, err
	}
	var fields map[string]jsonPeek
	if err := json.Unmarshal(body, &fields); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value") {
			line, col := lineCol(body, int(se.Offset)-1)
			return nil, imaging.Errorf(CodeInvalidJSON, "unexpected data after the JSON object at line %d, column %d", line, col).
				WithHint("send exactly one JSON object")
		}
		return nil, jsonError(body, err)
	}
	if fields == nil {
		return nil, imaging.Errorf(CodeInvalidJSON, "the JSON body is null; want an object").
			WithHint(`send {"image_b64": "<base64>", "metadata": {...}, "options": {...}}`)
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if contains(jsonFields(), k) {
			continue
		}
		e := imaging.Errorf(CodeUnknownField, "unknown JSON field %q", truncate(k, 60)).WithField(truncate(k, 60))
		if s := imaging.Suggest(k, jsonFields(), jsonAliases()); s != "" {
			e.Detail += fmt.Sprintf("; did you mean %q?", s)
			e.Hint = fmt.Sprintf(`rename %q to %q: {"image_b64": "<base64>", "metadata": {...}, "options": {...}}`, k, s)
		} else if contains(imaging.OptionNames(), k) {
			e.Detail += fmt.Sprintf("; %q is an option", k)
			e.Hint = fmt.Sprintf(`put options inside "options": {"image_b64": "...", "options": {%q: ...}}`, k)
		} else {
			e.Hint = `the fields are image_b64 (required), metadata and options`
		}
		return nil, e
	}
	in := &input{form: formJSON, options: map[string][]string{}, jsonOpts: map[string]bool{}}
	peek, ok := fields["image_b64"]
	if !ok {
		return nil, imaging.Errorf(CodeMissingField, "the JSON body has no \"image_b64\" field").WithField("image_b64").
			WithHint(`put the image's base64 in "image_b64"; in Python: requests.post(url, json={"image_b64": base64.b64encode(open(path, "rb").read()).decode()})`)
	}
	if peek.kind != '"' {
		return nil, imaging.Errorf(CodeInvalidFieldType, "\"image_b64\" must be a string, got %s", jsonKind(peek.raw)).WithField("image_b64").
			WithHint(`send the base64 text as a JSON string; in Python base64.b64encode(data).decode() (decode() turns bytes into str)`)
	}
	if p, ok := fields[overlayJSONField]; ok && p.kind != '"' {
		return nil, overlayFieldType(p.raw)
	}
	// A second pass decodes the base64 straight from the body into the
	// image buffer: no copy of the string is made on the way.
	b64 := &base64Field{hold: hold}
	ov := &base64Field{hold: hold, field: overlayJSONField}
	target := struct {
		Image   *base64Field `json:"image_b64"`
		Overlay *base64Field `json:"overlay_b64"`
	}{b64, ov}
	if err := json.Unmarshal(body, &target); err != nil {
		return nil, jsonError(body, err)
	}
	if b64.err != nil {
		return nil, b64.err
	}
	if ov.err != nil {
		return nil, ov.err
	}
	if ov.data != nil {
		in.overlay, in.overlayField = ov.data, overlayJSONField
	}
	img := b64.data
	in.image = img
	var err error
	if m, ok := fields["metadata"]; ok {
		if in.metadata, err = parseMetadata(m.raw, "metadata"); err != nil {
			return nil, err
		}
	}
	if o, ok := fields["options"]; ok {
		if err := in.parseJSONOptions(o.raw); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (in *input) parseJSONOptions(raw json.RawMessage) error {
	var opts map[string]json.RawMessage
	if err := json.Unmarshal(raw, &opts); err != nil || opts == nil && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return imaging.Errorf(CodeInvalidFieldType, "\"options\" must be a JSON object, got %s", jsonKind(raw)).WithField("options").
			WithHint(`send options as an object: "options": {"width": 300, "format": "png"}`)
	}
	for k, v := range opts {
		var val string
		switch t := bytes.TrimSpace(v); {
		case len(t) > 0 && t[0] == '"':
			_ = json.Unmarshal(t, &val)
		case bytes.Equal(t, []byte("true")), bytes.Equal(t, []byte("false")):
			val = string(t)
		case len(t) > 0 && (t[0] == '-' || (t[0] >= '0' && t[0] <= '9')):
			val = string(t)
		default:
			if !contains(imaging.OptionNames(), k) {
				val = "" // report the unknown name, not the type
				break
			}
			return imaging.Errorf(imaging.CodeInvalidOption, "options.%s must be a number, string or boolean, got %s", k, jsonKind(t)).
				WithField("options." + k).WithHint(`e.g. "options": {"width": 300, "grayscale": true, "format": "png"}`)
		}
		in.options[k] = append(in.options[k], val)
		in.jsonOpts[k] = true
	}
	return nil
}

func parseMetadata(raw []byte, field string) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, imaging.Errorf(CodeInvalidMetadata, "%s must be a JSON object, got %s", field, jsonKind(t)).WithField(field).
			WithHint(`send an object: curl -F 'metadata={"id":"42"}'; requests: data={"metadata": json.dumps({"id": "42"})}; JSON: "metadata": {"id": "42"}`)
	}
	if !utf8.Valid(t) {
		return nil, imaging.Errorf(CodeInvalidMetadata, "%s is not valid UTF-8", field).WithField(field)
	}
	if err := checkDepth(t); err != nil {
		e := err.(*imaging.Error)
		e.Code, e.Field = CodeInvalidMetadata, field
		return nil, e
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		je := jsonError(t, err).(*imaging.Error)
		return nil, imaging.Errorf(CodeInvalidMetadata, "%s is not a valid JSON object: %s", field, je.Detail).WithField(field).
			WithHint(`send an object such as {"id": "42"}`)
	}
	return json.RawMessage(t), nil
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(raw []byte) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if t[0] == '-' || (t[0] >= '0' && t[0] <= '9') {
		return "a number"
	}
	return "text that is not JSON"
}

func jsonError(body []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the bad one included.
		at := max(int(se.Offset)-1, 0)
		line, col := lineCol(body, at)
		return imaging.Errorf(CodeInvalidJSON, "JSON syntax error at line %d, column %d (byte offset %d): %s", line, col, at, strings.TrimPrefix(se.Error(), "json: ")).
			WithHint(`check the JSON near that position; in Python let requests encode it: requests.post(url, json={"image_b64": ...})`)
	case errors.As(err, &te):
		return imaging.Errorf(CodeInvalidJSON, "the JSON body is %s; want an object", jsonKind(body)).
			WithHint(`send {"image_b64": "<base64>", "metadata": {...}, "options": {...}}`)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(body, len(body))
		return imaging.Errorf(CodeInvalidJSON, "the JSON body ends early, at line %d, column %d", line, col).
			WithHint("the JSON is incomplete: check that the whole body was sent")
	}
	return imaging.Errorf(CodeInvalidJSON, "the JSON body cannot be parsed: %s", truncate(err.Error(), 200))
}

// checkDepth refuses JSON nested deeper than maxJSONDepth, before the
// decoder spends memory on it.
func checkDepth(b []byte) error {
	depth, inStr, esc := 0, false, false
	for i, c := range b {
		switch {
		case esc:
			esc = false
		case inStr:
			if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > maxJSONDepth {
				line, col := lineCol(b, i)
				return imaging.Errorf(CodeInvalidJSON, "the JSON is nested more than %d levels deep (line %d, column %d)", maxJSONDepth, line, col).
					WithHint("flatten the metadata")
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

func lineCol(b []byte, off int) (line, col int) {
	off = min(max(off, 0), len(b))
	line = 1 + bytes.Count(b[:off], []byte{'\n'})
	col = off - bytes.LastIndexByte(b[:off], '\n')
	return line, col
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }
