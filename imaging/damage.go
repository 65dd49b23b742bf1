package imaging

import (
	"errors"
	"fmt"
	"image"
	"io"
)

// Warning codes of damaged inputs.
const (
	// WarnImageTruncated: the data ended early and partial=true asked for
	// what arrived.
	WarnImageTruncated = "image_truncated"
	// WarnImageDamaged: the decoder worked around damage, as libjpeg and
	// browsers do (extraneous bytes, a bad restart interval, a missing end
	// marker after the last row).
	WarnImageDamaged = "image_damaged"
)

// damagedImage is what a decoder returns, as its error, when it made an
// image out of damaged data: the data ended early (Truncated; Image holds
// what arrived, or is nil when nothing could be shown), or damage was
// worked around (Image is whole).
type damagedImage struct {
	Image     image.Image
	Truncated bool
	// Detail says how far the data got, or what was worked around, in a
	// client's words: "the data ends in row 412 of 1200 (34% of the rows)".
	Detail string
	// Rest says how the part that did not arrive looks in Image: "left
	// transparent", "left grey".
	Rest string
	// More lists further things worked around.
	More []string
}

func (e *damagedImage) Error() string { return e.Detail }

// Unwrap gives io.ErrUnexpectedEOF: every damage a decoder reports so far
// is data that ends early.
func (e *damagedImage) Unwrap() error { return io.ErrUnexpectedEOF }

// settleDamage turns what a decoder said into the image to use and its
// warnings, or the error to answer with: a truncated image is
// truncated_image unless the client asked for partial=true.
func settleDamage(f Format, b []byte, err error, partial bool) (image.Image, []Warning, error) {
	var d *damagedImage
	if !errors.As(err, &d) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			d = &damagedImage{Truncated: true, Detail: "the data ends before the image does"}
		} else {
			return nil, nil, err
		}
	}
	if d.Truncated && !codecOf(f).cutShort(b) {
		// The data ran out where the file still has its end: a corrupt
		// length or offset sent the decoder past it.
		return nil, nil, err
	}
	var ws []Warning
	for _, m := range d.More {
		ws = append(ws, Warning{WarnImageDamaged, m})
	}
	switch {
	case !d.Truncated:
		return d.Image, append([]Warning{{WarnImageDamaged, d.Detail}}, ws...), nil
	case partial && d.Image != nil:
		shown := "the part that arrived was rendered (partial=true)"
		if d.Rest != "" {
			shown = "the part that arrived was rendered and the rest " + d.Rest + " (partial=true)"
		}
		return d.Image, append([]Warning{{WarnImageTruncated, d.Detail + "; " + shown}}, ws...), nil
	}
	e := Errorf(CodeTruncatedImage, "the %s image is truncated: %s", codecOf(f).Title, d.Detail)
	if d.Image != nil {
		return nil, nil, e.WithHint("send the whole file (an upload that stops early, a proxy's size limit or an interrupted copy cut it); partial=true renders the part that arrived, as browsers do")
	}
	return nil, nil, e.WithHint("send the whole file (an upload that stops early, a proxy's size limit or an interrupted copy cut it)")
}

// cutShort reports whether b evidently ends early (see Codec.CutShort).
func (c *Codec) cutShort(b []byte) bool { return c.CutShort != nil && c.CutShort(b) }

// percentOf words how far n of total got.
func percentOf(n, total int) string {
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf("about %d%% of the rows", n*100/total)
}
