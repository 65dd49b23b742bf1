package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// The fuzz targets of the HTTP layer drive whole requests through Echo and
// the real pipeline (small limits, jobs run inline): the body reader, the
// three input forms, base64, options, negotiation and the error handler.
// Whatever the bytes, the answer is a 200 or a problem+json 4xx whose code
// maps to its status; never a panic, never a 5xx.

// inlineRunner runs jobs on the caller's goroutine.
type inlineRunner struct{}

func (inlineRunner) Do(ctx context.Context, _ int64, job func(context.Context)) error {
	job(ctx)
	return nil
}

// fuzzEcho is an Echo with the public routes, over a real pipeline with
// limits small enough that no fuzzed input takes long: the cost of blur and
// sharpen grows with pixels × sigma, and sigma may be 100.
// fuzzTarget is a Server with a body memory bound, and its Echo.
type fuzzTarget struct {
	e *echo.Echo
	s *Server
}

func fuzzEcho() fuzzTarget {
	pipe := imaging.NewPipeline(imaging.Limits{MaxInputPixels: 1 << 14, MaxOutputPixels: 1 << 14}, inlineRunner{}, nil)
	s := New(pipe, nil, Config{MaxBodyBytes: 1 << 20, MaxBodyMemory: 8 << 20})
	e := echo.New()
	s.Register(e)
	return fuzzTarget{e: e, s: s}
}

