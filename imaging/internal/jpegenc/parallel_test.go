package jpegenc

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os/exec"
	"testing"
)

// countRST counts the restart markers in a file.
func countRST(b []byte) int {
	n := 0
	for i := 0; i+1 < len(b); i++ {
		if b[i] == 0xFF && b[i+1] >= 0xD0 && b[i+1] <= 0xD7 {
			n++
		}
	}
	return n
}

func stdDecode(t *testing.T, name string, b []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: image/jpeg: %v", name, err)
	}
	return m
}

// TestWriteCoefficients_procs checks that coding in bands on several
// goroutines writes a DRI and a restart marker between bands, and decodes
// (image/jpeg, djpeg) to exactly the pixels of the serial coding.
func TestWriteCoefficients_procs(t *testing.T) {
	for _, grey := range []bool{false, true} {
		for _, sz := range [][2]int{{1, 1}, {37, 23}, {130, 67}, {300, 200}} {
			f := frameOf(testPhoto(sz[0], sz[1], 4), 85, grey)
			for _, opt := range []bool{false, true} {
				var serial bytes.Buffer
				if err := WriteCoefficients(&serial, f, Options{OptimizeHuffman: opt}); err != nil {
					t.Fatal(err)
				}
				want := stdDecode(t, "serial", serial.Bytes())
				if countRST(serial.Bytes()) != 0 {
					t.Fatalf("the serial coding has restart markers")
				}
				for _, procs := range []int{2, 3, 8} {
					var par bytes.Buffer
					if err := WriteCoefficients(&par, f, Options{OptimizeHuffman: opt, Procs: procs}); err != nil {
						t.Fatal(err)
					}
					l, _ := f.layout()
					rows := l.mcuRows(len(f.Components))
					bands := min(procs, rows)
					if rows >= 2 {
						bands = ceilDiv(rows, ceilDiv(rows, procs))
					}
					name := "parallel"
					if got := countRST(par.Bytes()); got != bands-1 {
						t.Errorf("%v grey %v procs %d: %d restart markers, want %d", sz, grey, procs, got, bands-1)
					}
					if hasDRI := bytes.Contains(par.Bytes(), []byte{0xFF, 0xDD, 0, 4}); hasDRI != (bands > 1) {
						t.Errorf("%v grey %v procs %d: DRI %v with %d bands", sz, grey, procs, hasDRI, bands)
					}
					if d := maxDiff(want, stdDecode(t, name, par.Bytes())); d != 0 {
						t.Errorf("%v grey %v optimised %v procs %d: pixels differ from the serial coding by %d",
							sz, grey, opt, procs, d)
					}
					if _, err := exec.LookPath("djpeg"); err != nil {
						continue // djpeg skips the test; image/jpeg compared
					}
					if d := maxDiff(djpeg(t, serial.Bytes()), djpeg(t, par.Bytes())); d != 0 {
						t.Errorf("%v grey %v optimised %v procs %d: djpeg: pixels differ by %d", sz, grey, opt, procs, d)
					}
				}
			}
		}
	}
}

// TestEncode_procs checks that Encode on several goroutines decodes to
// exactly the pixels of the serial encode, for every source type's
// filler, with restart markers between the bands.
func TestEncode_procs(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {37, 23}, {300, 200}, {257, 301}} {
		src := testPhoto(sz[0], sz[1], 6)
		grey := image.NewGray(src.Bounds())
		for i := range grey.Pix {
			grey.Pix[i] = src.Pix[4*i+1]
		}
		ycc := image.NewYCbCr(src.Bounds(), image.YCbCrSubsampleRatio420)
		for y := 0; y < sz[1]; y++ {
			for x := 0; x < sz[0]; x++ {
				ycc.Y[ycc.YOffset(x, y)] = src.Pix[src.PixOffset(x, y)]
				ycc.Cb[ycc.COffset(x, y)] = src.Pix[src.PixOffset(x, y)+1]
				ycc.Cr[ycc.COffset(x, y)] = src.Pix[src.PixOffset(x, y)+2]
			}
		}
		for _, img := range []image.Image{src, grey, ycc} {
			for _, o := range []EncodeOptions{
				{Quality: 85},
				{Quality: 85, OptimizeHuffman: true, Statistics: StatsSampled},
				{Quality: 90, OptimizeHuffman: true, Statistics: StatsRecompute, Subsampling: Subsample444},
				{Quality: 85, OptimizeHuffman: true, Statistics: StatsKeep},
			} {
				var serial bytes.Buffer
				if err := Encode(&serial, img, o); err != nil {
					t.Fatal(err)
				}
				want := stdDecode(t, "serial", serial.Bytes())
				for _, procs := range []int{2, 3} {
					o.Procs = procs
					var par bytes.Buffer
					if err := Encode(&par, img, o); err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("%T %v %+v", img, sz, o)
					if d := maxDiff(want, stdDecode(t, name, par.Bytes())); d != 0 {
						t.Errorf("%s: pixels differ from the serial encode by %d", name, d)
					}
					rst := countRST(par.Bytes())
					if keep := o.Statistics == StatsKeep && o.OptimizeHuffman; keep && rst != 0 || !keep && sz[1] > 32 && rst == 0 {
						t.Errorf("%s: %d restart markers", name, rst)
					}
					if !bytes.Equal(serial.Bytes(), par.Bytes()) && rst == 0 {
						t.Errorf("%s: no restart markers, yet not the serial encode", name)
					}
				}
				o.Procs = 0
			}
		}
	}
}
