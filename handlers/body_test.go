package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// stallReader returns its bytes, then blocks until release is closed.
type stallReader struct {
	data    []byte
	release chan struct{}
}

func (r *stallReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	<-r.release
	return 0, io.ErrUnexpectedEOF
}

func TestReadAll_growsWithTheBytes(t *testing.T) {
	budget := newBodyBudget(1<<30, time.Second)
	tests := []struct {
		name       string
		size       int64 // declared; -1 unknown
		got        int
		wantMaxCap int64
	}{
		{"declared 33 MB, 4 bytes sent", 33_000_000, 4, minBodyBuffer},
		{"declared 33 MB, 100 kB sent", 33_000_000, 100_000, 256 << 10},
		{"unknown length, 4 bytes", -1, 4, minBodyBuffer},
		{"declared length, all sent", 3_000_000, 3_000_000, 3_000_001},
		{"unknown length, 3 MB", -1, 3_000_000, 4 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &bodyHold{budget: budget, ctx: context.Background()}
			data := bytes.Repeat([]byte{'x'}, tt.got)
			var r io.Reader = bytes.NewReader(data)
			if int64(tt.got) < tt.size {
				rel := make(chan struct{})
				close(rel)
				r = &stallReader{data: data, release: rel}
			}
			buf, _ := readAll(r, tt.size, 64<<20, h)
			if len(buf) != tt.got {
				t.Errorf("read %d bytes, want %d", len(buf), tt.got)
			}
			if int64(cap(buf)) > tt.wantMaxCap {
				t.Errorf("buffer capacity %d, want at most %d", cap(buf), tt.wantMaxCap)
			}
			if h.live != int64(cap(buf)) || h.held != int64(cap(buf)) {
				t.Errorf("charged live %d, held %d; want both %d (the buffer's capacity)", h.live, h.held, cap(buf))
			}
			h.releaseAll()
			if u := budget.InUse(); u != 0 {
				t.Errorf("budget in use after release = %d, want 0", u)
			}
		})
	}
}

