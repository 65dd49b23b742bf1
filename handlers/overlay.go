package handlers

import (
	"fmt"
	"io"
	"mime/multipart"
	"strings"

	"github.com/imgsvc/imgsvc/imaging"
)

// The names an overlay image comes under: the multipart part and the JSON field.
const (
	overlayPartName  = "overlay"
	overlayJSONField = "overlay_b64"
)

// overlayPartAliases are the names clients give the overlay's file part.
func overlayPartAliases() map[string]string {
	m := map[string]string{}
	for _, a := range []string{"watermark", "logo", "overlay_image", "overlay_file", "watermark_image", "watermark_file",
		"logo_file", "stamp", "overlays", "overlay_img"} {
		m[a] = overlayPartName
	}
	return m
}

// readOverlayPart reads the multipart part overlay on the first pass, as
// the image part is read: a small part is returned, a large one only
// measured (size) and read once the body is known to be well formed.
func readOverlayPart(part *multipart.Part) (data []byte, size int64, err error) {
	name := overlayPartName
	data, err = io.ReadAll(io.LimitReader(part, smallPart+1))
	if err == nil && len(data) > smallPart {
		var rest int64
		rest, err = io.Copy(io.Discard, part)
		size, data = int64(len(data))+rest, nil
	}
	if err != nil {
		return nil, 0, imaging.Errorf(CodeMalformedMultipart, "the %q part cannot be read: %v", name, err).WithField(name).
			WithHint("the body may be truncated; let curl -F or requests files= build it")
	}
	if data == nil {
		return nil, size, nil
	}
	if len(data) == 0 {
		return nil, 0, imaging.Errorf(CodeEmptyBody, "the %q part is empty", name).WithField(name).
			WithHint("check the overlay file exists and is not empty; with curl the path after @ must be right: -F overlay=@logo.png")
	}
	if part.FileName() == "" {
		if err := pathError(data, name); err != nil {
			return nil, 0, err
		}
	}
	return data, int64(len(data)), nil
}

// renameField rewrites an error about the JSON field image_b64 (base64
// decoding names it) into one about field.
func renameField(err error, field string) error {
	e, ok := err.(*imaging.Error)
	if !ok || field == "" || field == "image_b64" {
		return err
	}
	c := *e
	r := strings.NewReplacer("image_b64", field, "the image's", "the overlay image's")
	c.Detail, c.Hint, c.Field = r.Replace(c.Detail), r.Replace(c.Hint), r.Replace(c.Field)
	return &c
}

// overlayFieldType refuses an overlay_b64 that is not a string (null
// included: a field sent as null is a client's mistake, not an absence).
func overlayFieldType(raw []byte) error {
	return imaging.Errorf(CodeInvalidFieldType, "\"overlay_b64\" must be a string, got %s", jsonKind(raw)).WithField(overlayJSONField).
		WithHint(`send the overlay's base64 as a JSON string, or leave "overlay_b64" out; in Python base64.b64encode(data).decode() (decode() turns bytes into str)`)
}

// checkOverlay hands the request's overlay image to opt, or refuses the
// request: an overlay that is not an image, or overlay options with no
// overlay, told in the words of the form the request came in.
func (in *input) checkOverlay(opt *imaging.Options) error {
	if in.overlay != nil {
		if imaging.Sniff(in.overlay) == "" {
			e := unsupportedFormat(in.overlay)
			e.Detail = fmt.Sprintf("the overlay image (%s): %s", in.overlayField, e.Detail)
			e.Field = in.overlayField
			if strings.Contains(e.Hint, "image_b64") { // advice for the main image's form, not the overlay's
				e.Hint = imaging.UnsupportedFormatError(in.overlay).Hint
			}
			return e
		}
		opt.Overlay, opt.OverlayField = in.overlay, in.overlayField
		return nil
	}
	given := opt.OverlayOption()
	if given == "" && in.strayOverlay == "" {
		return nil
	}
	switch in.form {
	case formMultipart:
		if in.strayOverlay != "" {
			// A file the client meant as the overlay must not be dropped unseen.
			return imaging.Errorf(CodeMissingFilePart, "the multipart body has a file part %q but no part named overlay; parts found: %s",
				truncate(in.strayOverlay, 40), listOrNone(in.parts)).WithField(overlayPartName).
				WithHint("rename the part %q to overlay: curl -F image=@photo.jpg -F overlay=@logo.png; requests.post(url, files={\"image\": open(photo, \"rb\"), \"overlay\": open(logo, \"rb\")})", truncate(in.strayOverlay, 40))
		}
		return imaging.Errorf(CodeMissingFilePart, "%s is set, but the multipart body has no part named overlay; parts found: %s", given, listOrNone(in.parts)).
			WithField(overlayPartName).
			WithHint("send the overlay image in the part overlay: curl -F image=@photo.jpg -F overlay=@logo.png; requests.post(url, files={\"image\": open(photo, \"rb\"), \"overlay\": open(logo, \"rb\")}); or drop %s", given)
	case formJSON:
		return imaging.Errorf(CodeMissingField, "%s is set, but the JSON body has no \"overlay_b64\" field", given).WithField(overlayJSONField).
			WithHint(`put the overlay image's base64 in "overlay_b64", beside "image_b64": {"image_b64": "...", "overlay_b64": "...", "options": {"overlay_gravity": "southeast"}}; or drop %s`, given)
	}
	return imaging.Errorf(imaging.CodeInvalidOption, "%s needs an overlay image, and a request whose body is the image's bytes cannot carry a second image", given).WithField(given).
		WithHint(`send both images as multipart: curl -F image=@photo.jpg -F overlay=@logo.png -F %s=... URL; requests.post(url, files={"image": open(photo, "rb"), "overlay": open(logo, "rb")}); or as JSON with "image_b64" and "overlay_b64"`, strings.TrimPrefix(given, "options."))
}

// infoOverlayError refuses an overlay sent to /v1/info, which describes one image.
func (in *input) infoOverlayError() error {
	if in.overlay == nil {
		return nil
	}
	code := imaging.CodeUnknownOption
	if in.form == formJSON {
		code = CodeUnknownField
	}
	return imaging.Errorf(code, "/v1/info describes one image and takes no %s", in.overlayField).WithField(in.overlayField).
		WithHint("send the overlay to /v1/process; /v1/info only describes the image")
}
