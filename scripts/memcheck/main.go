// Command memcheck drives a running imgsvc with the inputs and connection
// patterns that used to break its memory bound, and checks that it holds:
// peak RSS under a limit, the Go heap bounded while uploads stall, and only
// the answers 200, 413, 422 and 503. scripts/memory.sh runs it against the
// binary and against a container with the stack file's limits.
//
//	go run ./scripts/memcheck -url http://127.0.0.1:8080 -admin http://127.0.0.1:9090 -pid 1234
//
// It reads the process's peak RSS (VmHWM) from /proc/PID/status and resets
// it between scenarios through /proc/PID/clear_refs, so it runs as root or as
// the service's user. It exits 1 when a check fails.
package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "memcheck: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	base, admin string
	pid         int
	inputs      string
	maxRSS      int64
	maxStallHep int64
	stalled     int
	stallFor    time.Duration
	uploads     int
}

func run() error {
	var c config
	flag.StringVar(&c.base, "url", "http://127.0.0.1:8080", "the service's public URL")
	flag.StringVar(&c.admin, "admin", "http://127.0.0.1:9090", "the service's admin URL (/metrics)")
	flag.IntVar(&c.pid, "pid", 0, "the service's process ID, for its RSS")
	flag.StringVar(&c.inputs, "inputs", "", "directory to keep the generated inputs in between runs (default: a temporary one)")
	flag.Int64Var(&c.maxRSS, "max-rss", 480<<20, "peak RSS allowed in every scenario, bytes")
	flag.Int64Var(&c.maxStallHep, "max-stall-heap", 300e6, "Go heap allowed while uploads stall, bytes")
	flag.IntVar(&c.stalled, "stalled", 200, "uploads that declare 33 MB and stall")
	flag.DurationVar(&c.stallFor, "stall-for", 15*time.Second, "how long the stalled uploads hold their connections")
	flag.IntVar(&c.uploads, "uploads", 24, "concurrent genuine 30 MB uploads")
	flag.Parse()
	if c.pid <= 0 {
		return errors.New("-pid is required")
	}
	if c.inputs == "" {
		dir, err := os.MkdirTemp("", "memcheck")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.inputs = dir
	}

	fmt.Println("memcheck: generating inputs")
	rgb16, err := input(c.inputs, "rgb16-9000.png", func(w io.Writer) error { return writePNG(w, 9000, 9000, 2, 16, false, false) })
	if err != nil {
		return err
	}
	rgba16, err := input(c.inputs, "rgba16-7000.png", func(w io.Writer) error { return writePNG(w, 7000, 7000, 6, 16, false, false) })
	if err != nil {
		return err
	}
	interlaced, err := input(c.inputs, "rgba8-interlaced-9000.png", func(w io.Writer) error { return writePNG(w, 9000, 9000, 6, 8, true, false) })
	if err != nil {
		return err
	}
	big, err := input(c.inputs, "noise-30mb.png", func(w io.Writer) error { return writePNG(w, 2740, 2740, 6, 8, false, true) })
	if err != nil {
		return err
	}
	small, err := input(c.inputs, "small.png", func(w io.Writer) error { return writePNG(w, 640, 480, 2, 8, false, false) })
	if err != nil {
		return err
	}

	type scenario struct {
		name string
		run  func(r *report)
	}
	post := func(src []byte, query string, n int) func(r *report) {
		return func(r *report) { r.concurrent(c.base, src, query, n) }
	}
	scenarios := []scenario{
		{"16-bit RGB PNG 9000x9000, width=100", post(rgb16, "width=100", 1)},
		{"16-bit RGB PNG 9000x9000, width=100, 4 at once", post(rgb16, "width=100", 4)},
		{"16-bit RGBA PNG 7000x7000, width=100", post(rgba16, "width=100", 1)},
		{"16-bit RGBA PNG 7000x7000, width=100, 4 at once", post(rgba16, "width=100", 4)},
		{"16-bit RGBA PNG 7000x7000, full size", post(rgba16, "", 1)},
		{"16-bit RGBA PNG 7000x7000, full size, 4 at once", post(rgba16, "", 4)},
		{"interlaced RGBA PNG 9000x9000, width=100", post(interlaced, "width=100", 1)},
		{"interlaced RGBA PNG 9000x9000, width=100, 4 at once", post(interlaced, "width=100", 4)},
		{fmt.Sprintf("%d uploads declaring 33 MB that stall", c.stalled), func(r *report) { r.stall(c, small) }},
		{fmt.Sprintf("%d concurrent 30 MB uploads, width=300", c.uploads), post(big, "width=300", c.uploads)},
		{"30 MB noise PNG re-encoded at full size, 4 at once", post(big, "", 4)},
		{"30 MB noise PNG to JPEG at full size, rotate=90, 4 at once", post(big, "format=jpeg&rotate=90", 4)},
		// libwebp's buffers are native: the Go heap and GOMEMLIMIT do not see them.
		{"30 MB noise PNG to WebP at 1800 px, 4 at once", post(big, "format=webp&width=1800", 4)},
	}
	fmt.Printf("memcheck: inputs: 16-bit RGB %d KiB, 16-bit RGBA %d KiB, interlaced %d KiB, noise %.1f MB\n",
		len(rgb16)>>10, len(rgba16)>>10, len(interlaced)>>10, float64(len(big))/1e6)
	fmt.Printf("memcheck: limits: peak RSS < %d MiB in every scenario, Go heap < %d MB while uploads stall, answers in {200, 413, 422, 503}\n\n",
		c.maxRSS>>20, c.maxStallHep/1e6)
	fmt.Printf("%-62s %-30s %10s %s\n", "scenario", "answers", "peak RSS", "result")
	failed := 0
	for _, s := range scenarios {
		if err := resetPeak(c.pid); err != nil {
			return err
		}
		r := &report{codes: map[int]int{}}
		start := time.Now()
		s.run(r)
		peak, err := peakRSS(c.pid)
		if err != nil {
			return fmt.Errorf("%s: the service is gone: %w", s.name, err)
		}
		for code := range r.codes {
			if code != 200 && code != 413 && code != 422 && code != 503 {
				r.fail("answer %d", code)
			}
		}
		if peak >= c.maxRSS {
			r.fail("peak RSS %d MiB", peak>>20)
		}
		result := "PASS"
		if len(r.problems) > 0 {
			result = "FAIL: " + strings.Join(r.problems, "; ")
			failed++
		}
		fmt.Printf("%-62s %-30s %6.1f MiB %s (%.1fs)\n", s.name, r.answers(), float64(peak)/(1<<20), result, time.Since(start).Seconds())
		for _, n := range r.notes {
			fmt.Printf("    %s\n", n)
		}
	}
	if resp, err := http.Get(c.base + "/healthz"); err != nil || resp.StatusCode != 200 {
		failed++
		fmt.Printf("after all scenarios /healthz: %v %v: FAIL\n", err, resp)
	} else {
		resp.Body.Close()
		fmt.Println("after all scenarios: /healthz 200")
	}
	fmt.Printf("\nmemcheck: %d of %d scenarios passed\n", len(scenarios)-failed, len(scenarios))
	if failed > 0 {
		return fmt.Errorf("%d scenarios failed", failed)
	}
	return nil
}

