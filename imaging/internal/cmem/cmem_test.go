package cmem

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// TestTrim frees many small C allocations (which glibc keeps in its heap,
// below the mmap threshold) and checks that Trim gives the memory back.
func TestTrim(t *testing.T) {
	h, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		t.Skipf("no glibc here: %v", err)
	}
	var malloc func(n uintptr) unsafe.Pointer
	var free func(p unsafe.Pointer)
	purego.RegisterLibFunc(&malloc, h, "malloc")
	purego.RegisterLibFunc(&free, h, "free")
	const n, size = 20000, 8 << 10 // 160 MB in blocks glibc keeps in its heap
	ptrs := make([]unsafe.Pointer, n)
	for i := range ptrs {
		ptrs[i] = malloc(size)
		clear(unsafe.Slice((*byte)(ptrs[i]), size)) // touch the pages
	}
	for i := range n - 1 { // the last stays, so the top of the heap does not shrink by itself
		free(ptrs[i])
	}
	before := rss(t)
	if !Trim() {
		t.Fatal("Trim found no malloc_trim in glibc")
	}
	after := rss(t)
	t.Logf("RSS %d MiB before Trim, %d MiB after", before>>20, after>>20)
	if before-after < 32<<20 || after > before/2 {
		t.Errorf("RSS %d MiB before Trim, %d MiB after: want the freed memory given back", before>>20, after>>20)
	}
	free(ptrs[n-1])
}
