package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// This file is the hostile-input suite: it builds the real binary, starts it
// with modest limits and sends it what an attacker or a broken client would:
// pixel floods, bombs, truncated and corrupt files, slow and oversized
// requests, absurd options. Every case must get a prompt, precise 4xx (or a
// 200 where the input is legal), never a 5xx, a hang or a crash; the process
// must still answer /healthz after each; and its resident memory must stay
// under hostileRSSLimit. Answers that net/http writes itself (431, 400 for
// a malformed request line) are text/plain; everything that reaches the
// handlers is application/problem+json. docs/reliability.md lists the cases.

// The limits the instance under test runs with.
const (
	hostileMaxBody     = 4 << 20
	hostileMaxPixels   = 5_000_000
	hostileHeaderBytes = 8 << 10
	hostileBodyTimeout = 1500 * time.Millisecond
	hostileHeaderWait  = time.Second
	hostileRSSLimit    = 160 << 20 // resident memory the process must stay under
	hostileMemBudget   = 256 << 20
)

// hostileInstance is the binary under test, with its resident memory watched.
type hostileInstance struct {
	*binInstance
	peakRSS atomic.Int64
}

func (s *hostileInstance) healthy(limit time.Duration) bool {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return false
		default:
		}
		if resp, err := c.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// rss reads a field of /proc/<pid>/status, in bytes.
func (s *hostileInstance) rss(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (s *hostileInstance) watchRSS() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.exited:
			return
		case <-tick.C:
			if r := s.rss("VmRSS"); r > s.peakRSS.Load() {
				s.peakRSS.Store(r)
			}
		}
	}
}

// peak is the highest resident set seen: the kernel's high-water mark when
// it has one, else the sampled maximum.
func (s *hostileInstance) peak() int64 {
	return max(s.peakRSS.Load(), s.rss("VmHWM"))
}

// ---- hostile files ---------------------------------------------------------

func hostileSeed(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hostile", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pngChunkBytes(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// hostilePNGHeader is a PNG whose IHDR claims w×h RGBA pixels, with an IDAT of no pixels.
func hostilePNGHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunkBytes("IHDR", ihdr)...)
	out = append(out, pngChunkBytes("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunkBytes("IEND", nil)...)
}

// hostileJPEGHeader is a JFIF JPEG whose baseline frame header claims w×h,
// with nothing after it.
func hostileJPEGHeader(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
		0xFF, 0xC0, 0x00, 0x11, 0x08, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 0x03,
		0x01, 0x22, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00}
	return append(b, 0xFF, 0xD9)
}

// hostileGIFHeader is a GIF whose logical screen is w×h, with no frames.
func hostileGIFHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0x00, 0x00, 0x00, ';')
}

// hostileBMPHeader is a 24-bit BMP header claiming w×h and no pixel data.
func hostileBMPHeader(w, h int32) []byte {
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = binary.LittleEndian.AppendUint32(b, 40)
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 24)
	return append(b, make([]byte, 24)...)
}

// hostileTIFFHeader is a little-endian grey TIFF claiming w×h with one strip.
func hostileTIFFHeader(w, h uint32) []byte {
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	entries := []entry{{256, 4, w}, {257, 4, h}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1}, {273, 4, 8}, {277, 3, 1}, {278, 4, h}, {279, 4, 1}}
	b := []byte("II*\x00")
	b = binary.LittleEndian.AppendUint32(b, 8)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.typ)
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = binary.LittleEndian.AppendUint32(b, e.val)
	}
	return binary.LittleEndian.AppendUint32(b, 0)
}

