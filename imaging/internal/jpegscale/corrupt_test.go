package jpegscale

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// findMarker returns the offset of the first 0xFF m marker.
func findMarker(data []byte, m byte) int {
	return bytes.Index(data, []byte{0xFF, m})
}

// patch returns a copy of data with f applied.
func patch(data []byte, f func([]byte) []byte) []byte {
	return f(append([]byte(nil), data...))
}

func TestCorrupt(t *testing.T) {
	base := fixture(t, "seq-2x2-64x48.jpg")
	prog := fixture(t, "prog-2x2-100x75.jpg")
	rst := fixture(t, "seq-rst1b-37x23.jpg")
	sof := findMarker(base, sof0)
	sosB := findMarker(base, sos)
	dhtB := findMarker(base, dht)

	// want is the outcome: a FormatError, a TruncatedError, or an image
	// with a warning (damage worked around, as libjpeg does).
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "trunc"},
		{"no SOI", base[2:], "format"},
		{"SOI only", base[:2], "trunc"},
		{"header only", base[:sosB], "trunc"},
		{"no EOI", base[:len(base)-2], "ok"},
		{"zero width", patch(base, func(d []byte) []byte { d[sof+7], d[sof+8] = 0, 0; return d }), "format"},
		{"huge dimensions", patch(base, func(d []byte) []byte {
			binary.BigEndian.PutUint16(d[sof+5:], 0xFFFF)
			binary.BigEndian.PutUint16(d[sof+7:], 0xFFFF)
			return d
		}), "format"},
		{"dimensions exceed data", patch(base, func(d []byte) []byte {
			binary.BigEndian.PutUint16(d[sof+5:], 4000)
			binary.BigEndian.PutUint16(d[sof+7:], 4000)
			return d
		}), "format"},
		{"bad sampling factor", patch(base, func(d []byte) []byte { d[sof+11] = 0x50; return d }), "format"},
		{"bad quant table index", patch(base, func(d []byte) []byte { d[sof+12] = 7; return d }), "format"},
		{"missing quant table", patch(base, func(d []byte) []byte { d[sof+12] = 3; return d }), "format"},
		{"unknown scan component", patch(base, func(d []byte) []byte { d[sosB+5] = 99; return d }), "format"},
		{"missing Huffman table", patch(base, func(d []byte) []byte { d[sosB+6] = 0x33; return d }), "format"},
		{"oversubscribed Huffman table", patch(base, func(d []byte) []byte { d[dhtB+5] = 3; return d }), "format"},
		{"bad segment length", patch(base, func(d []byte) []byte { d[sof+2], d[sof+3] = 0, 1; return d }), "format"},
		{"segment past end", patch(base, func(d []byte) []byte { d[sof+2], d[sof+3] = 0xFF, 0xF0; return d }), "trunc"},
		{"garbage scan data", patch(base, func(d []byte) []byte {
			start := sosB + 2 + int(binary.BigEndian.Uint16(d[sosB+2:]))
			for i := start; i < len(d)-2; i++ {
				d[i] = 0xFE
			}
			return d
		}), "ok"},
		{"wrong restart marker", patch(rst, func(d []byte) []byte {
			i := findMarker(d, rst0+1)
			d[i+1] = rst0 + 5
			return d
		}), "ok"},
		{"progressive truncated mid-scan", prog[:len(prog)/2], "trunc"},
		{"progressive truncated before EOI", prog[:len(prog)-2], "ok"},
		{"bad spectral selection", patch(prog, func(d []byte) []byte {
			i := findMarker(d, sos)
			n := int(binary.BigEndian.Uint16(d[i+2:]))
			d[i+2+n-3] = 70 // Ss of the first scan
			return d
		}), "format"},
	}
	for _, c := range cases {
		for _, denom := range []int{1, 2, 4, 8} {
			m, rep, err := DecodeWith(c.data, denom, Options{})
			var fe *FormatError
			var te *TruncatedError
			switch c.want {
			case "format":
				if !errors.As(err, &fe) {
					t.Errorf("%s 1/%d: got %v, want a FormatError", c.name, denom, err)
				} else if !strings.Contains(err.Error(), fmt.Sprintf(" at byte %d", fe.Offset)) || fe.Offset < 0 || fe.Offset > len(c.data) {
					t.Errorf("%s 1/%d: %v: bad offset %d", c.name, denom, err, fe.Offset)
				}
			case "trunc":
				if !errors.As(err, &te) || te.Offset != len(c.data) {
					t.Errorf("%s 1/%d: got %v, want a TruncatedError", c.name, denom, err)
				}
			case "ok":
				if err != nil || len(rep.Warnings) == 0 {
					t.Errorf("%s 1/%d: got %v, warnings %q; want an image and a warning", c.name, denom, err, rep.Warnings)
				} else if testing.Verbose() {
					t.Logf("%s 1/%d: %v: %q", c.name, denom, m.Bounds(), rep.Warnings)
				}
			}
			if errors.Is(err, ErrUnsupported) {
				t.Errorf("%s 1/%d: %v, want a format error", c.name, denom, err)
			}
		}
	}
}

