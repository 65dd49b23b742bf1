package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
)

// This file is the end-to-end test: it starts the real binary three times,
// with different limits, and drives it with real curl and Python requests
// (testdata/e2e/client.py). The Go side makes every assertion.

// ---- test images, built in code ------------------------------------------

// e2eWithOrientation inserts an Exif APP1 segment holding orientation o
// right after the SOI marker of a JPEG.
func e2eWithOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")                         // big-endian TIFF header
	binary.Write(&tiff, binary.BigEndian, uint32(8))       // offset of IFD0
	binary.Write(&tiff, binary.BigEndian, uint16(1))       // one entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112))  // Orientation
	binary.Write(&tiff, binary.BigEndian, uint16(3))       // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))       // count
	binary.Write(&tiff, binary.BigEndian, [2]uint16{o, 0}) // value, padded to 4 bytes
	binary.Write(&tiff, binary.BigEndian, uint32(0))       // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// e2eWriteImages writes every input the e2e cases use into dir.
func e2eWriteImages(t testing.TB, dir string) {
	t.Helper()
	alpha := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range alpha.Pix {
		alpha.Pix[i] = 0 // fully transparent
	}
	photoJPG := encodeImage(t, gradient(64, 48), "jpeg")
	files := map[string][]byte{
		"photo.jpg":     photoJPG,
		"photo.png":     encodeImage(t, quadrants(64, 48), "png"),
		"alpha.png":     encodeImage(t, alpha, "png"),
		"anim.gif":      animatedGIF(t, 30, 20, 2),
		"exif6.jpg":     e2eWithOrientation(encodeImage(t, quadrants(64, 48), "jpeg"), 6),
		"big.jpg":       encodeImage(t, gradient(1000, 1000), "jpeg"),
		"mid.png":       encodeImage(t, gradient(400, 400), "png"),
		"huge.png":      encodeImage(t, image.NewGray(image.Rect(0, 0, 600, 600)), "png"),
		"truncated.jpg": photoJPG[:len(photoJPG)/2],
		"header.jpg":    photoJPG[:20],
		"empty.jpg":     {},
		"page.html":     []byte("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>nope</body></html>\n"),
		"doc.pdf":       []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"),
		"photo.heic":    append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 64)...),
		"photo.jxl":     append([]byte("\x00\x00\x00\x0cJXL \r\n\x87\n"), make([]byte, 64)...),
		"random.bin":    e2eNoise(250_000),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// e2eNoise is n bytes that are no image format's magic.
func e2eNoise(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	b[0], b[1] = 'z', 'z'
	return b
}

// ---- responses and the problem contract ----------------------------------

type e2eProblem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	Hint      string `json:"hint"`
	Field     string `json:"field"`
	RequestID string `json:"request_id"`
}

// e2eWant is what an error answer must hold.
type e2eWant struct {
	status int
	code   string
	field  string   // "" means not checked
	detail []string // substrings of detail
	hint   []string // substrings of hint
}

