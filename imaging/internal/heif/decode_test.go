package heif

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoad(t *testing.T) {
	l := testLib(t)
	if v := l.Version(); v == "" {
		t.Errorf("Version() = %q", v)
	}
	l2, err := Load()
	if err != nil || l2 != l {
		t.Errorf("second Load() = %p, %v; want %p, nil", l2, err, l)
	}
	t.Logf("libheif %s", l.Version())
}

func TestLib_Decode(t *testing.T) {
	l := testLib(t)
	for _, f := range makeFixtures(t, t.TempDir()) {
		t.Run(f.name, func(t *testing.T) {
			data := readFile(t, f.path)
			hd, err := l.Probe(data)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if f.alphaMayGo && !hd.Alpha {
				t.Logf("libheif %s ignores the alpha plane", l.Version())
				f.alpha, f.want = false, opaqueCopy(f.want)
			}
			want := Header{
				Format: f.format, Brand: hd.Brand,
				StoredWidth: f.stored.X, StoredHeight: f.stored.Y,
				Width: f.want.Rect.Dx(), Height: f.want.Rect.Dy(),
				Alpha: f.alpha, Premultiplied: f.premul,
				BitDepth: f.depth, Images: f.images, ICC: f.icc,
				CodedPixels: hd.CodedPixels,
			}
			// HEVC codes whole 8×8 blocks, AV1 the exact size; with several
			// images, the largest counts.
			stored, most := f.stored.X*f.stored.Y, (f.stored.X+7)/8*8*((f.stored.Y+7)/8*8)
			if f.images > 1 {
				most = 1 << 20
			}
			if c := hd.CodedPixels; c < stored || c > most {
				t.Errorf("CodedPixels %d, want %d or a little more", c, stored)
			}
			if !equalHeader(hd, want) {
				t.Errorf("Probe = %+v\nwant    %+v", brief(hd), brief(want))
			}
			img, icc, err := l.Decode(data, 0)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := img.Rect; got != image.Rect(0, 0, hd.Width, hd.Height) {
				t.Errorf("Decode size %v, Probe said %dx%d", got, hd.Width, hd.Height)
			}
			if !bytes.Equal(icc, f.icc) {
				t.Errorf("Decode ICC %d bytes, want %d", len(icc), len(f.icc))
			}
			rgb, alpha := diff(t, img, f.want)
			t.Logf("mean difference: colour %.2f, alpha %.2f", rgb, alpha)
			if rgb > f.tol || alpha > f.tol {
				t.Errorf("mean difference colour %.2f, alpha %.2f; want <= %.1f", rgb, alpha, f.tol)
			}
		})
	}
}

func equalHeader(a, b Header) bool {
	return bytes.Equal(a.ICC, b.ICC) && reflect.DeepEqual(brief(a), brief(b))
}

// brief is h with its ICC bytes replaced by their length, for messages.
func brief(h Header) any {
	type header Header
	return struct {
		header
		ICC int
	}{header(h), len(h.ICC)}
}

func TestLib_Decode_maxPixels(t *testing.T) {
	l := testLib(t)
	fs := makeFixtures(t, t.TempDir())
	data := readFile(t, fs[0].path) // 96×64
	tests := []struct {
		max  int
		fail bool
	}{
		{0, false},
		{96 * 64, false},
		{96*64 - 1, true},
		{100, true},
	}
	for _, tt := range tests {
		_, _, err := l.Decode(data, tt.max)
		if tt.fail != (err != nil) || tt.fail && !errors.Is(err, ErrTooLarge) {
			t.Errorf("Decode(maxPixels %d) error %v, want fail %v with ErrTooLarge", tt.max, err, tt.fail)
		}
	}
}

func TestLib_Decode_errors(t *testing.T) {
	l := testLib(t)
	fs := makeFixtures(t, t.TempDir())
	heic := readFile(t, fs[0].path)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrInvalid},
		{"not heif", []byte("\x89PNG\r\n\x1a\n0000000000000000000000"), ErrInvalid},
		{"truncated header", heic[:40], ErrInvalid},
		{"truncated data", heic[:len(heic)-len(heic)/3], ErrInvalid},
		// VVC is a codec libheif 1.15 knows by name but cannot decode.
		{"unsupported codec", replaceAll(heic, "hvc1", "vvc1"), ErrUnsupported},
		{"over libheif's limits", withISPE(t, heic, 1<<20, 1<<20), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := l.Decode(tt.data, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error %v, want %v", err, tt.want)
			}
			var he *Error
			if !errors.As(err, &he) || he.Message == "" {
				t.Errorf("error %#v carries no libheif message", err)
			}
			t.Logf("%v", err)
		})
	}
}

// opaqueCopy is img with alpha 255 everywhere.
func opaqueCopy(img *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	copy(out.Pix, img.Pix)
	for i := 3; i < len(out.Pix); i += 4 {
		out.Pix[i] = 255
	}
	return out
}

// replaceAll returns a copy of data with every old replaced by new.
func replaceAll(data []byte, old, new string) []byte {
	return bytes.ReplaceAll(data, []byte(old), []byte(new))
}

// withISPE returns a copy of data whose first ispe box says w×h.
func withISPE(t testing.TB, data []byte, w, h uint32) []byte {
	t.Helper()
	i := bytes.Index(data, []byte("ispe"))
	if i < 0 {
		t.Fatal("no ispe box")
	}
	out := bytes.Clone(data)
	binary.BigEndian.PutUint32(out[i+8:], w) // after type, version and flags
	binary.BigEndian.PutUint32(out[i+12:], h)
	return out
}

// TestLib_Decode_codedLargerThanHeader decodes files whose ispe says 64×64
// over a 1600×1200 coded frame: libheif 1.15 would decode the frame, so
// Decode must refuse them from the coded size, before decoding.
func TestLib_Decode_codedLargerThanHeader(t *testing.T) {
	l := testLib(t)
	needTool(t, "heif-enc", pkgHeifTool)
	needTool(t, "avifenc", pkgAvifTool)
	dir := t.TempDir()
	png := writePNG(t, dir, "flat.png", flat(1600, 1200, pattern(2, 2, false).NRGBAAt(1, 0)), nil, false)
	heic, avif := filepath.Join(dir, "flat.heic"), filepath.Join(dir, "flat.avif")
	run(t, "heif-enc", "-q", "30", "-p", "preset=ultrafast", "-o", heic, png)
	run(t, "avifenc", "-s", "9", "-j", "1", png, avif)
	for _, path := range []string{heic, avif} {
		t.Run(filepath.Ext(path), func(t *testing.T) {
			data := withISPE(t, readFile(t, path), 64, 64)
			hd, err := l.Probe(data)
			if err != nil {
				t.Fatal(err)
			}
			if hd.Width != 64 || hd.CodedPixels != 1600*1200 {
				t.Errorf("Probe: %dx%d, CodedPixels %d; want 64x64, %d", hd.Width, hd.Height, hd.CodedPixels, 1600*1200)
			}
			if DecodeCost(hd, len(data)) < 18*1600*1200 {
				t.Errorf("DecodeCost %d does not count the coded frame", DecodeCost(hd, len(data)))
			}
			if _, _, err := l.Decode(data, 1<<20); !errors.Is(err, ErrTooLarge) {
				t.Errorf("Decode(1 MP limit) error %v, want ErrTooLarge", err)
			}
			// Without a limit libheif decodes the frame, and Decode refuses
			// the result.
			if _, _, err := l.Decode(data, 0); !errors.Is(err, ErrInvalid) {
				t.Errorf("Decode(no limit) error %v, want ErrInvalid", err)
			}
		})
	}
}
