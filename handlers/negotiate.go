package handlers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/imgsvc/imgsvc/imaging"
)

type outKind int

const (
	outImage outKind = iota // the encoded image, with its own Content-Type
	outJSON                 // the JSON envelope with image_b64
)

type mediaRange struct {
	typ, sub string
	q        float64
}

// parseAccept parses an Accept header. Malformed ranges are skipped, as
// RFC 9110 lets a server do.
func parseAccept(h string) []mediaRange {
	var out []mediaRange
	for i, part := range strings.Split(h, ",") {
		if i >= 64 {
			break
		}
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		r := mediaRange{typ: typ, sub: sub, q: 1}
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q >= 0 && q <= 1 {
					r.q = q
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// quality is the q the most specific matching range gives mt, 0 when none matches.
func quality(ranges []mediaRange, mt string) float64 {
	typ, sub, _ := strings.Cut(mt, "/")
	best, spec := 0.0, -1
	for _, r := range ranges {
		s := -1
		switch {
		case r.typ == typ && r.sub == sub:
			s = 2
		case r.typ == typ && r.sub == "*":
			s = 1
		case r.typ == "*" && r.sub == "*":
			s = 0
		}
		if s > spec {
			best, spec = r.q, s
		}
	}
	return best
}

// exactQuality is the q a range naming mt itself gives it, 0 when none
// does: "image/*" and "*/*" do not say a client decodes AVIF.
func exactQuality(ranges []mediaRange, mt string) float64 {
	typ, sub, _ := strings.Cut(mt, "/")
	for _, r := range ranges {
		if r.typ == typ && r.sub == sub {
			return r.q
		}
	}
	return 0
}

// acceptsImages reports whether some image type is acceptable.
func acceptsImages(ranges []mediaRange) bool {
	for _, r := range ranges {
		if (r.typ == "image" || r.typ == "*") && r.q > 0 {
			return true
		}
	}
	return false
}

// negotiate picks the answer's form (raw image or JSON) and, when the client
// set no format, may pick the output format from Accept. It returns
// CodeNotAcceptable when nothing the service can produce is acceptable.
func negotiate(accept string, in *input, opt *imaging.Options) (outKind, error) {
	def := outImage
	if in.form == formJSON {
		def = outJSON
	}
	accept = strings.TrimSpace(accept)
	if accept == "" {
		return def, nil
	}
	ranges := parseAccept(accept)
	if opt.Format == imaging.FormatAuto {
		// format=auto: the formats the client names itself, best first;
		// imaging picks the first it writes, else JPEG or PNG.
		opt.Accept = nil
		for _, g := range imaging.AutoFormats() {
			if exactQuality(ranges, g.MediaType()) > 0 {
				opt.Accept = append(opt.Accept, g)
			}
		}
		if def == outImage && quality(ranges, "application/json") > 0 && !acceptsImages(ranges) {
			return outJSON, nil
		}
		return def, nil
	}
	if len(ranges) == 0 {
		return def, nil
	}
	f := opt.Format
	if f == "" {
		f = imaging.Sniff(in.image)
		if f != "" && !f.CanEncode() {
			f = imaging.FormatPNG
		}
	}
	qJSON := quality(ranges, "application/json")
	qImg := 0.0
	if f != "" {
		qImg = quality(ranges, f.MediaType())
	}
	kind, best := def, 0.0
	if def == outJSON {
		best = qJSON
		if qImg > best {
			kind, best = outImage, qImg
		}
	} else {
		best = qImg
		if qJSON > best {
			kind, best = outJSON, qJSON
		}
	}
	if opt.Format == "" && f != "" {
		// The client named no format: an image type it prefers may choose one.
		for _, name := range imaging.EncodableFormatNames() {
			g := imaging.Format(name)
			if q := quality(ranges, g.MediaType()); q > best {
				kind, best, opt.Format = outImage, q, g
			}
		}
	}
	if best > 0 {
		return kind, nil
	}
	can := []string{"application/json"}
	for _, n := range imaging.EncodableFormatNames() {
		can = append(can, "image/"+n)
	}
	detail := fmt.Sprintf("Accept %q allows nothing this service produces", truncate(accept, 120))
	if opt.Format != "" {
		detail = fmt.Sprintf("Accept %q does not allow the requested format %s", truncate(accept, 120), opt.Format.MediaType())
	}
	return def, imaging.Errorf(CodeNotAcceptable, "%s; it can produce %s", detail, strings.Join(can, ", ")).
		WithHint("send Accept: image/* (or */*), or ask for an encodable type with format=%s", strings.Join(imaging.EncodableFormatNames(), "|"))
}
