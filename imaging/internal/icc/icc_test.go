package icc

import (
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	python   = "/usr/bin/python3"
	iccDir   = "/usr/share/color/icc"
	photoJPG = "../../../../shared/corpus/photo-storm-1920x1280.jpg"
)

// refScript converts raw pixels with LittleCMS through Pillow, the way the
// package promises to: perceptual intent, default flags, built-in sRGB out.
const refScript = `
import json, sys
from PIL import Image, ImageCms
srgb = ImageCms.createProfile("sRGB")
for job in json.load(open(sys.argv[1])):
    data = open(job["in"], "rb").read()
    n = len(data) // {"L": 1, "RGB": 3, "CMYK": 4}[job["mode"]]
    im = Image.frombytes(job["mode"], (n, 1), data)
    out = ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(job["profile"]), srgb,
                                    renderingIntent=0, outputMode="RGB")
    open(job["out"], "wb").write(out.tobytes())
`

type refCase struct {
	name string
	file string        // under iccDir (or absolute), or
	gen  func() []byte // a profile written by the test
}

// refCases lists the profiles compared with LittleCMS; ICC_PROFILES adds
// more, as a list of paths separated by colons.
func refCases() []refCase {
	var extra []refCase
	for _, f := range filepath.SplitList(os.Getenv("ICC_PROFILES")) {
		extra = append(extra, refCase{name: filepath.Base(f), file: f})
	}
	return append(extra, []refCase{
		{name: "AdobeRGB-v2-curv", file: "compatibleWithAdobeRGB1998.icc"},
		{name: "AdobeRGB-v4-para", file: "colord/AdobeRGB1998.icc"},
		{name: "ProPhoto-v4-para-gamma", file: "colord/ProPhotoRGB.icc"},
		{name: "WideGamut-v4", file: "colord/WideGamutRGB.icc"},
		{name: "SwappedRedAndGreen-v4", file: "colord/SwappedRedAndGreen.icc"},
		{name: "Rec709-v4-table", file: "colord/Rec709.icc"},
		{name: "sRGB-v2-table", file: "sRGB.icc"},
		{name: "CineonLog-v2-table", file: "CineonLog_M.icc"},
		{name: "LStar-RGB-v2", file: "LStar-RGB.icc"},
		{name: "DisplayP3-v4-generated", gen: displayP3},
		{name: "Gray-v2-XYZ", file: "Gray.icc"},
		{name: "Gray-v2-Lab", file: "Gray-CIE_L.icc"},
		{name: "sGray-v2-gamma1.8", file: "ghostscript/sgray.icc"},
		{name: "Gray-v2-table", file: "ghostscript/default_gray.icc"},
		{name: "Gray-v4-para-generated", gen: func() []byte { return grayProfile(0x04200000, tagPara(0, 2.2)) }},
		{name: "CMYK-v2-lut16-Lab-ghostscript", file: "ghostscript/default_cmyk.icc"},
		{name: "CMYK-v4-lut16-XYZ-ghostscript", file: "ghostscript/ps_cmyk.icc"},
		{name: "CMYK-v4-lutAtoB-Lab-generated", gen: mabCMYKLab},
		{name: "RGB-v4-lutAtoB-Lab-generated", gen: mabRGBLab},
		{name: "RGB-v4-lutAtoB-XYZ-generated", gen: mabRGBXYZ},
		{name: "RGB-v2-lut8-Lab-generated", gen: mft1RGBLab},
		{name: "RGB-v2-lut16-XYZ-generated", gen: mft2RGBXYZ},
	}...)
}

// testPixels returns a grid over the input space followed by pixels of a
// real photo (mapped to grey or naive CMYK as needed).
func testPixels(t testing.TB, channels int, photo image.Image) []byte {
	var px []byte
	switch channels {
	case 1:
		for v := 0; v < 256; v++ {
			px = append(px, byte(v))
		}
	case 3:
		for r := 0; r < 256; r += 15 {
			for g := 0; g < 256; g += 15 {
				for b := 0; b < 256; b += 15 {
					px = append(px, byte(r), byte(g), byte(b))
				}
			}
		}
	case 4:
		steps := []int{0, 32, 64, 96, 128, 160, 192, 224, 255}
		for _, c := range steps {
			for _, m := range steps {
				for _, y := range steps {
					for _, k := range steps {
						px = append(px, byte(c), byte(m), byte(y), byte(k))
					}
				}
			}
		}
	}
	if photo == nil {
		return px
	}
	bnd := photo.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y += 23 {
		for x := bnd.Min.X; x < bnd.Max.X; x += 19 {
			px = append(px, photoPixel(photo, x, y, channels)...)
		}
	}
	return px
}

