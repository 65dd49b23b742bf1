package imaging

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Fit says how an image is fitted into a width × height box.
type Fit string

// The fit modes.
const (
	FitContain Fit = "contain" // scale to fit inside the box, pad to the exact box with Background
	FitCover   Fit = "cover"   // scale to cover the box, crop the overflow at Gravity
	FitFill    Fit = "fill"    // stretch to the exact box, ignoring the aspect ratio
	FitInside  Fit = "inside"  // scale to fit inside the box, no padding
)

// Gravity says which part of an image is kept when cropping to cover.
type Gravity string

// The gravities.
const (
	GravityCenter    Gravity = "center"
	GravityNorth     Gravity = "north"
	GravitySouth     Gravity = "south"
	GravityEast      Gravity = "east"
	GravityWest      Gravity = "west"
	GravityNorthEast Gravity = "northeast"
	GravityNorthWest Gravity = "northwest"
	GravitySouthEast Gravity = "southeast"
	GravitySouthWest Gravity = "southwest"
)

// Option names, as they appear in query parameters, form fields and the JSON
// "options" object.
const (
	OptWidth      = "width"
	OptHeight     = "height"
	OptFit        = "fit"
	OptGravity    = "gravity"
	OptCrop       = "crop"
	OptRotate     = "rotate"
	OptFlip       = "flip"
	OptBlur       = "blur"
	OptSharpen    = "sharpen"
	OptGrayscale  = "grayscale"
	OptBrightness = "brightness"
	OptContrast   = "contrast"
	OptGamma      = "gamma"
	OptFormat     = "format"
	OptQuality    = "quality"
	OptAutoOrient = "auto_orient"
	OptStrip      = "strip"
	OptBackground = "background"
	OptLossless   = "lossless"
	OptEffort     = "effort"
	// OptColorProfile is "srgb" or "keep" (see ColorProfile).
	OptColorProfile = "color_profile"
	// OptPartial renders a truncated image as far as its data goes.
	OptPartial = "partial"
	// The overlay options place the overlay image (see overlay.go).
	OptOverlayGravity = "overlay_gravity"
	OptOverlayMargin  = "overlay_margin"
	OptOverlayOpacity = "overlay_opacity"
	OptOverlayWidth   = "overlay_width"
	// OptFrames is "all" (keep an animation animated) or "first".
	OptFrames = "frames"
)

// OptionNames lists every option, in the order they are documented.
func OptionNames() []string {
	return []string{OptWidth, OptHeight, OptFit, OptGravity, OptCrop, OptRotate, OptFlip,
		OptBlur, OptSharpen, OptGrayscale, OptBrightness, OptContrast, OptGamma,
		OptFormat, OptQuality, OptLossless, OptEffort, OptAutoOrient, OptStrip, OptBackground, OptColorProfile, OptPartial, OptFrames,
		OptOverlayGravity, OptOverlayMargin, OptOverlayOpacity, OptOverlayWidth}
}

// optionAliases maps names clients often use to the option they meant.
func optionAliases() map[string]string {
	return map[string]string{
		"w": OptWidth, "h": OptHeight, "q": OptQuality, "fmt": OptFormat, "type": OptFormat,
		"output": OptFormat, "angle": OptRotate, "rotation": OptRotate, "mirror": OptFlip,
		"gray": OptGrayscale, "grey": OptGrayscale, "greyscale": OptGrayscale, "bw": OptGrayscale,
		"bg": OptBackground, "color": OptBackground, "colour": OptBackground,
		"orient": OptAutoOrient, "autoorient": OptAutoOrient, "auto-orient": OptAutoOrient,
		"autorotate": OptAutoOrient, "mode": OptFit, "resize": OptFit, "crop_mode": OptGravity,
		"anchor": OptGravity, "position": OptGravity, "strip_metadata": OptStrip,
		"sigma": OptBlur, "max_width": OptWidth, "max_height": OptHeight,
		"colour_profile": OptColorProfile, "icc": OptColorProfile, "icc_profile": OptColorProfile,
		"profile": OptColorProfile, "colorspace": OptColorProfile, "color_space": OptColorProfile,
		"watermark_gravity": OptOverlayGravity, "watermark_position": OptOverlayGravity, "overlay_position": OptOverlayGravity,
		"overlay_anchor": OptOverlayGravity, "watermark_margin": OptOverlayMargin, "overlay_padding": OptOverlayMargin,
		"overlay_offset": OptOverlayMargin, "watermark_opacity": OptOverlayOpacity, "overlay_alpha": OptOverlayOpacity,
		"opacity": OptOverlayOpacity, "watermark_width": OptOverlayWidth, "overlay_size": OptOverlayWidth,
		"overlay_w": OptOverlayWidth,
		"frame":     OptFrames, "animated": OptFrames, "animation": OptFrames,
	}
}