// hostileWebPHeader is an extended (VP8X) WebP whose canvas is w×h, with no image data.
func hostileWebPHeader(w, h uint32) []byte {
	vp8x := []byte{0, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	body := []byte("WEBPVP8X")
	body = binary.LittleEndian.AppendUint32(body, uint32(len(vp8x)))
	body = append(body, vp8x...)
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

func hostileGzip(t *testing.T, n int, deflateOnly bool) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	if deflateOnly {
		w, _ = flate.NewWriter(&b, flate.BestCompression)
	} else {
		w, _ = gzip.NewWriterLevel(&b, gzip.BestCompression)
	}
	zero := make([]byte, 1<<20)
	for range n >> 20 {
		w.Write(zero)
	}
	w.Close()
	return b.Bytes()
}

// corruptAt returns a copy of b with the bytes at off..off+n inverted.
func corruptAt(b []byte, off, n int) []byte {
	c := bytes.Clone(b)
	for i := off; i < off+n && i < len(c); i++ {
		c[i] ^= 0xFF
	}
	return c
}

func hostileMultipart(t *testing.T, build func(w *multipart.Writer)) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	build(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), w.FormDataContentType()
}

func hostileJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- requests --------------------------------------------------------------

// hostileCase is one hostile request and the answer it must get.
type hostileCase struct {
	name    string
	route   string // default /v1/process
	query   string
	ct      string
	header  map[string]string
	body    []byte
	chunked bool // send the body without a Content-Length
	// raw, if set, talks to the socket itself instead of the fields above.
	raw func(t *testing.T, addr string) (response, error)
	// status and code are the answer wanted; code "" means net/http's own
	// text/plain answer, and status 0 that the server closes the connection
	// without one.
	status int
	code   string
	within time.Duration // default 3 s
	check  func(t *testing.T, a response)
}

var hostileClient = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true, ExpectContinueTimeout: 5 * time.Second},
}

func (c hostileCase) do(t *testing.T, s *hostileInstance) (response, error) {
	if c.raw != nil {
		return c.raw(t, s.addr)
	}
	route := c.route
	if route == "" {
		route = "/v1/process"
	}
	url := s.base + route
	if c.query != "" {
		url += "?" + c.query
	}
	var body io.Reader = bytes.NewReader(c.body)
	if c.chunked {
		body = io.MultiReader(bytes.NewReader(c.body)) // unknown length: chunked
	}
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.ct != "" {
		req.Header.Set("Content-Type", c.ct)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := hostileClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}, err
}

// hostileRaw writes head, then feeds the rest with send, and reads one
// answer; status 0 means the server closed the connection without one.
func hostileRaw(t *testing.T, addr, head string, send func(c net.Conn)) (response, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return response{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		return response{}, err
	}
	if send != nil {
		send(c)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if err == io.EOF || errors_is_reset(err) {
			return response{}, nil // closed without an answer
		}
		return response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}, nil
}

func errors_is_reset(err error) bool {
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "unexpected EOF")
}

// trickle writes s one byte every gap until it is written or the peer goes away.
func trickle(s string, gap time.Duration) func(c net.Conn) {
	return func(c net.Conn) {
		for i := 0; i < len(s); i++ {
			if _, err := c.Write([]byte{s[i]}); err != nil {
				return
			}
			time.Sleep(gap)
		}
	}
}

// ---- the suite ---------------------------------------------------------------