// checkProblem asserts the whole error contract: status, code, the
// problem+json media type, a detail and a hint, request_id equal to the
// X-Request-ID header, and the specific detail content.
func checkProblem(t *testing.T, r response, w e2eWant) e2eProblem {
	t.Helper()
	var p e2eProblem
	if r.status != w.status {
		t.Errorf("status = %d, want %d; body: %s", r.status, w.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type = %q, want application/problem+json; body: %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("body is not JSON: %v; body: %q", err, r.body)
	}
	if p.Code != w.code {
		t.Errorf("code = %q, want %q; detail: %q", p.Code, w.code, p.Detail)
	}
	if p.Status != r.status {
		t.Errorf("status member = %d, HTTP status %d", p.Status, r.status)
	}
	if !strings.HasSuffix(p.Type, "/errors/"+p.Code) {
		t.Errorf("type = %q, want it to end in /errors/%s", p.Type, p.Code)
	}
	if p.Title == "" || p.Detail == "" || p.Hint == "" {
		t.Errorf("title %q, detail %q, hint %q: want all non-empty", p.Title, p.Detail, p.Hint)
	}
	if rid := r.header.Get("X-Request-ID"); rid == "" || p.RequestID != rid {
		t.Errorf("request_id = %q, X-Request-ID header = %q: want equal and non-empty", p.RequestID, rid)
	}
	if w.field != "" && p.Field != w.field {
		t.Errorf("field = %q, want %q", p.Field, w.field)
	}
	for _, s := range w.detail {
		if !strings.Contains(p.Detail, s) {
			t.Errorf("detail = %q, want it to contain %q", p.Detail, s)
		}
	}
	for _, s := range w.hint {
		if !strings.Contains(p.Hint, s) {
			t.Errorf("hint = %q, want it to contain %q", p.Hint, s)
		}
	}
	return p
}

// checkImage decodes an image answer and checks its media type and size.
func checkImage(t *testing.T, r response, format string, w, h int) image.Image {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body: %.500s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "image/"+format {
		t.Errorf("Content-Type = %q, want image/%s", ct, format)
	}
	return checkDecoded(t, r.body, format, w, h)
}

func checkDecoded(t *testing.T, b []byte, format string, w, h int) image.Image {
	t.Helper()
	img, got, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the answer does not decode: %v (%d bytes)", err, len(b))
	}
	if got != format {
		t.Errorf("decoded format = %q, want %q", got, format)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("image is %d×%d, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
	return img
}

// near reports whether c is within tol of want in every channel.
func near(c color.Color, want color.NRGBA, tol int) bool {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	d := func(a, b uint8) bool { return abs(int(a)-int(b)) <= tol }
	return d(n.R, want.R) && d(n.G, want.G) && d(n.B, want.B) && d(n.A, want.A)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ---- curl ----------------------------------------------------------------

// curl runs the real curl against url with args and returns the last
// response it received (after any 100 Continue).
func curl(t *testing.T, url string, args ...string) response {
	t.Helper()
	r, err := curlE(t.TempDir(), url, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// curlE is curl for goroutines other than the test's: it reports errors
// instead of failing the test.
func curlE(dir, url string, args ...string) (response, error) {
	hdr, body := filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	all := append([]string{"-sS", "--max-time", "30", "-D", hdr, "-o", body, "-w", "%{http_code}"}, args...)
	all = append(all, url)
	out, err := exec.Command("curl", all...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return response{}, fmt.Errorf("curl %q: %v: %s", all, err, stderr)
	}
	status, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	r := response{status: status, header: http.Header{}}
	r.body, _ = os.ReadFile(body)
	raw, _ := os.ReadFile(hdr)
	blocks := strings.Split(strings.TrimSpace(string(raw)), "\r\n\r\n")
	last := blocks[len(blocks)-1]
	tp := textproto.NewReader(bufio.NewReader(strings.NewReader(last + "\r\n\r\n")))
	if _, err := tp.ReadLine(); err != nil { // the status line
		return r, fmt.Errorf("curl headers: %v: %q", err, raw)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return r, fmt.Errorf("curl headers: %v: %q", err, raw)
	}
	r.header = http.Header(mh)
	return r, nil
}

// ---- Python requests -----------------------------------------------------

type e2ePyResult struct {
	Name    string            `json:"name"`
	Error   string            `json:"error"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	BodyB64 string            `json:"body_b64"`
	Sent    map[string]any    `json:"sent"`
}

func (p e2ePyResult) resp(t *testing.T) response {
	t.Helper()
	if p.Error != "" {
		t.Fatalf("python case %s failed to run: %s", p.Name, p.Error)
	}
	body, err := base64.StdEncoding.DecodeString(p.BodyB64)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range p.Headers {
		h.Set(k, v)
	}
	return response{status: p.Status, header: h, body: body}
}

// e2ePython runs every case of client.py against base in one process.
func e2ePython(t *testing.T, base, imgDir string) map[string]e2ePyResult {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "testdata", "e2e", "client.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", script, base, imgDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 client.py: %v\n%s", err, stderr.String())
	}
	var res []e2ePyResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("client.py output is not JSON: %v\n%.2000s", err, out)
	}
	m := map[string]e2ePyResult{}
	for _, r := range res {
		m[r.Name] = r
	}
	return m
}

// e2eRequireTools skips the test, naming what is missing, when curl or
// Python requests is not installed.
func e2eRequireTools(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("curl"); err != nil {
		missing = append(missing, "curl (not on PATH)")
	}
	if err := exec.Command("python3", "-c", "import requests").Run(); err != nil {
		missing = append(missing, "python3 with the requests package (python3 -c 'import requests' failed: "+err.Error()+")")
	}
	if len(missing) > 0 {
		t.Skipf("end-to-end test needs %s; install them (e.g. apt-get install curl python3-requests) to run it", strings.Join(missing, " and "))
	}
}

// ---- the test ------------------------------------------------------------

func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	e2eRequireTools(t)
	imgs := t.TempDir()
	e2eWriteImages(t, imgs)
	f := func(name string) string { return filepath.Join(imgs, name) }

	mainSrv := startBinary(t)
	// small limits; one worker with a 50 ms job deadline for processing_timeout.
	small := startBinary(t, "-max-body-bytes", "200000", "-max-input-pixels", "250000",
		"-max-output-pixels", "1000000", "-body-timeout", "1s", "-workers", "1", "-job-timeout", "50ms")
	busy := startBinary(t, "-workers", "1", "-queue-size", "1", "-retry-after", "3s")

	// Each group runs its cases in parallel; the groups run in parallel too.
	t.Run("curl_success", func(t *testing.T) { t.Parallel(); e2eCurlSuccess(t, mainSrv, f) })
	t.Run("curl_options", func(t *testing.T) { t.Parallel(); e2eCurlOptions(t, mainSrv, f) })
	t.Run("curl_errors", func(t *testing.T) { t.Parallel(); e2eCurlErrors(t, mainSrv, small, f) })
	t.Run("python", func(t *testing.T) { t.Parallel(); e2ePythonCases(t, mainSrv, imgs) })
	t.Run("limits", func(t *testing.T) { t.Parallel(); e2eLimits(t, small, f) })
	t.Run("overloaded", func(t *testing.T) { t.Parallel(); e2eOverloaded(t, busy, f) })
}

func e2eCurlSuccess(t *testing.T, s *binInstance, f func(string) string) {
	type tc struct {
		name  string
		route string
		args  []string
		check func(t *testing.T, r response)
	}
	tests := []tc{
		{"raw jpeg", "/v1/process", []string{"--data-binary", "@" + f("photo.jpg"), "-H", "Content-Type: image/jpeg"},
			func(t *testing.T, r response) { checkImage(t, r, "jpeg", 64, 48) }},
		{"raw octet-stream sniffed, option in query", "/v1/process?width=16", []string{"--data-binary", "@" + f("photo.png"), "-H", "Content-Type: application/octet-stream"},
			func(t *testing.T, r response) {
				checkImage(t, r, "png", 16, 12)
				if r.header.Get("X-Image-Width") != "16" || r.header.Get("X-Image-Height") != "12" {
					t.Errorf("X-Image-Width/Height = %q/%q, want 16/12", r.header.Get("X-Image-Width"), r.header.Get("X-Image-Height"))
				}
			}},
		{"raw gif stays gif", "/v1/process", []string{"--data-binary", "@" + f("anim.gif"), "-H", "Content-Type: image/gif"},
			func(t *testing.T, r response) { checkImage(t, r, "gif", 30, 20) }},
		{"short alias route", "/process?width=32", []string{"--data-binary", "@" + f("photo.jpg"), "-H", "Content-Type: image/jpeg"},
			func(t *testing.T, r response) { checkImage(t, r, "jpeg", 32, 24) }},
		{"raw info", "/v1/info", []string{"--data-binary", "@" + f("exif6.jpg"), "-H", "Content-Type: image/jpeg"},
			func(t *testing.T, r response) {
				info := e2eJSON(t, r)
				e2eFields(t, info, map[string]any{"format": "jpeg", "content_type": "image/jpeg", "width": 64.0, "height": 48.0,
					"orientation": 6.0, "display_width": 48.0, "display_height": 64.0, "frames": 1.0, "animated": false})
				if got, want := info["bytes"], float64(e2eSize(t, f("exif6.jpg"))); got != want {
					t.Errorf("bytes = %v, want %v", got, want)
				}
			}},
		{"raw info octet-stream gif frames", "/info", []string{"--data-binary", "@" + f("anim.gif"), "-H", "Content-Type: application/octet-stream"},
			func(t *testing.T, r response) {
				e2eFields(t, e2eJSON(t, r), map[string]any{"format": "gif", "width": 30.0, "height": 20.0, "frames": 2.0, "animated": true})
			}},
		{"multipart image part with metadata and form option", "/v1/process", []string{"-F", "image=@" + f("photo.png"), "-F", `metadata={"id":"42"}`, "-F", "width=20"},
			func(t *testing.T, r response) { checkImage(t, r, "png", 20, 15) }},
		{"multipart file part, options in query", "/v1/process?height=24&format=gif", []string{"-F", "file=@" + f("photo.jpg")},
			func(t *testing.T, r response) { checkImage(t, r, "gif", 32, 24) }},
		{"multipart info echoes metadata", "/v1/info", []string{"-F", "image=@" + f("photo.png"), "-F", `metadata={"id":"42","tags":["a","b"]}`},
			func(t *testing.T, r response) {
				info := e2eJSON(t, r)
				e2eFields(t, info, map[string]any{"format": "png", "width": 64.0, "height": 48.0})
				if got, want := info["metadata"], map[string]any{"id": "42", "tags": []any{"a", "b"}}; !reflect.DeepEqual(got, want) {
					t.Errorf("metadata = %v, want %v", got, want)
				}
			}},
		{"json with curl", "/v1/process", []string{"-H", "Content-Type: application/json", "--data-binary",
			`{"image_b64":"` + e2eB64(t, f("photo.png")) + `","metadata":{"id":"42"},"options":{"width":8,"format":"bmp"}}`},
			func(t *testing.T, r response) {
				m := e2eJSON(t, r)
				e2eFields(t, m, map[string]any{"content_type": "image/bmp", "width": 8.0, "height": 6.0, "metadata": map[string]any{"id": "42"}})
				img, _ := base64.StdEncoding.DecodeString(fmt.Sprint(m["image_b64"]))
				checkDecoded(t, img, "bmp", 8, 6)
				if m["bytes"] != float64(len(img)) {
					t.Errorf("bytes = %v, want %d", m["bytes"], len(img))
				}
			}},
		{"X-Request-ID echoed on success", "/v1/process", []string{"--data-binary", "@" + f("photo.jpg"), "-H", "Content-Type: image/jpeg", "-H", "X-Request-ID: curl-ok-1"},
			func(t *testing.T, r response) {
				checkImage(t, r, "jpeg", 64, 48)
				if got := r.header.Get("X-Request-ID"); got != "curl-ok-1" {
					t.Errorf("X-Request-ID = %q, want curl-ok-1", got)
				}
			}},
		{"openapi", "/v1/openapi.json", nil,
			func(t *testing.T, r response) {
				if v := e2eJSON(t, r)["openapi"]; !strings.HasPrefix(fmt.Sprint(v), "3.1") {
					t.Errorf("openapi = %v, want 3.1.x", v)
				}
			}},
		{"readyz", "/readyz", nil, func(t *testing.T, r response) { e2eJSON(t, r) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, curl(t, s.base+tt.route, tt.args...))
		})
	}
	t.Run("admin healthz and metrics", func(t *testing.T) {
		t.Parallel()
		e2eJSON(t, curl(t, s.admin+"/healthz"))
		r := curl(t, s.admin+"/metrics")
		if r.status != 200 || !bytes.Contains(r.body, []byte("go_goroutines")) {
			t.Errorf("admin /metrics: status %d, body %.300s", r.status, r.body)
		}
	})
}

func e2eCurlOptions(t *testing.T, s *binInstance, f func(string) string) {
	raw := func(file, ct string) []string {
		return []string{"--data-binary", "@" + f(file), "-H", "Content-Type: " + ct}
	}
	png := raw("photo.png", "image/png") // 64×48 quadrants: red, green / blue, yellow
	type tc struct {
		name  string
		query string
		args  []string
		check func(t *testing.T, r response)
	}
	corner := func(img image.Image, x, y int) color.Color { b := img.Bounds(); return img.At(b.Min.X+x, b.Min.Y+y) }
	tests := []tc{
		{"width only keeps ratio", "width=32", png, func(t *testing.T, r response) { checkImage(t, r, "png", 32, 24) }},
		{"height only keeps ratio", "height=12", png, func(t *testing.T, r response) { checkImage(t, r, "png", 16, 12) }},
		{"contain pads to the exact box", "width=100&height=100&fit=contain&background=00ff00", raw("photo.jpg", "image/jpeg"),
			func(t *testing.T, r response) {
				img := checkImage(t, r, "jpeg", 100, 100)
				if c := corner(img, 50, 2); !near(c, green, 40) {
					t.Errorf("padding pixel = %v, want the background 00ff00", c)
				}
			}},
		{"contain is the default fit", "width=100&height=100", png, func(t *testing.T, r response) {
			img := checkImage(t, r, "png", 100, 100)
			if c := corner(img, 50, 2); !near(c, color.NRGBA{}, 0) {
				t.Errorf("padding pixel of a PNG = %v, want transparent", c)
			}
		}},
		{"inside does not pad", "width=100&height=100&fit=inside", png, func(t *testing.T, r response) { checkImage(t, r, "png", 100, 75) }},
		{"cover is exact", "width=30&height=40&fit=cover", png, func(t *testing.T, r response) { checkImage(t, r, "png", 30, 40) }},
		{"cover with gravity west", "width=20&height=48&fit=cover&gravity=west", png, func(t *testing.T, r response) {
			img := checkImage(t, r, "png", 20, 48)
			if c := corner(img, 19, 0); !near(c, red, 10) {
				t.Errorf("top right of a west crop = %v, want red (left half kept)", c)
			}
		}},
		{"fill is exact", "width=30&height=90&fit=fill", png, func(t *testing.T, r response) { checkImage(t, r, "png", 30, 90) }},
		{"crop", "crop=40,30,20,10", png, func(t *testing.T, r response) {
			img := checkImage(t, r, "png", 20, 10)
			if c := corner(img, 0, 0); !near(c, yellow, 0) {
				t.Errorf("crop of the bottom right quadrant starts with %v, want yellow", c)
			}
		}},
		{"rotate 90 swaps dimensions", "rotate=90", png, func(t *testing.T, r response) {
			img := checkImage(t, r, "png", 48, 64)
			if c := corner(img, 0, 0); !near(c, blue, 0) {
				t.Errorf("top left after a clockwise quarter turn = %v, want blue (was bottom left)", c)
			}
		}},
		{"rotate 45 with background grows the canvas", "rotate=45&background=ff0000&format=png", png, func(t *testing.T, r response) {
			img, _, err := image.Decode(bytes.NewReader(r.body))
			if r.status != 200 || err != nil {
				t.Fatalf("status %d, decode error %v", r.status, err)
			}
			if b := img.Bounds(); b.Dx() <= 64 || b.Dy() <= 48 {
				t.Errorf("rotated 45° image is %v, want larger than 64×48", b)
			}
		}},
		{"flip h", "flip=h", png, func(t *testing.T, r response) {
			img := checkImage(t, r, "png", 64, 48)
			if c := corner(img, 0, 0); !near(c, green, 0) {
				t.Errorf("top left after flip=h = %v, want green", c)
			}
		}},
		{"flip v", "flip=v", png, func(t *testing.T, r response) {
			img := checkImage(t, r, "png", 64, 48)
			if c := corner(img, 0, 0); !near(c, blue, 0) {
				t.Errorf("top left after flip=v = %v, want blue", c)
			}
		}},
		{"grayscale", "grayscale=true", png, func(t *testing.T, r response) {
			img := checkImage(t, r, "png", 64, 48)
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y += 3 {
				for x := b.Min.X; x < b.Max.X; x += 3 {
					c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
					if c.R != c.G || c.G != c.B {
						t.Fatalf("pixel (%d,%d) = %v, want gray", x, y, c)
					}
				}
			}
		}},
		{"bare grayscale flag", "grayscale", raw("photo.jpg", "image/jpeg"), func(t *testing.T, r response) {
			img := checkImage(t, r, "jpeg", 64, 48)
			c := color.NRGBAModel.Convert(img.At(40, 30)).(color.NRGBA)
			if abs(int(c.R)-int(c.G)) > 3 || abs(int(c.G)-int(c.B)) > 3 {
				t.Errorf("pixel = %v, want gray", c)
			}
		}},
		{"format jpeg to png", "format=png", raw("photo.jpg", "image/jpeg"), func(t *testing.T, r response) { checkImage(t, r, "png", 64, 48) }},
		{"format png to jpg alias", "format=jpg", png, func(t *testing.T, r response) { checkImage(t, r, "jpeg", 64, 48) }},
		{"format tiff", "format=tiff", png, func(t *testing.T, r response) { checkImage(t, r, "tiff", 64, 48) }},
		{"format bmp", "format=bmp", png, func(t *testing.T, r response) { checkImage(t, r, "bmp", 64, 48) }},
		{"format chosen by Accept", "", append(raw("photo.jpg", "image/jpeg"), "-H", "Accept: image/png"), func(t *testing.T, r response) {
			checkImage(t, r, "png", 64, 48)
		}},
		{"transparent png to jpeg over background", "format=jpeg&background=0000ff", raw("alpha.png", "image/png"), func(t *testing.T, r response) {
			img := checkImage(t, r, "jpeg", 40, 30)
			if c := corner(img, 20, 15); !near(c, blue, 30) {
				t.Errorf("transparent pixel flattened to %v, want the background 0000ff", c)
			}
		}},
		{"auto_orient applies EXIF 6 by default", "", raw("exif6.jpg", "image/jpeg"), func(t *testing.T, r response) {
			img := checkImage(t, r, "jpeg", 48, 64)
			if c := corner(img, 2, 2); !near(c, blue, 60) {
				t.Errorf("top left of the upright image = %v, want blue (orientation 6 turns clockwise)", c)
			}
		}},
		{"auto_orient=false keeps stored dimensions", "auto_orient=false", raw("exif6.jpg", "image/jpeg"), func(t *testing.T, r response) {
			checkImage(t, r, "jpeg", 64, 48)
		}},
		{"auto_orient then width", "width=24", raw("exif6.jpg", "image/jpeg"), func(t *testing.T, r response) {
			checkImage(t, r, "jpeg", 24, 32)
		}},
		{"blur sharpen brightness contrast gamma", "blur=1.5&sharpen=0.5&brightness=10&contrast=-10&gamma=1.2", png, func(t *testing.T, r response) {
			checkImage(t, r, "png", 64, 48)
		}},
		{"options as form fields", "", []string{"-F", "image=@" + f("photo.png"), "-F", "rotate=270", "-F", "format=gif"}, func(t *testing.T, r response) {
			checkImage(t, r, "gif", 48, 64)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, curl(t, s.base+"/v1/process?"+tt.query, tt.args...))
		})
	}
	t.Run("quality", func(t *testing.T) {
		t.Parallel()
		lo := curl(t, s.base+"/v1/process?quality=5", raw("big.jpg", "image/jpeg")...)
		hi := curl(t, s.base+"/v1/process?quality=95", raw("big.jpg", "image/jpeg")...)
		checkImage(t, lo, "jpeg", 1000, 1000)
		checkImage(t, hi, "jpeg", 1000, 1000)
		if len(lo.body) >= len(hi.body) {
			t.Errorf("quality=5 gave %d bytes, quality=95 %d: want fewer at low quality", len(lo.body), len(hi.body))
		}
	})
}

func e2eCurlErrors(t *testing.T, s, small *binInstance, f func(string) string) {
	raw := func(file, ct string) []string {
		return []string{"--data-binary", "@" + f(file), "-H", "Content-Type: " + ct}
	}
	text := func(body, ct string) []string { return []string{"--data-binary", body, "-H", "Content-Type: " + ct} }
	jpg := raw("photo.jpg", "image/jpeg")
	type tc struct {
		name  string
		route string // default /v1/process
		args  []string
		want  e2eWant
	}
	tests := []tc{
		{name: "no Content-Type", args: []string{"--data-binary", "@" + f("photo.jpg"), "-H", "Content-Type:"},
			want: e2eWant{400, "missing_content_type", "", []string{"JPEG"}, []string{"Content-Type: image/jpeg"}}},
		{name: "curl -d @file", args: []string{"-d", "@" + f("photo.jpg")},
			want: e2eWant{415, "unsupported_content_type", "", []string{"application/x-www-form-urlencoded", "curl -d"}, []string{"--data-binary"}}},
		{name: "text/plain", args: text("hello there, this is text", "text/plain"),
			want: e2eWant{415, "unsupported_content_type", "", []string{"text/plain"}, nil}},
		{name: "text/plain with JPEG bytes", args: raw("photo.jpg", "text/plain"),
			want: e2eWant{415, "unsupported_content_type", "", []string{"text/plain", "JPEG"}, []string{"image/jpeg"}}},
		{name: "unparsable Content-Type", args: text("x", "image/jpeg; =bad"),
			want: e2eWant{415, "unsupported_content_type", "", nil, nil}},
		{name: "empty body", args: []string{"-X", "POST", "-H", "Content-Type: image/jpeg"},
			want: e2eWant{400, "empty_body", "", []string{"empty"}, nil}},
		{name: "empty file part", args: []string{"-F", "image=@" + f("empty.jpg")},
			want: e2eWant{400, "empty_body", "image", []string{"image"}, nil}},
		{name: "curl -F image=path without @", args: []string{"-F", "image=photo.jpg"},
			want: e2eWant{400, "body_is_path", "image", []string{"photo.jpg"}, []string{"-F image=@photo.jpg"}}},
		{name: "path body with image Content-Type", args: text("/home/me/photo.jpg", "image/jpeg"),
			want: e2eWant{400, "body_is_path", "", []string{"/home/me/photo.jpg"}, []string{"--data-binary @/home/me/photo.jpg"}}},
		{name: "Windows path", args: text(`C:\Users\me\Pictures\photo.jpg`, "image/jpeg"),
			want: e2eWant{400, "body_is_path", "", []string{`C:\\Users\\me\\Pictures\\photo.jpg`}, nil}},
		{name: "file:// URI", args: text("file:///tmp/photo.png", "application/octet-stream"),
			want: e2eWant{400, "body_is_path", "", []string{"file:///tmp/photo.png"}, nil}},
		{name: "home-relative path", args: text("~/Pictures/cat.png", "image/png"),
			want: e2eWant{400, "body_is_path", "", []string{"~/Pictures/cat.png"}, nil}},
		{name: "path body with JSON Content-Type", args: text("photo.jpg", "application/json"),
			want: e2eWant{400, "body_is_path", "", []string{"photo.jpg"}, nil}},
		{name: "URL body", args: text("https://example.com/cat.jpg", "image/jpeg"),
			want: e2eWant{400, "body_is_url", "", []string{"https://example.com/cat.jpg"}, nil}},
		{name: "URL in the image part", args: []string{"-F", "image=https://example.com/cat.jpg"},
			want: e2eWant{400, "body_is_url", "image", []string{"https://example.com/cat.jpg"}, nil}},
		{name: "declared png, bytes JPEG", args: raw("photo.jpg", "image/png"),
			want: e2eWant{400, "content_type_mismatch", "", []string{"image/png", "JPEG"}, []string{"image/jpeg"}}},
		{name: "declared unknown image type", args: raw("photo.jpg", "image/x-foo"),
			want: e2eWant{400, "content_type_mismatch", "", []string{"image/x-foo", "JPEG"}, nil}},
		{name: "HTML bytes", args: raw("page.html", "image/jpeg"),
			want: e2eWant{415, "unsupported_image_format", "", []string{"HTML"}, nil}},
		{name: "PDF bytes", args: raw("doc.pdf", "application/octet-stream"),
			want: e2eWant{415, "unsupported_image_format", "", []string{"PDF"}, nil}},
		// A HEIC header with no image in it: HEIC is read, so it is corrupt.
		{name: "HEIC without its meta box", args: raw("photo.heic", "image/heic"),
			want: e2eWant{400, "corrupt_image", "", []string{"HEIC", "meta"}, nil}},
		{name: "JPEG XL bytes", args: raw("photo.jxl", "application/octet-stream"),
			want: e2eWant{415, "unsupported_image_format", "", []string{"JPEG XL"}, []string{"JPEG"}}},
		{name: "HTML bytes in a multipart part", args: []string{"-F", "image=@" + f("page.html")},
			want: e2eWant{415, "unsupported_image_format", "", []string{"HTML"}, nil}},
		{name: "truncated JPEG", args: raw("truncated.jpg", "image/jpeg"),
			want: e2eWant{400, "truncated_image", "", []string{"JPEG"}, nil}},
		{name: "JPEG header only", args: raw("header.jpg", "image/jpeg"),
			want: e2eWant{400, "truncated_image", "", []string{"JPEG"}, nil}},
		{name: "truncated JPEG to info", route: "/v1/info", args: raw("header.jpg", "image/jpeg"),
			want: e2eWant{400, "truncated_image", "", []string{"JPEG"}, nil}},
		// Columns are 1-based and point at the offending byte: the '}' is column 15.
		{name: "JSON syntax error", args: text("{\"image_b64\": }", "application/json"),
			want: e2eWant{400, "invalid_json", "", []string{"line 1, column 15"}, nil}},
		{name: "JSON ends early", args: text(`{"image_b64": "AAAA"`, "application/json"),
			want: e2eWant{400, "invalid_json", "", []string{"line 1"}, nil}},
		{name: "JSON array body", args: text(`[1,2]`, "application/json"),
			want: e2eWant{400, "invalid_json", "", []string{"array"}, nil}},
		{name: "JSON key image", args: text(`{"image": "AAAA"}`, "application/json"),
			want: e2eWant{400, "unknown_field", "image", []string{`did you mean "image_b64"`}, []string{"image_b64"}}},
		{name: "JSON image_b64 missing", args: text(`{"options": {"width": 10}}`, "application/json"),
			want: e2eWant{400, "missing_field", "image_b64", []string{"image_b64"}, nil}},
		{name: "JSON image_b64 a number", args: text(`{"image_b64": 42}`, "application/json"),
			want: e2eWant{400, "invalid_field_type", "image_b64", []string{"number"}, nil}},
		{name: "JSON image_b64 empty", args: text(`{"image_b64": ""}`, "application/json"),
			want: e2eWant{400, "empty_body", "image_b64", nil, nil}},
		{name: "bad base64 offset", args: text(`{"image_b64": "iVBORw0KGgo!AAAA"}`, "application/json"),
			want: e2eWant{400, "invalid_base64", "image_b64", []string{"offset 11", "'!'"}, []string{"base64"}}},
		{name: "base64 decodes to text", args: text(`{"image_b64": "aGVsbG8gd29ybGQ="}`, "application/json"),
			want: e2eWant{415, "unsupported_image_format", "", []string{"plain text"}, nil}},
		{name: "metadata not an object", args: text(`{"image_b64": "AAAA", "metadata": "id=42"}`, "application/json"),
			want: e2eWant{400, "invalid_metadata", "metadata", []string{"a string"}, nil}},
		{name: "multipart metadata not an object", args: []string{"-F", "image=@" + f("photo.jpg"), "-F", "metadata=[1,2]"},
			want: e2eWant{400, "invalid_metadata", "metadata", []string{"an array"}, nil}},
		{name: "multipart without boundary", args: raw("photo.jpg", "multipart/form-data"),
			want: e2eWant{400, "malformed_multipart", "", []string{"boundary"}, nil}},
		{name: "multipart body that does not match its boundary", args: text("just some bytes, not multipart", "multipart/form-data; boundary=XyZ"),
			want: e2eWant{400, "malformed_multipart", "", []string{"XyZ"}, nil}},
		{name: "multipart without image part", args: []string{"-F", "photo=@" + f("photo.jpg"), "-F", "width=10"},
			want: e2eWant{400, "missing_file_part", "image", []string{`"photo" (file "photo.jpg"`, `"width"`}, []string{"-F image=@"}}},
		{name: "option not a number", route: "/v1/process?width=abc", args: jpg,
			want: e2eWant{400, "invalid_option", "width", []string{`"abc"`}, []string{"1 to 65535"}}},
		{name: "option out of range", route: "/v1/process?quality=101", args: jpg,
			want: e2eWant{400, "invalid_option", "quality", []string{"101"}, []string{"1 to 100"}}},
		{name: "bad fit", route: "/v1/process?fit=zoom", args: jpg,
			want: e2eWant{400, "invalid_option", "fit", []string{`"zoom"`}, []string{"contain"}}},
		{name: "bad crop", route: "/v1/process?crop=1,2,3", args: jpg,
			want: e2eWant{400, "invalid_option", "crop", []string{`"1,2,3"`}, nil}},
		{name: "crop outside the image", route: "/v1/process?crop=50,40,30,30", args: jpg,
			want: e2eWant{400, "invalid_option", "crop", []string{"64×48"}, nil}},
		{name: "unknown format", route: "/v1/process?format=jxl", args: jpg,
			want: e2eWant{400, "invalid_option", "format", []string{"jxl"}, []string{"webp"}}},
		{name: "bad background", route: "/v1/process?background=red", args: jpg,
			want: e2eWant{400, "invalid_option", "background", []string{`"red"`}, nil}},
		{name: "option in query and form with different values", route: "/v1/process?width=10", args: []string{"-F", "image=@" + f("photo.jpg"), "-F", "width=20"},
			want: e2eWant{400, "invalid_option", "width", []string{`"10"`, `"20"`}, nil}},
		{name: "unknown option", route: "/v1/process?widht=10", args: jpg,
			want: e2eWant{400, "unknown_option", "widht", []string{`did you mean "width"`}, nil}},
		{name: "unknown option alias", route: "/v1/process?q=80", args: jpg,
			want: e2eWant{400, "unknown_option", "q", []string{`did you mean "quality"`}, nil}},
		{name: "unknown form field", args: []string{"-F", "image=@" + f("photo.jpg"), "-F", "colour=ff0000"},
			want: e2eWant{400, "unknown_option", "colour", []string{`did you mean "background"`}, nil}},
		{name: "info takes no options", route: "/v1/info?width=10", args: jpg,
			want: e2eWant{400, "unknown_option", "width", []string{"width"}, nil}},
		{name: "output too large", route: "/v1/process?width=20000&height=20000&fit=fill", args: jpg,
			want: e2eWant{422, "output_too_large", "", []string{"20000×20000", "400000000", "50000000"}, []string{"-max-output-pixels"}}},
		{name: "Accept image/jxl", args: append(append([]string{}, jpg...), "-H", "Accept: image/jxl"),
			want: e2eWant{406, "not_acceptable", "", []string{"image/jxl", "image/jpeg", "image/webp", "image/avif"}, nil}},
		{name: "Accept conflicts with format", route: "/v1/process?format=png", args: append(append([]string{}, jpg...), "-H", "Accept: image/jpeg"),
			want: e2eWant{406, "not_acceptable", "", []string{"image/png"}, nil}},
		{name: "GET on process", args: []string{"-X", "GET"},
			want: e2eWant{405, "method_not_allowed", "", []string{"GET", "POST"}, nil}},
		{name: "PUT on info", route: "/v1/info", args: append([]string{"-X", "PUT"}, jpg...),
			want: e2eWant{405, "method_not_allowed", "", []string{"PUT", "POST"}, nil}},
		{name: "DELETE on healthz", route: "/healthz", args: []string{"-X", "DELETE"},
			want: e2eWant{405, "method_not_allowed", "", []string{"DELETE", "GET"}, nil}},
		{name: "unknown route", route: "/v2/process", args: jpg,
			want: e2eWant{404, "not_found", "", []string{"/v2/process"}, nil}},
		{name: "unknown error type", route: "/v1/errors/nope", args: []string{"-X", "GET"},
			want: e2eWant{404, "not_found", "", []string{"nope"}, nil}},
		{name: "compressed body", args: append(append([]string{}, jpg...), "-H", "Content-Encoding: gzip"),
			want: e2eWant{415, "unsupported_content_type", "", []string{"gzip"}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			route := tt.route
			if route == "" {
				route = "/v1/process"
			}
			r := curl(t, s.base+route, tt.args...)
			checkProblem(t, r, tt.want)
			if tt.want.status == 405 {
				if allow := r.header.Get("Allow"); !strings.Contains(allow, tt.want.detail[1]) {
					t.Errorf("Allow = %q, want it to list %s", allow, tt.want.detail[1])
				}
			}
		})
	}
	t.Run("X-Request-ID echoed on errors", func(t *testing.T) {
		t.Parallel()
		r := curl(t, s.base+"/v1/process", "-H", "X-Request-ID: my-trace-42", "--data-binary", "img.jpg")
		p := checkProblem(t, r, e2eWant{status: 400, code: "body_is_path"})
		if p.RequestID != "my-trace-42" {
			t.Errorf("request_id = %q, want the X-Request-ID sent, my-trace-42", p.RequestID)
		}
	})
	t.Run("junk X-Request-ID replaced", func(t *testing.T) {
		t.Parallel()
		r := curl(t, s.base+"/nope", "-H", "X-Request-ID: has spaces in it")
		p := checkProblem(t, r, e2eWant{status: 404, code: "not_found"})
		if p.RequestID == "has spaces in it" {
			t.Errorf("a request ID with spaces was echoed; want a fresh one")
		}
	})
	t.Run("generated request IDs differ", func(t *testing.T) {
		t.Parallel()
		a := checkProblem(t, curl(t, s.base+"/nope"), e2eWant{status: 404, code: "not_found"})
		b := checkProblem(t, curl(t, s.base+"/nope"), e2eWant{status: 404, code: "not_found"})
		if a.RequestID == b.RequestID {
			t.Errorf("two requests got the same request_id %q", a.RequestID)
		}
	})
	t.Run("body over the limit with Content-Length", func(t *testing.T) {
		t.Parallel()
		r := curl(t, small.base+"/v1/process", raw("random.bin", "image/jpeg")...)
		checkProblem(t, r, e2eWant{413, "body_too_large", "", []string{"250000", "200000"}, []string{"-max-body-bytes"}})
	})
	t.Run("body over the limit chunked", func(t *testing.T) {
		t.Parallel()
		r := curl(t, small.base+"/v1/process", append(raw("random.bin", "image/jpeg"), "-H", "Transfer-Encoding: chunked")...)
		checkProblem(t, r, e2eWant{413, "body_too_large", "", []string{"200000"}, []string{"-max-body-bytes"}})
	})
	t.Run("multipart over the limit", func(t *testing.T) {
		t.Parallel()
		r := curl(t, small.base+"/v1/process", "-F", "image=@"+f("random.bin"))
		checkProblem(t, r, e2eWant{413, "body_too_large", "", []string{"200000"}, nil})
	})
}

func e2eLimits(t *testing.T, small *binInstance, f func(string) string) {
	t.Run("image too large", func(t *testing.T) {
		t.Parallel()
		r := curl(t, small.base+"/v1/process?width=10", "--data-binary", "@"+f("huge.png"), "-H", "Content-Type: image/png")
		checkProblem(t, r, e2eWant{422, "image_too_large", "", []string{"600×600", "360000", "250000"}, []string{"-max-input-pixels"}})
	})
	t.Run("output too large", func(t *testing.T) {
		t.Parallel()
		r := curl(t, small.base+"/v1/process?width=2000&height=2000&fit=fill", "--data-binary", "@"+f("photo.png"), "-H", "Content-Type: image/png")
		checkProblem(t, r, e2eWant{422, "output_too_large", "", []string{"2000×2000", "4000000", "1000000"}, []string{"-max-output-pixels"}})
	})
	t.Run("processing timeout", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		r := curl(t, small.base+"/v1/process?blur=50", "--data-binary", "@"+f("mid.png"), "-H", "Content-Type: image/png")
		checkProblem(t, r, e2eWant{503, "processing_timeout", "", []string{"50ms"}, nil})
		if r.header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("processing_timeout came after %v, want soon after the 50 ms deadline", d)
		}
	})
	t.Run("request timeout", func(t *testing.T) {
		t.Parallel()
		// Headers with a Content-Length, a few bytes of body, then silence.
		conn, err := net.Dial("tcp", strings.TrimPrefix(small.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nX-Request-ID: stall-1\r\nContent-Length: 5000\r\n\r\n\xff\xd8\xff\xe0")
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a stalled body: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		p := checkProblem(t, response{resp.StatusCode, resp.Header, body}, e2eWant{408, "request_timeout", "", []string{"1s", "4 bytes"}, []string{"-body-timeout"}})
		if p.RequestID != "stall-1" {
			t.Errorf("request_id = %q, want stall-1", p.RequestID)
		}
		if d := time.Since(start); d < 900*time.Millisecond || d > 5*time.Second {
			t.Errorf("408 after %v, want about the 1 s body timeout", d)
		}
	})
}

func e2eOverloaded(t *testing.T, busy *binInstance, f func(string) string) {
	// One worker, a queue of one: of four concurrent slow jobs, one runs,
	// one waits and the others are refused at once.
	const n = 4
	var wg sync.WaitGroup
	res := make([]response, n)
	took := make([]time.Duration, n)
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			var err error
			res[i], err = curlE(dirs[i], busy.base+"/v1/process?blur=50&format=jpeg", "--data-binary", "@"+f("big.jpg"), "-H", "Content-Type: image/jpeg")
			if err != nil {
				t.Error(err)
			}
			took[i] = time.Since(start)
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for i, r := range res {
		switch r.status {
		case http.StatusOK:
			ok++
			checkDecoded(t, r.body, "jpeg", 1000, 1000)
		case http.StatusServiceUnavailable:
			refused++
			checkProblem(t, r, e2eWant{503, "overloaded", "", []string{"queue"}, []string{"Retry-After"}})
			if got := r.header.Get("Retry-After"); got != "3" {
				t.Errorf("Retry-After = %q, want 3 (from -retry-after 3s)", got)
			}
			if took[i] > 700*time.Millisecond {
				t.Errorf("overloaded answer took %v, want it at once", took[i])
			}
		default:
			t.Errorf("request %d: status %d, want 200 or 503; body %.300s", i, r.status, r.body)
		}
	}
	if refused < 1 || ok < 1 || ok > 2 {
		t.Errorf("%d answered 200 and %d 503 overloaded, want 1–2 served and the rest refused", ok, refused)
	}

	// A client that gives up while queued frees its place at once.
	slow := []string{"--data-binary", "@" + f("big.jpg"), "-H", "Content-Type: image/jpeg"}
	var a response
	wg.Add(1)
	dirA := t.TempDir()
	go func() {
		defer wg.Done()
		var err error
		if a, err = curlE(dirA, busy.base+"/v1/process?blur=100", slow...); err != nil {
			t.Error(err)
		}
	}()
	defer wg.Wait() // on a failure below too
	e2eWaitGauge(t, busy, "imgsvc_workers_busy", 1)
	b := exec.Command("curl", append([]string{"-sS", "-o", os.DevNull}, append(slow, busy.base+"/v1/process?blur=100")...)...)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	e2eWaitGauge(t, busy, "imgsvc_queue_depth", 1)
	b.Process.Kill()
	b.Wait()
	e2eWaitGauge(t, busy, "imgsvc_queue_depth", 0)
	c := curl(t, busy.base+"/v1/process?blur=1", slow...)
	wg.Wait()
	if c.status != http.StatusOK {
		t.Errorf("C after a queued client left: status %d, want 200; body %.300s", c.status, c.body)
	}
	if a.status != http.StatusOK {
		t.Errorf("A: status %d, want 200", a.status)
	}
}

// e2eWaitGauge waits up to 5 s for the admin /metrics gauge name to read want.
func e2eWaitGauge(t *testing.T, s *binInstance, name string, want int) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(s.admin + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				last = v
				if f, err := strconv.ParseFloat(v, 64); err == nil && int(f) == want {
					return
				}
			}
		}
	}
	t.Fatalf("%s did not reach %d within 5 s (last %q)", name, want, last)
}

func e2ePythonCases(t *testing.T, s *binInstance, imgDir string) {
	results := e2ePython(t, s.base, imgDir)
	type tc struct {
		name  string
		want  *e2eWant // an error answer
		check func(t *testing.T, r response, sent map[string]any)
	}
	errCase := func(name string, w e2eWant) tc { return tc{name: name, want: &w} }
	tests := []tc{
		// A small JPEG's standard base64 starts with "/9j/" and must not be
		// taken for a file path.
		{name: "json_process", check: func(t *testing.T, r response, sent map[string]any) {
			m := e2eJSONResponse(t, r, "image/png", "png", 32, 24)
			if got := m["metadata"]; !reflect.DeepEqual(got, sent["metadata"]) {
				t.Errorf("metadata = %#v, want the object sent, %#v", got, sent["metadata"])
			}
		}},
		{name: "json_process_png", check: func(t *testing.T, r response, sent map[string]any) {
			m := e2eJSONResponse(t, r, "image/jpeg", "jpeg", 32, 24)
			if got := m["metadata"]; !reflect.DeepEqual(got, sent["metadata"]) {
				t.Errorf("metadata = %#v, want the object sent, %#v", got, sent["metadata"])
			}
		}},
		{name: "json_process_large_jpeg", check: func(t *testing.T, r response, _ map[string]any) {
			e2eJSONResponse(t, r, "image/jpeg", "jpeg", 100, 100)
		}},
		{name: "json_process_metadata_verbatim", check: func(t *testing.T, r response, _ map[string]any) {
			e2eJSONResponse(t, r, "image/png", "png", 64, 48)
			var env struct{ Metadata json.RawMessage }
			json.Unmarshal(r.body, &env)
			if c := string(env.Metadata); !strings.Contains(c, "12345678901234567890") || !strings.Contains(c, "1.10") || !strings.Contains(c, "1e2") {
				t.Errorf("metadata = %s, want the numbers exactly as sent (12345678901234567890, 1.10, 1e2)", c)
			}
		}},
		{name: "json_process_no_metadata", check: func(t *testing.T, r response, _ map[string]any) {
			m := e2eJSONResponse(t, r, "image/png", "png", 64, 48)
			if got := m["metadata"]; !reflect.DeepEqual(got, map[string]any{}) {
				t.Errorf("metadata = %#v, want {}", got)
			}
		}},
		{name: "json_accept_image", check: func(t *testing.T, r response, _ map[string]any) { checkImage(t, r, "png", 16, 12) }},
		{name: "json_data_uri", check: func(t *testing.T, r response, _ map[string]any) { e2eJSONResponse(t, r, "image/png", "png", 48, 64) }},
		{name: "json_urlsafe_unpadded", check: func(t *testing.T, r response, sent map[string]any) {
			if sent["urlsafe_chars"] != true || sent["unpadded"] != true {
				t.Errorf("the test image did not exercise URL-safe unpadded base64: %v", sent)
			}
			e2eJSONResponse(t, r, "image/png", "png", 64, 48)
		}},
		{name: "json_b64_newlines", check: func(t *testing.T, r response, sent map[string]any) {
			if n, _ := sent["newlines"].(float64); n < 2 {
				t.Errorf("the base64 sent had %v newlines, want several", sent["newlines"])
			}
			e2eJSONResponse(t, r, "image/jpeg", "jpeg", 64, 48)
		}},
		{name: "json_info", check: func(t *testing.T, r response, sent map[string]any) {
			m := e2eJSON(t, r)
			e2eFields(t, m, map[string]any{"format": "jpeg", "width": 64.0, "height": 48.0, "orientation": 6.0,
				"display_width": 48.0, "display_height": 64.0, "metadata": sent["metadata"]})
		}},
		{name: "multipart_process", check: func(t *testing.T, r response, _ map[string]any) { checkImage(t, r, "jpeg", 20, 15) }},
		{name: "multipart_file_alias", check: func(t *testing.T, r response, _ map[string]any) { checkImage(t, r, "jpeg", 16, 12) }},
		{name: "multipart_info", check: func(t *testing.T, r response, _ map[string]any) {
			e2eFields(t, e2eJSON(t, r), map[string]any{"format": "gif", "frames": 2.0, "animated": true, "metadata": map[string]any{"id": "7"}})
		}},
		{name: "raw_process", check: func(t *testing.T, r response, _ map[string]any) {
			checkImage(t, r, "jpeg", 40, 30)
			if got := r.header.Get("X-Request-ID"); got != "py-raw-1" {
				t.Errorf("X-Request-ID = %q, want py-raw-1", got)
			}
		}},
		{name: "data_is_path", want: &e2eWant{400, "body_is_path", "", []string{`"img.jpg"`}, []string{`data=open("img.jpg", "rb")`}},
			check: func(t *testing.T, _ response, sent map[string]any) {
				if sent["content_type"] != nil {
					t.Errorf("requests sent Content-Type %v; the case needs none", sent["content_type"])
				}
			}},
		{name: "data_file_no_content_type", want: &e2eWant{400, "missing_content_type", "", []string{"JPEG"}, []string{"image/jpeg"}},
			check: func(t *testing.T, _ response, sent map[string]any) {
				if sent["content_type"] != nil {
					t.Errorf("requests sent Content-Type %v; the case needs none", sent["content_type"])
				}
			}},
		errCase("data_dict", e2eWant{400, "body_is_path", "", []string{"photo.jpg"}, nil}),
		errCase("json_key_image", e2eWant{400, "unknown_field", "image", []string{`did you mean "image_b64"`}, []string{"image_b64"}}),
		errCase("json_key_img", e2eWant{400, "unknown_field", "img", []string{`did you mean "image_b64"`}, nil}),
		errCase("json_key_data", e2eWant{400, "unknown_field", "data", []string{`did you mean "image_b64"`}, nil}),
		errCase("json_option_at_top_level", e2eWant{400, "unknown_field", "width", []string{"option"}, []string{`"options"`}}),
		errCase("json_missing_image_b64", e2eWant{400, "missing_field", "image_b64", []string{"image_b64"}, []string{"requests.post"}}),
		errCase("json_image_b64_number", e2eWant{400, "invalid_field_type", "image_b64", []string{"a number"}, nil}),
		errCase("json_image_b64_bytes_repr", e2eWant{400, "invalid_base64", "image_b64", []string{"at offset 1 "}, []string{".decode()"}}),
		errCase("json_bad_base64", e2eWant{400, "invalid_base64", "image_b64", []string{`'*'`, "offset 100"}, nil}),
		errCase("json_truncated_base64", e2eWant{400, "invalid_base64", "image_b64", []string{"truncated"}, nil}),
		errCase("json_image_b64_is_path", e2eWant{400, "body_is_path", "image_b64", []string{"/home/me/photo.jpg"}, []string{"b64encode"}}),
		errCase("json_image_b64_is_url", e2eWant{400, "body_is_url", "image_b64", []string{"https://example.com/cat.png"}, nil}),
		errCase("json_metadata_string", e2eWant{400, "invalid_metadata", "metadata", []string{"a string"}, nil}),
		errCase("json_metadata_array", e2eWant{400, "invalid_metadata", "metadata", []string{"an array"}, nil}),
		// The '}' after the comma is line 2, column 25.
		errCase("json_syntax_error", e2eWant{400, "invalid_json", "", []string{"line 2, column 25"}, nil}),
		errCase("json_unknown_option", e2eWant{400, "unknown_option", "options.widht", []string{`did you mean "width"`}, nil}),
		errCase("json_invalid_option", e2eWant{400, "invalid_option", "options.quality", []string{"0"}, []string{"1 to 100"}}),
		errCase("json_options_not_object", e2eWant{400, "invalid_field_type", "options", []string{"a string"}, nil}),
		errCase("multipart_wrong_part_name", e2eWant{400, "missing_file_part", "image", []string{`"photo"`, `"width"`}, []string{`files={"image"`}}),
		errCase("multipart_metadata_not_object", e2eWant{400, "invalid_metadata", "metadata", nil, nil}),
		errCase("multipart_header_without_boundary", e2eWant{400, "malformed_multipart", "", []string{"boundary"}, []string{"files="}}),
		errCase("accept_jxl", e2eWant{406, "not_acceptable", "", []string{"image/jxl"}, nil}),
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, ok := results[tt.name]
			if !ok {
				t.Fatalf("client.py has no case %q", tt.name)
			}
			r := res.resp(t)
			if tt.want != nil {
				checkProblem(t, r, *tt.want)
			}
			if tt.check != nil {
				tt.check(t, r, res.Sent)
			}
		})
	}
	for name := range results {
		if !seen[name] {
			t.Errorf("client.py case %q has no assertions here", name)
		}
	}
}

// ---- small helpers -------------------------------------------------------

func e2eJSON(t *testing.T, r response) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body: %.500s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %.300s", err, r.body)
	}
	return m
}

// e2eJSONResponse checks a JSON-form answer of /v1/process and the image in it.
func e2eJSONResponse(t *testing.T, r response, ct, format string, w, h int) map[string]any {
	t.Helper()
	m := e2eJSON(t, r)
	e2eFields(t, m, map[string]any{"content_type": ct, "width": float64(w), "height": float64(h)})
	img, err := base64.StdEncoding.DecodeString(fmt.Sprint(m["image_b64"]))
	if err != nil {
		t.Fatalf("image_b64 is not standard base64: %v", err)
	}
	if m["bytes"] != float64(len(img)) {
		t.Errorf("bytes = %v, want %d (the decoded image_b64)", m["bytes"], len(img))
	}
	checkDecoded(t, img, format, w, h)
	return m
}

func e2eFields(t *testing.T, m map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
}

func e2eB64(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func e2eSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
