package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/imgsvc/imgsvc/handlers"
)

// The observability tests start the service in process (startRun), talk to
// it over HTTP and scrape its admin listener.

// requestLines returns the request log lines of request ID id.
func requestLines(t *testing.T, log, id string) []map[string]any {
	var out []map[string]any
	for _, l := range logLines(t, log) {
		if l["msg"] == "request" && l["request_id"] == id {
			out = append(out, l)
		}
	}
	return out
}

type obsReq struct {
	method, url, contentType, requestID string
	body                                []byte
}

// obsDo sends r to its URL.
func obsDo(t *testing.T, r obsReq) response {
	t.Helper()
	return doRequest(t, r.method, r.url, r.header(), r.body)
}

// obsServe hands r, whose url is a path, to h directly.
func obsServe(h http.Handler, r obsReq) response {
	req := httptest.NewRequest(r.method, r.url, bytes.NewReader(r.body))
	for k, v := range r.header() {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Result().Header, rec.Body.Bytes()}
}

func (r obsReq) header() map[string]string {
	h := map[string]string{}
	if r.contentType != "" {
		h["Content-Type"] = r.contentType
	}
	if r.requestID != "" {
		h["X-Request-ID"] = r.requestID
	}
	return h
}

// problemCode is the "code" of a problem+json body, or "".
func problemCode(b []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Code
}

// obsScrape fetches and parses the admin listener's /metrics.
func obsScrape(t *testing.T, o *runInstance) map[string]*dto.MetricFamily {
	t.Helper()
	return obsParseMetrics(t, obsDo(t, obsReq{method: http.MethodGet, url: o.admin + "/metrics"}))
}

// obsParseMetrics parses an answer of /metrics.
func obsParseMetrics(t *testing.T, r response) map[string]*dto.MetricFamily {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("GET admin /metrics: status %d, want 200", r.status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// obsValue returns the value of the series of family name whose labels
// include want (a counter's or gauge's value, a histogram's or summary's
// count), and whether there is one.
func obsValue(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
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
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Summary != nil:
			return float64(m.GetSummary().GetSampleCount()), true
		}
	}
	return 0, false
}

const obsSecret = "secret-token-4711" // appears in a URL and must not appear in labels

// obsSendTraffic sends successes and errors so that every labelled series exists.
func obsSendTraffic(t *testing.T, o *runInstance) {
	t.Helper()
	img := encodeImage(t, gradient(64, 48), "png")
	reqs := []struct {
		r          obsReq
		wantStatus int
	}{
		{obsReq{method: "POST", url: o.base + "/v1/process?width=32", contentType: "image/png", body: img}, 200},
		{obsReq{method: "POST", url: o.base + "/v1/info", contentType: "image/png", body: img}, 200},
		{obsReq{method: "GET", url: o.base + "/healthz"}, 200},
		{obsReq{method: "POST", url: o.base + "/v1/process", body: img}, 400},
		{obsReq{method: "POST", url: o.base + "/v1/process", contentType: "text/plain", body: []byte("hello")}, 415},
		{obsReq{method: "GET", url: o.base + "/files/" + obsSecret}, 404},
		{obsReq{method: "PURGE", url: o.base + "/v1/process"}, 405},
	}
	for _, tt := range reqs {
		if r := obsDo(t, tt.r); r.status != tt.wantStatus {
			t.Fatalf("%s %s: status %d, want %d (%s)", tt.r.method, tt.r.url, r.status, tt.wantStatus, r.body)
		}
	}
}

