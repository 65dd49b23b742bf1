package heif

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/ebitengine/purego"
)

// mallinfo2 is glibc's struct mallinfo2.
type mallinfo2 struct {
	arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost uintptr
}

// mallocInUse returns the bytes glibc's malloc has handed out and not had
// back, in every arena and in separate mappings.
func mallocInUse(t testing.TB) int64 {
	t.Helper()
	libc, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		t.Skipf("no libc.so.6: %v", err)
	}
	var info func() mallinfo2
	purego.RegisterLibFunc(&info, libc, "mallinfo2")
	m := info()
	return int64(m.uordblks + m.hblkhd)
}

// TestLib_noLeak decodes, probes and encodes in a loop, through the error
// paths too, and checks that neither malloc's bytes in use nor the RSS grow.
func TestLib_noLeak(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("loops for seconds and measures RSS: not with -short or -race")
	}
	l := testLib(t)
	var inputs [][]byte
	for _, f := range makeFixtures(t, t.TempDir()) {
		d := readFile(t, f.path)
		inputs = append(inputs, d, d[:len(d)*2/3])
	}
	img := pattern(200, 150, true)
	round := func() {
		for _, d := range inputs {
			l.Probe(d)
			l.Decode(d, 0)
		}
		l.Decode(inputs[0], 10) // refused before decoding
		if _, err := l.EncodeAVIF(img, EncodeOptions{Quality: 50, Speed: 9, ICC: inputs[0][:100]}); err != nil {
			t.Fatal(err)
		}
	}
	settle := func() (inUse, rss int64) {
		runtime.GC()
		debug.FreeOSMemory()
		mallocTrim(t)
		return mallocInUse(t), procStatus(t, "VmRSS")
	}
	for range 10 {
		round()
	}
	use0, rss0 := settle()
	const rounds = 100
	for range rounds {
		round()
	}
	use1, rss1 := settle()
	t.Logf("%d rounds of %d decodes and probes and one encode: malloc in use %+d bytes, RSS %+d KiB",
		rounds, len(inputs), use1-use0, (rss1-rss0)>>10)
	// One leaked 200×150 RGBA image a round would be 12 MB.
	if use1-use0 > 1<<20 {
		t.Errorf("malloc in use grew by %d bytes over %d rounds", use1-use0, rounds)
	}
	if rss1-rss0 > 8<<20 {
		t.Errorf("RSS grew by %d KiB over %d rounds", (rss1-rss0)>>10, rounds)
	}
}
