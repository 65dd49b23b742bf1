package heif

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebitengine/purego"
)

// procStatus returns a field of /proc/self/status in bytes (for kB fields)
// or as a count.
func procStatus(t testing.TB, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(val)
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// mallocTrim returns glibc's free heap memory to the system, so that
// native allocations after it show in RSS again. It also makes glibc map
// every block of 64 KiB or more on its own: the kernel notes the peak RSS
// when a mapping goes, but not when glibc gives memory back with
// madvise, as it does in the arenas of threads other than the main one.
func mallocTrim(t testing.TB) {
	t.Helper()
	libc, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		t.Skipf("no libc.so.6: %v", err)
	}
	var trim func(pad uintptr) int32
	var mallopt func(param, value int32) int32
	purego.RegisterLibFunc(&trim, libc, "malloc_trim")
	purego.RegisterLibFunc(&mallopt, libc, "mallopt")
	const mmapThreshold = -3 // M_MMAP_THRESHOLD
	if mallopt(mmapThreshold, 64<<10) != 1 {
		t.Fatal("mallopt(M_MMAP_THRESHOLD) failed")
	}
	trim(0)
}

// measure runs fn and returns the peak memory it used: the growth of the
// process's peak RSS (VmHWM, reset through /proc/self/clear_refs) over its
// RSS before, and the most threads the process had during fn beyond those
// before. fn must allocate little on the Go heap, as that counts too.
func measure(t testing.TB, fn func()) (native int64, threads int) {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	mallocTrim(t)
	threads0 := procStatus(t, "Threads")
	rss0 := procStatus(t, "VmRSS")
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}

	var maxThreads int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			maxThreads = max(maxThreads, procStatus(t, "Threads"))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	hwm := procStatus(t, "VmHWM")
	close(done)
	wg.Wait()
	return hwm - rss0, int(maxThreads - threads0)
}
