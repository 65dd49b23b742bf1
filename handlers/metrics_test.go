package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgsvc/imgsvc/imaging"
)

// metricsProcessor is a Processor that answers with err, or a 1×1 PNG.
type metricsProcessor struct{ err error }

func (p metricsProcessor) Process(context.Context, []byte, imaging.Options) (imaging.Result, error) {
	if p.err != nil {
		return imaging.Result{}, p.err
	}
	return imaging.Result{Data: []byte("png"), Format: imaging.FormatPNG, Width: 1, Height: 1}, nil
}

func (p metricsProcessor) Placeholder(context.Context, []byte) (imaging.Placeholder, error) {
	return imaging.Placeholder{}, p.err
}

// metricsValue returns the value (or sample count) of the series of name
// whose labels include want, summed over matches, and how many matched.
func metricsValue(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) (float64, int) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	var n int
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			n++
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum, n
}

func newMetricsEcho(proc Processor) (*echo.Echo, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	e := echo.New()
	s := New(proc, nil, Config{})
	s.Register(e)
	e.Use(Metrics(reg), TrackRequest)
	return e, reg
}

func TestMetrics_Labels(t *testing.T) {
	tests := []struct {
		name                  string
		method, target, ct    string
		proc                  Processor
		wantStatus            int
		wantRoute, wantMethod string
		wantRejection         string // problem code, "" for none
	}{
		{"ok", http.MethodPost, "/v1/process?width=1", "image/png", metricsProcessor{}, 200, "/v1/process", "POST", ""},
		{"alias route", http.MethodPost, "/process", "image/png", metricsProcessor{}, 200, "/process", "POST", ""},
		{"health", http.MethodGet, "/healthz", "", nil, 200, "/healthz", "GET", ""},
		{"client error", http.MethodPost, "/v1/process", "", metricsProcessor{}, 400, "/v1/process", "POST", "missing_content_type"},
		{"overloaded", http.MethodPost, "/v1/process", "image/png",
			metricsProcessor{err: imaging.Errorf(imaging.CodeOverloaded, "queue full")}, 503, "/v1/process", "POST", "overloaded"},
		{"internal", http.MethodPost, "/v1/process", "image/png", metricsProcessor{err: errors.New("boom")}, 500, "/v1/process", "POST", "internal"},
		{"no route, URL not a label", http.MethodGet, "/users/12345/secret", "", nil, 404, RouteUnmatched, "GET", "not_found"},
		{"odd method", "BREW", "/v1/process", "", nil, 405, "/v1/process", MethodOther, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, reg := newMetricsEcho(tt.proc)
			body := strings.NewReader("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")
			req := httptest.NewRequest(tt.method, tt.target, body)
			if tt.ct != "" {
				req.Header.Set(echo.HeaderContentType, tt.ct)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			labels := map[string]string{"route": tt.wantRoute, "method": tt.wantMethod, "code": strconv.Itoa(tt.wantStatus), "host": "", "url": ""}
			for _, name := range []string{"imgsvc_http_requests_total", "imgsvc_http_request_duration_seconds",
				"imgsvc_http_request_size_bytes", "imgsvc_http_response_size_bytes"} {
				if v, n := metricsValue(t, reg, name, labels); v != 1 || n != 1 {
					t.Errorf("%s%v = %v over %d series, want 1 over 1", name, labels, v, n)
				}
			}
			_, all := metricsValue(t, reg, "imgsvc_http_requests_total", nil)
			if all != 1 {
				t.Errorf("imgsvc_http_requests_total has %d series, want 1", all)
			}
			v, n := metricsValue(t, reg, "imgsvc_http_rejections_total", nil)
			switch {
			case tt.wantRejection == "" && n != 0:
				t.Errorf("a %d answer counted as a rejection", tt.wantStatus)
			case tt.wantRejection != "":
				got, _ := metricsValue(t, reg, "imgsvc_http_rejections_total", map[string]string{"route": tt.wantRoute, "code": tt.wantRejection})
				if got != 1 || v != 1 {
					t.Errorf("imgsvc_http_rejections_total{route=%q,code=%q} = %v (total %v), want 1", tt.wantRoute, tt.wantRejection, got, v)
				}
			}
			if v, _ := metricsValue(t, reg, "imgsvc_http_requests_in_flight", nil); v != 0 {
				t.Errorf("imgsvc_http_requests_in_flight = %v after the request, want 0", v)
			}
		})
	}
}

