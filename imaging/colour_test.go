package imaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imgsvc/imgsvc/imaging/internal/icc"
)

// The colour-management reference: LittleCMS through Pillow's ImageCms.
const refPython = "/usr/bin/python3"

// systemICC is where Debian's icc-profiles-free and colord-data put their
// profiles.
const systemICC = "/usr/share/color/icc"

func needLittleCMS(t *testing.T) {
	t.Helper()
	if err := exec.Command(refPython, "-c", "from PIL import ImageCms").Run(); err != nil {
		t.Skipf("no reference: %s cannot import PIL.ImageCms (apt-get install python3-pil); .ci/run installs it", refPython)
	}
}

// colourRef runs testdata/colour_ref.py.
func colourRef(t *testing.T, mode string, in []byte, inExt string, profile []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, "in"+inExt), filepath.Join(dir, "out")
	outPath += map[string]string{"ref": ".png", "cmyk": ".jpg", "cmyktiff": ".tif"}[mode]
	if err := os.WriteFile(inPath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"testdata/colour_ref.py", mode, inPath, outPath}
	if profile != nil {
		p := filepath.Join(dir, "profile.icc")
		if err := os.WriteFile(p, profile, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	if out, err := exec.Command(refPython, args...).CombinedOutput(); err != nil {
		t.Fatalf("colour_ref.py %s: %v\n%s", mode, err, out)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// colourChart is a photo-like image with saturated patches and a grey ramp
// along its top, where colour management shows most.
func colourChart(w, h int) *image.NRGBA {
	img := newPhoto(w, h)
	patches := []color.NRGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {0, 255, 255, 255},
		{255, 0, 255, 255}, {255, 255, 0, 255}, {230, 180, 150, 255}, {40, 90, 30, 255}}
	pw := w / len(patches)
	for i, c := range patches {
		for y := h / 2; y < h/2+h/6; y++ {
			for x := i * pw; x < (i+1)*pw; x++ {
				img.SetNRGBA(x, y, c)
			}
		}
	}
	for y := 0; y < h/8; y++ {
		for x := 0; x < w; x++ {
			v := uint8(x * 255 / (w - 1))
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	return img
}

// compareColours returns the mean and largest CIEDE2000 between two images
// of the same size.
func compareColours(t *testing.T, got, want image.Image) (mean, worst float64) {
	mean, worst, _ = compareColoursP99(t, got, want)
	return mean, worst
}

// compareColoursP99 also returns the 99th percentile.
func compareColoursP99(t *testing.T, got, want image.Image) (mean, worst, p99 float64) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	b := got.Bounds()
	n := 0
	var all []float64
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			p := color.NRGBAModel.Convert(got.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			q := color.NRGBAModel.Convert(want.At(want.Bounds().Min.X+x, want.Bounds().Min.Y+y)).(color.NRGBA)
			d := icc.DeltaE2000([]byte{p.R, p.G, p.B}, []byte{q.R, q.G, q.B})
			mean += d
			worst = max(worst, d)
			all = append(all, d)
			n++
		}
	}
	slices.Sort(all)
	return mean / float64(n), worst, all[len(all)*99/100]
}

func decodeAny(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func processQ(t *testing.T, p *Pipeline, src []byte, q map[string][]string) Result {
	t.Helper()
	opt, err := ParseOptions(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Process(context.Background(), src, opt)
	if err != nil {
		t.Fatalf("Process(%v): %v", q, err)
	}
	return res
}

func systemProfile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(systemICC, name))
	if err != nil {
		t.Skipf("%s: %v (apt-get install icc-profiles-free colord-data libgs-common; .ci/run installs them)", name, err)
	}
	return b
}

// matrixProfile writes a v2 matrix/TRC RGB profile with the given
// primaries' D50 colorants and a gamma curve, as cameras embed.
func matrixProfile(desc string, gamma float64, r, g, b [3]float64) []byte {
	type tag struct {
		sig  string
		data []byte
	}
	xyz := func(v [3]float64) []byte {
		out := []byte("XYZ \x00\x00\x00\x00")
		for _, c := range v {
			out = binary.BigEndian.AppendUint32(out, uint32(int32(math.Round(c*65536))))
		}
		return out
	}
	curv := binary.BigEndian.AppendUint32([]byte("curv\x00\x00\x00\x00"), 1)
	curv = binary.BigEndian.AppendUint16(curv, uint16(math.Round(gamma*256)))
	text := binary.BigEndian.AppendUint32([]byte("desc\x00\x00\x00\x00"), uint32(len(desc)+1))
	text = append(append(text, desc...), 0)
	text = append(text, make([]byte, 12+67)...)
	tags := []tag{{"desc", text}, {"wtpt", xyz([3]float64{0.9642, 1, 0.8249})},
		{"rXYZ", xyz(r)}, {"gXYZ", xyz(g)}, {"bXYZ", xyz(b)}, {"rTRC", curv}, {"gTRC", curv}, {"bTRC", curv}}
	head := make([]byte, 128)
	copy(head[8:], []byte{2, 0x10, 0, 0})
	copy(head[12:], "mntrRGB XYZ ")
	copy(head[36:], "acsp")
	copy(head[68:], xyz([3]float64{0.9642, 1, 0.8249})[8:])
	table := binary.BigEndian.AppendUint32(nil, uint32(len(tags)))
	off := 128 + 4 + 12*len(tags)
	var data []byte
	for _, tg := range tags {
		for len(tg.data)%4 != 0 {
			tg.data = append(tg.data, 0)
		}
		table = append(table, tg.sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(data)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(tg.data)))
		data = append(data, tg.data...)
	}
	out := append(append(head, table...), data...)
	binary.BigEndian.PutUint32(out, uint32(len(out)))
	return out
}

// wideProfile is a wide-gamut RGB profile made in code (Adobe RGB's
// primaries, gamma 2.2), so that tests need no system profile.
func wideProfile() []byte {
	return matrixProfile("Adobe RGB-like, made by the test", 2.2,
		[3]float64{0.6097, 0.3111, 0.0195}, [3]float64{0.2053, 0.6257, 0.0609}, [3]float64{0.1492, 0.0632, 0.7446})
}

func withProfile(t *testing.T, data []byte, f Format, profile []byte) []byte {
	t.Helper()
	embed := map[Format]func(data, profile []byte) ([]byte, error){
		FormatJPEG: embedJPEGProfile, FormatPNG: embedPNGProfile, FormatWebP: embedWebPProfile}[f]
	out, err := embed(data, profile)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestColour_LittleCMS checks the colour stage end to end against LittleCMS
// on images that carry real profiles in each container that carries them,
// CMYK JPEGs with and without a profile included.
func TestColour_LittleCMS(t *testing.T) {
	needLittleCMS(t)
	chart := colourChart(320, 240)
	pngChart := encodeAs(t, chart, FormatPNG)
	grey := image.NewGray(chart.Bounds())
	for i := range grey.Pix {
		grey.Pix[i] = chart.Pix[4*i+1]
	}
	greyPNG := encodeAs(t, grey, FormatPNG)
	type tc struct {
		name    string
		src     func(t *testing.T) []byte
		ext     string
		ref     []byte // profile for the reference, when not the embedded one
		maxMean float64
		maxDE   float64 // the largest, or for JPEGs the 99th percentile
	}
	sys := func(name string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return withProfile(t, pngChart, FormatPNG, systemProfile(t, name)) }
	}
	cases := []tc{
		{"png made-in-test wide gamut", func(t *testing.T) []byte { return withProfile(t, pngChart, FormatPNG, wideProfile()) }, ".png", nil, 1, 3},
		{"png ProPhoto v4", sys("colord/ProPhotoRGB.icc"), ".png", nil, 1, 3},
		{"png Adobe RGB v2", sys("compatibleWithAdobeRGB1998.icc"), ".png", nil, 1, 3},
		{"png WideGamut v4", sys("colord/WideGamutRGB.icc"), ".png", nil, 1, 3},
		{"png Rec709 table", sys("colord/Rec709.icc"), ".png", nil, 1, 3},
		{"png grey", func(t *testing.T) []byte {
			return withProfile(t, greyPNG, FormatPNG, systemProfile(t, "Gray-CIE_L.icc"))
		}, ".png", nil, 1, 3},
		{"webp lossless wide gamut", func(t *testing.T) []byte {
			return withProfile(t, tool(t, "cwebp", ".png", pngChart, "-quiet", "-lossless", "IN", "-o", "OUT"), FormatWebP, wideProfile())
		}, ".webp", nil, 1, 3},
		// Two JPEG decoders part at sharp saturated edges, where their
		// chroma upsampling differs (ΔE 45 there before any colour
		// management): the reference starts from our own decode.
		{"jpeg wide gamut", func(t *testing.T) []byte {
			return withProfile(t, encodeAs(t, chart, FormatJPEG), FormatJPEG, wideProfile())
		}, ".jpg", wideProfile(), 1, 3},
		{"jpeg CMYK SWOP profile (3 APP2 chunks)", func(t *testing.T) []byte {
			return colourRef(t, "cmyk", pngChart, ".png", systemProfile(t, "ghostscript/default_cmyk.icc"))
		}, ".jpg", nil, 1, 3},
		{"jpeg CMYK without profile: the generic press", func(t *testing.T) []byte {
			return colourRef(t, "cmyk", pngChart, ".png", nil)
		}, ".jpg", icc.GenericPress(), 1, 3},
		{"tiff CMYK LZW, SWOP profile", func(t *testing.T) []byte {
			return colourRef(t, "cmyktiff", pngChart, ".png", systemProfile(t, "ghostscript/default_cmyk.icc"))
		}, ".tif", nil, 1, 3},
		{"tiff CMYK LZW without profile: the generic press", func(t *testing.T) []byte {
			return colourRef(t, "cmyktiff", pngChart, ".png", nil)
		}, ".tif", icc.GenericPress(), 1, 3},
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.src(t)
			refSrc, refExt := src, c.ext
			if c.name == "jpeg wide gamut" {
				refSrc, refExt = processQ(t, p, encodeAs(t, chart, FormatJPEG), map[string][]string{OptFormat: {"png"}}).Data, ".png"
			}
			want := decodeAny(t, colourRef(t, "ref", refSrc, refExt, c.ref))
			res := processQ(t, p, src, map[string][]string{OptFormat: {"png"}})
			if len(res.Warnings) != 0 {
				t.Errorf("warnings %v", res.Warnings)
			}
			mean, worst, p99 := compareColoursP99(t, decodeAny(t, res.Data), want)
			unmanaged := "x/image/tiff refuses CMYK"
			// Unmanaged, for scale: what the service gave before.
			if naive, _, err := image.Decode(bytes.NewReader(src)); err == nil {
				nMean, nWorst := compareColours(t, naive, want)
				unmanaged = fmt.Sprintf("mean %.2f, max %.1f", nMean, nWorst)
			}
			t.Logf("ΔE2000 against LittleCMS: mean %.3f, p99 %.2f, max %.2f (unmanaged: %s)", mean, p99, worst, unmanaged)
			bound := worst
			if c.ext == ".jpg" {
				// Two JPEG decoders part at sharp saturated edges, where
				// their chroma upsampling differs: judge those by the bulk.
				bound = p99
			}
			if mean > c.maxMean || bound > c.maxDE {
				t.Errorf("ΔE2000 mean %.3f (limit %g), max or p99 %.2f (limit %g)", mean, c.maxMean, bound, c.maxDE)
			}
		})
	}
}