// TestTruncated checks every truncation of a few fixtures at every scale:
// a TruncatedError that says where, or (cut between complete scans) an image
// with a warning; with Options.Partial, an image whenever a scan has begun.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"seq-2x2-37x23.jpg", "prog-2x2-37x23.jpg", "gray-prog-rst5b-37x23.jpg", "cmyk-64x48.jpg",
		"seq-rst1b-37x23.jt-arith.jpg", "cmyk-2x2-37x23.jt-arith-prog-rst1b.jpg"} {
		data := fixture(t, name)
		sosEnd := findMarker(data, sos) + 2 + int(binary.BigEndian.Uint16(data[findMarker(data, sos)+2:]))
		for n := 0; n < len(data)-1; n++ {
			for _, denom := range []int{1, 8} {
				_, rep, err := DecodeWith(data[:n], denom, Options{})
				var te *TruncatedError
				switch {
				case err == nil:
					if w := strings.Join(rep.Warnings, ";"); !strings.Contains(w, "no EOI") && !strings.Contains(w, "not needed at this scale") {
						t.Errorf("%s truncated to %d bytes, 1/%d: no error, warnings %q", name, n, denom, rep.Warnings)
					}
					continue
				case !errors.As(err, &te):
					t.Errorf("%s truncated to %d bytes, 1/%d: %v, want a TruncatedError", name, n, denom, err)
					continue
				case te.Offset != n || te.Scan < 0 || te.Scan > te.Scans || (te.Scan == 0) != (n < sosEnd) ||
					te.Rows > 1 || te.Rows < 0 || (te.Scan > 0 && te.Progressive != Probe(data).Progressive):
					t.Errorf("%s truncated to %d bytes, 1/%d: %+v", name, n, denom, *te)
				}
				img, rep, perr := DecodeWith(data[:n], denom, Options{Partial: true})
				switch {
				case te.Scan == 0:
					if perr == nil {
						t.Errorf("%s truncated to %d bytes, 1/%d, partial: an image from the headers alone", name, n, denom)
					}
				case perr != nil:
					t.Errorf("%s truncated to %d bytes, 1/%d, partial: %v", name, n, denom, perr)
				case rep.Truncated == nil || *rep.Truncated != *te || len(rep.Warnings) == 0:
					t.Errorf("%s truncated to %d bytes, 1/%d, partial: report %+v", name, n, denom, rep)
				case img.Bounds().Dx() != (Probe(data).Width+denom-1)/denom:
					t.Errorf("%s truncated to %d bytes, 1/%d, partial: bounds %v", name, n, denom, img.Bounds())
				}
			}
		}
	}
}

// TestRandomCorruption flips random bytes; decoding may or may not succeed
// but must not panic or hang.
func TestRandomCorruption(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpg")
	r := rand.New(rand.NewPCG(1, 2))
	n := 300
	if testing.Short() {
		n = 30
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			d := append([]byte(nil), data...)
			for range 1 + r.IntN(4) {
				d[r.IntN(len(d))] = byte(r.Uint32())
			}
			Decode(d, []int{1, 2, 4, 8}[r.IntN(4)])
		}
	}
}