func TestApp_MetricsOnAdminListenerOnly(t *testing.T) {
	o := startRun(t, nil)

	r := obsDo(t, obsReq{method: "GET", url: o.admin + "/metrics"})
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("admin GET /metrics: %d %q, want 200 text/plain", r.status, r.header.Get("Content-Type"))
	}
	if !bytes.Contains(r.body, []byte("imgsvc_build_info")) {
		t.Errorf("admin /metrics has no imgsvc_build_info")
	}

	r = obsDo(t, obsReq{method: "GET", url: o.base + "/metrics"})
	if r.status != http.StatusNotFound || problemCode(r.body) != "not_found" {
		t.Errorf("public GET /metrics: %d %s, want 404 not_found", r.status, r.body)
	}

	for _, base := range []string{o.base, o.admin} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if r := obsDo(t, obsReq{method: "GET", url: base + path}); r.status != http.StatusOK {
				t.Errorf("GET %s%s: %d, want 200", base, path, r.status)
			}
		}
	}
}

func TestApp_MetricsExported(t *testing.T) {
	o := startRun(t, nil)
	obsSendTraffic(t, o)
	mfs := obsScrape(t, o)

	types := map[string]dto.MetricType{
		"imgsvc_http_requests_total":           dto.MetricType_COUNTER,
		"imgsvc_http_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"imgsvc_http_request_size_bytes":       dto.MetricType_HISTOGRAM,
		"imgsvc_http_response_size_bytes":      dto.MetricType_HISTOGRAM,
		"imgsvc_http_requests_in_flight":       dto.MetricType_GAUGE,
		"imgsvc_http_rejections_total":         dto.MetricType_COUNTER,
		"imgsvc_queue_depth":                   dto.MetricType_GAUGE,
		"imgsvc_queue_capacity":                dto.MetricType_GAUGE,
		"imgsvc_queue_wait_seconds":            dto.MetricType_HISTOGRAM,
		"imgsvc_workers_busy":                  dto.MetricType_GAUGE,
		"imgsvc_workers":                       dto.MetricType_GAUGE,
		"imgsvc_memory_admitted_bytes":         dto.MetricType_GAUGE,
		"imgsvc_memory_budget_bytes":           dto.MetricType_GAUGE,
		"imgsvc_phase_duration_seconds":        dto.MetricType_HISTOGRAM,
		"imgsvc_input_pixels":                  dto.MetricType_HISTOGRAM,
		"imgsvc_input_bytes":                   dto.MetricType_HISTOGRAM,
		"imgsvc_build_info":                    dto.MetricType_GAUGE,
		"go_goroutines":                        dto.MetricType_GAUGE,
		"go_gc_duration_seconds":               dto.MetricType_SUMMARY,
		"go_memstats_heap_inuse_bytes":         dto.MetricType_GAUGE,
	}
	if runtime.GOOS == "linux" {
		types["process_resident_memory_bytes"] = dto.MetricType_GAUGE
		types["process_cpu_seconds_total"] = dto.MetricType_COUNTER
	}
	for name, want := range types {
		mf, ok := mfs[name]
		if !ok {
			t.Errorf("%s is not exported", name)
			continue
		}
		if mf.GetType() != want {
			t.Errorf("%s is a %v, want %v", name, mf.GetType(), want)
		}
	}

	series := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"imgsvc_http_requests_total", map[string]string{"route": "/v1/process", "method": "POST", "code": "200"}, 1},
		{"imgsvc_http_requests_total", map[string]string{"route": "/v1/process", "method": "POST", "code": "400"}, 1},
		{"imgsvc_http_requests_total", map[string]string{"route": "/v1/info", "method": "POST", "code": "200"}, 1},
		{"imgsvc_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 1},
		{"imgsvc_http_requests_total", map[string]string{"route": "/v1/process", "method": "other", "code": "405"}, 1},
		{"imgsvc_http_request_duration_seconds", map[string]string{"route": "/v1/process", "code": "200"}, 1},
		{"imgsvc_http_rejections_total", map[string]string{"route": "/v1/process", "code": "missing_content_type"}, 1},
		{"imgsvc_http_rejections_total", map[string]string{"route": "/v1/process", "code": "unsupported_content_type"}, 1},
		{"imgsvc_http_rejections_total", map[string]string{"route": "unmatched", "code": "not_found"}, 1},
		{"imgsvc_http_rejections_total", map[string]string{"route": "/v1/process", "code": "method_not_allowed"}, 1},
		{"imgsvc_phase_duration_seconds", map[string]string{"phase": "decode", "format": "png"}, 1},
		{"imgsvc_phase_duration_seconds", map[string]string{"phase": "transform", "format": "png"}, 1},
		{"imgsvc_phase_duration_seconds", map[string]string{"phase": "encode", "format": "png"}, 1},
		{"imgsvc_input_pixels", map[string]string{"format": "png"}, 1},
		{"imgsvc_queue_wait_seconds", nil, 1},
		{"imgsvc_http_requests_in_flight", nil, 0},
		{"imgsvc_queue_depth", nil, 0},
		{"imgsvc_workers_busy", nil, 0},
		{"imgsvc_build_info", map[string]string{"version": version, "goversion": runtime.Version()}, 1},
	}
	for _, tt := range series {
		got, ok := obsValue(mfs, tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if got, _ := obsValue(mfs, "imgsvc_queue_capacity", nil); got < 1 {
		t.Errorf("imgsvc_queue_capacity = %v, want at least 1", got)
	}
	if got, _ := obsValue(mfs, "imgsvc_workers", nil); got < 1 {
		t.Errorf("imgsvc_workers = %v, want at least 1", got)
	}
	for _, m := range mfs["imgsvc_input_pixels"].GetMetric() {
		if s := m.GetHistogram().GetSampleSum(); s != 64*48 {
			t.Errorf("imgsvc_input_pixels_sum = %v, want %v", s, 64*48)
		}
	}

	// Labels stay bounded: no raw URL, only route patterns and known methods.
	routes := map[string]bool{handlers.RouteUnmatched: true}
	for _, r := range handlers.PublicRoutes() {
		routes[r.Path] = true
	}
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
		"DELETE": true, "OPTIONS": true, "CONNECT": true, "TRACE": true, handlers.MethodOther: true}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				v := lp.GetValue()
				if strings.Contains(v, obsSecret) {
					t.Errorf("%s has a label %s=%q taken from the URL", name, lp.GetName(), v)
				}
				if !strings.HasPrefix(name, "imgsvc_http_") {
					continue
				}
				switch lp.GetName() {
				case "route":
					if !routes[v] {
						t.Errorf("%s has route=%q, not a route pattern", name, v)
					}
				case "method":
					if !methods[v] {
						t.Errorf("%s has method=%q", name, v)
					}
				case "host", "url":
					if v != "" {
						t.Errorf("%s has %s=%q, want it empty", name, lp.GetName(), v)
					}
				}
			}
		}
	}
}

