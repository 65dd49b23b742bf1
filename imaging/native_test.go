package imaging

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestNativeMemory_hold(t *testing.T) {
	old := debug.SetMemoryLimit(1 << 30)
	defer debug.SetMemoryLimit(old)
	m := newNativeMemory()
	a := m.hold(96 << 20)
	b := m.hold(48 << 20)
	// Each hold adds an eighth and 16 MiB for the C allocator's own keep.
	if want := int64(1<<30 - (96+12+16+48+6+16)<<20); debug.SetMemoryLimit(-1) != want {
		t.Errorf("limit with 144 MiB native held = %d MiB, want %d", debug.SetMemoryLimit(-1)>>20, want>>20)
	}
	big := m.hold(2 << 30)
	if got := debug.SetMemoryLimit(-1); got != 1<<28 {
		t.Errorf("limit with more native than the limit = %d MiB, want a quarter of it", got>>20)
	}
	big()
	a()
	b()
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("limit after release = %d MiB, want 1024", got>>20)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	m = newNativeMemory()
	m.hold(1 << 20)()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("without a limit, hold set one: %d", got)
	}
}