// TestFillBytes checks that 0xFF fill bytes before markers are accepted.
func TestFillBytes(t *testing.T) {
	data := fixture(t, "seq-2x2-37x23.jpg")
	var out []byte
	for i := 0; i < len(data); i++ {
		// Add fill bytes before each DQT, DHT, SOS and EOI marker.
		if i > 0 && data[i] == 0xFF && i+1 < len(data) {
			switch data[i+1] {
			case dqt, dht, sos, eoi:
				out = append(out, 0xFF, 0xFF)
			}
		}
		out = append(out, data[i])
	}
	want, err := Decode(data, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(out, 1)
	if err != nil {
		t.Fatal(err)
	}
	gp, wp := planes(t, got), planes(t, want)
	for i := range gp {
		if st := compare(gp[i], wp[i], 1); st.max != 0 {
			t.Errorf("%s differs with fill bytes", gp[i].name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpg")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(1))
		f.Add(data, uint8(8))
	}
	// The arithmetic-coded fixtures (*.jt-arith*.jpg) have libjpeg's
	// default conditioning; add files with other DAC values.
	for _, c := range []struct{ dcLU, acK [2]byte }{{[2]byte{0x42, 0x00}, [2]byte{1, 40}}, {[2]byte{0xF0, 0x51}, [2]byte{63, 2}}} {
		data := recodeArith(f, fixture(f, "prog-2x2-37x23.jpg"), c.dcLU, c.acK)
		f.Add(data, uint8(1))
		f.Add(data, uint8(8))
	}
	f.Fuzz(func(t *testing.T, data []byte, d uint8) {
		if w, h, ok := headerSize(data); ok && w*h > 1e6 {
			return
		}
		denom := []int{1, 2, 4, 8}[d%4]
		h := Probe(data)
		// Decode with and without Partial: Partial returns an image
		// where the plain decode reports a truncation after the first
		// scan began, and both stay within Cost.
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		pm, prep, perr := DecodeWith(data, denom, Options{Partial: true})
		runtime.ReadMemStats(&after)
		if alloc := int64(after.TotalAlloc - before.TotalAlloc); h.Err == nil && alloc > h.Cost(denom) {
			t.Fatalf("DecodeWith with Partial allocated %d bytes, over Cost %d", alloc, h.Cost(denom))
		}
		// The scans decoded in parallel give the same image, warnings
		// and error (see TestParallelScans), within the same Cost.
		runtime.ReadMemStats(&before)
		qm, qrep, qerr := DecodeWith(data, denom, Options{Partial: true, Procs: 2})
		runtime.ReadMemStats(&after)
		if alloc := int64(after.TotalAlloc - before.TotalAlloc); h.Err == nil && alloc > h.Cost(denom) {
			t.Fatalf("DecodeWith on two goroutines allocated %d bytes, over Cost %d", alloc, h.Cost(denom))
		}
		if got, want := outcomeOf(qm, qrep, qerr), outcomeOf(pm, prep, perr); !reflect.DeepEqual(got, want) {
			t.Fatalf("on two goroutines: err %q, warnings %q; on one: err %q, warnings %q (or other pixels)", got.err, got.warnings, want.err, want.warnings)
		}
		runtime.ReadMemStats(&before)
		m, err := Decode(data, denom)
		runtime.ReadMemStats(&after)
		if alloc := int64(after.TotalAlloc - before.TotalAlloc); h.Err == nil && alloc > h.Cost(denom) {
			t.Fatalf("Decode allocated %d bytes, over Cost %d", alloc, h.Cost(denom))
		}
		// Probe reads the same markers Decode does up to the first scan:
		// what it refuses, Decode refuses the same way.
		if h.Err != nil && (err == nil || errors.Is(h.Err, ErrUnsupported) != errors.Is(err, ErrUnsupported)) {
			t.Fatalf("Probe says %v, Decode returned %v", h.Err, err)
		}
		var te *TruncatedError
		switch {
		case errors.As(err, &te) && te.Scan > 0:
			if perr != nil {
				t.Fatalf("Decode says %v, with Partial %v", err, perr)
			}
			m, err = pm, nil
		case (err == nil) != (perr == nil):
			t.Fatalf("Decode says %v, with Partial %v", err, perr)
		}
		if err != nil {
			return
		}
		b := m.Bounds()
		if b.Dx() != (h.Width+denom-1)/denom || b.Dy() != (h.Height+denom-1)/denom {
			t.Fatalf("Decode gave %v, Probe said %d×%d", b, h.Width, h.Height)
		}
		if b.Min.X != 0 || b.Min.Y != 0 || b.Dx() <= 0 || b.Dy() <= 0 {
			t.Fatalf("bad bounds %v", b)
		}
		if denom != 1 {
			return
		}
		ref, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if ref.Bounds() != b {
			t.Fatalf("bounds %v, image/jpeg gives %v", b, ref.Bounds())
		}
	})
}
