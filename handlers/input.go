package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"strings"

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
	// overlay is the overlay image, nil for none; overlayField the name it
	// came under (the part overlay, the JSON field overlay_b64).
	overlay      []byte
	overlayField string
	parts        []string // the multipart parts found, for errors
	strayOverlay string   // a multipart file part named as an overlay is ("watermark")
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
		return nil, imaging.Errorf(CodeUnsupportedContentType, "Content-Encoding %q is not accepted", truncate(enc, 40)).
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
		return nil, imaging.Errorf(CodeEmptyBody, "the request body is empty").
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
		return nil, imaging.Errorf(CodeUnsupportedContentType, "the Content-Type %q cannot be parsed: %v", truncate(ct, 80), ctErr).
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
		return nil, imaging.Errorf(CodeUnsupportedContentType, "Content-Type application/x-www-form-urlencoded is not an image form; this is what `curl -d @file` sends, and curl strips newlines from the file").
			WithHint("with curl use --data-binary @photo.jpg -H 'Content-Type: image/jpeg', or -F image=@photo.jpg; in Python requests.post(url, files={\"image\": open(path, \"rb\")})")
	default:
		e := imaging.Errorf(CodeUnsupportedContentType, "Content-Type %q is not accepted", truncate(mt, 80)).
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
		e := imaging.Errorf(CodeBodyIsPath, "%s is the text %q, a file path, not the image's bytes", where, truncate(text, 200)).WithField(field)
		switch field {
		case "image", "file", overlayPartName:
			key := "image"
			if field == overlayPartName {
				key = field
			}
			e.Hint = fmt.Sprintf("with curl put @ before the path: -F %s=@%s; in Python pass the open file: files={%q: open(%q, \"rb\")}", field, strings.TrimPrefix(text, "@"), key, text)
		case "image_b64":
			e.Hint = fmt.Sprintf("put the base64 of the file's bytes in image_b64: in Python base64.b64encode(open(%q, \"rb\").read()).decode()", text)
		default:
			e.Hint = fmt.Sprintf("send the file's content, not its name: curl --data-binary @%s -H 'Content-Type: image/jpeg' URL; in Python requests.post(url, data=open(%q, \"rb\"), headers={\"Content-Type\": \"image/jpeg\"})", strings.TrimPrefix(text, "@"), text)
		}
		return e
	case imaging.IsURL:
		return imaging.Errorf(CodeBodyIsURL, "%s is the URL %q, not the image's bytes; imgsvc does not fetch URLs", where, truncate(text, 200)).WithField(field).
			WithHint("download the image first and send its bytes: curl -s URL | curl --data-binary @- -H 'Content-Type: image/jpeg' ...")
	}
	return nil
}

// unsupportedFormat is imaging's unsupported_image_format with a hint for
// what the bytes look like: a HEIC from a phone, base64 or a data: URI sent
// raw, a saved web page, JSON without its Content-Type.
func unsupportedFormat(b []byte) *imaging.Error {
	e := imaging.UnsupportedFormatError(b)
	switch what := imaging.Describe(b); {
	case strings.HasPrefix(what, "a HEIC"):
		e.Hint = "this HEIC is not supported: convert it first (e.g. on an iPhone set Camera > Formats > Most Compatible, or `heif-convert in.heic out.jpg`), then send the JPEG"
	case strings.HasPrefix(what, "base64"), strings.HasPrefix(what, "a data: URI"):
		e.Hint = `send the decoded bytes, or send JSON {"image_b64": "..."} with Content-Type: application/json`
	case strings.HasPrefix(what, "an HTML"):
		e.Hint = "you probably saved an error page or a web page instead of the image; download the image itself and send its bytes"
	case what == "JSON text":
		e.Hint = `to send JSON, set Content-Type: application/json and put the image in "image_b64"`
	}
	return e
}

func missingContentType(body []byte) *imaging.Error {
	e := imaging.Errorf(CodeMissingContentType, "the request has no Content-Type header").
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
		return nil, unsupportedFormat(body)
	}
	if declared != "" {
		want, ok := imaging.FormatFromMediaType(declared)
		if !ok {
			return nil, imaging.Errorf(CodeContentTypeMismatch, "Content-Type says %s but the bytes are a %s image", declared, strings.ToUpper(string(got))).
				WithHint("send Content-Type: %s, or application/octet-stream to let the service detect the format", got.MediaType())
		}
		if want != got {
			return nil, imaging.Errorf(CodeContentTypeMismatch, "Content-Type says %s but the bytes are a %s image", declared, strings.ToUpper(string(got))).
				WithHint("send Content-Type: %s, or application/octet-stream to let the service detect the format", got.MediaType())
		}
	}
	return &input{form: formRaw, image: body}, nil
}

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
