package jpegenc

import (
	"sync"
	"sync/atomic"
)

// restarts splits a scan's MCU rows into bands that are coded
// independently, on several goroutines, and joined with restart markers:
// a restart resets the DC predictions and starts on a byte boundary, so a
// band's code does not depend on the band before. With one band there is
// no restart interval and the scan is what a serial coder writes.
type restarts struct {
	rows, k, bands int // MCU rows, rows a band (the last may have fewer), bands
	interval       int // the DRI restart interval in MCUs: k rows; 0 with one band
}

// planRestarts makes procs bands of rows MCU rows of perRow MCUs each, or
// more if a band would exceed the 65535 MCUs a restart interval can hold.
func planRestarts(rows, perRow, procs int) restarts {
	if procs <= 1 || rows < 2 {
		return restarts{rows: rows, k: rows, bands: 1}
	}
	k := max(1, min(ceilDiv(rows, procs), 65535/perRow))
	return restarts{rows: rows, k: k, bands: ceilDiv(rows, k), interval: k * perRow}
}

// span is band b's MCU rows.
func (p *restarts) span(b int) (int, int) {
	return b * p.k, min((b+1)*p.k, p.rows)
}

// each runs fn for bands first, first+1, … on up to procs goroutines,
// worker 0 being the caller's, which runs lead first if it is not nil;
// fn(worker, band) runs the bands of one worker one after another.
func (p *restarts) each(procs, first int, lead func(), fn func(worker, band int)) {
	var next atomic.Int64
	next.Store(int64(first))
	work := func(w int) {
		for {
			b := int(next.Add(1) - 1)
			if b >= p.bands {
				return
			}
			fn(w, b)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < min(procs, p.bands); w++ {
		wg.Go(func() { work(w) })
	}
	if lead != nil {
		lead()
	}
	work(0)
	wg.Wait()
}

// sliceWriter appends what is written to it.
type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// code entropy-codes the bands on up to procs goroutines and writes them
// to bw in order, each after the first preceded by its RSTn marker.
// code(worker, bw, r0, r1) codes MCU rows [r0, r1) with DC predictions
// starting from zero and reports false if a value did not fit. The first
// band to be coded goes straight to bw; the others are held in memory
// until it is their turn (Cost counts them).
func (p *restarts) code(bw *bitWriter, procs int, code func(worker int, bw *bitWriter, r0, r1 int) bool) bool {
	if p.bands == 1 {
		return code(0, bw, 0, p.rows)
	}
	held := make([][]byte, p.bands)
	oks := make([]bool, p.bands)
	lead := func() {
		r0, r1 := p.span(0)
		oks[0] = code(0, bw, r0, r1)
		bw.finish()
	}
	p.each(procs, 1, lead, func(w, b int) {
		r0, r1 := p.span(b)
		var s sliceWriter
		cw := &bitWriter{w: &s, buf: make([]byte, 0, 4096)}
		oks[b] = code(w, cw, r0, r1)
		cw.finish()
		cw.drain()
		held[b] = s.b
	})
	ok := true
	for b := range p.bands {
		ok = ok && oks[b]
		if b == 0 {
			continue
		}
		bw.buf = append(bw.buf, 0xFF, 0xD0+byte((b-1)%8))
		bw.buf = append(bw.buf, held[b]...)
		held[b] = nil
		if len(bw.buf) >= flushAt {
			bw.drain()
		}
	}
	return ok
}