// TestApp_SaturationReadinessAndQueueWait fills the single worker and the
// queue of one: /readyz fails on both listeners, the next job is refused
// with 503 overloaded, the gauges show it, and the queued request's log
// line carries the time it waited.
func TestApp_SaturationReadinessAndQueueWait(t *testing.T) {
	// The test holds the pool's only worker itself, so it calls the app's
	// handlers directly instead of starting the service.
	a, logs := newTestApp(t, "-workers", "1", "-queue-size", "1", "-retry-after", "3s")
	pool := a.pool

	release := make(chan struct{})
	blocked := make(chan error, 1)
	go func() { blocked <- pool.Do(context.Background(), 0, func(context.Context) { <-release }) }()
	waitFor(t, "the worker to be busy", func() bool { return pool.Stats().Busy == 1 })

	img := encodeImage(t, gradient(32, 32), "png")
	queued := make(chan response, 1)
	start := time.Now()
	go func() {
		queued <- obsServe(a.public, obsReq{method: "POST", url: "/v1/process", contentType: "image/png", body: img, requestID: "queued-1"})
	}()
	waitFor(t, "a job in the queue", func() bool { return pool.Stats().Queued == 1 })

	for _, l := range []struct {
		name string
		h    http.Handler
	}{{"public", a.public}, {"admin", a.admin}} {
		r := obsServe(l.h, obsReq{method: "GET", url: "/readyz"})
		if r.status != http.StatusServiceUnavailable || problemCode(r.body) != "overloaded" {
			t.Errorf("GET /readyz on the %s listener while saturated: %d %s, want 503 overloaded", l.name, r.status, r.body)
		}
		if r := obsServe(l.h, obsReq{method: "GET", url: "/healthz"}); r.status != http.StatusOK {
			t.Errorf("GET /healthz on the %s listener while saturated: %d, want 200 (liveness only)", l.name, r.status)
		}
	}
	r := obsServe(a.public, obsReq{method: "POST", url: "/v1/process", contentType: "image/png", body: img, requestID: "refused-1"})
	if r.status != http.StatusServiceUnavailable || problemCode(r.body) != "overloaded" || r.header.Get("Retry-After") != "3" {
		t.Errorf("POST while saturated: %d Retry-After %q %s, want 503 overloaded with Retry-After 3", r.status, r.header.Get("Retry-After"), r.body)
	}

	scrape := func() map[string]*dto.MetricFamily {
		return obsParseMetrics(t, obsServe(a.admin, obsReq{method: "GET", url: "/metrics"}))
	}
	mfs := scrape()
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"imgsvc_queue_depth", nil, 1},
		{"imgsvc_queue_capacity", nil, 1},
		{"imgsvc_workers_busy", nil, 1},
		{"imgsvc_workers", nil, 1},
		{"imgsvc_http_requests_in_flight", nil, 1},
		{"imgsvc_http_rejections_total", map[string]string{"route": "/v1/process", "code": "overloaded"}, 1},
		{"imgsvc_http_rejections_total", map[string]string{"route": "/readyz", "code": "overloaded"}, 1},
	} {
		if got, ok := obsValue(mfs, tt.name, tt.labels); got != tt.want {
			t.Errorf("while saturated, %s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}

	const hold = 200 * time.Millisecond
	time.Sleep(hold - time.Since(start))
	close(release)
	if err := <-blocked; err != nil {
		t.Errorf("blocking job: %v", err)
	}
	if r := <-queued; r.status != http.StatusOK {
		t.Fatalf("queued request: %d %s, want 200", r.status, r.body)
	}
	waitFor(t, "/readyz to recover", func() bool {
		return obsServe(a.admin, obsReq{method: "GET", url: "/readyz"}).status == http.StatusOK
	})

	lines := requestLines(t, logs.String(), "queued-1")
	if len(lines) != 1 {
		t.Fatalf("%d request log lines for the queued request, want 1", len(lines))
	}
	if w, _ := lines[0]["queue_wait_ms"].(float64); w < float64(hold.Milliseconds())*0.75 {
		t.Errorf("queued request logged queue_wait_ms=%v, want about %d or more", lines[0]["queue_wait_ms"], hold.Milliseconds())
	}
	// The refusal is a 5xx: logged at error level with its detail.
	var failed bool
	for _, l := range logLines(t, logs.String()) {
		if l["msg"] == "request failed" && l["request_id"] == "refused-1" {
			failed = l["level"] == "ERROR" && l["code"] == "overloaded" && strings.Contains(fmt.Sprint(l["detail"]), "queue")
		}
	}
	if !failed {
		t.Errorf("no error log line with code and detail for the refused request")
	}
	// Two jobs were admitted: the blocking one and the queued request.
	if got, _ := obsValue(scrape(), "imgsvc_queue_wait_seconds", nil); got != 2 {
		t.Errorf("imgsvc_queue_wait_seconds_count = %v, want 2", got)
	}
}

func TestApp_ReadyzFailsWhileDraining(t *testing.T) {
	o := startRun(t, nil, "-drain-delay", "2s")
	if r := obsDo(t, obsReq{method: "GET", url: o.admin + "/readyz"}); r.status != http.StatusOK {
		t.Fatalf("/readyz before shutdown: %d, want 200", r.status)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- o.stop() }()
	waitFor(t, "/readyz to fail while draining", func() bool {
		return obsDo(t, obsReq{method: "GET", url: o.admin + "/readyz"}).status == http.StatusServiceUnavailable
	})
	if r := obsDo(t, obsReq{method: "GET", url: o.admin + "/healthz"}); r.status != http.StatusOK {
		t.Errorf("/healthz while draining: %d, want 200 (liveness only)", r.status)
	}
	if err := <-stopped; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestApp_RequestLog(t *testing.T) {
	o := startRun(t, nil)
	img := encodeImage(t, gradient(40, 30), "png")
	tests := []struct {
		name                string
		r                   obsReq
		wantStatus          int
		wantRoute, wantCode string
	}{
		{"processed", obsReq{method: "POST", url: o.base + "/v1/process", contentType: "image/png", body: img, requestID: "log-ok"}, 200, "/v1/process", ""},
		{"client error", obsReq{method: "POST", url: o.base + "/process", contentType: "text/plain", body: []byte("x"), requestID: "log-415"}, 415, "/process", "unsupported_content_type"},
		{"no route", obsReq{method: "GET", url: o.base + "/nope", requestID: "log-404"}, 404, "unmatched", "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := obsDo(t, tt.r); r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d", r.status, tt.wantStatus)
			}
			lines := requestLines(t, o.log.String(), tt.r.requestID)
			if len(lines) != 1 {
				t.Fatalf("%d request log lines, want 1", len(lines))
			}
			l := lines[0]
			for _, k := range []string{"time", "level", "request_id", "method", "route", "status", "code", "bytes_in", "bytes_out", "duration_ms", "queue_wait_ms"} {
				if _, ok := l[k]; !ok {
					t.Errorf("log line has no %q: %v", k, l)
				}
			}
			if l["method"] != tt.r.method || l["route"] != tt.wantRoute || l["status"] != float64(tt.wantStatus) || l["code"] != tt.wantCode {
				t.Errorf("log line method=%v route=%v status=%v code=%v, want %s %s %d %q",
					l["method"], l["route"], l["status"], l["code"], tt.r.method, tt.wantRoute, tt.wantStatus, tt.wantCode)
			}
			if n, _ := l["bytes_out"].(float64); n <= 0 {
				t.Errorf("bytes_out = %v, want > 0", l["bytes_out"])
			}
		})
	}

	t.Run("log level warn drops request lines", func(t *testing.T) {
		// The "listening" line is info too, so this app is not served on a
		// port: its public handler is called directly.
		a, logs := newTestApp(t, "-log-level", "warn")
		for _, path := range []string{"/healthz", "/nope"} {
			rec := httptest.NewRecorder()
			a.public.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		}
		if lines := logLines(t, logs.String()); len(lines) != 0 {
			t.Errorf("-log-level warn logged %d lines for two 2xx/4xx requests: %v", len(lines), lines)
		}
	})
}

