package heif

import (
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/image/draw"
)

const bigPhoto = "../../../../shared/corpus/art-elephants-5640x3172-progressive.jpg"

// costInput is a file to decode for a cost measurement.
type costInput struct {
	name string
	w, h int
	path string
}

// costInputs encodes photo crops of the given sizes in several layouts.
// Files already in dir are reused.
func costInputs(t testing.TB, dir string, sizes []image.Point) []costInput {
	t.Helper()
	needTool(t, "heif-enc", pkgHeifTool)
	needTool(t, "avifenc", pkgAvifTool)
	f, err := os.Open(bigPhoto)
	if err != nil {
		t.Skipf("corpus photo missing: %v", err)
	}
	src, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var ins []costInput
	for _, sz := range sizes {
		base := fmt.Sprintf("%dx%d", sz.X, sz.Y)
		png := filepath.Join(dir, base+".png")
		pngA := filepath.Join(dir, base+"-alpha.png")
		deep := filepath.Join(dir, base+"-deep.png")
		if _, err := os.Stat(deep); err != nil {
			img := image.NewNRGBA(image.Rect(0, 0, sz.X, sz.Y))
			// Crop the middle at full resolution when it fits, else scale.
			sb := src.Bounds()
			if sz.X <= sb.Dx() && sz.Y <= sb.Dy() {
				off := image.Pt((sb.Dx()-sz.X)/2, (sb.Dy()-sz.Y)/2)
				draw.Draw(img, img.Rect, src, sb.Min.Add(off), draw.Src)
			} else {
				draw.ApproxBiLinear.Scale(img, img.Rect, src, sb, draw.Src, nil)
			}
			writePNG(t, dir, base+".png", img, nil, false)
			a := pattern(sz.X, sz.Y, true)
			for i := 0; i < len(img.Pix); i += 4 {
				img.Pix[i+3] = a.Pix[i+3]
			}
			writePNG(t, dir, base+"-alpha.png", img, nil, false)
			writePNG(t, dir, base+"-deep.png", img, nil, true)
		}
		add := func(name string, enc string, args ...string) {
			p := filepath.Join(dir, base+"-"+name)
			if _, err := os.Stat(p); err != nil {
				if enc == "heif-enc" {
					run(t, enc, append(args, "-o", p)...)
				} else {
					run(t, enc, append(args, p)...)
				}
			}
			ins = append(ins, costInput{name, sz.X, sz.Y, p})
		}
		ultrafast := []string{"-q", "75", "-p", "preset=ultrafast"}
		add("8bit.heic", "heif-enc", append(ultrafast, png)...)
		add("10bit-alpha.heic", "heif-enc", append(ultrafast, "-b", "10", deep)...)
		add("alpha.heic", "heif-enc", append(ultrafast, pngA)...)
		add("10bit-444-alpha.heic", "heif-enc", append(ultrafast, "-b", "10", "-p", "chroma=444", deep)...)
		fast := []string{"-j", "2", "-s", "9", "--min", "10", "--max", "40"}
		add("8bit.avif", "avifenc", append(fast, "-y", "420", png)...)
		add("10bit.avif", "avifenc", append(fast, "-y", "420", "-d", "10", png)...)
		add("12bit-444-alpha.avif", "avifenc", append(fast, "-y", "444", "-d", "12", deep)...)
		add("8bit-444-alpha.avif", "avifenc", append(fast, "-y", "444", pngA)...)
		add("alpha.avif", "avifenc", append(fast, "-y", "420", pngA)...)
		add("irot1.avif", "avifenc", append(fast, "-y", "420", "--irot", "1", png)...)
		if sz.X%4 == 0 && sz.Y%4 == 0 {
			add("grid.avif", "avifenc", append(fast, "-y", "420", "-g", "2x2", png)...)
		}
	}
	return ins
}

