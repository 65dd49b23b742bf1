package jpegscale

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegenc"
)

// coefPlanes runs the 8×8 IDCT over a frame's dequantised coefficients,
// giving each component's MCU-padded plane and its stride.
func coefPlanes(f *CoefFrame) (pix [][]byte, stride []int) {
	for _, c := range f.Components {
		st := c.BlocksW * 8
		p := make([]byte, st*c.BlocksH*8)
		var blk, ws [64]int32
		for by := 0; by < c.BlocksH; by++ {
			for bx := 0; bx < c.BlocksW; bx++ {
				b := c.Coeffs[(by*c.BlocksW+bx)*64:][:64]
				for i, v := range b {
					blk[i] = int32(v) * int32(c.Quant[i])
				}
				idct8(&blk, &ws, p[by*8*st+bx*8:], st)
			}
		}
		pix, stride = append(pix, p), append(stride, st)
	}
	return pix, stride
}

// checkCoefDecode asserts that the IDCT of Coefficients' output is exactly
// what Decode returns at full size, over the image's samples.
func checkCoefDecode(t *testing.T, name string, data []byte) {
	t.Helper()
	f, err := Coefficients(data, nil)
	if err != nil {
		t.Errorf("%s: Coefficients: %v", name, err)
		return
	}
	img, err := Decode(data, 1)
	if err != nil {
		t.Fatalf("%s: Decode: %v", name, err)
	}
	b := img.Bounds()
	if f.Width != b.Dx() || f.Height != b.Dy() {
		t.Fatalf("%s: frame %dx%d, image %v", name, f.Width, f.Height, b)
	}
	pix, stride := coefPlanes(f)
	ps := planes(t, img)
	if len(ps) != len(pix) {
		t.Fatalf("%s: %d components, image has %d planes", name, len(pix), len(ps))
	}
	for i, p := range ps {
		bad := 0
		for y := 0; y < p.h; y++ {
			for x := 0; x < p.w; x++ {
				if got, want := int(pix[i][y*stride[i]+x]), p.at(x, y); got != want && bad < 3 {
					t.Errorf("%s: plane %s (%d,%d) = %d from the coefficients, Decode says %d", name, p.name, x, y, got, want)
					bad++
				}
			}
		}
	}
}

// TestCoefficientsFixtures checks Coefficients on every committed fixture:
// the supported ones give exactly Decode's pixels once inverse-transformed
// (baseline, progressive, arithmetic, restart intervals, every sampling,
// sizes that are not whole MCUs); CMYK, YCCK, RGB-coded and 16-bit-table
// files are refused as unsupported.
func TestCoefficientsFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.jpg")
	if err != nil || len(files) < 20 {
		t.Fatalf("fixtures: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		switch {
		case strings.HasPrefix(name, "cmyk") || strings.HasPrefix(name, "ycck") ||
			strings.HasPrefix(name, "unsupported") || strings.Contains(name, "16bit"):
			if _, err := Coefficients(data, nil); !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: Coefficients error %v, want ErrUnsupported", name, err)
			}
		default:
			checkCoefDecode(t, name, data)
		}
	}
}

// TestCoefficientsGenerated covers the layouts of the transcode tests with
// image/jpeg's and (when present) cjpeg's output.
func TestCoefficientsGenerated(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {37, 23}, {64, 48}, {130, 67}} {
		m := genRGBA(sz[0], sz[1], 3)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 80}); err != nil {
			t.Fatal(err)
		}
		checkCoefDecode(t, "image/jpeg 4:2:0", buf.Bytes())
		buf.Reset()
		g := image.NewGray(m.Bounds())
		for i := range g.Pix {
			g.Pix[i] = m.Pix[4*i+1]
		}
		if err := jpeg.Encode(&buf, g, &jpeg.Options{Quality: 80}); err != nil {
			t.Fatal(err)
		}
		checkCoefDecode(t, "image/jpeg grey", buf.Bytes())
	}
}

// TestCoefficientsDamaged checks that truncated and damaged files are
// refused, so the caller decodes pixels with its damage handling.
func TestCoefficientsDamaged(t *testing.T) {
	data := fixture(t, "seq-rst1b-37x23.jpg")
	if _, err := Coefficients(data[:len(data)/2], nil); err == nil {
		t.Error("a truncated file: no error")
	}
	// Junk inside the entropy-coded data of an interval: DecodeWith warns.
	bad := bytes.Clone(data)
	sos := findMarker(bad, sos)
	for i := sos + 20; i < sos+40; i++ {
		if bad[i] != 0xFF && bad[i-1] != 0xFF {
			bad[i] = 0x5A
		}
	}
	if _, rep, err := DecodeWith(bad, 1, Options{}); err == nil && len(rep.Warnings) > 0 {
		if _, err := Coefficients(bad, nil); !errors.Is(err, ErrDamaged) {
			t.Errorf("damaged file (%q): Coefficients error %v, want ErrDamaged", rep.Warnings[0], err)
		}
	} else {
		t.Fatalf("the damaged file should decode with warnings: %v %v", rep.Warnings, err)
	}
	if _, err := Coefficients(fixture(t, "cmyk-64x48.jpg"), nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CMYK: %v, want ErrUnsupported", err)
	}
}

// dqtTables parses the quantisation tables of a JPEG (natural order).
func dqtTables(t *testing.T, data []byte) map[int][64]uint16 {
	t.Helper()
	tabs := map[int][64]uint16{}
	for p := 2; p+4 <= len(data) && data[p] == 0xFF && data[p+1] != sos; {
		n := int(data[p+2])<<8 | int(data[p+3])
		if data[p+1] == dqt {
			s := data[p+4 : p+2+n]
			for len(s) >= 65 && s[0]>>4 == 0 {
				var q [64]uint16
				for k := range 64 {
					q[zigzag[k]] = uint16(s[1+k])
				}
				tabs[int(s[0]&15)] = q
				s = s[65:]
			}
		}
		p += 2 + n
	}
	return tabs
}