// Limits on option values that no configuration changes.
const (
	MaxDimension = 65535 // largest width or height anyone may ask for
	MaxSigma     = 100.0
)

// Options says what to do to an image. The zero value is not valid; start
// from DefaultOptions. Operations apply in the order documented on Process.
type Options struct {
	Width, Height int // 0 means "follow the aspect ratio" (or keep, when both are 0)
	Fit           Fit
	Gravity       Gravity
	Crop          image.Rectangle // empty means no crop
	Rotate        float64         // degrees clockwise
	Flip          string          // "", "h" or "v"
	Blur          float64         // Gaussian sigma; 0 means none
	Sharpen       float64         // sigma; 0 means none
	Grayscale     bool
	Brightness    float64 // percent, -100..100
	Contrast      float64 // percent, -100..100
	Gamma         float64 // 1 means unchanged
	Format        Format  // "" means the input's format; FormatAuto the best of Accept
	Quality       int     // 1..100; 0 means the default
	Lossless      bool    // WebP: lossless
	Effort        int     // encoder effort (speed against size) in its Range; -1 means the default
	// Accept lists the formats the client accepts, best first, for
	// FormatAuto (from the Accept header).
	Accept        []Format
	AutoOrient    bool
	Strip         bool
	Background    color.NRGBA
	HasBackground bool
	// ColorProfile says whether pixels are converted to sRGB (the default)
	// or keep their embedded profile.
	ColorProfile ColorProfile
	// Partial renders a truncated image as far as its data goes, instead
	// of answering truncated_image.
	Partial bool
	// FirstFrame (frames=first) processes only the first frame of an
	// animation; by default an animation stays animated where the output
	// format can animate.
	FirstFrame bool
	// icc is the profile encoders embed, set by Run for color_profile=keep.
	icc []byte
	// procs is how many goroutines the encoder may use, set by Plan.
	procs int
	OverlayOptions
}

// DefaultOptions returns the options applied when a client sets none.
func DefaultOptions() Options {
	return Options{Fit: FitContain, Gravity: GravityCenter, Gamma: 1, AutoOrient: true, Strip: true, Effort: -1,
		ColorProfile: ColorProfileSRGB, OverlayOptions: defaultOverlayOptions()}
}