// TestMetrics_StatusIsTheAnswered checks that the status label is the one the
// error handler answers with, not the code of an *echo.HTTPError that
// carries an imaging error, and that the error handler writes it once.
func TestMetrics_StatusIsTheAnswered(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := echo.New()
	s := New(nil, nil, Config{})
	e.HTTPErrorHandler = s.HTTPErrorHandler
	e.Use(Metrics(reg))
	e.GET("/x", func(echo.Context) error {
		return echo.NewHTTPError(http.StatusBadRequest).SetInternal(imaging.Errorf(CodeBodyTooLarge, "too big"))
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if v, _ := metricsValue(t, reg, "imgsvc_http_requests_total", map[string]string{"code": "413", "route": "/x"}); v != 1 {
		t.Errorf("imgsvc_http_requests_total{code=413} = %v, want 1", v)
	}
	if v, _ := metricsValue(t, reg, "imgsvc_http_rejections_total", map[string]string{"code": "body_too_large", "route": "/x"}); v != 1 {
		t.Errorf("imgsvc_http_rejections_total{code=body_too_large} = %v, want 1", v)
	}
	if rec.Body.Len() == 0 || strings.Count(rec.Body.String(), `"code"`) != 1 {
		t.Errorf("body %q, want one problem document", rec.Body)
	}
}

func TestMetrics_InFlight(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := echo.New()
	e.Use(Metrics(reg))
	var during float64
	e.GET("/slow", func(c echo.Context) error {
		during, _ = metricsValue(t, reg, "imgsvc_http_requests_in_flight", nil)
		return c.NoContent(http.StatusNoContent)
	})
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/slow", nil))
	after, _ := metricsValue(t, reg, "imgsvc_http_requests_in_flight", nil)
	if during != 1 || after != 0 {
		t.Errorf("imgsvc_http_requests_in_flight = %v during and %v after the request, want 1 and 0", during, after)
	}
}

func TestMetrics_Buckets(t *testing.T) {
	e, reg := newMetricsEcho(nil)
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{
		"imgsvc_http_request_duration_seconds": RequestDurationBuckets(),
		"imgsvc_http_request_size_bytes":       SizeBuckets(),
		"imgsvc_http_response_size_bytes":      SizeBuckets(),
	}
	for _, mf := range mfs {
		w, ok := want[mf.GetName()]
		if !ok {
			continue
		}
		delete(want, mf.GetName())
		var got []float64
		for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
			got = append(got, b.GetUpperBound())
		}
		if len(got) != len(w) || got[0] != w[0] || got[len(got)-1] != w[len(w)-1] {
			t.Errorf("%s buckets %v, want %v", mf.GetName(), got, w)
		}
	}
	for name := range want {
		t.Errorf("%s not exported", name)
	}
	if b := SizeBuckets(); b[0] != 256 || b[len(b)-1] != 64<<20 {
		t.Errorf("SizeBuckets() = %v, want 256 B … 64 MiB", b)
	}
}

func TestTrackRequest_QueueWait(t *testing.T) {
	e := echo.New()
	var got time.Duration
	h := TrackRequest(func(c echo.Context) error {
		RecordQueueWait(c.Request().Context(), 150*time.Millisecond)
		RecordQueueWait(c.Request().Context(), 50*time.Millisecond)
		got = QueueWaitOf(c)
		return nil
	})
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	if err := h(c); err != nil {
		t.Fatal(err)
	}
	if got != 200*time.Millisecond || QueueWaitOf(c) != 200*time.Millisecond {
		t.Errorf("QueueWaitOf = %v inside, %v after, want 200ms", got, QueueWaitOf(c))
	}

	// Without TrackRequest nothing is recorded, and nothing breaks.
	c = e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	RecordQueueWait(c.Request().Context(), time.Second)
	if d := QueueWaitOf(c); d != 0 {
		t.Errorf("QueueWaitOf without TrackRequest = %v, want 0", d)
	}
}

func TestMethodOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET", "GET"}, {"POST", "POST"}, {"OPTIONS", "OPTIONS"}, {"get", MethodOther}, {"BREW", MethodOther}, {"", MethodOther},
	}
	for _, tt := range tests {
		if got := MethodOf(tt.in); got != tt.want {
			t.Errorf("MethodOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// metricsSaturation is a Saturation whose answer the test sets.
type metricsSaturation struct{ full bool }

func (s *metricsSaturation) Saturated() bool { return s.full }

func TestServer_Readiness(t *testing.T) {
	tests := []struct {
		name           string
		draining, full bool
		wantReady      int
	}{
		{"ready", false, false, http.StatusOK},
		{"draining", true, false, http.StatusServiceUnavailable},
		{"queue saturated", false, true, http.StatusServiceUnavailable},
		{"both", true, true, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sat := &metricsSaturation{full: tt.full}
			s := New(nil, nil, Config{Saturation: sat})
			s.SetDraining(tt.draining)
			e := echo.New()
			s.Register(e)

			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.wantReady {
				t.Errorf("/readyz = %d, want %d", rec.Code, tt.wantReady)
			}
			if tt.wantReady != http.StatusOK {
				if !strings.Contains(rec.Body.String(), `"code":"overloaded"`) || rec.Header().Get("Retry-After") == "" {
					t.Errorf("/readyz body %s Retry-After %q, want code overloaded and Retry-After", rec.Body, rec.Header().Get("Retry-After"))
				}
			}
			rec = httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("/healthz = %d, want 200: liveness does not depend on load or draining", rec.Code)
			}
		})
	}
}

// TestMetrics_imageWarnings checks that warnings reach the client as
// X-Image-Warning headers (and in the JSON envelope) and are counted by
// code, with unknown codes kept out of the label set.
func TestMetrics_imageWarnings(t *testing.T) {
	proc := ProcessFn(func(context.Context, []byte, imaging.Options) (imaging.Result, error) {
		return imaging.Result{Data: []byte("\x89PNG"), Format: imaging.FormatPNG, Width: 1, Height: 1, Warnings: []imaging.Warning{
			{Code: imaging.WarnProfileIgnored, Detail: "the embedded ICC profile was ignored: it is malformed (\u00e9)"},
			{Code: "made_up", Detail: "x"},
		}}, nil
	})
	e, reg := newMetricsEcho(proc)
	for _, accept := range []string{"", "application/json"} {
		req := httptest.NewRequest(http.MethodPost, "/v1/process", bytes.NewReader(tinyPNG(t)))
		req.Header.Set(echo.HeaderContentType, "image/png")
		if accept != "" {
			req.Header.Set(echo.HeaderAccept, accept)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		got := rec.Header().Values(HeaderImageWarning)
		want := []string{"icc_profile_ignored: the embedded ICC profile was ignored: it is malformed (?)", "made_up: x"}
		if rec.Code != 200 || !slices.Equal(got, want) {
			t.Fatalf("Accept %q: status %d, X-Image-Warning %q, want %q", accept, rec.Code, got, want)
		}
		if accept != "" && !strings.Contains(rec.Body.String(), `"warnings":["icc_profile_ignored: `) {
			t.Errorf("JSON envelope without warnings: %s", rec.Body)
		}
	}
	if v, n := metricsValue(t, reg, "imgsvc_image_warnings_total", map[string]string{"code": imaging.WarnProfileIgnored}); v != 2 || n != 1 {
		t.Errorf("imgsvc_image_warnings_total{code=icc_profile_ignored} = %v over %d series, want 2 over 1", v, n)
	}
	if _, n := metricsValue(t, reg, "imgsvc_image_warnings_total", nil); n != 1 {
		t.Errorf("imgsvc_image_warnings_total has %d series, want 1 (unknown codes are not labels)", n)
	}
}
