package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// decodeOutcome is everything DecodeWith gives, in a comparable form.
type decodeOutcome struct {
	pix      []byte
	bounds   image.Rectangle
	warnings []string
	trunc    string
	err      string
}

func outcome(data []byte, denom int, o Options) decodeOutcome {
	return outcomeOf(DecodeWith(data, denom, o))
}

func outcomeOf(img image.Image, rep Report, err error) decodeOutcome {
	var out decodeOutcome
	if err != nil {
		out.err = err.Error()
	}
	out.warnings = rep.Warnings
	if rep.Truncated != nil {
		out.trunc = rep.Truncated.Error()
	}
	if img != nil {
		out.bounds = img.Bounds()
		switch m := img.(type) {
		case *image.YCbCr:
			out.pix = bytes.Join([][]byte{m.Y, m.Cb, m.Cr}, nil)
		case *image.Gray:
			out.pix = m.Pix
		case *image.CMYK:
			out.pix = m.Pix
		case *image.RGBA:
			out.pix = m.Pix
		default:
			panic(fmt.Sprintf("unexpected image type %T", img))
		}
	}
	return out
}

// checkParallel decodes data with one goroutine and with two and three, at
// every scale, with and without Partial, and fails if anything differs:
// pixels, warnings, truncation, error. Coefficients is compared the same way.
func checkParallel(t *testing.T, name string, data []byte) {
	t.Helper()
	for _, denom := range []int{1, 2, 4, 8} {
		for _, partial := range []bool{false, true} {
			want := outcome(data, denom, Options{Partial: partial, Procs: 1})
			for _, procs := range []int{2, 3} {
				got := outcome(data, denom, Options{Partial: partial, Procs: procs})
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s at 1/%d (Partial %v): %d goroutines give err %q, warnings %q, truncation %q, %d bytes of pixels; one gives err %q, warnings %q, truncation %q, %d bytes",
						name, denom, partial, procs, got.err, got.warnings, got.trunc, len(got.pix), want.err, want.warnings, want.trunc, len(want.pix))
				}
			}
		}
	}
	f1, err1 := coefficients(data, nil, true, 1)
	f2, err2 := coefficients(data, nil, true, 2)
	if fmt.Sprint(err1) != fmt.Sprint(err2) || !reflect.DeepEqual(f1, f2) {
		t.Fatalf("%s: Coefficients on two goroutines gives %v, on one %v (or other coefficients)", name, err2, err1)
	}
}

// TestParallelScans checks that decoding a progressive file's scans in
// parallel changes nothing, on whole files and on damaged and truncated
// ones (where the parallel decode is dropped and the serial one reports the
// damage), and that whole files do keep the parallel decode.
func TestParallelScans(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpg")
	r := rand.New(rand.NewPCG(3, 4))
	n := 40
	if testing.Short() {
		n = 8
	}
	progressive := 0
	for _, f := range files {
		data := fixture(t, filepath.Base(f))
		name := filepath.Base(f)
		checkParallel(t, name, data)
		if h := Probe(data); h.Err != nil || !h.Progressive || strings.Contains(name, "arith") {
			continue
		}
		progressive++

		// A whole file keeps its parallel decode: nothing falls back.
		d := &decoder{data: data, denom: 1, bs: 8, procs: 2}
		if _, err := d.decode(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.scans == nil || len(d.scans.jobs) < 2 {
			t.Fatalf("%s: the scans were not decoded in parallel", name)
		}

		// Stray bytes after a scan's data, before the next marker:
		// warned about by the serial decode, so the parallel one must
		// fall back to it.
		sos2 := findMarker(data[findMarker(data, sos)+2:], sos) + findMarker(data, sos) + 2
		stray := append(append(append([]byte(nil), data[:sos2]...), 1, 2, 3), data[sos2:]...)
		checkParallel(t, name+" with stray bytes", stray)

		for i := range n {
			// Truncated anywhere in the scans.
			cut := findMarker(data, sos) + r.IntN(len(data)-findMarker(data, sos))
			checkParallel(t, fmt.Sprintf("%s cut at %d", name, cut), data[:cut])
			// A few bytes of the scans changed.
			bad := append([]byte(nil), data...)
			for range 1 + i%3 {
				p := findMarker(data, sos) + r.IntN(len(data)-findMarker(data, sos))
				bad[p] = byte(r.Uint32())
			}
			checkParallel(t, fmt.Sprintf("%s damaged (%d)", name, i), bad)
		}
	}
	if progressive < 5 {
		t.Fatalf("only %d progressive Huffman-coded fixtures", progressive)
	}
}

// TestScanOverlaps checks which scans wait for which.
func TestScanOverlaps(t *testing.T) {
	scan := func(ss, se int, ci ...int) scanHeader {
		s := scanHeader{n: len(ci), ss: ss, se: se}
		for i, c := range ci {
			s.comps[i].ci = c
		}
		return s
	}
	for _, c := range []struct {
		a, b scanHeader
		want bool
	}{
		{scan(0, 0, 0, 1, 2), scan(0, 0, 1), true},  // DC refinement after the interleaved DC
		{scan(0, 0, 0, 1, 2), scan(1, 5, 0), false}, // AC after DC: other coefficients
		{scan(1, 5, 0), scan(6, 63, 0), false},      // two bands of one component
		{scan(1, 5, 0), scan(1, 63, 0), true},       // the refinement of both
		{scan(6, 63, 0), scan(1, 63, 0), true},
		{scan(1, 63, 1), scan(1, 63, 2), false}, // two components
		{scan(5, 9, 2), scan(9, 12, 2), true},   // one coefficient in common
	} {
		if got := c.a.overlaps(&c.b); got != c.want || c.b.overlaps(&c.a) != c.want {
			t.Errorf("%+v overlaps %+v: %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestACFirstStaysInBand checks that a damaged AC first scan whose run
// reaches past the band's end stores nothing there: another scan, decoded
// at the same time, owns those coefficients.
func TestACFirstStaysInBand(t *testing.T) {
	// Two codes of one bit: 0 is run 3 and size 1, 1 is the end of band.
	var h huffTable
	if err := h.build(&[16]byte{2}, []byte{0x31, 0x00}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ss, se, want int // want: where the value lands, or -1
	}{
		{1, 2, -1}, // 1 + 3 is past 2
		{1, 3, -1},
		{1, 4, 4},
		{1, 63, 4},
	} {
		var d decoder
		// 0, then the value bit 1: run 3, +1; then 1: end of band.
		d.br.reset([]byte{0x60, 0, 0, 0, 0, 0, 0, 0}, 0)
		b := make([]int16, 64)
		s := scanHeader{ss: tt.ss, se: tt.se}
		if err := d.acFirst(&h, &s, b); err != nil {
			t.Fatal(err)
		}
		for k, v := range b {
			if want := int16(0); k == tt.want {
				if v != 1 {
					t.Errorf("band %d..%d: coefficient %d = %d, want 1", tt.ss, tt.se, k, v)
				}
			} else if v != want {
				t.Errorf("band %d..%d: coefficient %d = %d, want 0", tt.ss, tt.se, k, v)
			}
		}
	}
}