// ParseOptions parses option values keyed by name, as they come from query
// parameters, form fields or a JSON object whose values were turned into
// strings. fieldName, if not nil, says how a name is shown in Error.Field
// (for example "options.width"). Unknown names are CodeUnknownOption errors with a suggestion;
// bad values are CodeInvalidOption errors naming the value and the range.
func ParseOptions(values map[string][]string, fieldName func(string) string) (Options, error) {
	o := DefaultOptions()
	known := OptionNames()
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic: the first problem by name is reported
	for _, name := range names {
		vs := values[name]
		field := name
		if fieldName != nil {
			field = fieldName(name)
		}
		if !contains(known, name) {
			e := Errorf(CodeUnknownOption, "unknown option %q", name).WithField(field)
			if overlayNamed(name, e) {
				return o, e
			}
			if s := Suggest(name, known, optionAliases()); s != "" {
				e.Detail += fmt.Sprintf("; did you mean %q?", s)
				e.Hint = fmt.Sprintf("use %q (valid options: %s)", s, strings.Join(known, ", "))
			} else {
				e.Hint = "valid options: " + strings.Join(known, ", ")
			}
			return o, e
		}
		if len(vs) > 1 {
			for _, v := range vs[1:] {
				if v != vs[0] {
					return o, Errorf(CodeInvalidOption, "option %q is given more than once, with different values %q and %q", name, vs[0], v).
						WithField(field).WithHint("give %s once, either as a query parameter or as a form field / JSON option", name)
				}
			}
		}
		v := ""
		if len(vs) > 0 {
			v = strings.TrimSpace(vs[0])
		}
		if err := o.set(name, v, field); err != nil {
			return o, err
		}
	}
	return o, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (o *Options) set(name, v, field string) error {
	var err error
	switch name {
	case OptWidth:
		o.Width, err = parseInt(v, field, 1, MaxDimension, "pixels")
	case OptHeight:
		o.Height, err = parseInt(v, field, 1, MaxDimension, "pixels")
	case OptFit:
		var s string
		s, err = parseEnum(v, field, []string{string(FitContain), string(FitCover), string(FitFill), string(FitInside)})
		o.Fit = Fit(s)
	case OptGravity:
		var s string
		s, err = parseEnum(strings.ReplaceAll(strings.ReplaceAll(v, "_", ""), "-", ""), field, []string{
			string(GravityCenter), string(GravityNorth), string(GravitySouth), string(GravityEast), string(GravityWest),
			string(GravityNorthEast), string(GravityNorthWest), string(GravitySouthEast), string(GravitySouthWest),
			string(GravitySmart)})
		if err != nil {
			err.(*Error).Detail = fmt.Sprintf("invalid %s %q", name, v)
		}
		if s == "centre" {
			s = string(GravityCenter)
		}
		o.Gravity = Gravity(s)
	case OptCrop:
		o.Crop, err = parseCrop(v, field)
	case OptRotate:
		o.Rotate, err = parseFloat(v, field, -360, 360, "degrees")
	case OptFlip:
		var s string
		s, err = parseEnum(v, field, []string{"h", "v"})
		o.Flip = s
	case OptBlur:
		o.Blur, err = parseFloat(v, field, 0, MaxSigma, "sigma")
	case OptSharpen:
		o.Sharpen, err = parseFloat(v, field, 0, MaxSigma, "sigma")
	case OptGrayscale:
		o.Grayscale, err = parseBool(v, field)
	case OptBrightness:
		o.Brightness, err = parseFloat(v, field, -100, 100, "percent")
	case OptContrast:
		o.Contrast, err = parseFloat(v, field, -100, 100, "percent")
	case OptGamma:
		o.Gamma, err = parseFloat(v, field, 0.01, 10, "")
	case OptFormat:
		o.Format, err = parseFormat(v, field)
	case OptQuality:
		o.Quality, err = parseInt(v, field, 1, 100, "")
	case OptLossless:
		o.Lossless, err = parseBool(v, field)
	case OptEffort:
		o.Effort, err = parseInt(v, field, 0, maxEffort(), "")
	case OptAutoOrient:
		o.AutoOrient, err = parseBool(v, field)
	case OptStrip:
		o.Strip, err = parseBool(v, field)
	case OptBackground:
		o.Background, err = ParseColor(v)
		if err != nil {
			err = Errorf(CodeInvalidOption, "invalid background %q", v).WithField(field).
				WithHint("give a hex colour: RGB, RRGGBB or RRGGBBAA, with or without '#' (URL-encode '#' as %%23)")
		}
		o.HasBackground = true
	case OptPartial:
		o.Partial, err = parseBool(v, field)
	case OptColorProfile:
		var s string
		s, err = parseEnum(strings.ReplaceAll(v, "-", ""), field, []string{string(ColorProfileSRGB), string(ColorProfileKeep)})
		if err != nil {
			err.(*Error).Hint = "give srgb (convert embedded ICC profiles to sRGB, the default) or keep (leave the pixels as they are and embed the profile in JPEG, PNG, WebP and AVIF output)"
		}
		o.ColorProfile = ColorProfile(s)
	case OptFrames:
		o.FirstFrame, err = parseFrames(v, field)
	default:
		err = o.setOverlay(name, v, field)
	}
	return err
}

func parseInt(v, field string, lo, hi int, unit string) (int, error) {
	f, err := parseFloat(v, field, float64(lo), float64(hi), unit)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) {
		return 0, Errorf(CodeInvalidOption, "%s must be a whole number, got %q", field, v).WithField(field).
			WithHint("give an integer from %d to %d", lo, hi)
	}
	return int(f), nil
}

