package jpegscale

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The arithmetic-coded tests make their inputs with libjpeg-turbo's tools:
// `jpegtran -arithmetic` re-codes a Huffman-coded JPEG losslessly, so the
// result holds the very same DCT coefficients and must decode to the very
// same bytes at every scale.

const jpegToolsPkg = "libjpeg-turbo-progs"

// needTool skips the test when a libjpeg-turbo tool is not installed.
func needTool(tb testing.TB, name string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		tb.Skipf("%s not found: install the Debian package %s (apt-get install %s)", name, jpegToolsPkg, jpegToolsPkg)
	}
}

// runTool runs a libjpeg-turbo tool with stdin and returns its output.
func runTool(tb testing.TB, stdin []byte, name string, args ...string) []byte {
	tb.Helper()
	needTool(tb, name)
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out.Bytes()
}

// ppm returns genRGBA's image as a binary PPM for cjpeg.
func ppm(w, h int, seed uint64) []byte {
	m := genRGBA(w, h, seed)
	var b bytes.Buffer
	fmt.Fprintf(&b, "P6\n%d %d\n255\n", w, h)
	for i := 0; i < len(m.Pix); i += 4 {
		b.Write(m.Pix[i : i+3])
	}
	return b.Bytes()
}

// sameImage reports how the images differ, or "" when they do not. With
// full, the planes must be byte-identical including their MCU padding;
// otherwise only the samples of the image are compared (a progressive
// decode leaves the padding blocks of interleaved scans blank, a sequential
// one shows what was coded there).
func sameImage(a, b image.Image, full bool) string {
	if a.Bounds() != b.Bounds() {
		return fmt.Sprintf("bounds %v vs %v", a.Bounds(), b.Bounds())
	}
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return fmt.Sprintf("type %T vs %T", a, b)
	}
	if !full {
		pa, pb := planes(nil, a), planes(nil, b)
		for i := range pa {
			for y := 0; y < pa[i].h; y++ {
				for x := 0; x < pa[i].w; x++ {
					if pa[i].at(x, y) != pb[i].at(x, y) {
						return fmt.Sprintf("%s differs at (%d, %d)", pa[i].name, x, y)
					}
				}
			}
		}
		if ya, ok := a.(*image.YCbCr); ok && ya.SubsampleRatio != b.(*image.YCbCr).SubsampleRatio {
			return "subsampling differs"
		}
		return ""
	}
	switch a := a.(type) {
	case *image.Gray:
		if b, ok := b.(*image.Gray); !ok || a.Stride != b.Stride || !bytes.Equal(a.Pix, b.Pix) {
			return "gray pixels differ"
		}
	case *image.YCbCr:
		b, ok := b.(*image.YCbCr)
		if !ok || a.SubsampleRatio != b.SubsampleRatio || a.YStride != b.YStride || a.CStride != b.CStride {
			return "YCbCr layout differs"
		}
		for i, p := range [][2][]byte{{a.Y, b.Y}, {a.Cb, b.Cb}, {a.Cr, b.Cr}} {
			if !bytes.Equal(p[0], p[1]) {
				return fmt.Sprintf("%s plane differs", []string{"Y", "Cb", "Cr"}[i])
			}
		}
	case *image.CMYK:
		if b, ok := b.(*image.CMYK); !ok || a.Stride != b.Stride || !bytes.Equal(a.Pix, b.Pix) {
			return "CMYK pixels differ"
		}
	default:
		return fmt.Sprintf("unexpected type %T", a)
	}
	return ""
}

// checkSameDecode decodes the Huffman-coded huff and its arithmetic-coded
// transcode arith at each scale and requires identical results.
func checkSameDecode(t *testing.T, name string, huff, arith []byte, denoms ...int) {
	t.Helper()
	if len(denoms) == 0 {
		denoms = []int{1, 2, 4, 8}
	}
	for _, denom := range denoms {
		want, err := Decode(huff, denom)
		if err != nil {
			t.Fatalf("%s 1/%d: Huffman source: %v", name, denom, err)
		}
		got, err := Decode(arith, denom)
		if err != nil {
			t.Errorf("%s 1/%d: %v", name, denom, err)
			continue
		}
		if diff := sameImage(got, want, Probe(huff).Progressive == Probe(arith).Progressive); diff != "" {
			t.Errorf("%s 1/%d: arithmetic decode differs from the Huffman one: %s", name, denom, diff)
		}
	}
}

