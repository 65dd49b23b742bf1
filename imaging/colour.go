package imaging

import (
	"container/list"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync"

	imgops "github.com/disintegration/imaging"

	"github.com/imgsvc/imgsvc/imaging/internal/icc"
)

// ColorProfile says what becomes of an image's embedded ICC profile.
type ColorProfile string

// The color_profile option's values.
const (
	// ColorProfileSRGB converts the pixels to sRGB (the default): every
	// viewer shows them right, profile or not.
	ColorProfileSRGB ColorProfile = "srgb"
	// ColorProfileKeep leaves RGB pixels as they are and embeds the source
	// profile in the output, for formats that carry one.
	ColorProfileKeep ColorProfile = "keep"
)

// Warning is something the service noticed about an image and worked
// around: the answer is still an image, but not quite the one asked for.
type Warning struct {
	Code   string // machine-readable, e.g. "icc_profile_ignored"
	Detail string
}

func (w Warning) String() string { return w.Code + ": " + w.Detail }

// The warnings of the colour stage.
const (
	WarnProfileIgnored = "icc_profile_ignored"
	WarnProfileNotKept = "icc_profile_not_kept"
)

// colourCost is what building one transform takes beyond its profile: the
// finished tables (at most about 0.5 MB, for CMYK) and their scratch.
const colourCost = 2 << 20

// colourPlan is what the colour stage will do, decided from the header.
type colourPlan struct {
	convert bool // a transform may run: the image has a profile to apply, or is CMYK
	keep    bool // the output embeds the source profile, unconverted
}

// planColour decides the colour stage from the header and the options.
func planColour(in Info, o Options, out Format) colourPlan {
	prof := in.hdr.icc.present()
	switch {
	case in.hdr.cmyk:
		return colourPlan{convert: true}
	case !prof:
		return colourPlan{}
	case o.ColorProfile == ColorProfileKeep && !in.hdr.gray && out.encoder() != nil && out.encoder().ICC:
		return colourPlan{keep: true}
	}
	return colourPlan{convert: true}
}

// colourStep is what Run hands the transform: the ready transform for the
// image's pixels, or nil when they are sRGB already.
type colourStep struct {
	t        *icc.Transform
	warnings []Warning
}

// colourStep builds (or takes from the cache) the transform the plan needs.
// A profile that cannot be used is ignored with a warning: the pixels are
// then taken as sRGB, or as the generic press for CMYK.
func (p *Pipeline) colourStep(pl Plan, cmyk bool, channels int) colourStep {
	var s colourStep
	ep := pl.Info.hdr.icc
	ignore := func(why string) {
		s.warnings = append(s.warnings, Warning{WarnProfileIgnored, "the embedded ICC profile was ignored: " + why + "; the pixels were taken as " + map[bool]string{false: "sRGB", true: "generic press CMYK (FOGRA39)"}[cmyk]})
	}
	if pl.colour.keep && !cmyk && channels == 3 {
		return s
	}
	if ep.present() {
		prof, err := ep.bytes()
		if err == nil {
			var t *icc.Transform
			if t, err = p.colours.get(prof); err == nil {
				switch {
				case t == nil:
					if channels == 3 {
						return s // sRGB already
					}
					err = fmt.Errorf("it describes sRGB, but the image has %d channels", channels)
				case t.Channels() == channels:
					s.t = t
				default:
					err = fmt.Errorf("it is for %s images, but the image is %s", channelWord(t.Channels()), channelWord(channels))
				}
			}
		}
		if err != nil {
			ignore(err.Error())
		} else if s.t != nil {
			if pl.Options.ColorProfile == ColorProfileKeep {
				s.warnings = append(s.warnings, Warning{WarnProfileNotKept, keepRefusal(pl.OutFormat, cmyk, channels)})
			}
			return s
		}
	}
	if cmyk {
		t, err := p.colours.get(icc.GenericPress())
		if err != nil { // the embedded profile is tested; this cannot happen
			panic(err)
		}
		s.t = t
	}
	return s
}

func keepRefusal(f Format, cmyk bool, channels int) string {
	switch {
	case cmyk:
		return "color_profile=keep was not honoured: the image is CMYK and the output is RGB, so its pixels were converted to sRGB"
	case channels != 3:
		return "color_profile=keep was not honoured: the profile is for grey images and the output is RGB, so its pixels were converted to sRGB"
	}
	return fmt.Sprintf("color_profile=keep was not honoured: %s output carries no ICC profile, so the pixels were converted to sRGB (keep works with JPEG, PNG, WebP and AVIF output)", strings.ToUpper(string(f)))
}

func channelWord(n int) string {
	switch n {
	case 1:
		return "grey"
	case 4:
		return "CMYK"
	}
	return "RGB"
}

