package jpegscale

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestProbe checks, on every fixture and on the corpus, that Probe says from
// the header alone what Decode will do (decode, or refuse as unsupported),
// and that Cost bounds every byte Decode allocates at every scale.
func TestProbe(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	if testing.Short() || raceEnabled {
		t.Log("the corpus is left out under -short and -race")
	} else if dir := corpusDir(); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		files = append(files, more...)
	}
	if len(files) < 40 {
		t.Fatalf("found %d JPEG fixtures, want the 40-odd in testdata", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) { checkCost(t, "", data) })
	}
}

// checkCost checks that Probe says what Decode does with data at every
// scale, and that Cost bounds every byte Decode allocates, with and without
// Options.Partial.
func checkCost(t *testing.T, name string, data []byte) {
	t.Helper()
	h := Probe(data)
	for _, denom := range []int{1, 2, 4, 8} {
		for _, partial := range []bool{false, true} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			img, _, err := DecodeWith(data, denom, Options{Partial: partial})
			runtime.ReadMemStats(&after)
			if (h.Err == nil) != (err == nil) || errors.Is(h.Err, ErrUnsupported) != errors.Is(err, ErrUnsupported) {
				t.Fatalf("%s 1/%d: Probe says %v, Decode returned %v", name, denom, h.Err, err)
			}
			if err != nil {
				continue
			}
			if b := img.Bounds(); b.Dx() != (h.Width+denom-1)/denom || b.Dy() != (h.Height+denom-1)/denom {
				t.Errorf("%s 1/%d: Decode gave %v, Probe said %d×%d", name, denom, b, h.Width, h.Height)
			}
			if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > h.Cost(denom) {
				t.Errorf("%s 1/%d: Decode allocated %d bytes, over Cost %d", name, denom, alloc, h.Cost(denom))
			}
		}
	}
}

// checkCostWith checks, for damaged or truncated data whose header Probe
// reads, that Cost bounds what DecodeWith allocates with and without
// Options.Partial, and that Partial returns an image of the right size
// where the plain decode reports a truncation after the first scan began.
func checkCostWith(t *testing.T, name string, data []byte) {
	t.Helper()
	h := Probe(data)
	if h.Err != nil {
		return
	}
	for _, denom := range []int{1, 2, 4, 8} {
		var te *TruncatedError
		for _, partial := range []bool{false, true} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			img, _, err := DecodeWith(data, denom, Options{Partial: partial})
			runtime.ReadMemStats(&after)
			if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > h.Cost(denom) {
				t.Errorf("%s 1/%d partial=%v: DecodeWith allocated %d bytes, over Cost %d", name, denom, partial, alloc, h.Cost(denom))
			}
			if !partial {
				errors.As(err, &te)
				continue
			}
			if te != nil && te.Scan > 0 && err != nil {
				t.Errorf("%s 1/%d partial: %v", name, denom, err)
			}
			if err == nil {
				if b := img.Bounds(); b.Dx() != (h.Width+denom-1)/denom || b.Dy() != (h.Height+denom-1)/denom {
					t.Errorf("%s 1/%d partial: bounds %v, Probe said %d×%d", name, denom, b, h.Width, h.Height)
				}
			}
		}
	}
}