// TestDeploy_QueriesUseExportedMetrics checks every PromQL expression of the
// Grafana dashboards and the alert rules against the metric names a live
// instance exports, and that the dashboard shows every imgsvc metric.
func TestDeploy_QueriesUseExportedMetrics(t *testing.T) {
	o := startRun(t, nil)
	obsSendTraffic(t, o)
	mfs := obsScrape(t, o)

	exported := map[string]bool{"up": true} // up is Prometheus's own, per target
	for name, mf := range mfs {
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM:
			exported[name+"_bucket"], exported[name+"_sum"], exported[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			exported[name], exported[name+"_sum"], exported[name+"_count"] = true, true, true
		default:
			exported[name] = true
		}
	}

	root := filepath.Join("..", "..", "deploy")
	dashboards, err := filepath.Glob(filepath.Join(root, "grafana", "dashboards", "*.json"))
	if err != nil || len(dashboards) == 0 {
		t.Fatalf("no dashboards in %s (err %v)", filepath.Join(root, "grafana", "dashboards"), err)
	}
	used := map[string]bool{}
	check := func(file string, exprs []string, min int) {
		if len(exprs) < min {
			t.Errorf("%s: found %d expressions, want at least %d", file, len(exprs), min)
		}
		for _, e := range exprs {
			names := obsMetricNames(e)
			if len(names) == 0 {
				t.Errorf("%s: expression names no metric: %s", file, e)
			}
			for _, n := range names {
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")] = true
				if !exported[n] {
					t.Errorf("%s: %s is not exported by imgsvc (in %s)", file, n, e)
				}
			}
		}
	}
	for _, f := range dashboards {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		check(f, obsDashboardExprs(v, ""), 20)
	}
	rules := filepath.Join(root, "prometheus", "alerts.yml")
	b, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	check(rules, obsYAMLExprs(string(b)), 6)

	for name := range mfs {
		if strings.HasPrefix(name, "imgsvc_") && !used[name] {
			t.Errorf("%s is exported but no dashboard or alert shows it", name)
		}
	}
}

