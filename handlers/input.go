package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// Input forms.
const (
	formRaw       = "raw"
	formMultipart = "multipart"
	formJSON      = "json"
)

// Limits on the structure of a request, beyond its size in bytes.
const (
	maxMultipartParts = 64
	maxFieldBytes     = 64 << 10 // a form field or option value
	maxJSONDepth      = 64
)

// input is one request's image, metadata and options, whatever form it came in.
type input struct {
	form     string
	image    []byte
	metadata json.RawMessage // the client's object, verbatim; nil when absent
	options  map[string][]string
	jsonOpts map[string]bool // option names that came from the JSON "options" object
	hold     *bodyHold       // the body memory the request holds
}

// release gives back the body memory the request holds; call it once its
// image is no longer used.
func (in *input) release() {
	if in.hold != nil {
		in.hold.releaseAll()
	}
}

func (in *input) fieldName(name string) string {
	if in.jsonOpts[name] {
		return "options." + name
	}
	return name
}

// readInput reads and classifies a request body. The checks run root cause
// first: an empty body, then a body that is a path or a URL, then the
// Content-Type, then the form's own structure.
func (s *Server) readInput(c echo.Context) (*input, error) {
	req := c.Request()
	if enc := strings.TrimSpace(req.Header.Get(echo.HeaderContentEncoding)); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, imaging.Errorf(imaging.CodeUnsupportedContentType, "Content-Encoding %q is not accepted", truncate(enc, 40)).
			WithHint("send the body uncompressed: images are already compressed, and compressed bodies could hide decompression bombs")
	}
	hold := &bodyHold{budget: s.bodies, ctx: req.Context()}
	in, err := s.parseInput(c, hold)
	if err != nil {
		hold.releaseAll()
		return nil, err
	}
	hold.dropFloor()
	in.hold = hold
	return in, nil
}

