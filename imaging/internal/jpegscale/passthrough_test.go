package jpegscale

import (
	"bytes"
	"math"
	"os/exec"
	"testing"
)

// scanOf returns a file's data from its first SOS marker on.
func scanOf(data []byte) []byte {
	i := findMarker(data, sos)
	if i < 0 {
		return nil
	}
	return data[i:]
}

// TestTranscodePassThrough checks that a baseline source with Huffman
// tables made for it, whose quantisation tables are at least as coarse as
// the target's, has its entropy-coded data copied (restart markers and
// all) and decodes to the same pixels, with the source's APPn and COM
// segments dropped and the ones asked for written; and that sources with
// the Annex K tables, progressive, arithmetic-coded or multi-scan ones, and
// a coarser target, are re-encoded as baseline.
func TestTranscodePassThrough(t *testing.T) {
	_, djpegErr := exec.LookPath("djpeg")
	exif := append([]byte{0xFF, 0xE1, 0, 14}, "Exif\x00\x00II*\x00\x08\x00"...)
	type ptCase struct {
		transcodeCase
		copied bool // at quality 100
		q95    bool // made at quality 95
	}
	var cases []ptCase
	for _, c := range transcodeCases(t) {
		cases = append(cases, ptCase{c, false, true})
	}
	cases = append(cases,
		ptCase{transcodeCase{name: "optimised fixture", data: fixture(t, "seq-optimized-100x75.jpg")}, true, false},
		ptCase{transcodeCase{name: "optimised multi-scan fixture", data: fixture(t, "seq-optimized-100x75.jt-scans.jpg")}, false, false},
		ptCase{transcodeCase{name: "standard tables, COM", data: fixture(t, "seq-com-37x23.jpg")}, false, false})
	if _, err := exec.LookPath("cjpeg"); err == nil {
		p := ppm(101, 75, 9)
		for _, o := range []struct {
			name string
			args []string
		}{
			{"4:2:0", nil},
			{"4:4:4", []string{"-sample", "1x1"}},
			{"4:2:2", []string{"-sample", "2x1"}},
			{"restart 4:2:0", []string{"-restart", "1B"}},
			{"restart rows 4:4:4", []string{"-restart", "1", "-sample", "1x1"}},
			{"grey", []string{"-grayscale"}},
		} {
			args := append([]string{"-quality", "95", "-optimize"}, o.args...)
			cases = append(cases, ptCase{transcodeCase{name: "cjpeg -optimize " + o.name, data: runTool(t, p, "cjpeg", args...)}, true, true})
		}
		// A COM and an APP1 segment, which are dropped.
		d := cases[len(cases)-1].data
		d = append(append(bytes.Clone(d[:2]), 0xFF, 0xFE, 0, 4, 'h', 'i', 0xFF, 0xE1, 0, 4, 'x', 'y'), d[2:]...)
		cases = append(cases, ptCase{transcodeCase{name: "cjpeg -optimize grey, COM and APP1", data: d}, true, true})
	}
	for _, c := range cases {
		var out bytes.Buffer
		if c.q95 {
			// Quality 85 is coarser than the source's 95: requantised,
			// not copied.
			if err := Transcode(&out, c.data, TranscodeOptions{Quality: 85}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if bytes.Equal(scanOf(out.Bytes()), scanOf(c.data)) {
				t.Errorf("%s: quality 85 copied the source's quality-95 scan", c.name)
			}
			out.Reset()
		}
		// Quality 100 is finer than any source: the coefficients are kept.
		if err := Transcode(&out, c.data, TranscodeOptions{Quality: 100, Segments: [][]byte{exif}}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		o := out.Bytes()
		if copied := bytes.Equal(scanOf(o), scanOf(c.data)); copied != c.copied {
			t.Errorf("%s: scan copied %v, want %v", c.name, copied, c.copied)
		}
		if findMarker(o, sof0) < 0 {
			t.Errorf("%s: the output is not baseline", c.name)
		}
		if !bytes.Contains(o[:64], exif) {
			t.Errorf("%s: the Exif segment asked for is not in the output's header", c.name)
		}
		if findMarker(c.data, 0xFE) >= 0 && findMarker(o, 0xFE) >= 0 {
			t.Errorf("%s: the source's COM segment was kept", c.name)
		}
		if bytes.Contains(c.data, []byte{0xFF, 0xE1, 0, 4, 'x', 'y'}) && bytes.Contains(o, []byte{0xFF, 0xE1, 0, 4, 'x', 'y'}) {
			t.Errorf("%s: the source's APP1 segment was kept", c.name)
		}
		if p := psnr(srcDecode(t, c.name, c.data), srcDecode(t, c.name+" transcoded", o)); !math.IsInf(p, 1) {
			t.Errorf("%s: the pixels changed (PSNR %.2f dB)", c.name, p)
		}
		if djpegErr == nil {
			cmd := exec.Command("djpeg", "-pnm")
			cmd.Stdin = bytes.NewReader(o)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Errorf("%s: djpeg: %v %s", c.name, err, stderr.String())
			}
		}
	}
}

// TestTranscodePassThroughDamaged checks that damage found by the decode
// still fails the transcode: the copy is no way round it.
func TestTranscodePassThroughDamaged(t *testing.T) {
	data := fixture(t, "seq-optimized-100x75.jpg")
	// Cut inside the scan, then restore an EOI.
	cut := append(bytes.Clone(data[:len(data)*2/3]), 0xFF, 0xD9)
	var out bytes.Buffer
	if err := Transcode(&out, cut, TranscodeOptions{Quality: 100}); err == nil {
		t.Errorf("a truncated scan was transcoded (%d bytes)", out.Len())
	}
	// A marker other than EOI after the scan: re-encoded, not copied.
	odd := append(bytes.Clone(data[:len(data)-2]), 0xFF, 0xFE, 0, 4, 'h', 'i', 0xFF, 0xD9)
	out.Reset()
	if err := Transcode(&out, odd, TranscodeOptions{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte("hi")) {
		t.Errorf("the COM segment after the scan was copied")
	}
}