// toSRGB applies the transform to img and returns an *image.NRGBA, img
// itself when it is one (the job owns it). Alpha is kept.
func toSRGB(img image.Image, t *icc.Transform) image.Image {
	if t == nil {
		return img
	}
	if c, ok := img.(*image.CMYK); ok {
		b := c.Rect
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			src := c.Pix[y*c.Stride : y*c.Stride+4*b.Dx()]
			row := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
			_ = t.Apply(row, 4, src, 4)
			for i := 3; i < len(row); i += 4 {
				row[i] = 0xff
			}
		}
		return dst
	}
	n, ok := img.(*image.NRGBA)
	if !ok {
		n = imgops.Clone(img)
	}
	b := n.Rect
	for y := 0; y < b.Dy(); y++ {
		row := n.Pix[y*n.Stride : y*n.Stride+4*b.Dx()]
		_ = t.Apply(row, 4, row, 4)
	}
	return n
}

// colourCache holds transforms by the SHA-256 of their profile, least
// recently used first out, within a byte budget: a service sees a handful of
// distinct profiles (sRGB, Display P3, Adobe RGB, a few press profiles), so
// each is built once.
type colourCache struct {
	mu    sync.Mutex
	limit int
	bytes int
	lru   *list.List // of *colourEntry, most recent at the front
	byKey map[[32]byte]*list.Element
}

type colourEntry struct {
	key [32]byte
	t   *icc.Transform // nil for sRGB profiles
	err error          // a profile that cannot be used is remembered too
	n   int
}

// defaultColourCacheBytes holds some 60 CMYK transforms or 140 RGB ones.
const defaultColourCacheBytes = 32 << 20

func newColourCache(limit int) *colourCache {
	return &colourCache{limit: limit, lru: list.New(), byKey: map[[32]byte]*list.Element{}}
}

// get returns the transform from profile to sRGB, nil when the profile is
// sRGB, or why the profile cannot be used.
func (c *colourCache) get(profile []byte) (*icc.Transform, error) {
	key := sha256.Sum256(profile)
	c.mu.Lock()
	if e, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(e)
		ce := e.Value.(*colourEntry)
		c.mu.Unlock()
		return ce.t, ce.err
	}
	c.mu.Unlock()

	ce := &colourEntry{key: key, n: 256}
	p, err := icc.Parse(profile)
	if err == nil {
		ce.t, err = p.ToSRGB()
	}
	switch {
	case err != nil:
		ce.t, ce.err = nil, profileError(err)
	case ce.t.IsSRGB():
		ce.t = nil
	default:
		ce.n += ce.t.Bytes()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; !ok {
		c.byKey[key] = c.lru.PushFront(ce)
		c.bytes += ce.n
		for c.bytes > c.limit && c.lru.Len() > 1 {
			old := c.lru.Remove(c.lru.Back()).(*colourEntry)
			delete(c.byKey, old.key)
			c.bytes -= old.n
		}
	}
	return ce.t, ce.err
}

// profileError says in a client's words why a profile cannot be used.
func profileError(err error) error {
	s := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "icc: invalid profile: "), "icc: unsupported profile: ")
	if errors.Is(err, icc.ErrUnsupported) {
		return fmt.Errorf("it is valid but of a kind imgsvc does not apply (%s)", truncate(s, 120))
	}
	return fmt.Errorf("it is malformed (%s)", truncate(s, 120))
}

// ProfileInfo describes an image's embedded ICC profile, for /v1/info.
type ProfileInfo struct {
	Description string `json:"description,omitempty"`
	ColorSpace  string `json:"color_space,omitempty"` // rgb, gray, cmyk, or what the profile says
	Bytes       int    `json:"bytes"`
	// Problem says why the profile will be ignored, when it will be.
	Problem string `json:"problem,omitempty"`
}

// describeProfile reads what /v1/info says of an embedded profile. A PNG's
// is inflated for it (at most maxProfileBytes).
func describeProfile(h header) *ProfileInfo {
	ep := h.icc
	if !ep.present() {
		return nil
	}
	b, err := ep.bytes()
	if err != nil {
		return &ProfileInfo{Problem: "it will be ignored: " + err.Error()}
	}
	pi := &ProfileInfo{Bytes: len(b)}
	p, err := icc.Parse(b)
	if err != nil {
		pi.Problem = "it will be ignored: " + profileError(err).Error()
		return pi
	}
	pi.Description = p.Description()
	pi.ColorSpace = strings.ToLower(strings.TrimSpace(p.ColorSpace))
	if err := p.Check(); err != nil {
		pi.Problem = "it will be ignored: " + profileError(err).Error()
	}
	img := 3
	if h.cmyk {
		img = 4
	} else if h.gray {
		img = 1
	}
	if n := map[string]int{icc.SpaceRGB: 3, icc.SpaceGray: 1, icc.SpaceCMYK: 4}[p.ColorSpace]; n != 0 && n != img && pi.Problem == "" {
		pi.Problem = fmt.Sprintf("it will be ignored: it is for %s images, but the image is %s", channelWord(n), channelWord(img))
	}
	return pi
}

// IsWarningCode reports whether code is one of the service's warning codes,
// so that metrics keep a bounded label set.
func IsWarningCode(code string) bool {
	switch code {
	case WarnProfileIgnored, WarnProfileNotKept, WarnImageTruncated, WarnImageDamaged,
		WarnAnimationFlattened:
		return true
	}
	return false
}