func (s *Server) parseInput(c echo.Context, hold *bodyHold) (*input, error) {
	req := c.Request()
	body, err := s.readBody(c, hold)
	if err != nil {
		return nil, err
	}
	ct := req.Header.Get(echo.HeaderContentType)
	mt, params, ctErr := mime.ParseMediaType(ct)
	mt = strings.ToLower(mt)
	if len(body) == 0 {
		return nil, imaging.Errorf(imaging.CodeEmptyBody, "the request body is empty").
			WithHint("send the image: curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL, or -F image=@photo.jpg; in Python requests.post(url, files={\"image\": open(path, \"rb\")})")
	}
	if !strings.HasPrefix(mt, "multipart/") && imaging.Sniff(body) == "" {
		if err := pathError(body, ""); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(ct) == "" {
		return nil, missingContentType(body)
	}
	if ctErr != nil {
		return nil, imaging.Errorf(imaging.CodeUnsupportedContentType, "the Content-Type %q cannot be parsed: %v", truncate(ct, 80), ctErr).
			WithHint("send e.g. Content-Type: image/jpeg, application/json or multipart/form-data; boundary=...")
	}
	var in *input
	switch {
	case mt == "multipart/form-data":
		in, err = s.parseMultipart(body, params, hold)
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		in, err = parseJSON(body, hold)
	case mt == "application/octet-stream" || mt == "binary/octet-stream":
		in, err = rawInput(body, "")
	case strings.HasPrefix(mt, "image/"):
		in, err = rawInput(body, mt)
	case mt == "application/x-www-form-urlencoded":
		return nil, imaging.Errorf(imaging.CodeUnsupportedContentType, "Content-Type application/x-www-form-urlencoded is not an image form; this is what `curl -d @file` sends, and curl strips newlines from the file").
			WithHint("with curl use --data-binary @photo.jpg -H 'Content-Type: image/jpeg', or -F image=@photo.jpg; in Python requests.post(url, files={\"image\": open(path, \"rb\")})")
	default:
		e := imaging.Errorf(imaging.CodeUnsupportedContentType, "Content-Type %q is not accepted", truncate(mt, 80)).
			WithHint("send image/jpeg, image/png, image/gif, image/webp, image/bmp, image/tiff, application/octet-stream, multipart/form-data or application/json")
		if f := imaging.Sniff(body); f != "" {
			e.Detail += fmt.Sprintf(" (the body is a %s image)", strings.ToUpper(string(f)))
			e.Hint = fmt.Sprintf("send it with Content-Type: %s: curl -H 'Content-Type: %s' --data-binary @file ...", f.MediaType(), f.MediaType())
		}
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	if in.options == nil {
		in.options = map[string][]string{}
	}
	for k, vs := range c.QueryParams() {
		in.options[k] = append(in.options[k], vs...)
	}
	return in, nil
}

// pathError recognises a body (or a field, when field is set) that holds a
// file path or a URL instead of the image.
func pathError(b []byte, field string) *imaging.Error {
	kind, text := imaging.DetectPath(b)
	where := "the request body"
	if field != "" {
		where = fmt.Sprintf("the %q field", field)
	}
	switch kind {
	case imaging.IsPath:
		e := imaging.Errorf(imaging.CodeBodyIsPath, "%s is the text %q, a file path, not the image's bytes", where, truncate(text, 200)).WithField(field)
		switch field {
		case "image", "file":
			e.Hint = fmt.Sprintf("with curl put @ before the path: -F %s=@%s; in Python pass the open file: files={\"image\": open(%q, \"rb\")}", field, strings.TrimPrefix(text, "@"), text)
		case "image_b64":
			e.Hint = fmt.Sprintf("put the base64 of the file's bytes in image_b64: in Python base64.b64encode(open(%q, \"rb\").read()).decode()", text)
		default:
			e.Hint = fmt.Sprintf("send the file's content, not its name: curl --data-binary @%s -H 'Content-Type: image/jpeg' URL; in Python requests.post(url, data=open(%q, \"rb\"), headers={\"Content-Type\": \"image/jpeg\"})", strings.TrimPrefix(text, "@"), text)
		}
		return e
	case imaging.IsURL:
		return imaging.Errorf(imaging.CodeBodyIsURL, "%s is the URL %q, not the image's bytes; imgsvc does not fetch URLs", where, truncate(text, 200)).WithField(field).
			WithHint("download the image first and send its bytes: curl -s URL | curl --data-binary @- -H 'Content-Type: image/jpeg' ...")
	}
	return nil
}

func missingContentType(body []byte) *imaging.Error {
	e := imaging.Errorf(imaging.CodeMissingContentType, "the request has no Content-Type header").
		WithHint("set Content-Type: image/jpeg (or png, gif, webp, bmp, tiff, application/octet-stream); curl: -H 'Content-Type: image/jpeg' --data-binary @photo.jpg; requests: headers={\"Content-Type\": \"image/jpeg\"}, or files={\"image\": f} which sets multipart for you")
	trimmed := bytes.TrimSpace(body)
	switch f := imaging.Sniff(body); {
	case f != "":
		e.Detail += fmt.Sprintf("; the body is a %s image", strings.ToUpper(string(f)))
		e.Hint = fmt.Sprintf("add -H 'Content-Type: %s' to curl, or headers={\"Content-Type\": %q} to requests.post", f.MediaType(), f.MediaType())
	case len(trimmed) > 0 && trimmed[0] == '{':
		e.Detail += "; the body looks like JSON"
		e.Hint = "add -H 'Content-Type: application/json', or in Python use requests.post(url, json={...}) which sets it"
	case bytes.HasPrefix(trimmed, []byte("--")):
		e.Detail += "; the body looks like multipart form data"
		e.Hint = "send Content-Type: multipart/form-data; boundary=...: curl -F image=@photo.jpg and requests files= do this for you"
	}
	return e
}

func rawInput(body []byte, declared string) (*input, error) {
	got := imaging.Sniff(body)
	if got == "" {
		return nil, imaging.UnsupportedFormatError(body)
	}
	if declared != "" {
		want, ok := imaging.FormatFromMediaType(declared)
		if !ok {
			return nil, imaging.Errorf(imaging.CodeContentTypeMismatch, "Content-Type says %s but the bytes are a %s image", declared, strings.ToUpper(string(got))).
				WithHint("send Content-Type: %s, or application/octet-stream to let the service detect the format", got.MediaType())
		}
		if want != got {
			return nil, imaging.Errorf(imaging.CodeContentTypeMismatch, "Content-Type says %s but the bytes are a %s image", declared, strings.ToUpper(string(got))).
				WithHint("send Content-Type: %s, or application/octet-stream to let the service detect the format", got.MediaType())
		}
	}
	return &input{form: formRaw, image: body}, nil
}

// smallPart is the largest image part kept on the first pass over a
// multipart body; it is large enough to hold any file path or URL.
const smallPart = 4 << 10

func (s *Server) parseMultipart(body []byte, params map[string]string, hold *bodyHold) (*input, error) {
	boundary := params["boundary"]
	if boundary == "" {
		return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "Content-Type multipart/form-data has no boundary parameter").
			WithHint("don't set the multipart Content-Type yourself: curl -F and requests.post(url, files=...) add it with its boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	in := &input{form: formMultipart, options: map[string][]string{}}
	var found []string
	imagePart := ""
	imageIndex, imageSize := -1, int64(0) // a large image part, read after the loop
	var strayFiles []string               // file parts under another name
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if n == 0 {
				return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "the body is not multipart data with boundary %q: %v", truncate(boundary, 70), err).
					WithHint("make sure the body matches its Content-Type: let curl -F or requests files= build it")
			}
			return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "part %d of the multipart body is malformed: %v", n+1, err).
				WithHint("the body may be truncated; let curl -F or requests files= build it")
		}
		if n >= maxMultipartParts {
			return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "the multipart body has more than %d parts", maxMultipartParts).
				WithHint("send one image part, an optional metadata part and the options")
		}
		name := part.FormName()
		desc := fmt.Sprintf("%q", truncate(name, 40))
		found = append(found, desc)
		switch name {
		case "image", "file":
			if imagePart != "" {
				return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "the multipart body has two image parts, %q and %q", imagePart, name).WithField(name).
					WithHint("send exactly one part named image (or file)")
			}
			imagePart = name
			// A small part is kept now; a large one is only measured, and
			// read into a buffer of its exact size once the body is known
			// to be well formed (below), so it is copied once.
			data, err := io.ReadAll(io.LimitReader(part, smallPart+1))
			if err == nil && len(data) > smallPart {
				var rest int64
				rest, err = io.Copy(io.Discard, part)
				imageIndex, imageSize, data = n, int64(len(data))+rest, nil
			}
			if err != nil {
				return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "the %q part cannot be read: %v", name, err).WithField(name)
			}
			if data == nil {
				continue
			}
			if len(data) == 0 {
				return nil, imaging.Errorf(imaging.CodeEmptyBody, "the %q part is empty", name).WithField(name).
					WithHint("check the file exists and is not empty; with curl the path after @ must be right: -F image=@photo.jpg")
			}
			if part.FileName() == "" {
				if err := pathError(data, name); err != nil {
					return nil, err
				}
			}
			in.image = data
		case "metadata":
			data, err := readField(part, name)
			if err != nil {
				return nil, err
			}
			meta, err := parseMetadata(data, "metadata")
			if err != nil {
				return nil, err
			}
			in.metadata = meta
		default:
			if fn := part.FileName(); fn != "" {
				// A file under another name is the image sent under the wrong name;
				// say so below rather than calling it an unknown option, whatever
				// its size. Its bytes are counted, not kept: the body is in memory
				// already, which bounds the count.
				size, err := io.Copy(io.Discard, part)
				if err != nil {
					return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "the %q part cannot be read: %v", truncate(name, 40), err).WithField(name).
						WithHint("the body may be truncated; let curl -F or requests files= build it")
				}
				found[len(found)-1] += fmt.Sprintf(" (file %q, %d bytes)", truncate(fn, 60), size)
				strayFiles = append(strayFiles, name)
				continue
			}
			data, err := readField(part, name)
			if err != nil {
				return nil, err
			}
			in.options[name] = append(in.options[name], string(data))
		}
	}
	if imageIndex >= 0 {
		data, err := readPart(body, boundary, imageIndex, imageSize, hold)
		if err != nil {
			return nil, err
		}
		in.image = data
	}
	if in.image == nil {
		e := imaging.Errorf(imaging.CodeMissingFilePart, "the multipart body has no part named image or file; parts found: %s", listOrNone(found)).
			WithField("image").
			WithHint("name the file part image: curl -F image=@photo.jpg; requests.post(url, files={\"image\": open(path, \"rb\")})")
		if len(strayFiles) == 1 {
			e.Hint = fmt.Sprintf("rename the part %q to image: curl -F image=@photo.jpg; requests.post(url, files={\"image\": open(path, \"rb\")})", truncate(strayFiles[0], 40))
		}
		return nil, e
	}
	return in, nil
}

