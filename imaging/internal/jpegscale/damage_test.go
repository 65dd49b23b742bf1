package jpegscale

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"os/exec"
	"strings"
	"testing"
)

// djpeg decodes data with libjpeg-turbo's djpeg to a PNM, and returns it
// with djpeg's warnings. djpeg exits with status 2 when it warned.
func djpeg(t *testing.T, data []byte) (out []byte, warnings string) {
	t.Helper()
	needTool(t, "djpeg")
	cmd := exec.Command("djpeg", "-pnm")
	cmd.Stdin = bytes.NewReader(data)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 2) {
		t.Fatalf("djpeg: %v: %s", err, e.String())
	}
	return o.Bytes(), e.String()
}

// pgm parses djpeg's binary PGM output.
func pgm(t *testing.T, b []byte) *image.Gray {
	t.Helper()
	var w, h, maxv int
	n, err := fmt.Sscanf(string(b), "P5\n%d %d\n%d\n", &w, &h, &maxv)
	if err != nil || n != 3 {
		t.Fatalf("bad PGM header %q: %v", b[:min(len(b), 20)], err)
	}
	pix := b[len(b)-w*h:]
	return &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}
}

// rowsDiffer lists the rows of (equally sized) a and b, by their planes,
// that differ by more than tol anywhere, in units of the first plane's rows.
func rowsDiffer(t *testing.T, a, b image.Image, tol int) map[int]bool {
	t.Helper()
	pa, pb := planes(t, a), planes(t, b)
	rows := map[int]bool{}
	for i := range pa {
		scale := max(1, pa[0].h/max(pa[i].h, 1))
		for y := 0; y < pa[i].h; y++ {
			for x := 0; x < pa[i].w; x++ {
				if d := pa[i].at(x, y) - pb[i].at(x, y); d > tol || d < -tol {
					for k := 0; k < scale; k++ {
						rows[y*scale+k] = true
					}
					break
				}
			}
		}
	}
	return rows
}

// rstPositions returns the offsets of the RSTn markers in data.
func rstPositions(data []byte) []int {
	var p []int
	for i := findMarker(data, sos); i+1 < len(data); i++ {
		if data[i] == 0xFF && data[i+1] >= rst0 && data[i+1] <= rst7 {
			p = append(p, i)
		}
	}
	return p
}

