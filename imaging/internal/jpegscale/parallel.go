package jpegscale

import (
	"sync"
	"unsafe"
)

// A progressive JPEG's scans are separate entropy-coded segments, and a scan
// only reads and writes the coefficients of its components in its band
// (Ss..Se, the DC coefficient for a DC scan). Two scans that share no
// component, or whose bands do not overlap, can be decoded at the same time:
// libjpeg's usual script codes the chroma AC bands and the luma's low and
// high bands in scans of their own.
//
// With Options.Procs above 1, decode hands each planned Huffman-coded scan of
// a progressive file to a scanJob, which one of procs goroutines runs once
// the earlier scans it overlaps are done, while the marker loop goes on to
// the next scan. The job decodes with a copy of the
// decoder as it stood at the scan's SOS (the tables, the restart interval),
// so later DHT and DRI segments do not reach it.
//
// The parallel decode is optimistic: it is kept only if every scan was
// clean, with no damage, no warning and no stray byte after its data (which
// the marker loop, having skipped to the scan's end, would not have seen).
// Otherwise decode starts again on one goroutine, which meets the damage in
// file order and reports it exactly as it always has. So the result, the
// warnings and the errors are those of the serial decode, byte for byte.

// maxParallelScans bounds the scans decoded in parallel (libjpeg's and
// mozjpeg's scripts have 6 to 12); a file with more is decoded serially. It
// bounds the decoder copies the jobs hold (see Header.Cost).
const maxParallelScans = 24

type scanJob struct {
	w    *decoder // the decoder as it was at the scan's SOS; nil once begun
	s    scanHeader
	end  int // where the scan's entropy-coded data ends (skipEntropy)
	deps []*scanJob

	// Guarded by the pool's mutex.
	begun, done bool
	clean       bool // decoded with no error, warning or stray byte
}

// scanPool runs the jobs on procs goroutines. Each takes the first job, in
// file order, whose dependencies are done: the scans of a file's usual
// script then keep both goroutines busy, the luma's long refinement
// starting as soon as its bands are in.
type scanPool struct {
	mu     sync.Mutex
	cond   sync.Cond
	jobs   []*scanJob
	closed bool // no more jobs will be added
	panic  any  // a job's panic, raised again by wait
	wg     sync.WaitGroup
}

func newScanPool(procs int) *scanPool {
	p := &scanPool{}
	p.cond.L = &p.mu
	for range procs {
		p.wg.Go(p.work)
	}
	return p
}

// overlaps reports whether scans a and b touch a coefficient in common.
func (a *scanHeader) overlaps(b *scanHeader) bool {
	if a.se < b.ss || b.se < a.ss {
		return false
	}
	for i := 0; i < a.n; i++ {
		for j := 0; j < b.n; j++ {
			if a.comps[i].ci == b.comps[j].ci {
				return true
			}
		}
	}
	return false
}

// add queues the scan whose data begins at d.pos, and moves d.pos past its
// data.
func (p *scanPool) add(d *decoder, s *scanHeader) {
	end := skipEntropy(d.data, d.pos)
	w := new(decoder)
	*w = *d
	w.report, w.moreWarnings = Report{}, 0 // the job's own: a clean job has none
	w.scans = nil
	j := &scanJob{w: w, s: *s, end: end}
	p.mu.Lock()
	for _, e := range p.jobs {
		if e.s.overlaps(s) {
			j.deps = append(j.deps, e)
		}
	}
	p.jobs = append(p.jobs, j)
	p.mu.Unlock()
	p.cond.Broadcast()
	d.pos = end
}

// work runs jobs until there are no more.
func (p *scanPool) work() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		j, more := p.next()
		if j == nil {
			if !more {
				return
			}
			p.cond.Wait()
			continue
		}
		j.begun = true
		clean := true
		for _, e := range j.deps {
			clean = clean && e.clean
		}
		if clean { // else decode starts again anyway
			w := j.w
			p.mu.Unlock()
			clean = p.decode(w, j)
			p.mu.Lock()
		}
		j.w = nil
		j.done, j.clean = true, clean
		p.cond.Broadcast()
	}
}

// next returns the first job not yet begun whose dependencies are done,
// and whether any job is left to begin or may still be added.
func (p *scanPool) next() (*scanJob, bool) {
	more := !p.closed
	for _, j := range p.jobs {
		if j.begun {
			continue
		}
		more = true
		ready := true
		for _, e := range j.deps {
			ready = ready && e.done
		}
		if ready {
			return j, true
		}
	}
	return nil, more
}

// decode decodes j's scan with w and reports whether it was clean. A panic
// is kept for wait and counts as not clean.
func (p *scanPool) decode(w *decoder, j *scanJob) (clean bool) {
	defer func() {
		if r := recover(); r != nil {
			p.mu.Lock()
			if p.panic == nil {
				p.panic = r
			}
			p.mu.Unlock()
			clean = false
		}
	}()
	err := w.decodeScan(&j.s)
	return err == nil && len(w.report.Warnings) == 0 && w.moreWarnings == 0 &&
		w.extra == 0 && onlyFill(w.data[min(w.pos, j.end):j.end])
}

// onlyFill reports whether b is 0xFF fill bytes, which the marker loop
// skips without a word.
func onlyFill(b []byte) bool {
	for _, c := range b {
		if c != 0xFF {
			return false
		}
	}
	return true
}

// wait waits for every job and reports whether all were clean. A job's
// panic is raised again here, on the decoding goroutine.
func (p *scanPool) wait() bool {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
	p.wg.Wait()
	if p.panic != nil {
		panic(p.panic)
	}
	for _, j := range p.jobs {
		if !j.clean {
			return false
		}
	}
	return true
}

// scanJobsCost bounds what decoding a progressive file's scans in parallel
// adds: a decoder copy and a job per scan, and the goroutines.
func (h Header) scanJobsCost() int64 {
	if !h.Progressive {
		return 0
	}
	return maxParallelScans*(int64(unsafe.Sizeof(decoder{}))+int64(unsafe.Sizeof(scanJob{}))+64) + 64<<10
}