// photoPixel returns a photo's pixel as grey, RGB or naive CMYK.
func photoPixel(photo image.Image, x, y, channels int) []byte {
	r, g, b, _ := photo.At(x, y).RGBA()
	r8, g8, b8 := byte(r>>8), byte(g>>8), byte(b>>8)
	switch channels {
	case 1:
		return []byte{byte((299*int(r8) + 587*int(g8) + 114*int(b8) + 500) / 1000)}
	case 3:
		return []byte{r8, g8, b8}
	}
	k := 255 - max(r8, g8, b8)
	return []byte{255 - r8 - k, 255 - g8 - k, 255 - b8 - k, k}
}

func loadPhoto(t testing.TB) image.Image {
	f, err := os.Open(photoJPG)
	if err != nil {
		t.Logf("no corpus photo, grid colours only: %v", err)
		return nil
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", photoJPG, err)
	}
	return img
}

func channelsOf(space string) int {
	switch space {
	case SpaceGray:
		return 1
	case SpaceCMYK:
		return 4
	}
	return 3
}

// TestToSRGB_LittleCMS compares every transform with LittleCMS through
// Pillow's ImageCms, in ΔE2000 over sRGB's Lab.
func TestToSRGB_LittleCMS(t *testing.T) {
	if err := exec.Command(python, "-c", "from PIL import ImageCms").Run(); err != nil {
		t.Skipf("no reference: %s cannot import PIL.ImageCms (apt-get install python3-pil): %v", python, err)
	}
	dir := t.TempDir()
	photo := loadPhoto(t)
	type job struct {
		Profile string `json:"profile"`
		Mode    string `json:"mode"`
		In      string `json:"in"`
		Out     string `json:"out"`
	}
	type prepared struct {
		refCase
		data []byte
		px   []byte
		out  string
	}
	var jobs []job
	var cases []prepared
	for _, c := range refCases() {
		path := c.file
		if !filepath.IsAbs(path) {
			path = filepath.Join(iccDir, c.file)
		}
		var data []byte
		if c.gen != nil {
			data = c.gen()
			path = filepath.Join(dir, c.name+".icc")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			var err error
			if data, err = os.ReadFile(path); err != nil {
				t.Logf("%s: skipped, %v (apt-get install icc-profiles-free colord-data libgs-common)", c.name, err)
				continue
			}
		}
		p, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: Parse: %v", c.name, err)
		}
		n := channelsOf(p.ColorSpace)
		px := testPixels(t, n, photo)
		in := filepath.Join(dir, c.name+".in")
		out := filepath.Join(dir, c.name+".out")
		if err := os.WriteFile(in, px, 0o644); err != nil {
			t.Fatal(err)
		}
		mode := map[int]string{1: "L", 3: "RGB", 4: "CMYK"}[n]
		jobs = append(jobs, job{path, mode, in, out})
		cases = append(cases, prepared{c, data, px, out})
	}
	spec, _ := json.Marshal(jobs)
	specPath := filepath.Join(dir, "jobs.json")
	scriptPath := filepath.Join(dir, "ref.py")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scriptPath, []byte(refScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, scriptPath, specPath).CombinedOutput(); err != nil {
		t.Fatalf("reference script: %v\n%s", err, out)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := os.ReadFile(c.out)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := Parse(c.data)
			tr, err := p.ToSRGB()
			if err != nil {
				t.Fatalf("ToSRGB: %v", err)
			}
			n := tr.Channels()
			got := make([]byte, len(c.px)/n*3)
			if err := tr.Apply(got, 3, c.px, n); err != nil {
				t.Fatal(err)
			}
			if len(want) != len(got) {
				t.Fatalf("reference has %d bytes, want %d", len(want), len(got))
			}
			var sum, worst float64
			worstAt := 0
			for i := 0; i < len(got); i += 3 {
				d := deltaE2000(srgbToLab(got[i:i+3]), srgbToLab(want[i:i+3]))
				sum += d
				if d > worst {
					worst, worstAt = d, i/3
				}
			}
			mean := sum / float64(len(got)/3)
			t.Logf("%s: %d colours: mean ΔE2000 %.3f, max %.3f (at input %v: got %v, LittleCMS %v)", c.name, len(got)/3, mean, worst,
				c.px[worstAt*n:worstAt*n+n], got[worstAt*3:worstAt*3+3], want[worstAt*3:worstAt*3+3])
			if mean > 1 || worst > 3 {
				t.Errorf("mean ΔE2000 %.3f, max %.3f; want ≤ 1 and ≤ 3", mean, worst)
			}
		})
	}
}