// obsDashboardExprs collects the PromQL of a Grafana dashboard: every "expr",
// and the queries of template variables.
func obsDashboardExprs(v any, key string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, obsDashboardExprs(v[k], k)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, obsDashboardExprs(e, key)...)
		}
	case string:
		if key == "expr" || key == "query" {
			out = append(out, v)
		}
	}
	return out
}

// obsYAMLExprs collects the values of "expr:" keys of a rules file, plain
// or as a block scalar (| or >).
func obsYAMLExprs(doc string) []string {
	var out []string
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		v, ok := strings.CutPrefix(trimmed, "expr:")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if v != "" && !strings.HasPrefix(v, "|") && !strings.HasPrefix(v, ">") {
			out = append(out, strings.Trim(v, `"'`))
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		var block []string
		for i+1 < len(lines) {
			next := lines[i+1]
			if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
				break
			}
			block = append(block, strings.TrimSpace(next))
			i++
		}
		out = append(out, strings.Join(block, "\n"))
	}
	return out
}

var (
	obsStringRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	obsIdentRE  = regexp.MustCompile(`[A-Za-z_:$][A-Za-z0-9_:]*`)
)

// obsMetricNames returns the metric names an expression refers to: the
// identifiers, outside strings, that are up or start with imgsvc_, go_,
// process_ or promhttp_.
func obsMetricNames(expr string) []string {
	expr = obsStringRE.ReplaceAllString(expr, `""`)
	var out []string
	for _, id := range obsIdentRE.FindAllString(expr, -1) {
		if id == "up" || strings.HasPrefix(id, "imgsvc_") || strings.HasPrefix(id, "go_") ||
			strings.HasPrefix(id, "process_") || strings.HasPrefix(id, "promhttp_") {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

func TestObsMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`sum by (route) (rate(imgsvc_http_requests_total{code=~"5..", route!~"/healthz"}[5m]))`, []string{"imgsvc_http_requests_total"}},
		{`histogram_quantile(0.95, sum by (le) (rate(imgsvc_queue_wait_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`, []string{"imgsvc_queue_wait_seconds_bucket"}},
		{`up{job="imgsvc"} == 0`, []string{"up"}},
		{`absent(up{job="go_fake_in_a_string"})`, []string{"up"}},
		{`max(go_gc_gomemlimit_bytes < 1e18) / process_resident_memory_bytes`, []string{"go_gc_gomemlimit_bytes", "process_resident_memory_bytes"}},
		{`label_values(imgsvc_build_info, instance)`, []string{"imgsvc_build_info"}},
	}
	for _, tt := range tests {
		if got := obsMetricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("obsMetricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