// TestReadAll_peakCharge checks that while a body of known length grows,
// the old and new buffers together stay within 1.5 × its length.
func TestReadAll_peakCharge(t *testing.T) {
	for _, size := range []int64{1, 1000, 32 << 10, 100_000, 1 << 20, 5_000_001, 33_000_000} {
		budget := newBodyBudget(int64(float64(size+1)*1.5)+1, 10*time.Millisecond)
		h := &bodyHold{budget: budget, ctx: context.Background()}
		buf, err := readAll(io.LimitReader(zeroReader{}, size), size, 64<<20, h)
		if err != nil {
			t.Errorf("size %d: %v (the growth needed more than 1.5× the body)", size, err)
			continue
		}
		if int64(len(buf)) != size || int64(cap(buf)) != size+1 {
			t.Errorf("size %d: len %d cap %d, want len %d cap %d", size, len(buf), cap(buf), size, size+1)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestBodyBudget_acquire(t *testing.T) {
	b := newBodyBudget(100, 50*time.Millisecond)
	ctx := context.Background()
	if err := b.acquire(ctx, 80); err != nil {
		t.Fatal(err)
	}
	// A request that fits goes ahead even while a larger one waits.
	waited := make(chan error, 1)
	go func() { waited <- b.acquire(ctx, 50) }()
	time.Sleep(10 * time.Millisecond)
	if err := b.acquire(ctx, 20); err != nil {
		t.Errorf("acquire(20) with 20 free: %v, want nil", err)
	}
	if err := <-waited; imaging.ErrorCode(err) != imaging.CodeOverloaded {
		t.Errorf("acquire(50) with nothing freed = %v, want overloaded", err)
	}
	// Bytes released wake a waiter.
	go func() {
		time.Sleep(10 * time.Millisecond)
		b.release(50)
	}()
	if err := b.acquire(ctx, 40); err != nil {
		t.Errorf("acquire(40) after a release: %v, want nil", err)
	}
	if err := b.acquire(ctx, 101); imaging.ErrorCode(err) != CodeBodyTooLarge {
		t.Errorf("acquire over the whole limit = %v, want body_too_large at once", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.acquire(cctx, 90); imaging.ErrorCode(err) != imaging.CodeRequestTimeout {
		t.Errorf("acquire with an ended context = %v, want request_timeout", err)
	}
}

// TestServer_bodyMemory drives requests through a Server whose body memory
// holds about one body: one upload that stalls holds its share, a second
// large one is refused with 503 overloaded, a small one is still served, and
// everything is given back when the requests end, whatever their outcome.
func TestServer_bodyMemory(t *testing.T) {
	src := tinyPNG(t)
	proc := ProcessFn(func(_ context.Context, b []byte, _ imaging.Options) (imaging.Result, error) {
		return imaging.Result{Data: []byte("out"), Format: imaging.FormatPNG, Width: 3, Height: 2}, nil
	})
	s := New(proc, nil, Config{MaxBodyBytes: 1 << 20, MaxBodyMemory: 2 << 20, BodyMemoryWait: 100 * time.Millisecond})
	e := newTestEcho(s)

	release := make(chan struct{})
	stalled := httptest.NewRequest(http.MethodPost, "/v1/process", &stallReader{data: src[:4], release: release})
	stalled.Header.Set("Content-Type", "image/png")
	stalled.ContentLength = 1_000_000
	var wg sync.WaitGroup
	var stalledCode int
	wg.Go(func() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, stalled)
		stalledCode = rec.Code
	})
	waitFor(t, func() bool { return s.BodyMemoryInUse() > 0 })
	if u := s.BodyMemoryInUse(); u < 1_000_000 || u > 1_600_000 {
		t.Errorf("a stalled 1 MB upload holds %d bytes, want its 1.5 MB reservation", u)
	}

	big := httptest.NewRequest(http.MethodPost, "/v1/process", bytes.NewReader(make([]byte, 900_000)))
	big.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, big)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "overloaded") ||
		!strings.Contains(rec.Body.String(), "-max-body-memory") || rec.Header().Get("Retry-After") == "" {
		t.Errorf("a second large upload = %d %s (Retry-After %q), want 503 overloaded naming -max-body-memory",
			rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}

	small := httptest.NewRequest(http.MethodPost, "/v1/process", bytes.NewReader(src))
	small.Header.Set("Content-Type", "image/png")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, small)
	if rec.Code != http.StatusOK {
		t.Errorf("a small request while an upload stalls = %d %s, want 200", rec.Code, rec.Body)
	}

	close(release)
	wg.Wait()
	if stalledCode != http.StatusRequestTimeout {
		t.Errorf("the stalled upload ended with %d, want 408", stalledCode)
	}
	if u := s.BodyMemoryInUse(); u != 0 {
		t.Errorf("body memory in use after all requests = %d, want 0", u)
	}

	// Every form, successful or not, gives its memory back.
	b64 := base64.StdEncoding.EncodeToString(src)
	for _, body := range []struct{ ct, body string }{
		{"application/json", `{"image_b64":"` + b64 + `"}`},
		{"application/json", `{"image_b64":"` + b64 + `$$"}`},
		{"application/json", `{"image": "x"}`},
		{"image/png", string(src)},
		{"image/png", "not a png"},
		{"text/plain", "hello"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/v1/process", strings.NewReader(body.body))
		req.Header.Set("Content-Type", body.ct)
		e.ServeHTTP(httptest.NewRecorder(), req)
		if u := s.BodyMemoryInUse(); u != 0 {
			t.Errorf("%s %.30q: body memory in use after the request = %d, want 0", body.ct, body.body, u)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// photoPNG is a w×h PNG of noise, which does not compress.
func photoPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.Uint32())
	}
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	m.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestParseJSON_oneBuffer checks that a JSON body's base64 is decoded into
// one buffer: the bytes allocated while parsing stay near the image's size,
// where unquoting, cleaning and decoding the string used to take four times it.
func TestParseJSON_oneBuffer(t *testing.T) {
	src := photoPNG(t, 1024, 1024) // 4 MB
	for _, tt := range []struct {
		name string
		b64  string
	}{
		{"standard", base64.StdEncoding.EncodeToString(src)},
		{"url-safe unpadded", base64.RawURLEncoding.EncodeToString(src)},
		{"data URI", "data:image/png;base64," + base64.StdEncoding.EncodeToString(src)},
		{"escaped slashes and wrapped lines", strings.ReplaceAll(wrap(base64.StdEncoding.EncodeToString(src), 76), "/", `\/`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(`{"metadata": {"id": 7}, "image_b64": "` + tt.b64 + `", "options": {"width": 10}}`)
			h := &bodyHold{budget: newBodyBudget(1<<30, time.Second), ctx: context.Background()}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			in, err := parseJSON(body, h)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in.image, src) {
				t.Fatalf("decoded %d bytes that differ from the %d-byte image", len(in.image), len(src))
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			if limit := uint64(len(src)) * 11 / 10; alloc > limit {
				t.Errorf("parsing allocated %d bytes for a %d-byte image, want at most %d", alloc, len(src), limit)
			}
			if h.live < int64(len(src)) {
				t.Errorf("the decoded image is charged %d bytes, want at least %d", h.live, len(src))
			}
			var meta map[string]int
			if json.Unmarshal(in.metadata, &meta) != nil || meta["id"] != 7 || in.options["width"][0] != "10" {
				t.Errorf("metadata %s, options %v: lost on the way", in.metadata, in.options)
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString(`\n`)
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestParseJSON_base64Errors(t *testing.T) {
	h := func() *bodyHold {
		return &bodyHold{budget: newBodyBudget(1<<30, time.Second), ctx: context.Background()}
	}
	tests := []struct {
		name     string
		b64      string
		wantCode imaging.Code
		want     string
	}{
		// "/9j/" starts every JPEG's base64: a broken one is bad base64, not a path.
		{"broken JPEG base64", "/9j/4AAQ$$$$AAAA", CodeInvalidBase64, "offset 8"},
		{"broken PNG base64", "iVBORw0KGgo!AAAA", CodeInvalidBase64, "offset 11"},
		{"a path", "/home/me/photo.jpg", CodeBodyIsPath, "/home/me/photo.jpg"},
		{"a path without extension", "/home/me/photo", CodeBodyIsPath, "/home/me/photo"},
		{"empty", "", CodeEmptyBody, "empty"},
		{"escaped quote", `abcd\"efg`, CodeInvalidBase64, `'"'`},
		{"unicode escape", `\u0041BCD`, imaging.CodeUnsupportedImageFormat, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := parseJSON([]byte(`{"image_b64": "`+tt.b64+`"}`), h())
			if tt.wantCode == imaging.CodeUnsupportedImageFormat {
				// It decodes; the handler then says what the bytes are.
				if err != nil || !bytes.Equal(in.image, []byte{0x00, 0x10, 0x83}) {
					t.Errorf("got %v, %v; want the decoded bytes 001083", in, err)
				}
				return
			}
			var ie *imaging.Error
			if !errors.As(err, &ie) || ie.Code != tt.wantCode || !strings.Contains(ie.Detail, tt.want) {
				t.Errorf("parseJSON(%q) = %v, want %s mentioning %q", tt.b64, err, tt.wantCode, tt.want)
			}
		})
	}
}

func newTestEcho(s *Server) *echo.Echo {
	e := echo.New()
	s.Register(e)
	return e
}

// TestParseJSON_duplicateImage: as in encoding/json, the last image_b64 wins,
// whether the earlier one was good or bad, and only its buffer stays charged.
func TestParseJSON_duplicateImage(t *testing.T) {
	src := tinyPNG(t)
	b64 := base64.StdEncoding.EncodeToString(src)
	h := &bodyHold{budget: newBodyBudget(1<<30, time.Second), ctx: context.Background()}
	in, err := parseJSON([]byte(`{"image_b64":"@@@","image_b64":"`+b64+`"}`), h)
	if err != nil || !bytes.Equal(in.image, src) {
		t.Errorf("bad then good: %v, %v; want the image", in, err)
	}
	if h.live != int64(cap(in.image)) {
		t.Errorf("charged %d bytes, want the last image's %d", h.live, cap(in.image))
	}
	_, err = parseJSON([]byte(`{"image_b64":"`+b64+`","image_b64":"ab$d"}`), h)
	if imaging.ErrorCode(err) != CodeInvalidBase64 {
		t.Errorf("good then bad: %v, want invalid_base64", err)
	}
}

// TestParseMultipart_oneCopy: a large image part is copied out of the body
// once, into a buffer of its exact size charged to the request.
func TestParseMultipart_oneCopy(t *testing.T) {
	src := photoPNG(t, 1024, 1024) // 4 MB
	body, ct := multipartBody(t, map[string]string{"width": "10", "metadata": `{"id": 1}`}, map[string][]byte{"image": src})
	_, params, _ := mime.ParseMediaType(ct)
	s := New(nil, nil, Config{})
	h := &bodyHold{budget: newBodyBudget(1<<30, time.Second), ctx: context.Background()}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	in, err := s.parseMultipart(body.Bytes(), params, h)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in.image, src) || in.options["width"][0] != "10" || string(in.metadata) != `{"id": 1}` {
		t.Fatalf("parts lost: image %d bytes, options %v, metadata %s", len(in.image), in.options, in.metadata)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(src))*11/10 {
		t.Errorf("parsing allocated %d bytes for a %d-byte part, want about one copy", alloc, len(src))
	}
	if h.live != int64(len(src)) {
		t.Errorf("the image part is charged %d bytes, want %d", h.live, len(src))
	}
}