// isArith reports whether data has an SOF9 or SOF10 marker.
func isArith(data []byte) bool {
	return findMarker(data, sof9) >= 0 || findMarker(data, sof10) >= 0
}

// arithCase is a Huffman-coded source and the jpegtran options that make its
// arithmetic-coded twin.
type arithCase struct {
	name string
	huff []byte
	opts []string
}

// arithCases builds the sources: greyscale, 4:2:0, 4:2:2 and 4:4:4 colour
// from cjpeg, CMYK and YCCK from the committed fixtures (made with
// ImageMagick), each re-coded as sequential and progressive arithmetic, with
// and without restart intervals.
func arithCases(t *testing.T) []arithCase {
	needTool(t, "cjpeg")
	needTool(t, "jpegtran")
	type src struct {
		name string
		data []byte
	}
	var srcs []src
	for i, sz := range [][2]int{{37, 23}, {100, 75}, {8, 8}, {1, 1}} {
		p := ppm(sz[0], sz[1], uint64(i))
		for _, o := range []struct {
			name string
			args []string
		}{
			{"gray", []string{"-grayscale"}},
			{"420", []string{"-sample", "2x2"}},
			{"422", []string{"-sample", "2x1"}},
			{"444", []string{"-sample", "1x1"}},
		} {
			if sz[0] < 37 && o.name != "420" && o.name != "gray" {
				continue
			}
			args := append([]string{"-quality", "85"}, o.args...)
			srcs = append(srcs, src{fmt.Sprintf("%s-%dx%d", o.name, sz[0], sz[1]), runTool(t, p, "cjpeg", args...)})
		}
	}
	// A progressive source with successive approximation and refinement
	// scans, and an optimised sequential one (other Huffman tables, same
	// coefficients as ever).
	p := ppm(100, 75, 7)
	srcs = append(srcs, src{"prog-420-100x75", runTool(t, p, "cjpeg", "-quality", "90", "-progressive", "-sample", "2x2")})
	for _, f := range []string{"cmyk-64x48.jpg", "cmyk-2x2-37x23.jpg", "ycck-2x2-37x23.jpg"} {
		srcs = append(srcs, src{f, fixture(t, f)})
	}
	var cases []arithCase
	for _, s := range srcs {
		for _, opts := range [][]string{
			{"-arithmetic"},
			{"-arithmetic", "-restart", "1B"},
			{"-arithmetic", "-restart", "1"},
			{"-arithmetic", "-progressive"},
			{"-arithmetic", "-progressive", "-restart", "1B"},
		} {
			cases = append(cases, arithCase{s.name + " " + strings.Join(opts, " "), s.data, opts})
		}
	}
	return cases
}

// TestArith checks that arithmetic-coded files, sequential and progressive,
// decode exactly like their Huffman-coded sources at every scale, and that
// Probe takes them and Cost bounds Decode's allocations.
func TestArith(t *testing.T) {
	for _, c := range arithCases(t) {
		arith := runTool(t, c.huff, "jpegtran", c.opts...)
		if !isArith(arith) {
			t.Fatalf("%s: jpegtran made no arithmetic-coded file", c.name)
		}
		checkSameDecode(t, c.name, c.huff, arith)
		h := Probe(arith)
		if h.Err != nil {
			t.Errorf("%s: Probe: %v", c.name, h.Err)
		}
		if !raceEnabled {
			checkCost(t, c.name, arith)
		}
	}
}

// TestArithCjpeg checks files that cjpeg codes arithmetically itself against
// the Huffman-coded files it makes from the same image: the DCT and the
// quantisation are the same, so are the coefficients.
func TestArithCjpeg(t *testing.T) {
	p := ppm(129, 67, 3)
	for _, args := range [][]string{
		{"-grayscale"},
		{"-sample", "2x2"},
		{"-sample", "1x1", "-restart", "1B"},
		{"-sample", "2x2", "-progressive"},
		{"-sample", "2x1", "-progressive", "-restart", "2"},
	} {
		name := strings.Join(args, " ")
		huff := runTool(t, p, "cjpeg", append([]string{"-quality", "80"}, args...)...)
		arith := runTool(t, p, "cjpeg", append([]string{"-quality", "80", "-arithmetic"}, args...)...)
		if !isArith(arith) {
			t.Fatalf("%s: cjpeg made no arithmetic-coded file", name)
		}
		checkSameDecode(t, name, huff, arith)
	}
}