// readPart reads part index of a multipart body, which the first pass
// measured at size bytes, into one buffer of that size charged to hold.
func readPart(body []byte, boundary string, index int, size int64, hold *bodyHold) ([]byte, error) {
	if err := hold.alloc(size); err != nil {
		return nil, err
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err != nil {
			return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "part %d of the multipart body cannot be read again: %v", index+1, err)
		}
		if n < index {
			continue
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(part, data); err != nil {
			return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "the %q part cannot be read: %v", truncate(part.FormName(), 40), err)
		}
		return data, nil
	}
}

func readField(part *multipart.Part, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return nil, imaging.Errorf(imaging.CodeMalformedMultipart, "the %q part cannot be read: %v", truncate(name, 40), err).WithField(name)
	}
	if len(data) > maxFieldBytes {
		code := imaging.CodeInvalidOption
		if name == "metadata" {
			code = imaging.CodeInvalidMetadata
		}
		return nil, imaging.Errorf(code, "the %q part is over %d bytes", truncate(name, 40), maxFieldBytes).WithField(name).
			WithHint("form fields hold short values; put the image in the part named image")
	}
	return data, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// jsonFields are the keys of a JSON request.
func jsonFields() []string { return []string{"image_b64", "metadata", "options"} }

func jsonAliases() map[string]string {
	return map[string]string{
		"image": "image_b64", "img": "image_b64", "data": "image_b64", "file": "image_b64", "base64": "image_b64",
		"image_base64": "image_b64", "imageb64": "image_b64", "b64": "image_b64", "content": "image_b64",
		"photo": "image_b64", "picture": "image_b64", "bytes": "image_b64", "image_data": "image_b64",
		"imagedata": "image_b64", "img_b64": "image_b64", "image64": "image_b64", "blob": "image_b64",
		"meta": "metadata", "info": "metadata", "extra": "metadata", "tags": "metadata",
		"option": "options", "opts": "options", "params": "options", "parameters": "options", "settings": "options",
		"operations": "options", "transform": "options", "transforms": "options",
	}
}