// TestColour_afterResize checks that a thumbnail is colour-managed too (the
// transform runs on the resized pixels): it must match the full-size
// managed image resized, not the unmanaged one.
func TestColour_afterResize(t *testing.T) {
	chart := colourChart(640, 480)
	src := withProfile(t, encodeAs(t, chart, FormatPNG), FormatPNG, wideProfile())
	p := NewPipeline(Limits{}, inline{}, nil)
	full := processQ(t, p, src, map[string][]string{OptFormat: {"png"}})
	thumb := processQ(t, p, src, map[string][]string{OptFormat: {"png"}, OptWidth: {"160"}})
	plainThumb := processQ(t, p, encodeAs(t, chart, FormatPNG), map[string][]string{OptFormat: {"png"}, OptWidth: {"160"}})
	managedSmall := processQ(t, p, full.Data, map[string][]string{OptFormat: {"png"}, OptWidth: {"160"}})
	m1, _ := compareColours(t, decodeAny(t, thumb.Data), decodeAny(t, managedSmall.Data))
	m2, _ := compareColours(t, decodeAny(t, thumb.Data), decodeAny(t, plainThumb.Data))
	t.Logf("thumbnail vs managed-then-resized: mean ΔE %.3f; vs unmanaged: %.3f", m1, m2)
	if m1 > 0.5 || m2 < 2 {
		t.Errorf("thumbnail is not colour-managed: mean ΔE %.3f to the managed image, %.3f to the unmanaged one", m1, m2)
	}
}