// TestQualityTables checks the tables the transcode requantises to against
// those image/jpeg and cjpeg write (both scale Annex K as libjpeg's
// jpeg_set_quality does), so that quality means what it means to them.
func TestQualityTables(t *testing.T) {
	m := genRGBA(16, 16, 1)
	for _, q := range []int{1, 10, 25, 49, 50, 51, 75, 85, 90, 97, 100} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		l, c := jpegenc.QuantTable(q, false), jpegenc.QuantTable(q, true)
		tabs := dqtTables(t, buf.Bytes())
		if tabs[0] != l || tabs[1] != c {
			t.Errorf("quality %d: tables\n%v\n%v\nimage/jpeg wrote\n%v\n%v", q, l, c, tabs[0], tabs[1])
		}
	}
	p := ppm(16, 16, 1)
	for _, q := range []int{5, 50, 85, 95} {
		out := runTool(t, p, "cjpeg", "-quality", strconv.Itoa(q), "-baseline") // as libvips forces
		l, c := jpegenc.QuantTable(q, false), jpegenc.QuantTable(q, true)
		if tabs := dqtTables(t, out); tabs[0] != l || tabs[1] != c {
			t.Errorf("quality %d: cjpeg wrote other tables: %v %v", q, tabs[0], tabs[1])
		}
	}
}

// TestRequantise checks the arithmetic: the target's coarser entries
// divide with rounding, finer ones keep the source's, and a target equal to
// the source changes nothing.
func TestRequantise(t *testing.T) {
	data := fixture(t, "seq-2x2-64x48.jpg")
	src, err := Coefficients(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	same, err := Coefficients(data, func(i int) *[64]uint16 { q := src.Components[i].Quant; return &q })
	if err != nil {
		t.Fatal(err)
	}
	for i := range src.Components {
		if !equalInt16(src.Components[i].Coeffs, same.Components[i].Coeffs) || src.Components[i].Quant != same.Components[i].Quant {
			t.Errorf("component %d: requantising to its own table changed it", i)
		}
	}
	var target [64]uint16
	for i := range target {
		target[i] = 1 // finer than anything: nothing changes
	}
	target[0], target[1] = 3*src.Components[0].Quant[0], 255
	got, err := Coefficients(data, func(i int) *[64]uint16 {
		if i == 0 {
			return &target
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c0, g0 := src.Components[0], got.Components[0]
	if g0.Quant[0] != target[0] || g0.Quant[1] != 255 || g0.Quant[2] != c0.Quant[2] {
		t.Fatalf("table %v, want entries 0, 1 from the target and the rest from %v", g0.Quant, c0.Quant)
	}
	round := func(c, qs, qt int) int16 {
		n := 2 * c * qs
		if n < 0 {
			return -int16((-n + qt) / (2 * qt))
		}
		return int16((n + qt) / (2 * qt))
	}
	changed := 0
	for b := 0; b < len(c0.Coeffs); b += 64 {
		for k := range 64 {
			want := c0.Coeffs[b+k]
			if k < 2 {
				want = round(int(want), int(c0.Quant[k]), int(g0.Quant[k]))
			}
			if g0.Coeffs[b+k] != want {
				t.Fatalf("block %d coefficient %d: %d (from %d), want %d", b/64, k, g0.Coeffs[b+k], c0.Coeffs[b+k], want)
			}
			if k < 2 && want != c0.Coeffs[b+k] {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("no coefficient changed: the test proves nothing")
	}
	if !equalInt16(src.Components[1].Coeffs, got.Components[1].Coeffs) {
		t.Error("component 1 changed with a nil target")
	}
}

func equalInt16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkCoefficients entropy-decodes each corpus JPEG and requantises it
// to quality 85.
func BenchmarkCoefficients(b *testing.B) {
	l, c := jpegenc.QuantTable(85, false), jpegenc.QuantTable(85, true)
	target := func(i int) *[64]uint16 {
		if i == 0 {
			return &l
		}
		return &c
	}
	for _, f := range corpusFiles(b) {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Coefficients(data, target); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRequantiseRounding checks the reciprocal division against exact
// rounding for every coefficient of 8-bit JPEG and a spread of tables.
func TestRequantiseRounding(t *testing.T) {
	for _, qs := range []int32{1, 2, 3, 7, 16, 50, 99, 128, 254, 255} {
		for q := qs; q <= 255; q++ {
			c := CoefComponent{Coeffs: make([]int16, 4096)}
			for i := range c.Coeffs {
				c.Coeffs[i] = int16(i - 2048)
			}
			var src [64]int32
			var target [64]uint16
			for k := range src {
				src[k], target[k] = qs, uint16(q)
			}
			d := &decoder{nComp: 1, coefTarget: func(int) *[64]uint16 { return &target }}
			if err := d.latchRequant(&d.comp[0], &src); err != nil {
				t.Fatal(err)
			}
			d.comp[0].rq.blocks(c.Coeffs, &zigzag)
			for i, got := range c.Coeffs {
				blk, k := i/64, i%64 // natural position k holds zig-zag entry unzig(k)
				var zk int
				for zk = 0; zigzag[zk] != uint8(k); zk++ {
				}
				x := int64(blk*64+zk) - 2048
				n, d := 2*abs64(x)*int64(qs)+int64(q), 2*int64(q)
				want := n / d
				if x < 0 {
					want = -want
				}
				if int64(got) != want {
					t.Fatalf("qs %d, q %d: %d became %d, want %d", qs, q, x, got, want)
				}
			}
		}
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