func parseJSON(body []byte, hold *bodyHold) (*input, error) {
	if !utf8.Valid(body) {
		off := invalidUTF8Offset(body)
		line, col := lineCol(body, off)
		return nil, imaging.Errorf(imaging.CodeInvalidJSON, "the JSON body is not valid UTF-8 at byte %d (line %d, column %d)", off, line, col).
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
			return nil, imaging.Errorf(imaging.CodeInvalidJSON, "unexpected data after the JSON object at line %d, column %d", line, col).
				WithHint("send exactly one JSON object")
		}
		return nil, jsonError(body, err)
	}
	if fields == nil {
		return nil, imaging.Errorf(imaging.CodeInvalidJSON, "the JSON body is null; want an object").
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
		e := imaging.Errorf(imaging.CodeUnknownField, "unknown JSON field %q", truncate(k, 60)).WithField(truncate(k, 60))
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
		return nil, imaging.Errorf(imaging.CodeMissingField, "the JSON body has no \"image_b64\" field").WithField("image_b64").
			WithHint(`put the image's base64 in "image_b64"; in Python: requests.post(url, json={"image_b64": base64.b64encode(open(path, "rb").read()).decode()})`)
	}
	if peek.kind != '"' {
		return nil, imaging.Errorf(imaging.CodeInvalidFieldType, "\"image_b64\" must be a string, got %s", jsonKind(peek.raw)).WithField("image_b64").
			WithHint(`send the base64 text as a JSON string; in Python base64.b64encode(data).decode() (decode() turns bytes into str)`)
	}
	// A second pass decodes the base64 straight from the body into the
	// image buffer: no copy of the string is made on the way.
	b64 := &base64Field{hold: hold}
	target := struct {
		Image *base64Field `json:"image_b64"`
	}{b64}
	if err := json.Unmarshal(body, &target); err != nil {
		return nil, jsonError(body, err)
	}
	if b64.err != nil {
		return nil, b64.err
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
		return imaging.Errorf(imaging.CodeInvalidFieldType, "\"options\" must be a JSON object, got %s", jsonKind(raw)).WithField("options").
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
		return nil, imaging.Errorf(imaging.CodeInvalidMetadata, "%s must be a JSON object, got %s", field, jsonKind(t)).WithField(field).
			WithHint(`send an object: curl -F 'metadata={"id":"42"}'; requests: data={"metadata": json.dumps({"id": "42"})}; JSON: "metadata": {"id": "42"}`)
	}
	if !utf8.Valid(t) {
		return nil, imaging.Errorf(imaging.CodeInvalidMetadata, "%s is not valid UTF-8", field).WithField(field)
	}
	if err := checkDepth(t); err != nil {
		e := err.(*imaging.Error)
		e.Code, e.Field = imaging.CodeInvalidMetadata, field
		return nil, e
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		je := jsonError(t, err).(*imaging.Error)
		return nil, imaging.Errorf(imaging.CodeInvalidMetadata, "%s is not a valid JSON object: %s", field, je.Detail).WithField(field).
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
		return imaging.Errorf(imaging.CodeInvalidJSON, "JSON syntax error at line %d, column %d (byte offset %d): %s", line, col, at, strings.TrimPrefix(se.Error(), "json: ")).
			WithHint(`check the JSON near that position; in Python let requests encode it: requests.post(url, json={"image_b64": ...})`)
	case errors.As(err, &te):
		return imaging.Errorf(imaging.CodeInvalidJSON, "the JSON body is %s; want an object", jsonKind(body)).
			WithHint(`send {"image_b64": "<base64>", "metadata": {...}, "options": {...}}`)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(body, len(body))
		return imaging.Errorf(imaging.CodeInvalidJSON, "the JSON body ends early, at line %d, column %d", line, col).
			WithHint("the JSON is incomplete: check that the whole body was sent")
	}
	return imaging.Errorf(imaging.CodeInvalidJSON, "the JSON body cannot be parsed: %s", truncate(err.Error(), 200))
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
				return imaging.Errorf(imaging.CodeInvalidJSON, "the JSON is nested more than %d levels deep (line %d, column %d)", maxJSONDepth, line, col).
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// truncate shortens s to at most n bytes and marks the cut with "…". It cuts
// between characters, never inside one; bytes of s that are not UTF-8 count
// as one character each.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := 0
	for i := range s { // i is the start of each character
		if i > n {
			break
		}
		cut = i
	}
	return s[:cut] + "…"
}