// TestArithFixtures checks the committed arithmetic-coded fixtures (see
// testdata/gen.sh), which need no tools: NAME.jt-arith*.jpg is a jpegtran
// transcode of NAME.jpg (TestTranscodes compares them too).
func TestArithFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jt-arith*.jpg")
	if len(files) < 4 {
		t.Fatalf("found %d arithmetic-coded fixtures, want the 5 in testdata", len(files))
	}
	for _, f := range files {
		arith, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !isArith(arith) {
			t.Errorf("%s is not arithmetic-coded", f)
		}
		checkSameDecode(t, f, fixture(t, filepath.Base(f[:strings.Index(f, ".jt-")]+".jpg")), arith)
	}
}

// TestArithCorrupt checks that damaged arithmetic-coded data fails cleanly
// (or decodes garbage, as libjpeg does) without panicking.
func TestArithCorrupt(t *testing.T) {
	seq := fixture(t, "seq-rst1b-37x23.jt-arith.jpg")
	prog := fixture(t, "prog-scans-2x2-100x75.jt-arith.jpg")
	dac := findMarker(seq, 0xCC)
	if dac < 0 {
		t.Fatal("no DAC segment in the fixture")
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"bad DAC class", patch(seq, func(d []byte) []byte { d[dac+4] = 0x20; return d })},
		{"DAC L > U", patch(seq, func(d []byte) []byte { d[dac+4], d[dac+5] = 0x00, 0x1F; return d })},
		{"odd DAC length", patch(seq, func(d []byte) []byte { d[dac+3]--; return d })},
	}
	for _, c := range cases {
		for _, denom := range []int{1, 2, 4, 8} {
			_, err := Decode(c.data, denom)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("%s 1/%d: got %v, want a FormatError", c.name, denom, err)
			}
		}
	}
	// Damage that is worked around, and truncation.
	for _, c := range []struct {
		name      string
		data      []byte
		truncated bool
		warning   string
	}{
		{"wrong restart marker", patch(seq, func(d []byte) []byte {
			i := findMarker(d, rst0+1)
			d[i+1] = rst0 + 5
			return d
		}), false, "found marker 0xD5 instead of RST1"},
		{"truncated", seq[:len(seq)/2], true, ""},
		{"progressive truncated", prog[:len(prog)/2], true, ""},
		// The encoder drops trailing zero bytes, so the decoder reads
		// past the end of a complete scan too: without EOI, arithmetic-
		// coded data cannot be told from a truncated file.
		{"no EOI", prog[:len(prog)-2], true, ""},
	} {
		for _, denom := range []int{1, 2, 4, 8} {
			_, rep, err := DecodeWith(c.data, denom, Options{})
			var te *TruncatedError
			switch {
			case c.truncated && !errors.As(err, &te):
				t.Errorf("%s 1/%d: got %v, want a TruncatedError", c.name, denom, err)
			case !c.truncated && err != nil:
				t.Errorf("%s 1/%d: %v", c.name, denom, err)
			case !c.truncated && !strings.Contains(strings.Join(rep.Warnings, "; "), c.warning):
				t.Errorf("%s 1/%d: warnings %q, want %q", c.name, denom, rep.Warnings, c.warning)
			}
		}
	}
	// Garbage scan data, whatever the conditioning: no panic; a format
	// error or some image.
	for _, data := range [][]byte{seq, prog} {
		for i := 0; i < 256; i++ {
			d := append([]byte(nil), data...)
			start := findMarker(d, sos) + 20
			for j := start; j < len(d)-2; j++ {
				if d[j] != 0xFF && d[j-1] != 0xFF {
					d[j] = byte(j*i + i>>3)
					if d[j] == 0xFF {
						d[j] = 0xFE
					}
				}
			}
			if i&1 == 1 {
				d[dac+5] = byte(i) // other conditioning
			}
			for _, denom := range []int{1, 8} {
				if _, err := Decode(d, denom); err != nil {
					var fe *FormatError
					var te *TruncatedError
					if !errors.As(err, &fe) && !errors.As(err, &te) {
						t.Fatalf("garbage %d 1/%d: %v, want a FormatError", i, denom, err)
					}
				}
			}
		}
	}
}