// report collects what one scenario saw.
type report struct {
	mu       sync.Mutex
	codes    map[int]int
	errs     int
	problems []string
	notes    []string
}

func (r *report) add(code int) {
	r.mu.Lock()
	r.codes[code]++
	r.mu.Unlock()
}

func (r *report) fail(format string, args ...any) {
	r.mu.Lock()
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *report) answers() string {
	var codes []int
	for c := range r.codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", r.codes[c], c))
	}
	if r.errs > 0 {
		parts = append(parts, fmt.Sprintf("%d×no answer", r.errs))
	}
	return strings.Join(parts, " ")
}

// concurrent posts src n times at once.
func (r *report) concurrent(base string, src []byte, query string, n int) {
	client := &http.Client{Timeout: 3 * time.Minute}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := client.Post(base+"/v1/process?"+query, "image/png", bytes.NewReader(src))
			if err != nil {
				r.fail("request error: %v", err)
				return
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			resp.Body.Close()
			r.add(resp.StatusCode)
			if resp.StatusCode != 200 {
				r.mu.Lock()
				if len(r.notes) < 3 {
					r.note("%d: %s", resp.StatusCode, truncate(string(body), 200))
				}
				r.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// stall opens c.stalled connections that each declare a 33 MB body, send its
// first 4 bytes and then nothing. While they hold, it samples the Go heap
// and sends a normal request, which must be answered 200.
func (r *report) stall(c config, small []byte) {
	u, _ := url.Parse(c.base)
	var conns []net.Conn
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for range c.stalled {
		conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			r.fail("dial: %v", err)
			break
		}
		conns = append(conns, conn)
		fmt.Fprintf(conn, "POST /v1/process?width=100 HTTP/1.1\r\nHost: %s\r\nContent-Type: image/png\r\nContent-Length: 33000000\r\n\r\n\x89PNG", u.Host)
		wg.Go(func() {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return // closed by us at the end: the upload was still admitted
			}
			resp.Body.Close()
			mu.Lock()
			answered++
			mu.Unlock()
			r.add(resp.StatusCode)
		})
	}
	var maxHeap, maxSys float64
	deadline := time.Now().Add(c.stallFor)
	normalAt := time.Now().Add(3 * time.Second)
	normalDone := false
	for time.Now().Before(deadline) {
		if heap, sys, err := goHeap(c.admin); err == nil {
			maxHeap, maxSys = max(maxHeap, heap), max(maxSys, sys)
		}
		if !normalDone && time.Now().After(normalAt) {
			normalDone = true
			start := time.Now()
			resp, err := http.Post(c.base+"/v1/process?width=100", "image/png", bytes.NewReader(small))
			switch {
			case err != nil:
				r.fail("a normal request while uploads stall: %v", err)
			case resp.StatusCode != 200:
				r.fail("a normal request while uploads stall: %d", resp.StatusCode)
			default:
				r.note("a normal request while %d uploads stall: 200 in %.0f ms", len(conns), float64(time.Since(start).Microseconds())/1e3)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, conn := range conns {
		conn.Close()
	}
	wg.Wait()
	r.note("Go heap while stalling: at most %.1f MB in use (heap_alloc), %.1f MB obtained from the OS (heap_sys); %d of %d uploads were answered before we closed them",
		maxHeap/1e6, maxSys/1e6, answered, len(conns))
	if maxHeap >= float64(c.maxStallHep) {
		r.fail("Go heap %.0f MB while stalling", maxHeap/1e6)
	}
}

// goHeap reads go_memstats_heap_alloc_bytes and go_memstats_heap_sys_bytes.
func goHeap(admin string) (alloc, sys float64, err error) {
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_memstats_heap_alloc_bytes":
			alloc = v
		case "go_memstats_heap_sys_bytes":
			sys = v
		}
	}
	return alloc, sys, sc.Err()
}

func resetPeak(pid int) error {
	// Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, err := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// input returns the bytes of a generated input, made once per directory.
func input(dir, name string, gen func(io.Writer) error) ([]byte, error) {
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	}
	var buf bytes.Buffer
	if err := gen(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), os.WriteFile(path, buf.Bytes(), 0o644)
}

// writePNG streams a w×h PNG of colour type ctype (2 RGB, 6 RGBA) and bit
// depth 8 or 16, Adam7-interlaced or not, without holding the image: bands
// of colour that compress a thousandfold, or noise stored uncompressed.
func writePNG(w io.Writer, width, height int, ctype byte, depth int, interlaced, noise bool) error {
	io.WriteString(w, "\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = byte(depth), ctype
	if interlaced {
		ihdr[12] = 1
	}
	chunk(w, "IHDR", ihdr)
	channels := 3
	if ctype == 6 {
		channels = 4
	}
	bps := depth / 8
	var idat bytes.Buffer
	level := zlib.DefaultCompression
	if noise {
		level = zlib.NoCompression
	}
	zw, _ := zlib.NewWriterLevel(&idat, level)
	rng := rand.New(rand.NewPCG(7, 9))
	passes := [][4]int{{0, 0, 1, 1}}
	if interlaced {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	flush := func() error {
		if idat.Len() < 1<<20 {
			return nil
		}
		chunk(w, "IDAT", idat.Bytes())
		idat.Reset()
		return nil
	}
	for _, p := range passes {
		x0, y0, dx, dy := p[0], p[1], p[2], p[3]
		pw := (width - x0 + dx - 1) / dx
		if pw <= 0 {
			continue
		}
		row := make([]byte, 1+pw*channels*bps)
		for y := y0; y < height; y += dy {
			for i := range pw {
				x := x0 + i*dx
				for ch := range channels {
					// Long runs of one colour: the file is tiny, the image is not.
					v := uint16((x/2048*5000 + y*13 + ch*9000) & 0xffff)
					if ch == 3 {
						v = uint16(65535 - y*65535/height/2)
					}
					if noise {
						v = uint16(rng.Uint32())
					}
					o := 1 + (i*channels+ch)*bps
					if bps == 2 {
						binary.BigEndian.PutUint16(row[o:], v)
					} else {
						row[o] = byte(v >> 8)
					}
				}
			}
			if _, err := zw.Write(row); err != nil {
				return err
			}
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	chunk(w, "IDAT", idat.Bytes())
	chunk(w, "IEND", nil)
	return nil
}

func chunk(w io.Writer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(data)))
	copy(hdr[4:], typ)
	w.Write(hdr[:])
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	binary.Write(w, binary.BigEndian, crc.Sum32())
}