func TestDeltaE2000(t *testing.T) {
	// Pairs and expected values from Sharma, Wu and Dalal's test data.
	tests := []struct {
		a, b [3]float64
		want float64
	}{
		{[3]float64{50, 2.6772, -79.7751}, [3]float64{50, 0, -82.7485}, 2.0425},
		{[3]float64{50, 2.5, 0}, [3]float64{73, 25, -18}, 27.1492},
		{[3]float64{50, 2.5, 0}, [3]float64{50, 0, -2.5}, 4.3065},
		{[3]float64{2.0776, 0.0795, -1.1350}, [3]float64{0.9033, -0.0636, -0.5514}, 0.9082},
	}
	for _, tt := range tests {
		if got := deltaE2000(tt.a, tt.b); math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("deltaE2000(%v, %v) = %.4f, want %.4f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSRGBToD50(t *testing.T) {
	// The colorants of ImageCms.createProfile("sRGB"), LittleCMS 2.14.
	want := [9]float64{0.43604125, 0.38511291, 0.14304584, 0.22248454, 0.71690508, 0.06061038, 0.01392019, 0.09706724, 0.71391257}
	got := srgbToD50()
	for i := range got {
		if math.Abs(got[i]-want[i]) > 2e-4 {
			t.Fatalf("srgbToD50() = %v, want %v", got, want)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	good := displayP3()
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "shorter than a header"},
		{"size past end", append([]byte{0xff, 0xff, 0xff, 0xff}, good[4:]...), "header size"},
		{"no acsp", func() []byte { b := clone(good); copy(b[36:], "xxxx"); return b }(), "acsp"},
		{"tag count", func() []byte { b := clone(good); copy(b[128:], be32(1<<30)); return b }(), "tag count"},
		{"tag offset", func() []byte { b := clone(good); copy(b[136:], be32(1<<31)); return b }(), "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.b)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error %v, want ErrInvalid about %q", err, tt.want)
			}
		})
	}
}

func TestProfile_ToSRGBErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"Lab data", buildICC(0x04200000, "spac", SpaceLab, SpaceLab, nil), ErrUnsupported},
		{"RGB without tags", buildICC(0x04200000, "mntr", SpaceRGB, SpaceXYZ, nil), ErrUnsupported},
		{"bad TRC", buildICC(0x04200000, "mntr", SpaceGray, SpaceXYZ, []testTag{{"kTRC", []byte("curv\x00\x00\x00\x00\x00\x00\xff\xff")}}), ErrInvalid},
		{"CLUT truncated", func() []byte {
			b := mabRGBXYZ()
			return b[:len(b)-100]
		}(), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			if tt.name == "CLUT truncated" {
				copy(b[0:], be32(uint32(len(b)))) // keep the header honest
			}
			p, err := Parse(b)
			if err == nil {
				_, err = p.ToSRGB()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCurve_Para(t *testing.T) {
	srgb := &curve{ptype: 4, p: [7]float64{2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045, 0, 0}}
	tests := []struct {
		c    *curve
		x    float64
		want float64
	}{
		{&curve{ptype: 0, p: [7]float64{2}}, 0.5, 0.25},
		{&curve{ptype: 1, p: [7]float64{1, 2, -1}}, 0.25, 0},
		{&curve{ptype: 1, p: [7]float64{1, 2, -1}}, 0.75, 0.5},
		{&curve{ptype: 2, p: [7]float64{1, 2, -1, 0.1}}, 0.25, 0.1},
		{&curve{ptype: 3, p: [7]float64{1, 1, 0, 0.5, 0.5}}, 0.25, 0.125},
		{srgb, 0.5, 0.21404114048223255},
		{srgb, 0.02, 0.02 / 12.92},
		{&curve{table: []float64{0, 0.5, 1}}, 0.25, 0.25},
		{&curve{table: []float64{0, 0.5, 1}}, 2, 1},
		{identityCurve(), 0.3, 0.3},
	}
	for _, tt := range tests {
		if got := tt.c.eval(tt.x); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("curve %+v at %v = %v, want %v", tt.c, tt.x, got, tt.want)
		}
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// seedProfiles are generated profiles plus small system ones, when present.
func seedProfiles() [][]byte {
	seeds := [][]byte{displayP3(), mabRGBLab(), mabRGBXYZ(), mft1RGBLab(), mft2RGBXYZ(), mabCMYKLab(),
		grayProfile(0x02100000, tagCurvGamma(2.2))}
	for _, f := range []string{"compatibleWithAdobeRGB1998.icc", "Gray-CIE_L.icc", "ghostscript/ps_cmyk.icc"} {
		if b, err := os.ReadFile(filepath.Join(iccDir, f)); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, b := range seedProfiles() {
		f.Add(b)
	}
	f.Add(GenericPress())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		_ = p.Description()
		checkErr := p.Check()
		tr, err := p.ToSRGB()
		if (err == nil) != (checkErr == nil) {
			t.Fatalf("Check says %v, ToSRGB %v", checkErr, err)
		}
		if err != nil {
			return
		}
		_ = tr.IsSRGB()
		n := tr.Channels()
		src := []byte{0, 0, 0, 0, 255, 255, 255, 255, 17, 130, 250, 3}
		dst := make([]byte, len(src)/n*3)
		if err := tr.Apply(dst, 3, src, n); err != nil {
			t.Fatal(err)
		}
	})
}