// TestArithCorpus re-codes each corpus JPEG with `jpegtran -arithmetic`
// (sequential) and the smaller ones also with -progressive, and checks that
// they decode as their sources at 1/1 and 1/8.
func TestArithCorpus(t *testing.T) {
	files := corpusFiles(t)
	if testing.Short() || raceEnabled {
		t.Skip("the corpus comparison is slow under -short and -race; scripts/check.sh runs it in a plain go test")
	}
	needTool(t, "jpegtran")
	for _, f := range files {
		huff, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		opts := [][]string{{"-arithmetic"}}
		if len(huff) < 2<<20 {
			opts = append(opts, []string{"-arithmetic", "-progressive"})
		}
		for _, o := range opts {
			arith := runTool(t, huff, "jpegtran", o...)
			t.Run(filepath.Base(f)+strings.Join(o, ""), func(t *testing.T) {
				for _, denom := range []int{1, 8} {
					t0 := time.Now()
					want, err := Decode(huff, denom)
					th := time.Since(t0)
					if err != nil {
						t.Fatalf("1/%d: Huffman source: %v", denom, err)
					}
					t0 = time.Now()
					got, err := Decode(arith, denom)
					ta := time.Since(t0)
					if err != nil {
						t.Fatalf("1/%d: %v", denom, err)
					}
					if diff := sameImage(got, want, Probe(huff).Progressive == Probe(arith).Progressive); diff != "" {
						t.Errorf("1/%d: arithmetic decode differs from the Huffman one: %s", denom, diff)
					}
					t.Logf("1/%d: %d bytes Huffman %v, %d bytes arithmetic %v", denom, len(huff), th.Round(time.Millisecond), len(arith), ta.Round(time.Millisecond))
				}
			})
		}
	}
}

// BenchmarkDecodeArith decodes the arithmetic-coded transcode of each corpus
// JPEG at 1/1 and 1/8 (compare with BenchmarkDecode's Huffman figures).
func BenchmarkDecodeArith(b *testing.B) {
	files := corpusFiles(b)
	needTool(b, "jpegtran")
	for _, f := range files {
		huff, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		data := runTool(b, huff, "jpegtran", "-arithmetic")
		b.Run(filepath.Base(f), func(b *testing.B) {
			for _, denom := range []int{1, 8} {
				b.Run(fmt.Sprint(denom), func(b *testing.B) {
					b.SetBytes(int64(len(data)))
					for b.Loop() {
						if _, err := Decode(data, denom); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// TestArithScanLimit checks that an arithmetic-coded progressive file with
// more than maxArithScans scans is refused, by Probe and Decode alike.
func TestArithScanLimit(t *testing.T) {
	data := fixture(t, "seq-1x1-64x48.jt-arith-prog.jpg")
	start := findMarker(data, sos)
	end := skipEntropy(data, start+2+int(data[start+2])<<8+int(data[start+3]))
	for _, n := range []int{maxArithScans, maxArithScans + 1} {
		// The first scan (DC, all components) n times over.
		d := append([]byte(nil), data[:start]...)
		for range n {
			d = append(d, data[start:end]...)
		}
		d = append(d, 0xFF, eoi)
		h := Probe(d)
		_, err := Decode(d, 1)
		if n <= maxArithScans && (h.Err != nil || err != nil) {
			t.Errorf("%d scans: Probe %v, Decode %v; want both nil", n, h.Err, err)
		}
		if n > maxArithScans && (!errors.Is(h.Err, ErrUnsupported) || !errors.Is(err, ErrUnsupported)) {
			t.Errorf("%d scans: Probe %v, Decode %v; want ErrUnsupported", n, h.Err, err)
		}
	}
}