func parseFloat(v, field string, lo, hi float64, unit string) (float64, error) {
	rng := fmt.Sprintf("from %s to %s", strconv.FormatFloat(lo, 'g', -1, 64), strconv.FormatFloat(hi, 'g', -1, 64))
	if unit != "" {
		rng += " " + unit
	}
	if v == "" {
		return 0, Errorf(CodeInvalidOption, "%s is empty", field).WithField(field).WithHint("give a number %s", rng)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, Errorf(CodeInvalidOption, "%s must be a number, got %q", field, truncate(v, 64)).WithField(field).
			WithHint("give a number %s", rng)
	}
	if f < lo || f > hi {
		return 0, Errorf(CodeInvalidOption, "%s is %s, out of range", field, strconv.FormatFloat(f, 'g', -1, 64)).WithField(field).
			WithHint("give a number %s", rng)
	}
	return f, nil
}

func parseBool(v, field string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "1", "true", "yes", "on", "t", "y":
		return true, nil // a bare flag (?grayscale) means true
	case "0", "false", "no", "off", "f", "n":
		return false, nil
	}
	return false, Errorf(CodeInvalidOption, "%s must be a boolean, got %q", field, truncate(v, 64)).WithField(field).
		WithHint("give true or false (1/0, yes/no, on/off)")
}

func parseEnum(v, field string, allowed []string) (string, error) {
	s := strings.ToLower(v)
	if s == "centre" && contains(allowed, "center") {
		return "center", nil
	}
	if contains(allowed, s) {
		return s, nil
	}
	return "", Errorf(CodeInvalidOption, "invalid %s %q", field, truncate(v, 64)).WithField(field).
		WithHint("give one of: %s", strings.Join(allowed, ", "))
}

func parseFormat(v, field string) (Format, error) {
	if strings.EqualFold(strings.TrimSpace(v), string(FormatAuto)) {
		return FormatAuto, nil
	}
	f := formatNamed(v)
	if f.CanEncode() {
		return f, nil
	}
	enc := strings.Join(append(EncodableFormatNames(), string(FormatAuto)), ", ")
	if f != "" {
		return "", Errorf(CodeInvalidOption, "format %q can be read but not written by this service", v).WithField(field).
			WithHint("ask for one of: %s", enc)
	}
	return "", Errorf(CodeInvalidOption, "invalid format %q", truncate(v, 64)).WithField(field).WithHint("give one of: %s", enc)
}

// maxEffort is the largest effort any encoder takes.
func maxEffort() int {
	m := 0
	for _, c := range codecs() {
		if c.writes() {
			m = max(m, c.Encoder.Effort.Max)
		}
	}
	return m
}

func parseCrop(v, field string) (image.Rectangle, error) {
	bad := Errorf(CodeInvalidOption, "invalid crop %q", truncate(v, 64)).WithField(field).
		WithHint("give crop=x,y,w,h in pixels of the (oriented) input, e.g. crop=10,20,300,200; w and h must be positive")
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return image.Rectangle{}, bad
	}
	var n [4]int
	for i, p := range parts {
		x, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || x < 0 || x > MaxDimension*4 {
			return image.Rectangle{}, bad
		}
		n[i] = x
	}
	if n[2] == 0 || n[3] == 0 {
		return image.Rectangle{}, bad
	}
	return image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]), nil
}

// ParseColor parses a hex colour: RGB, RGBA, RRGGBB or RRGGBBAA, with or
// without a leading '#'.
func ParseColor(s string) (color.NRGBA, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	var digits []uint8
	for i := 0; i < len(s); i++ {
		d, ok := hexDigit(s[i])
		if !ok {
			return color.NRGBA{}, fmt.Errorf("bad hex digit %q", s[i])
		}
		digits = append(digits, d)
	}
	c := color.NRGBA{A: 255}
	switch len(digits) {
	case 3, 4:
		c.R, c.G, c.B = digits[0]*17, digits[1]*17, digits[2]*17
		if len(digits) == 4 {
			c.A = digits[3] * 17
		}
	case 6, 8:
		c.R, c.G, c.B = digits[0]<<4|digits[1], digits[2]<<4|digits[3], digits[4]<<4|digits[5]
		if len(digits) == 8 {
			c.A = digits[6]<<4 | digits[7]
		}
	default:
		return color.NRGBA{}, fmt.Errorf("want 3, 4, 6 or 8 hex digits, got %d", len(digits))
	}
	return c, nil
}

func hexDigit(b byte) (uint8, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
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
