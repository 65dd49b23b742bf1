package main

import (
	"context"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

const metricNamespace = handlers.MetricsNamespace

// Bucket layouts; docs/observability.md lists them.

// queueWaitBuckets (seconds): an idle pool hands a job over in microseconds;
// the queue timeout is 10 s by default.
func queueWaitBuckets() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// phaseBuckets (seconds): decoding a thumbnail takes a millisecond, a blur
// with a large sigma on a big image tens of seconds (the job deadline is 30 s).
func phaseBuckets() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
}

// pixelBuckets: from icons (100×100) to the default 100 MP input limit.
func pixelBuckets() []float64 {
	return []float64{1e4, 1e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2.5e7, 5e7, 1e8}
}

// newRegistry returns the service's own registry (no package globals) with
// the Go runtime, process and build-info collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace:   metricNamespace,
			Name:        "build_info",
			Help:        "Build information; the value is always 1.",
			ConstLabels: prometheus.Labels{"version": version, "commit": commit, "goversion": runtime.Version()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// metrics are the processing metrics the pool and the pipeline feed.
type metrics struct {
	queueWait   prometheus.Histogram
	phase       *prometheus.HistogramVec
	inputPixels *prometheus.HistogramVec
	inputBytes  *prometheus.HistogramVec
}

// newMetrics registers the processing metrics with reg.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metricNamespace, Name: "queue_wait_seconds",
			Help:    "Time admitted jobs waited for a worker and for memory.",
			Buckets: queueWaitBuckets(),
		}),
		phase: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricNamespace, Name: "phase_duration_seconds",
			Help:    "Time spent in each phase of a job (decode, transform, encode), by image format (the input's for decode and transform, the output's for encode).",
			Buckets: phaseBuckets(),
		}, []string{"phase", "format"}),
		inputPixels: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricNamespace, Name: "input_pixels",
			Help:    "Pixels (width × height) of the input images processed, by input format.",
			Buckets: pixelBuckets(),
		}, []string{"format"}),
		inputBytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricNamespace, Name: "input_bytes",
			Help:    "Encoded size of the input images processed, by input format.",
			Buckets: handlers.SizeBuckets(),
		}, []string{"format"}),
	}
	reg.MustRegister(m.queueWait, m.phase, m.inputPixels, m.inputBytes)
	return m
}

// observeQueueWait is the pool's OnQueueWait hook: it feeds the histogram
// and the request's log line.
func (m *metrics) observeQueueWait(ctx context.Context, d time.Duration) {
	m.queueWait.Observe(d.Seconds())
	handlers.RecordQueueWait(ctx, d)
}

// observePhase is the pipeline's PhaseFunc.
func (m *metrics) observePhase(p imaging.Phase, f imaging.Format, d time.Duration) {
	m.phase.WithLabelValues(string(p), formatLabel(f)).Observe(d.Seconds())
}

func formatLabel(f imaging.Format) string {
	if f == "" {
		return "unknown"
	}
	return string(f)
}

// instrument wraps p so that the input of every processed image is observed.
func (m *metrics) instrument(p handlers.Processor) handlers.Processor {
	return meteredProcessor{next: p, m: m}
}

type meteredProcessor struct {
	next handlers.Processor
	m    *metrics
}

func (mp meteredProcessor) Process(ctx context.Context, src []byte, opt imaging.Options) (imaging.Result, error) {
	res, err := mp.next.Process(ctx, src, opt)
	if err == nil {
		f := formatLabel(res.Input.Format)
		mp.m.inputPixels.WithLabelValues(f).Observe(float64(res.Input.Pixels()))
		mp.m.inputBytes.WithLabelValues(f).Observe(float64(len(src)))
	}
	return res, err
}

func (mp meteredProcessor) Placeholder(ctx context.Context, src []byte) (imaging.Placeholder, error) {
	return mp.next.Placeholder(ctx, src)
}

// poolStats is what the pool gauges read.
type poolStats interface {
	Stats() imaging.Stats
}

// registerPoolMetrics registers gauges read from p at each scrape.
func registerPoolMetrics(reg prometheus.Registerer, p poolStats) {
	gauge := func(name, help string, v func(imaging.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricNamespace, Name: name, Help: help},
			func() float64 { return v(p.Stats()) })
	}
	reg.MustRegister(
		gauge("queue_depth", "Jobs waiting for a worker now.",
			func(s imaging.Stats) float64 { return float64(s.Queued) }),
		gauge("queue_capacity", "Jobs that may wait for a worker (-queue-size); past it requests get 503 overloaded.",
			func(s imaging.Stats) float64 { return float64(s.QueueSize) }),
		gauge("workers_busy", "Workers running a job now.",
			func(s imaging.Stats) float64 { return float64(s.Busy) }),
		gauge("workers", "Workers in the pool (-workers).",
			func(s imaging.Stats) float64 { return float64(s.Workers) }),
		gauge("memory_admitted_bytes", "Estimated bytes held by the jobs admitted now.",
			func(s imaging.Stats) float64 { return float64(s.MemoryInUse) }),
		gauge("memory_budget_bytes", "Estimated bytes all admitted jobs may hold (-memory-budget); 0 when memory admission is off.",
			func(s imaging.Stats) float64 { return float64(s.MemoryLimit) }),
	)
}

// registerCodecMetrics exports imgsvc_codec_info{format,op,backend} = 1 for
// each codec: what each format is decoded and encoded with now ("go",
// "native" or "wasm").
func registerCodecMetrics(reg prometheus.Registerer) {
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricNamespace, Name: "codec_info",
		Help: "1 for each format and operation, labelled with what runs it: go, native (a system library) or wasm (its WebAssembly fallback)."},
		[]string{"format", "op", "backend"})
	for _, c := range imaging.Codecs() {
		if c.Decoder != nil {
			info.WithLabelValues(string(c.Format), "decode", c.Backend()).Set(1)
		}
		if c.Encoder != nil {
			info.WithLabelValues(string(c.Format), "encode", c.Backend()).Set(1)
		}
	}
	reg.MustRegister(info)
}

// registerBodyMetrics exports the request body memory held now and its bound.
func registerBodyMetrics(reg prometheus.Registerer, s interface{ BodyMemoryInUse() int64 }, limit int64) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricNamespace, Name: "body_memory_bytes",
			Help: "Bytes of request bodies, and of buffers decoded from them, held now."},
			func() float64 { return float64(s.BodyMemoryInUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricNamespace, Name: "body_memory_limit_bytes",
			Help: "Bytes of request bodies that may be held at once (-max-body-memory); 0 when unbounded."},
			func() float64 { return float64(limit) }),
	)
}

// metricsHandler serves reg in the Prometheus text format, and counts its
// own scrapes (promhttp_metric_handler_requests_total).
func metricsHandler(reg *prometheus.Registry) echo.HandlerFunc {
	return echo.WrapHandler(promhttp.InstrumentMetricHandler(reg,
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
}