// TestExtraneousBytes inserts junk before markers: libjpeg and Decode
// decode the same image, each with a warning.
func TestExtraneousBytes(t *testing.T) {
	base := runTool(t, ppm(64, 48, 3), "cjpeg", "-quality", "85")
	want, err := Decode(base, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []byte{dqt, sos, eoi} {
		i := findMarker(base, m)
		if m == eoi {
			i = bytes.LastIndex(base, []byte{0xFF, eoi})
		}
		data := append(append(append([]byte(nil), base[:i]...), 0x12, 0x34, 0x56), base[i:]...)
		_, dw := djpeg(t, data)
		wantWarn := fmt.Sprintf("3 extraneous bytes before marker 0x%02X", m)
		// libjpeg reads the bytes before EOI into its bit buffer with the
		// last of the scan's data and does not count them; we do.
		if m != eoi && !strings.Contains(strings.ToLower(dw), strings.ToLower(wantWarn)) {
			t.Errorf("before 0x%02X: djpeg says %q", m, dw)
		}
		for _, denom := range []int{1, 2, 4, 8} {
			got, rep, err := DecodeWith(data, denom, Options{})
			if err != nil {
				t.Errorf("before 0x%02X, 1/%d: %v", m, denom, err)
				continue
			}
			if len(rep.Warnings) != 1 || rep.Warnings[0] != wantWarn {
				t.Errorf("before 0x%02X, 1/%d: warnings %q, want %q", m, denom, rep.Warnings, wantWarn)
			}
			w := want
			if denom != 1 {
				w, _ = Decode(base, denom)
			}
			if diff := sameImage(got, w, true); diff != "" {
				t.Errorf("before 0x%02X, 1/%d: %s", m, denom, diff)
			}
		}
	}
}

// TestDamagedInterval garbles the entropy-coded data of one restart
// interval (one MCU row, cjpeg -restart 1): libjpeg warns and so do we, and
// every other row decodes exactly as the undamaged file.
func TestDamagedInterval(t *testing.T) {
	for _, gray := range []bool{false, true} {
		args := []string{"-quality", "90", "-restart", "1"}
		if gray {
			args = append(args, "-grayscale")
		}
		base := runTool(t, ppm(96, 80, 5), "cjpeg", args...)
		rst := rstPositions(base)
		if len(rst) < 4 {
			t.Fatalf("%d restart markers", len(rst))
		}
		mcuRows := 16 // rows per MCU row at 1/1: cjpeg samples chroma 2×2
		if gray {
			mcuRows = 8
		}
		for k := 1; k < len(rst)-1; k++ {
			// All one bits (stuffed 0xFF bytes) are a bad Huffman code;
			// all zero bits decode as long blocks that run into the
			// restart marker.
			for _, pattern := range []byte{0xFF, 0x00} {
				// Interval k lies between RST(k-1) and RST(k).
				data := append([]byte(nil), base[:rst[k-1]+2]...)
				from, to := rst[k-1]+2, rst[k]
				data = append(data, base[from:from+(to-from)/3]...)
				for range (to - from) / 3 {
					data = append(data, pattern)
					if pattern == 0xFF {
						data = append(data, 0)
					}
				}
				data = append(data, base[to-(to-from)/3:]...)
				name := fmt.Sprintf("gray=%v interval %d pattern %#x", gray, k+1, pattern)
				_, dw := djpeg(t, data)
				djWarned := strings.Contains(dw, "Corrupt JPEG data")
				if pattern == 0xFF && !djWarned {
					t.Errorf("%s: djpeg says %q", name, dw)
				}
				for _, denom := range []int{1, 2, 4, 8} {
					want, err := Decode(base, denom)
					if err != nil {
						t.Fatal(err)
					}
					got, rep, err := DecodeWith(data, denom, Options{})
					if err != nil {
						t.Errorf("%s 1/%d: %v", name, denom, err)
						continue
					}
					// Garbage may decode as well-formed data: djpeg
					// and Decode then both decode it silently.
					if djWarned && len(rep.Warnings) == 0 {
						t.Errorf("%s 1/%d: no warning (djpeg: %q)", name, denom, dw)
					}
					rh := mcuRows / denom
					for y := range rowsDiffer(t, got, want, 0) {
						if y/rh != k {
							t.Errorf("%s 1/%d: row %d (MCU row %d) differs; only MCU row %d is damaged (warnings %q)", name, denom, y, y/rh, k, rep.Warnings)
							break
						}
					}
					if testing.Verbose() && denom == 1 {
						t.Logf("%s: djpeg %q; we %q", name, strings.TrimSpace(dw), rep.Warnings)
					}
				}
			}
		}
	}
}

// TestRestartOutOfSequence renumbers restart markers: libjpeg and Decode
// resynchronise, warn, and (for a marker merely misnumbered) decode the
// undamaged image.
func TestRestartOutOfSequence(t *testing.T) {
	base := runTool(t, ppm(96, 80, 7), "cjpeg", "-quality", "90", "-restart", "1")
	rst := rstPositions(base)
	want, _ := Decode(base, 1)
	for _, c := range []struct {
		i    int  // which marker
		m    byte // its new code
		same bool // the image is the undamaged one
	}{
		{1, rst0 + 5, true},  // too far away to tell: taken as RST1
		{1, rst0 + 7, false}, // an earlier restart (RST7 before RST1): skipped
		{1, rst0 + 2, false}, // the one after next: an interval is missing
	} {
		data := append([]byte(nil), base...)
		data[rst[c.i]+1] = c.m
		_, dw := djpeg(t, data)
		wantWarn := fmt.Sprintf("found marker 0x%02X instead of RST%d", c.m, c.i)
		if !strings.Contains(strings.ToLower(dw), strings.ToLower(wantWarn)) {
			t.Errorf("RST%d → 0x%02X: djpeg says %q", c.i, c.m, dw)
		}
		got, rep, err := DecodeWith(data, 1, Options{})
		if err != nil {
			t.Errorf("RST%d → 0x%02X: %v", c.i, c.m, err)
			continue
		}
		if len(rep.Warnings) == 0 || rep.Warnings[0] != wantWarn {
			t.Errorf("RST%d → 0x%02X: warnings %q, want %q first", c.i, c.m, rep.Warnings, wantWarn)
		}
		if diff := sameImage(got, want, true); (diff == "") != c.same {
			t.Errorf("RST%d → 0x%02X: differs from the undamaged decode: %q, want %v", c.i, c.m, diff, !c.same)
		}
		if testing.Verbose() {
			t.Logf("RST%d → 0x%02X: djpeg %q; we %q", c.i, c.m, strings.TrimSpace(dw), rep.Warnings)
		}
	}
}

// TestTruncatedLikeLibjpeg cuts a greyscale baseline file in its
// entropy-coded data: the error says where, and with Partial the image
// matches djpeg's (which warns "Premature end of JPEG file" and leaves the
// missing rows grey) outside the MCU row where the data ends.
func TestTruncatedLikeLibjpeg(t *testing.T) {
	for _, args := range [][]string{{"-grayscale"}, {"-grayscale", "-restart", "2"}} {
		base := runTool(t, ppm(64, 96, 11), "cjpeg", append([]string{"-quality", "90"}, args...)...)
		start := findMarker(base, sos) + 10
		for _, frac := range []float64{0.1, 0.5, 0.9} {
			n := start + int(frac*float64(len(base)-start))
			data := base[:n]
			name := fmt.Sprintf("%v cut at %d of %d", args, n, len(base))
			_, err := Decode(data, 1)
			var te *TruncatedError
			if !errors.As(err, &te) {
				t.Fatalf("%s: %v, want a TruncatedError", name, err)
			}
			if te.Scan != 1 || te.Scans != 1 || te.ScansUnknown || te.Progressive || te.Offset != n {
				t.Errorf("%s: %+v", name, *te)
			}
			if d := te.Rows - frac; d < -0.2 || d > 0.2 {
				t.Errorf("%s: %.0f%% of the rows decoded, expected about %.0f%%", name, 100*te.Rows, 100*frac)
			}
			want := fmt.Sprintf("jpegscale: the data ends in scan 1 of 1 (sequential), at byte %d, with about %d%% of its rows decoded", n, int(100*te.Rows))
			if err.Error() != want {
				t.Errorf("%s: %q, want %q", name, err, want)
			}
			img, rep, err := DecodeWith(data, 1, Options{Partial: true})
			if err != nil {
				t.Fatalf("%s, partial: %v", name, err)
			}
			if rep.Truncated == nil || *rep.Truncated != *te || len(rep.Warnings) != 1 || !strings.Contains(err2str(te), rep.Warnings[0]) {
				t.Errorf("%s, partial: report %+v", name, rep)
			}
			ref, dw := djpeg(t, data)
			if !strings.Contains(dw, "Premature end of JPEG file") {
				t.Errorf("%s: djpeg says %q", name, dw)
			}
			lib := pgm(t, ref)
			cut := int(te.Rows * float64(96/8)) // MCU row where the data ends
			for y := range rowsDiffer(t, img, lib, 1) {
				if y/8 != cut {
					t.Errorf("%s, partial: row %d differs from djpeg's (the data ends in MCU row %d)", name, y, cut)
					break
				}
			}
			g := img.(*image.Gray)
			for y := (cut + 1) * 8; y < 96; y++ {
				for x := 0; x < 64; x++ {
					if v := g.GrayAt(x, y).Y; v != 128 {
						t.Fatalf("%s, partial: (%d,%d) is %d, want grey", name, x, y, v)
					}
				}
			}
		}
	}
}

func err2str(err error) string { return err.Error() }

// TestTruncatedProgressive cuts a progressive file in each of its scans.
func TestTruncatedProgressive(t *testing.T) {
	data := fixture(t, "prog-2x2-100x75.jpg")
	var sosAt []int
	for i := 0; i+1 < len(data); i++ {
		if data[i] == 0xFF && data[i+1] == sos {
			sosAt = append(sosAt, i)
		}
	}
	full, _ := Decode(data, 1)
	for k := range sosAt {
		end := skipEntropy(data, sosAt[k]+2+int(binary.BigEndian.Uint16(data[sosAt[k]+2:])))
		n := sosAt[k] + (end-sosAt[k])*2/3
		_, err := Decode(data[:n], 1)
		var te *TruncatedError
		if !errors.As(err, &te) {
			t.Fatalf("cut in scan %d: %v", k+1, err)
		}
		if te.Scan != k+1 || te.Scans != k+1 || !te.ScansUnknown || !te.Progressive || te.Rows <= 0 || te.Rows >= 1 {
			t.Errorf("cut in scan %d: %+v", k+1, *te)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("the data ends in scan %d of at least %d (progressive), at byte %d, with about", k+1, k+1, n)) {
			t.Errorf("cut in scan %d: %q", k+1, err)
		}
		img, rep, err := DecodeWith(data[:n], 1, Options{Partial: true})
		if err != nil || rep.Truncated == nil {
			t.Fatalf("cut in scan %d, partial: %v %+v", k+1, err, rep)
		}
		// The later scans refine the image: the partial one is close
		// to the full one once the DC scan is complete.
		if k > 0 {
			st := compare(planes(t, img)[0], planes(t, full)[0], 1)
			if st.mean > 20 {
				t.Errorf("cut in scan %d, partial: mean difference %.1f from the full decode", k+1, st.mean)
			}
		}
	}
}

// TestFormatErrorOffset checks that corruption that cannot be worked
// around says where.
func TestFormatErrorOffset(t *testing.T) {
	base := fixture(t, "seq-2x2-64x48.jpg")
	sof := findMarker(base, sof0)
	sosB := findMarker(base, sos)
	for _, c := range []struct {
		name string
		data []byte
		at   int
	}{
		{"bad sampling factor", patch(base, func(d []byte) []byte { d[sof+11] = 0x50; return d }), sof},
		{"missing Huffman table", patch(base, func(d []byte) []byte { d[sosB+6] = 0x33; return d }), sosB},
	} {
		_, err := Decode(c.data, 1)
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Offset != c.at || !strings.HasSuffix(err.Error(), fmt.Sprintf(" at byte %d", c.at)) {
			t.Errorf("%s: %v, want a FormatError at byte %d", c.name, err, c.at)
		}
	}
}

// TestProbeTruncated checks that Probe reads the header of a file cut in
// its entropy-coded data, and that Cost bounds the decode of damaged and
// truncated files, with and without Partial.
func TestProbeTruncated(t *testing.T) {
	for _, name := range []string{"seq-2x2-64x48.jpg", "prog-2x2-100x75.jpg", "cmyk-64x48.jpg", "prog-scans-2x2-100x75.jt-arith.jpg", "seq-rst1b-37x23.jpg"} {
		data := fixture(t, name)
		sosEnd := findMarker(data, sos) + 2 + int(binary.BigEndian.Uint16(data[findMarker(data, sos)+2:]))
		for _, n := range []int{sosEnd, sosEnd + 1, (sosEnd + len(data)) / 2, len(data) - 3} {
			h := Probe(data[:n])
			if h.Err != nil || h.Width == 0 {
				t.Errorf("%s cut at %d: Probe %+v", name, n, h)
			}
			checkCostWith(t, fmt.Sprint(name, " cut at ", n), data[:n])
		}
		damaged := append([]byte(nil), data...)
		for i := len(data) / 2; i < len(data)/2+20; i++ {
			if damaged[i] != 0xFF && damaged[i-1] != 0xFF {
				damaged[i] ^= 0x5A
				if damaged[i] == 0xFF {
					damaged[i] = 0
				}
			}
		}
		checkCostWith(t, name+" damaged", damaged)
	}
}

// TestWarningsCapped puts junk before every restart marker: the Report keeps
// maxWarnings warnings, the last one counting the rest.
func TestWarningsCapped(t *testing.T) {
	base := runTool(t, ppm(32, 400, 13), "cjpeg", "-quality", "90", "-restart", "1", "-grayscale")
	rst := rstPositions(base)
	data := append([]byte(nil), base[:rst[0]]...)
	for i := range rst {
		data = append(data, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00)
		end := len(base)
		if i+1 < len(rst) {
			end = rst[i+1]
		}
		data = append(data, base[rst[i]:end]...)
	}
	_, rep, err := DecodeWith(data, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rep.Warnings); n != maxWarnings || rep.Warnings[n-1] != fmt.Sprintf("%d more warnings", len(rst)-(maxWarnings-1)) {
		t.Errorf("%d intervals damaged: %d warnings, the last %q", len(rst), n, rep.Warnings[n-1])
	}
}

// TestDamagedProgressiveInterval garbles one restart interval (one block
// row) of the first luma AC scan of a cjpeg -progressive -restart 1 file:
// djpeg and Decode warn, and only that block row differs from the
// undamaged decode (the later scans refining it resynchronise at the next
// restart marker too).
func TestDamagedProgressiveInterval(t *testing.T) {
	base := runTool(t, ppm(96, 80, 17), "cjpeg", "-quality", "90", "-restart", "1", "-progressive")
	var sosAt []int
	for i := 0; i+1 < len(base); i++ {
		if base[i] == 0xFF && base[i+1] == sos {
			sosAt = append(sosAt, i)
		}
	}
	// Scan 2 of cjpeg's default script is luma AC 1-5 (Ss=1, one component).
	s2 := sosAt[1]
	if base[s2+4] != 1 || base[s2+7] != 1 {
		t.Fatalf("scan 2 is not a luma AC scan: % x", base[s2:s2+10])
	}
	var rst []int
	for _, p := range rstPositions(base) {
		if p > s2 && p < sosAt[2] {
			rst = append(rst, p)
		}
	}
	const k = 4 // interval k+1, block row k
	from, to := rst[k-1]+2, rst[k]
	data := append([]byte(nil), base[:from]...)
	for range max(2, (to-from)/2) {
		data = append(data, 0xFF, 0x00)
	}
	data = append(data, base[to:]...)
	_, dw := djpeg(t, data)
	if !strings.Contains(dw, "Corrupt JPEG data") {
		t.Errorf("djpeg says %q", dw)
	}
	for _, denom := range []int{1, 2, 4, 8} {
		want, _ := Decode(base, denom)
		got, rep, err := DecodeWith(data, denom, Options{})
		if err != nil {
			t.Fatalf("1/%d: %v", denom, err)
		}
		if denom < 8 && len(rep.Warnings) == 0 {
			t.Errorf("1/%d: no warning (djpeg: %q)", denom, dw)
		}
		rh := 8 / denom
		for y := range rowsDiffer(t, got, want, 0) {
			if y/rh != k {
				t.Errorf("1/%d: row %d differs; only block row %d is damaged (warnings %q)", denom, y, k, rep.Warnings)
				break
			}
		}
		if testing.Verbose() {
			t.Logf("1/%d: djpeg %q; we %q", denom, strings.TrimSpace(dw), rep.Warnings)
		}
	}
}