// TestDecodeCost_bounds decodes photos of a few sizes and layouts and checks
// that DecodeCost bounds the native memory each decode used.
func TestDecodeCost_bounds(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("encodes photos and measures RSS: not with -short or -race")
	}
	l := testLib(t)
	sizes := []image.Point{{640, 480}, {1280, 856}}
	if os.Getenv("HEIF_MEASURE") != "" {
		// The 12 MP figures of the package documentation.
		sizes = append(sizes, image.Pt(2048, 1536), image.Pt(4032, 3024))
	}
	dir := os.Getenv("HEIF_MEASURE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, in := range costInputs(t, dir, sizes) {
		data := readFile(t, in.path)
		// Decode less the copy to the Go heap, which the service counts
		// apart.
		var d *decoded
		var err error
		native, threads := measure(t, func() { d, err = l.decode(data, 0) })
		if err != nil {
			t.Fatalf("%s: %v", in.path, err)
		}
		d.free()
		var times []time.Duration
		for range 3 {
			start := time.Now()
			if _, _, err := l.Decode(data, 0); err != nil {
				t.Fatal(err)
			}
			times = append(times, time.Since(start))
		}
		hd, err := l.Probe(data)
		if err != nil {
			t.Fatal(err)
		}
		cost := DecodeCost(hd, len(data))
		px := float64(in.w * in.h)
		t.Logf("%4dx%-4d %-22s %8d bytes  decode %6.1f ms  native %6.1f MiB (%.1f B/px)  cost %6.1f MiB  threads +%d",
			in.w, in.h, in.name, len(data), float64(slices.Min(times).Microseconds())/1000,
			float64(native)/(1<<20), float64(native)/px, float64(cost)/(1<<20), threads)
		if native > cost {
			t.Errorf("%dx%d %s: native peak %d bytes over DecodeCost %d", in.w, in.h, in.name, native, cost)
		}
	}
}

// TestEncodeCost_bounds encodes photos of a few sizes with and without
// alpha and checks that EncodeCost bounds the native memory used.
func TestEncodeCost_bounds(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("encodes photos and measures RSS: not with -short or -race")
	}
	l := testLib(t)
	sizes := []image.Point{{640, 480}, {1280, 856}}
	if os.Getenv("HEIF_MEASURE") != "" {
		sizes = append(sizes, image.Pt(2048, 1536), image.Pt(4032, 3024))
	}
	f, err := os.Open(bigPhoto)
	if err != nil {
		t.Skipf("corpus photo missing: %v", err)
	}
	src, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, sz := range sizes {
		img := image.NewNRGBA(image.Rect(0, 0, sz.X, sz.Y))
		draw.ApproxBiLinear.Scale(img, img.Rect, src, src.Bounds(), draw.Src, nil)
		imgA := image.NewNRGBA(img.Rect)
		copy(imgA.Pix, img.Pix)
		a := pattern(sz.X, sz.Y, true)
		for i := 3; i < len(imgA.Pix); i += 4 {
			imgA.Pix[i] = a.Pix[i]
		}
		for _, tt := range []struct {
			name string
			img  *image.NRGBA
			opt  EncodeOptions
		}{
			{"q60 s9", img, EncodeOptions{Quality: 60, Speed: 9}},
			{"q60 s6", img, EncodeOptions{Quality: 60, Speed: 6}},
			{"q60 s9 alpha", imgA, EncodeOptions{Quality: 60, Speed: 9}},
			{"q60 s6 alpha 444", imgA, EncodeOptions{Quality: 60, Speed: 6, Chroma444: true}},
			{"q90 s9 alpha 444", imgA, EncodeOptions{Quality: 90, Speed: 9, Chroma444: true}},
		} {
			var out []byte
			start := time.Now()
			native, threads := measure(t, func() { out, err = l.EncodeAVIF(tt.img, tt.opt) })
			d := time.Since(start)
			if err != nil {
				t.Fatalf("%v %s: %v", sz, tt.name, err)
			}
			cost := EncodeCost(sz.X, sz.Y, tt.opt)
			t.Logf("%4dx%-4d %-18s %8d bytes  encode %6.2f s  native %6.1f MiB (%.1f B/px)  cost %6.1f MiB  threads +%d",
				sz.X, sz.Y, tt.name, len(out), d.Seconds(), float64(native)/(1<<20), float64(native)/float64(sz.X*sz.Y),
				float64(cost)/(1<<20), threads)
			if native > cost {
				t.Errorf("%v %s: native peak %d bytes over EncodeCost %d", sz, tt.name, native, cost)
			}
		}
	}
}