// fuzzSeedImages returns the seed images of every format, by file name.
func fuzzSeedImages(f *testing.F) map[string][]byte {
	f.Helper()
	names, err := filepath.Glob("../testdata/hostile/seeds/*")
	if err != nil || len(names) < 10 {
		f.Fatalf("want the seed images of ../testdata/hostile/seeds, found %d (%v)", len(names), err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

// fuzzQueries are option sets as query strings.
func fuzzQueries() []string {
	return []string{"", "width=8", "width=5&height=5&fit=cover&format=png", "crop=0,0,2,2&grayscale",
		"blur=0.5&format=jpeg&quality=5", "rotate=45&background=%23ff0", "widht=3", "width=NaN", "format=webp",
		"width=1e9", "width=-1", "quality=101", "gamma=%ff%fe", "strip=false&auto_orient=0", "w=1&w=2"}
}

// checkAnswer asserts the contract every fuzzed request must meet.
func checkAnswer(t *testing.T, route string, rec *httptest.ResponseRecorder) {
	t.Helper()
	status := rec.Code
	if status == http.StatusOK {
		return
	}
	if status < 400 || status >= 500 {
		t.Fatalf("%s answered %d: %s", route, status, truncate(rec.Body.String(), 500))
	}
	if ct := rec.Header().Get(echo.HeaderContentType); ct != MIMEProblemJSON {
		t.Fatalf("%s answered %d with Content-Type %q, want %s", route, status, ct, MIMEProblemJSON)
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON (%v): %q", route, status, err, truncate(rec.Body.String(), 300))
	}
	if p.Code == "" || p.Status != status || Status(imaging.Code(p.Code)) != status || p.Detail == "" {
		t.Fatalf("%s answered %d with problem %+v", route, status, p)
	}
}

// fuzzServe sends one request to /v1/process and /v1/info and checks both answers.
func fuzzServe(t *testing.T, ft fuzzTarget, ct, accept, query string, body []byte) {
	t.Helper()
	e := ft.e
	defer func() {
		// Every request gives back all the body memory it held.
		if n := ft.s.BodyMemoryInUse(); n != 0 {
			t.Fatalf("body memory in use after the request: %d bytes", n)
		}
	}()
	for _, route := range []string{"/v1/process", "/v1/info"} {
		req := httptest.NewRequest(http.MethodPost, route, bytes.NewReader(body))
		req.URL.RawQuery = query
		if ct != "" {
			req.Header.Set(echo.HeaderContentType, ct)
		}
		if accept != "" {
			req.Header.Set(echo.HeaderAccept, accept)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		checkAnswer(t, route, rec)
	}
}

// FuzzRawBody fuzzes the raw form: any Content-Type, query and body.
func FuzzRawBody(f *testing.F) {
	for name, b := range fuzzSeedImages(f) {
		ext := strings.TrimPrefix(filepath.Ext(name), ".")
		f.Add("image/"+ext, "", b)
		f.Add("application/octet-stream", "width=5&format=png", b)
		f.Add("image/png", "", b) // mismatched for most
		f.Add("", "", b)
	}
	for i, s := range []string{"photo.jpg", "https://x.test/a.png", "<html>", "", " \n\t ", "{\"image_b64\":\"\"}", "--abc\r\n"} {
		f.Add([]string{"", "text/plain", "application/x-www-form-urlencoded", "image/jpeg; charset=\"", "application/json", "multipart/form-data"}[i%6], "", []byte(s))
	}
	e := fuzzEcho()
	queries := fuzzQueries()
	f.Fuzz(func(t *testing.T, ct, query string, body []byte) {
		fuzzServe(t, e, ct, "", query, body)
		if len(body) > 0 && len(query) == 0 {
			fuzzServe(t, e, ct, "", queries[int(body[0])%len(queries)], body)
		}
	})
}

// FuzzMultipart fuzzes multipart bodies under a given boundary.
func FuzzMultipart(f *testing.F) {
	imgs := fuzzSeedImages(f)
	i := 0
	for name, b := range imgs {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		part := []string{"image", "file", "photo"}[i%3]
		fw, _ := w.CreateFormFile(part, name)
		fw.Write(b)
		if i%2 == 0 {
			w.WriteField("metadata", `{"id":"42","nested":{"a":[1,2,3]}}`)
		}
		if i%4 == 1 {
			w.WriteField("width", "6")
			w.WriteField("format", "png")
		}
		w.Close()
		f.Add(w.Boundary(), fuzzQueries()[i%len(fuzzQueries())], buf.Bytes())
		i++
	}
	f.Add("b", "", []byte("--b\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nphoto.jpg\r\n--b--\r\n"))
	f.Add("b", "", []byte("--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n[1]\r\n--b--\r\n"))
	f.Add(strings.Repeat("x", 70), "", []byte("--"+strings.Repeat("x", 70)+"--\r\n"))
	f.Add("", "", []byte("garbage"))
	e := fuzzEcho()
	f.Fuzz(func(t *testing.T, boundary, query string, body []byte) {
		ct := "multipart/form-data"
		if boundary != "" {
			ct += "; boundary=" + fmt.Sprintf("%q", boundary)
		}
		fuzzServe(t, e, ct, "", query, body)
	})
}

// FuzzJSON fuzzes JSON bodies: structure, base64, metadata and options.
func FuzzJSON(f *testing.F) {
	imgs := fuzzSeedImages(f)
	i := 0
	for _, b := range imgs {
		encs := []func([]byte) string{
			base64.StdEncoding.EncodeToString, base64.RawURLEncoding.EncodeToString,
			func(b []byte) string { return "data:image/png;base64," + base64.RawStdEncoding.EncodeToString(b) },
		}
		body, _ := json.Marshal(map[string]any{
			"image_b64": encs[i%len(encs)](b),
			"metadata":  map[string]any{"id": i, "tags": []string{"a", "b"}},
			"options":   map[string]any{"width": 5 + i, "grayscale": i%2 == 0, "format": []string{"png", "jpeg", "gif"}[i%3]},
		})
		f.Add(body, []string{"", "image/*", "application/json", "image/webp"}[i%4])
		i++
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"image":"x"}`, `{"image_b64":123}`, `{"image_b64":"/tmp/a.png"}`,
		`{"image_b64":"@@@@"}`, `{"image_b64":"iVBORw0KGgo=","metadata":"x"}`, `{"image_b64":"iVBORw0KGgo","options":{"width":{}}}`,
		`{"image_b64":"a","image_b64":"b"}`, `{"a":` + strings.Repeat("[", 100), "{\"image_b64\":\"\xff\"}", `{"options":{"widht":1}}`,
		`{"image_b64":"iVBORw0KGgo=", "options": {"width": 1e400}}`, " \n "} {
		f.Add([]byte(s), "")
	}
	e := fuzzEcho()
	f.Fuzz(func(t *testing.T, body []byte, accept string) {
		fuzzServe(t, e, "application/json", accept, "", body)
	})
}

// FuzzBase64Literal checks the fast path that decodes image_b64 straight
// from the JSON body against the plain one (unquote, then decodeBase64):
// whatever the fast path takes, it decodes to the same bytes.
func FuzzBase64Literal(f *testing.F) {
	for _, s := range []string{"iVBORw0KGgo=", "/9j/4AAQ", "data:image/png;base64,iVBORw0KGgo", "ab+c\n-d__", "YWJj\r\nZGVm", "QQ==QQ", "a", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit, err := json.Marshal(s)
		if err != nil {
			return
		}
		lit = bytes.ReplaceAll(lit, []byte("/"), []byte(`\/`)) // as PHP's json_encode writes it
		h := &bodyHold{budget: newBodyBudget(1<<30, time.Second), ctx: context.Background()}
		got, ok, err := decodeBase64Literal(lit[1:len(lit)-1], h)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if h.live != 0 {
				t.Fatalf("a refused literal left %d bytes charged", h.live)
			}
			return
		}
		want, err := decodeBase64(s)
		if err != nil {
			t.Fatalf("fast path decoded %q to %x; decodeBase64 says %v", s, got, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("fast path decoded %q to %x, decodeBase64 to %x", s, got, want)
		}
	})
}
