// Package cmem gives back to the system the C heap memory that native codecs
// (libwebp, libheif and their codecs) freed. glibc keeps freed memory in
// its per-thread arenas, so after a large native job the process's RSS
// stays high although nothing uses it; malloc_trim returns it.
package cmem

import (
	"sync"

	"github.com/ebitengine/purego"
)

// trim is glibc's malloc_trim, loaded once; nil where there is no glibc
// (a static binary, another libc), and Trim then does nothing. Loading a
// library cannot be undone, so it is process-wide.
var trim = sync.OnceValue(func() func(pad uintptr) int32 {
	h, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil
	}
	var f func(pad uintptr) int32
	defer func() { _ = recover() }() // no such symbol: leave f nil
	purego.RegisterLibFunc(&f, h, "malloc_trim")
	return f
})

// Trim returns the free memory of every malloc arena to the system. It
// reports whether it could call malloc_trim.
func Trim() bool {
	f := trim()
	if f == nil {
		return false
	}
	f(0)
	return true
}
