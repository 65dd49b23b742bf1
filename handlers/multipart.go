package handlers

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"strings"

	"github.com/imgsvc/imgsvc/imaging"
)

// smallPart is the largest image part kept on the first pass over a
// multipart body; it is large enough to hold any file path or URL.
const smallPart = 4 << 10

func (s *Server) parseMultipart(body []byte, params map[string]string, hold *bodyHold) (*input, error) {
	boundary := params["boundary"]
	if boundary == "" {
		return nil, imaging.Errorf(CodeMalformedMultipart, "Content-Type multipart/form-data has no boundary parameter").
			WithHint("don't set the multipart Content-Type yourself: curl -F and requests.post(url, files=...) add it with its boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	in := &input{form: formMultipart, options: map[string][]string{}}
	var found []string
	imagePart := ""
	imageIndex, imageSize := -1, int64(0) // a large image part, read after the loop
	var strayFiles []string               // file parts under another name
	overlayIndex, overlaySize := -1, int64(0)
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if n == 0 {
				return nil, imaging.Errorf(CodeMalformedMultipart, "the body is not multipart data with boundary %q: %v", truncate(boundary, 70), err).
					WithHint("make sure the body matches its Content-Type: let curl -F or requests files= build it")
			}
			return nil, imaging.Errorf(CodeMalformedMultipart, "part %d of the multipart body is malformed: %v", n+1, err).
				WithHint("the body may be truncated; let curl -F or requests files= build it")
		}
		if n >= maxMultipartParts {
			return nil, imaging.Errorf(CodeMalformedMultipart, "the multipart body has more than %d parts", maxMultipartParts).
				WithHint("send one image part, an optional metadata part and the options")
		}
		name := part.FormName()
		desc := fmt.Sprintf("%q", truncate(name, 40))
		found = append(found, desc)
		switch name {
		case "image", "file":
			if imagePart != "" {
				return nil, imaging.Errorf(CodeMalformedMultipart, "the multipart body has two image parts, %q and %q", imagePart, name).WithField(name).
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
				return nil, imaging.Errorf(CodeMalformedMultipart, "the %q part cannot be read: %v", name, err).WithField(name)
			}
			if data == nil {
				continue
			}
			if len(data) == 0 {
				return nil, imaging.Errorf(CodeEmptyBody, "the %q part is empty", name).WithField(name).
					WithHint("check the file exists and is not empty; with curl the path after @ must be right: -F image=@photo.jpg")
			}
			if part.FileName() == "" {
				if err := pathError(data, name); err != nil {
					return nil, err
				}
			}
			in.image = data
		case overlayPartName:
			if in.overlayField != "" {
				return nil, imaging.Errorf(CodeMalformedMultipart, "the multipart body has two overlay parts").WithField(name).
					WithHint("send at most one part named overlay")
			}
			in.overlayField = name
			data, size, err := readOverlayPart(part)
			if err != nil {
				return nil, err
			}
			if data == nil {
				overlayIndex, overlaySize = n, size
			}
			in.overlay = data
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
					return nil, imaging.Errorf(CodeMalformedMultipart, "the %q part cannot be read: %v", truncate(name, 40), err).WithField(name).
						WithHint("the body may be truncated; let curl -F or requests files= build it")
				}
				found[len(found)-1] += fmt.Sprintf(" (file %q, %d bytes)", truncate(fn, 60), size)
				strayFiles = append(strayFiles, name)
				if imaging.Suggest(name, []string{overlayPartName}, overlayPartAliases()) == overlayPartName {
					in.strayOverlay = name
				}
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
	if overlayIndex >= 0 {
		data, err := readPart(body, boundary, overlayIndex, overlaySize, hold)
		if err != nil {
			return nil, err
		}
		in.overlay = data
	}
	in.parts = found
	if in.image == nil {
		e := imaging.Errorf(CodeMissingFilePart, "the multipart body has no part named image or file; parts found: %s", listOrNone(found)).
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
			return nil, imaging.Errorf(CodeMalformedMultipart, "part %d of the multipart body cannot be read again: %v", index+1, err)
		}
		if n < index {
			continue
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(part, data); err != nil {
			return nil, imaging.Errorf(CodeMalformedMultipart, "the %q part cannot be read: %v", truncate(part.FormName(), 40), err)
		}
		return data, nil
	}
}

func readField(part *multipart.Part, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return nil, imaging.Errorf(CodeMalformedMultipart, "the %q part cannot be read: %v", truncate(name, 40), err).WithField(name)
	}
	if len(data) > maxFieldBytes {
		code := imaging.CodeInvalidOption
		if name == "metadata" {
			code = CodeInvalidMetadata
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