// TestColour_keep checks color_profile=keep: the pixels stay as they are
// and the output carries the very profile, in each format that can; the
// others get sRGB pixels and a warning.
func TestColour_keep(t *testing.T) {
	chart := colourChart(200, 150)
	prof := wideProfile()
	src := withProfile(t, encodeAs(t, chart, FormatPNG), FormatPNG, prof)
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, f := range []Format{FormatPNG, FormatJPEG, FormatWebP, FormatAVIF} {
		t.Run(string(f), func(t *testing.T) {
			q := map[string][]string{OptFormat: {string(f)}, OptColorProfile: {"keep"}, OptQuality: {"100"}}
			if f == FormatWebP {
				q[OptLossless] = []string{"true"}
			}
			res := processQ(t, p, src, q)
			if len(res.Warnings) != 0 {
				t.Errorf("warnings %v", res.Warnings)
			}
			info, err := Inspect(res.Data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := info.hdr.icc.bytes()
			if err != nil || !bytes.Equal(got, prof) {
				t.Fatalf("embedded profile: %d bytes, %v; want the source's %d bytes", len(got), err, len(prof))
			}
			if info.ICCProfile == nil || info.ICCProfile.Description != "Adobe RGB-like, made by the test" {
				t.Errorf("Inspect ICCProfile = %+v", info.ICCProfile)
			}
			// Decoded by the service, kept again: the pixels as stored.
			out := decodeAny(t, processQ(t, p, res.Data, map[string][]string{OptFormat: {"png"}, OptColorProfile: {"keep"}}).Data)
			if mean, _ := compareColours(t, out, chart); mean > 1 {
				t.Errorf("pixels changed: mean ΔE %.2f from the source's", mean)
			}
		})
	}
	t.Run("gif cannot carry it", func(t *testing.T) {
		res := processQ(t, p, src, map[string][]string{OptFormat: {"gif"}, OptColorProfile: {"keep"}})
		if len(res.Warnings) != 1 || res.Warnings[0].Code != WarnProfileNotKept || !strings.Contains(res.Warnings[0].Detail, "GIF") {
			t.Errorf("warnings %v, want one %s naming GIF", res.Warnings, WarnProfileNotKept)
		}
	})
}

// TestColour_brokenProfiles checks that a profile that cannot be used is
// ignored with a warning, and the image still comes back as if it had none.
func TestColour_brokenProfiles(t *testing.T) {
	chart := colourChart(160, 120)
	jpg := encodeAs(t, chart, FormatJPEG)
	prof := wideProfile()
	big := append(append([]byte(nil), prof...), make([]byte, 150_000)...)
	binary.BigEndian.PutUint32(big, uint32(len(big)))
	bigJPEG := withProfile(t, jpg, FormatJPEG, big) // three APP2 chunks
	dropChunk := func(b []byte, seq byte) []byte {
		var out []byte
		out = append(out, b[:2]...)
		i := 2
		for i+4 <= len(b) && b[i] == 0xFF && b[i+1] != 0xDA {
			n := int(binary.BigEndian.Uint16(b[i+2:]))
			seg := b[i : i+2+n]
			if !(b[i+1] == 0xE2 && bytes.HasPrefix(seg[4:], []byte("ICC_PROFILE\x00")) && seg[16] == seq) {
				out = append(out, seg...)
			}
			i += 2 + n
		}
		return append(out, b[i:]...)
	}
	truncated := append([]byte(nil), prof[:200]...)
	badTag := append([]byte(nil), prof...)
	binary.BigEndian.PutUint32(badTag[128+4+4:], 1<<30) // the first tag's offset
	cmykProfOnRGB, err := os.ReadFile(filepath.Join(systemICC, "ghostscript/default_cmyk.icc"))
	if err != nil {
		cmykProfOnRGB = icc.GenericPress()
	}
	cases := []struct {
		name string
		src  []byte
		want string
	}{
		{"chunk missing", dropChunk(bigJPEG, 2), "only 2 are in the file"},
		{"truncated", withProfile(t, jpg, FormatJPEG, truncated), "malformed"},
		{"tag outside", withProfile(t, jpg, FormatJPEG, badTag), "malformed"},
		{"CMYK profile on RGB pixels", withProfile(t, jpg, FormatJPEG, cmykProfOnRGB), "for CMYK images, but the image is RGB"},
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	plain := processQ(t, p, jpg, map[string][]string{OptFormat: {"png"}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := processQ(t, p, c.src, map[string][]string{OptFormat: {"png"}})
			if len(res.Warnings) != 1 || res.Warnings[0].Code != WarnProfileIgnored || !strings.Contains(res.Warnings[0].Detail, c.want) {
				t.Fatalf("warnings %v, want one %s saying %q", res.Warnings, WarnProfileIgnored, c.want)
			}
			if !bytes.Equal(res.Data, plain.Data) {
				t.Error("the output differs from the same image without a profile")
			}
			info, err := Inspect(c.src)
			if err != nil {
				t.Fatal(err)
			}
			if info.ICCProfile == nil || info.ICCProfile.Problem == "" {
				t.Errorf("Inspect ICCProfile = %+v, want a problem", info.ICCProfile)
			}
		})
	}
	t.Run("sRGB profile is not applied", func(t *testing.T) {
		srgb := matrixProfile("sRGB-like", 2.2, [3]float64{0.4361, 0.2225, 0.0139}, [3]float64{0.3851, 0.7169, 0.0971}, [3]float64{0.1431, 0.0606, 0.7141})
		tr, err := mustParse(t, srgb).ToSRGB()
		if err != nil {
			t.Fatal(err)
		}
		// A gamma-2.2 sRGB stand-in is close to sRGB but not within a
		// step; the real sRGB profile is.
		if b, err := os.ReadFile(filepath.Join(systemICC, "sRGB.icc")); err == nil {
			tr, err := mustParse(t, b).ToSRGB()
			if err != nil || !tr.IsSRGB() {
				t.Errorf("sRGB.icc: IsSRGB false (%v)", err)
			}
		}
		if tr.IsSRGB() {
			t.Error("a gamma-2.2 profile taken for sRGB")
		}
	})
}

func mustParse(t *testing.T, b []byte) *icc.Profile {
	t.Helper()
	p, err := icc.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestColourCache checks that transforms are built once per profile and
// that the cache stays within its budget.
func TestColourCache(t *testing.T) {
	c := newColourCache(1 << 20)
	a, err := c.get(wideProfile())
	if err != nil || a == nil {
		t.Fatal(a, err)
	}
	if b, _ := c.get(wideProfile()); b != a {
		t.Error("the same profile built twice")
	}
	if _, err := c.get(icc.GenericPress()); err != nil { // some 520 KB
		t.Fatal(err)
	}
	for g := 1.0; g < 3; g += 0.25 { // fill it up
		if _, err := c.get(matrixProfile("g", g, [3]float64{0.6, 0.3, 0.02}, [3]float64{0.2, 0.6, 0.06}, [3]float64{0.15, 0.06, 0.74})); err != nil {
			t.Fatal(err)
		}
	}
	if c.bytes > c.limit {
		t.Errorf("cache holds %d bytes, limit %d", c.bytes, c.limit)
	}
	if _, err := c.get([]byte("not a profile")); err == nil {
		t.Error("garbage accepted")
	}
}

// BenchmarkColour measures what colour management adds to a thumbnail and
// to a full-size re-encode of a 12 MP JPEG with a wide-gamut profile.
func BenchmarkColour(b *testing.B) {
	photo := newPhoto(4000, 3000)
	var buf bytes.Buffer
	if err := png.Encode(&buf, photo); err != nil {
		b.Fatal(err)
	}
	jpg := encodeAs(b, photo, FormatJPEG)
	tagged, err := embedJPEGProfile(jpg, wideProfile())
	if err != nil {
		b.Fatal(err)
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, width := range []string{"300", "1280", ""} {
		for _, in := range []struct {
			name string
			src  []byte
		}{{"untagged", jpg}, {"wide-gamut", tagged}} {
			q := map[string][]string{OptFormat: {"jpeg"}}
			if width != "" {
				q[OptWidth] = []string{width}
			}
			opt, err := ParseOptions(q, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("w="+width+"/"+in.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := p.Process(context.Background(), in.src, opt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
