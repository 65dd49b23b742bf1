package imaging

import (
	"math"
	"runtime/debug"
	"sync"

	"github.com/imgsvc/imgsvc/imaging/internal/cmem"
)

// nativeMemory keeps the Go memory limit (GOMEMLIMIT) honest while native
// codecs (libwebp, libheif) hold memory the Go runtime cannot see: for the
// length of a job it lowers the limit by the job's native cost, so the
// collector keeps the Go heap that much smaller and the process as a whole
// stays within the limit. Without a limit it does nothing.
type nativeMemory struct {
	mu    sync.Mutex
	base  int64 // the limit in force when the pipeline was made
	inUse int64
}

func newNativeMemory() *nativeMemory {
	return &nativeMemory{base: debug.SetMemoryLimit(-1)}
}

// hold lowers the limit by n, and by what the C allocator keeps around it
// (an eighth, and 16 MiB of arenas), for as long as the returned func is not
// called.
func (m *nativeMemory) hold(n int64) (release func()) {
	if n <= 0 || m.base == math.MaxInt64 {
		return func() {}
	}
	n += n/8 + 16<<20
	m.set(n)
	return func() {
		m.set(-n)
		// glibc keeps what the codec freed in its arenas: give it back, or
		// the next job's Go heap grows on top of it.
		cmem.Trim()
	}
}

func (m *nativeMemory) set(delta int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inUse += delta
	// Never below a quarter of the limit: the Go heap needs room too, and
	// admission has bounded what jobs hold.
	debug.SetMemoryLimit(max(m.base-m.inUse, m.base/4))
}