func hostileCases(t *testing.T) []hostileCase {
	pngSeed, jpgSeed, gifSeed := hostileSeed(t, "rgb-16x12.png"), hostileSeed(t, "rgb-16x12.jpg"), hostileSeed(t, "rgb-16x12.gif")
	bmpSeed, tiffSeed, webpSeed := hostileSeed(t, "rgb-16x12.bmp"), hostileSeed(t, "rgb-16x12.tiff"), hostileSeed(t, "lossy.webp")
	half := func(b []byte) []byte { return b[:len(b)/2] }
	b64 := base64.StdEncoding.EncodeToString(pngSeed)
	manyFrames := animatedGIF(t, 1, 1, 3000)
	bomb := hostileGzip(t, 64<<20, false)

	manyParts, manyPartsCT := hostileMultipart(t, func(w *multipart.Writer) {
		for i := range 5000 {
			w.WriteField(fmt.Sprintf("f%d", i), "1")
		}
	})
	hugePart, hugePartCT := hostileMultipart(t, func(w *multipart.Writer) {
		fw, _ := w.CreateFormFile("image", "big.png")
		fw.Write(pngSeed)
		fw.Write(make([]byte, hostileMaxBody))
	})
	hugeField, hugeFieldCT := hostileMultipart(t, func(w *multipart.Writer) {
		fw, _ := w.CreateFormFile("image", "a.png")
		fw.Write(pngSeed)
		w.WriteField("metadata", `{"x":"`+strings.Repeat("a", 200<<10)+`"}`)
	})
	longBoundary := strings.Repeat("b", 200)
	longBoundaryBody := "--" + longBoundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n" +
		string(pngSeed) + "\r\n--" + longBoundary + "--\r\n"
	manyPartsNoImage := func(n int) ([]byte, string) {
		return hostileMultipart(t, func(w *multipart.Writer) {
			for i := range n {
				fw, _ := w.CreateFormFile("image", "a.png")
				if i == 0 {
					fw.Write(pngSeed)
				}
			}
		})
	}
	twoImages, twoImagesCT := manyPartsNoImage(2)

	bigMeta := hostileJSON(t, map[string]any{"image_b64": b64, "metadata": map[string]string{"blob": strings.Repeat("m", 3<<20)}})
	overJSON := hostileJSON(t, map[string]any{"image_b64": b64, "metadata": map[string]string{"blob": strings.Repeat("m", 5<<20)}})
	deep := []byte(`{"image_b64":"` + b64 + `","metadata":{"a":` + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + `}}`)
	// Large bodies go with Expect: 100-continue, as curl sends them: a
	// client that pushes the whole body regardless may see the connection
	// reset after the 413, before it reads it.
	expect100 := map[string]string{"Expect": "100-continue"}
	okJSON := func(a response) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(a.body, &m); err != nil {
			t.Errorf("answer is not JSON: %v", err)
		}
		return m
	}

	return []hostileCase{
		// Pixel floods: headers that claim far more pixels than the bytes hold.
		{name: "png flood 100k×100k", ct: "image/png", body: hostilePNGHeader(100_000, 100_000), status: 422, code: "image_too_large"},
		{name: "png flood on /v1/info is only described", route: "/v1/info", ct: "image/png", body: hostilePNGHeader(100_000, 100_000), status: 200,
			check: func(t *testing.T, a response) {
				if m := okJSON(a); m["width"] != float64(100_000) {
					t.Errorf("info = %v, want width 100000", m)
				}
			}},
		{name: "jpeg flood 65535×65535", ct: "image/jpeg", body: hostileJPEGHeader(65535, 65535), status: 422, code: "image_too_large"},
		{name: "jpeg flood with shrink-on-load resize", ct: "image/jpeg", query: "width=10", body: hostileJPEGHeader(65535, 65535), status: 422, code: "image_too_large"},
		{name: "gif flood 65535×65535", ct: "image/gif", body: hostileGIFHeader(65535, 65535), status: 422, code: "image_too_large"},
		{name: "tiff flood 100k×100k", ct: "image/tiff", body: hostileTIFFHeader(100_000, 100_000), status: 422, code: "image_too_large"},
		{name: "webp flood 46k×46k (the format's limit is 2^31 pixels)", ct: "image/webp", body: hostileWebPHeader(46_000, 46_000), status: 422, code: "image_too_large"},
		{name: "bmp flood 100k×100k", ct: "image/bmp", body: hostileBMPHeader(100_000, 100_000), status: 422, code: "image_too_large"},
		{name: "bmp flood top-down (negative height)", ct: "image/bmp", body: hostileBMPHeader(100_000, -100_000), status: 422, code: "image_too_large"},
		{name: "flood just under the pixel limit, no pixel data", ct: "image/png", body: hostilePNGHeader(2000, 2000), status: 400, code: "corrupt_image"},
		{name: "output flood from a tiny image", ct: "image/png", query: "width=65535&height=65535&fit=fill", body: pngSeed, status: 422, code: "output_too_large"},
		{name: "output flood by rotation", ct: "image/png", query: "width=2200&height=2200&fit=fill&rotate=45", body: pngSeed, status: 422, code: "output_too_large"},
		{name: "legal 2000×2000 PNG, 4 MP decoded", ct: "image/png", query: "width=100", body: encodeImage(t, image.NewGray(image.Rect(0, 0, 2000, 2000)), "png"), status: 200, within: 8 * time.Second},
		// Frames and empty images.
		{name: "gif with 3000 frames is refused over -max-frames before decoding", ct: "image/gif", body: manyFrames, status: 422, code: "image_too_large"},
		{name: "gif with 3000 frames, frames=first: the first frame", ct: "image/gif", query: "frames=first", body: manyFrames, status: 200},
		{name: "gif with 3000 frames to PNG: the first frame", ct: "image/gif", query: "format=png", body: manyFrames, status: 200},
		{name: "gif with 400 frames kept animated", ct: "image/gif", query: "width=2", body: animatedGIF(t, 4, 4, 400), status: 200},
		{name: "gif with 3000 frames: info counts them", route: "/v1/info", ct: "image/gif", body: manyFrames, status: 200,
			check: func(t *testing.T, a response) {
				if m := okJSON(a); m["frames"] != float64(3000) {
					t.Errorf("frames = %v, want 3000", m["frames"])
				}
			}},
		{name: "png 0×0", ct: "image/png", body: hostilePNGHeader(0, 0), status: 400, code: "corrupt_image"},
		{name: "gif 0×0", ct: "image/gif", body: hostileGIFHeader(0, 0), status: 400, code: "corrupt_image"},
		{name: "bmp 0×0", ct: "image/bmp", body: hostileBMPHeader(0, 0), status: 400, code: "corrupt_image"},
		{name: "webp 1×1 canvas without image data", ct: "image/webp", body: hostileWebPHeader(1, 1), status: 400, code: "corrupt_image"},
		// Truncated and corrupt files of each format.
		{name: "truncated png", ct: "image/png", body: half(pngSeed), status: 400, code: "truncated_image"},
		{name: "truncated jpeg", ct: "image/jpeg", body: half(jpgSeed), status: 400, code: "truncated_image"},
		{name: "truncated jpeg, shrink-on-load path", ct: "image/jpeg", query: "width=2", body: half(jpgSeed), status: 400, code: "truncated_image"},
		{name: "truncated gif", ct: "image/gif", body: half(gifSeed), status: 400, code: "corrupt_image"},
		{name: "truncated bmp", ct: "image/bmp", body: half(bmpSeed), status: 400, code: "truncated_image"},
		{name: "truncated tiff", ct: "image/tiff", body: half(tiffSeed), status: 400, code: "corrupt_image"}, // TIFF has no trailer to tell a cut from a bad offset
		{name: "truncated webp", ct: "image/webp", body: half(webpSeed), status: 400, code: "corrupt_image"},
		{name: "header-only jpeg (20 bytes)", ct: "image/jpeg", body: jpgSeed[:20], status: 400, code: "truncated_image"},
		{name: "png with a corrupt IHDR checksum", ct: "image/png", body: corruptAt(pngSeed, 29, 4), status: 400, code: "corrupt_image"},
		{name: "jpeg with corrupt tables", ct: "image/jpeg", body: corruptAt(jpgSeed, 20, 200), status: 400, code: "corrupt_image"},
		{name: "gif with corrupt image data", ct: "image/gif", body: corruptAt(gifSeed, len(gifSeed)-40, 30), status: 400, code: "corrupt_image"},
		{name: "tiff with corrupt IFD", ct: "image/tiff", body: corruptAt(tiffSeed, 4, 4), status: 400, code: "corrupt_image"},
		{name: "webp with corrupt VP8 data", ct: "image/webp", body: corruptAt(webpSeed, 20, 16), status: 400, code: "corrupt_image"},
		// Bodies that are not what they say.
		{name: "gzip bomb (64 MiB of zeros)", ct: "image/png", header: map[string]string{"Content-Encoding": "gzip"}, body: bomb, status: 415, code: "unsupported_content_type"},
		{name: "deflate body", ct: "image/png", header: map[string]string{"Content-Encoding": "deflate"}, body: hostileGzip(t, 8<<20, true), status: 415, code: "unsupported_content_type"},
		{name: "gzip bomb sent as octet-stream without Content-Encoding", ct: "application/octet-stream", body: bomb, status: 415, code: "unsupported_image_format"},
		{name: "body of whitespace only", ct: "image/jpeg", body: []byte(" \n\t \r\n  "), status: 415, code: "unsupported_image_format"},
		{name: "whitespace-only JSON", ct: "application/json", body: []byte("   \n  "), status: 400, code: "invalid_json"},
		{name: "Content-Length over the limit", ct: "image/png", header: expect100, body: make([]byte, hostileMaxBody+1), status: 413, code: "body_too_large"},
		{name: "chunked body over the limit", ct: "image/png", chunked: true, body: append(bytes.Clone(pngSeed), make([]byte, hostileMaxBody)...), status: 413, code: "body_too_large"},
		{name: "Expect: 100-continue with a huge Content-Length", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 10000000000\r\nExpect: 100-continue\r\n\r\n", nil)
		}, status: 413, code: "body_too_large"},
		// Multipart.
		{name: "multipart with 5000 parts", ct: manyPartsCT, body: manyParts, status: 400, code: "malformed_multipart"},
		{name: "multipart with one part over the body limit", ct: hugePartCT, header: expect100, body: hugePart, status: 413, code: "body_too_large"},
		{name: "multipart with a 200 KiB metadata field", ct: hugeFieldCT, body: hugeField, status: 400, code: "invalid_metadata"},
		{name: "multipart with a 200-character boundary", ct: `multipart/form-data; boundary="` + longBoundary + `"`, body: []byte(longBoundaryBody), status: 200},
		{name: "multipart with two image parts", ct: twoImagesCT, body: twoImages, status: 400, code: "malformed_multipart"},
		{name: "multipart whose boundary never appears", ct: "multipart/form-data; boundary=nope", body: bytes.Repeat([]byte("x"), 1<<20), status: 400, code: "malformed_multipart"},
		// JSON.
		{name: "JSON nested 200k levels in metadata", ct: "application/json", body: deep, status: 400, code: "invalid_json"},
		{name: "JSON with 3 MiB metadata is echoed", ct: "application/json", body: bigMeta, status: 200, within: 5 * time.Second,
			check: func(t *testing.T, a response) {
				if m := okJSON(a); len(fmt.Sprint(m["metadata"])) < 3<<20 {
					t.Errorf("metadata was not echoed whole")
				}
			}},
		{name: "JSON over the body limit", ct: "application/json", header: expect100, body: overJSON, status: 413, code: "body_too_large"},
		{name: "JSON with invalid UTF-8", ct: "application/json", body: []byte("{\"image_b64\":\"" + b64 + "\",\"metadata\":{\"k\":\"\xff\xfe\"}}"), status: 400, code: "invalid_json"},
		{name: "JSON duplicate keys: the last one wins, as in encoding/json", ct: "application/json", body: []byte(`{"image_b64":"@@@","image_b64":"` + b64 + `"}`), status: 200},
		{name: "JSON option NaN (not JSON)", ct: "application/json", body: []byte(`{"image_b64":"` + b64 + `","options":{"width":NaN}}`), status: 400, code: "invalid_json"},
		{name: "JSON option 1e400", ct: "application/json", body: []byte(`{"image_b64":"` + b64 + `","options":{"width":1e400}}`), status: 400, code: "invalid_option"},
		{name: "JSON option with invalid UTF-8 escape", ct: "application/json", body: []byte(`{"image_b64":"` + b64 + `","options":{"format":"\udc00png"}}`), status: 400, code: "invalid_option"},
		{name: "JSON with 100k keys in options", ct: "application/json", body: func() []byte {
			var b strings.Builder
			b.WriteString(`{"image_b64":"` + b64 + `","options":{`)
			for i := range 100_000 {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"k%d":1`, i)
			}
			b.WriteString("}}")
			return []byte(b.String())
		}(), status: 400, code: "unknown_option"},
		// Options.
		{name: "option NaN", ct: "image/png", query: "width=NaN", body: pngSeed, status: 400, code: "invalid_option"},
		{name: "option Inf", ct: "image/png", query: "blur=Inf", body: pngSeed, status: 400, code: "invalid_option"},
		{name: "option negative", ct: "image/png", query: "width=-5", body: pngSeed, status: 400, code: "invalid_option"},
		{name: "option huge", ct: "image/png", query: "height=1e308", body: pngSeed, status: 400, code: "invalid_option"},
		{name: "option huge crop", ct: "image/png", query: "crop=0,0,99999999999999999999,1", body: pngSeed, status: 400, code: "invalid_option"},
		{name: "option value with invalid UTF-8", ct: "image/png", query: "format=%ff%fe", body: pngSeed, status: 400, code: "invalid_option"},
		{name: "option name with invalid UTF-8", ct: "image/png", query: "%ff%fe=1", body: pngSeed, status: 400, code: "unknown_option"},
		{name: "1000 unknown query parameters", ct: "image/png", query: strings.Repeat("zz=1&", 1000), body: pngSeed, status: 400, code: "unknown_option"},
		{name: "Accept header with 800 ranges", ct: "image/png", header: map[string]string{"Accept": strings.Repeat("text/x, ", 800) + "image/x"}, body: pngSeed, status: 406, code: "not_acceptable"},
		// The protocol itself.
		{name: "headers over -max-header-bytes (net/http answers 431)", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\nHost: x\r\nX-Junk: "+strings.Repeat("a", 4*hostileHeaderBytes)+"\r\nContent-Length: 0\r\n\r\n", nil)
		}, status: 431},
		{name: "malformed request line (net/http answers 400)", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/9.9 junk\r\nHost: x\r\n\r\n", nil)
		}, status: 400},
		{name: "invalid Content-Length (net/http answers 400)", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: -1\r\n\r\n", nil)
		}, status: 400},
		{name: "malformed chunked encoding (reported as an unreadable body)", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", nil)
		}, status: 408, code: "request_timeout"},
		{name: "unknown method", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "BREW /v1/process HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", nil)
		}, status: 405, code: "method_not_allowed"},
		{name: "headers trickling past -read-header-timeout (net/http answers 400 and closes)", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\n", trickle("Host: x\r\nX-Slow: "+strings.Repeat("s", 100)+"\r\n\r\n", 100*time.Millisecond))
		}, status: 400, within: hostileHeaderWait + 2*time.Second},
		{name: "body trickling past -body-timeout", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n", trickle(strings.Repeat("x", 100), 100*time.Millisecond))
		}, status: 408, code: "request_timeout", within: hostileBodyTimeout + 2*time.Second},
		{name: "body stalled after 10 bytes", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n0123456789", nil)
		}, status: 408, code: "request_timeout", within: hostileBodyTimeout + 2*time.Second},
		{name: "body shorter than Content-Length, then half-close", raw: func(t *testing.T, addr string) (response, error) {
			return hostileRaw(t, addr, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n0123456789", func(c net.Conn) {
				c.(*net.TCPConn).CloseWrite()
			})
		}, status: 408, code: "request_timeout"},
	}
}

// TestHostile runs the hostile-input suite against the real binary.
func TestHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	start := time.Now()
	s := &hostileInstance{binInstance: startBinary(t,
		"-workers", "2", "-queue-size", "8", "-queue-timeout", "2s", "-job-timeout", "5s",
		"-memory-budget", strconv.Itoa(hostileMemBudget),
		"-max-body-bytes", strconv.Itoa(hostileMaxBody),
		"-max-input-pixels", strconv.Itoa(hostileMaxPixels), "-max-output-pixels", strconv.Itoa(hostileMaxPixels),
		"-max-header-bytes", strconv.Itoa(hostileHeaderBytes),
		"-read-header-timeout", hostileHeaderWait.String(), "-body-timeout", hostileBodyTimeout.String(),
		"-write-timeout", "20s", "-idle-timeout", "5s", "-shutdown-grace", "5s")}
	go s.watchRSS()
	cases := hostileCases(t)
	// A slowloris crowd: 200 connections that never finish their headers.
	// The service must keep answering everyone else, and -read-header-timeout
	// must have closed every one of them by the end of the suite.
	var idle []net.Conn
	for range 200 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "POST /v1/process HTTP/1.1\r\nHost: x\r\n")
		idle = append(idle, c)
	}
	defer func() {
		open := 0
		for _, c := range idle {
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := io.ReadAll(c); err != nil {
				open++ // a timeout: the server still holds it
			}
			c.Close()
		}
		if open > 0 {
			t.Errorf("%d of %d slowloris connections were still open at the end", open, len(idle))
		}
	}()
	var slowest time.Duration
	slowestName := ""
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			within := c.within
			if within == 0 {
				within = 3 * time.Second
			}
			t0 := time.Now()
			a, err := c.do(t, s)
			took := time.Since(t0)
			if took > slowest {
				slowest, slowestName = took, c.name
			}
			if err != nil {
				t.Fatalf("request failed after %s: %v", took.Round(time.Millisecond), err)
			}
			if took > within {
				t.Errorf("answered in %s, want within %s", took.Round(time.Millisecond), within)
			}
			if a.status >= 500 {
				t.Errorf("status %d: %s", a.status, truncateBytes(a.body, 300))
			}
			if a.status != c.status {
				t.Errorf("status = %d, want %d; body: %s", a.status, c.status, truncateBytes(a.body, 300))
			}
			switch {
			case a.status == 0 || a.status == http.StatusOK:
			case c.code == "":
				if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("net/http's own answer has Content-Type %q, want text/plain", ct)
				}
			default:
				if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type = %q, want application/problem+json", ct)
				}
				var p struct {
					Code   string `json:"code"`
					Status int    `json:"status"`
					Detail string `json:"detail"`
				}
				if err := json.Unmarshal(a.body, &p); err != nil {
					t.Fatalf("problem is not JSON: %v: %s", err, truncateBytes(a.body, 300))
				}
				if p.Code != c.code || p.Status != a.status || p.Detail == "" {
					t.Errorf("problem code %q status %d detail %q, want code %q", p.Code, p.Status, p.Detail, c.code)
				}
			}
			if a.status == http.StatusOK && c.check != nil {
				c.check(t, a)
			}
			if !s.healthy(3 * time.Second) {
				state := "still running"
				select {
				case <-s.exited:
					state = s.cmd.ProcessState.String()
				default:
				}
				t.Fatalf("the process no longer answers /healthz (%s)", state)
			}
			if rss := s.rss("VmRSS"); rss > hostileRSSLimit {
				t.Errorf("RSS is %d MiB after this case, over the bound of %d MiB", rss>>20, hostileRSSLimit>>20)
			}
		})
	}
	peak := s.peak()
	t.Logf("hostile suite: %d cases in %s; slowest %s (%q); peak RSS %.1f MiB (bound %d MiB, memory budget %d MiB)",
		len(cases), time.Since(start).Round(100*time.Millisecond), slowest.Round(time.Millisecond), slowestName,
		float64(peak)/(1<<20), hostileRSSLimit>>20, hostileMemBudget>>20)
	if peak > hostileRSSLimit {
		t.Errorf("peak RSS %d MiB is over the bound of %d MiB", peak>>20, hostileRSSLimit>>20)
	}
	if len(cases) < 40 {
		t.Errorf("%d cases; the suite promises at least 40", len(cases))
	}
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
