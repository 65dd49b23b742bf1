package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
	"github.com/prometheus/client_golang/prometheus"
)

// MetricsNamespace prefixes every metric name of the service.
const MetricsNamespace = "imgsvc"

// RouteUnmatched is the route label of requests that matched no route (404).
const RouteUnmatched = "unmatched"

// MethodOther is the method label of requests with a non-standard method.
const MethodOther = "other"

// RequestDurationBuckets are the bounds, in seconds, of
// imgsvc_http_request_duration_seconds: from health checks (milliseconds)
// to large jobs near the job and body deadlines (30 s and 60 s by default).
func RequestDurationBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60}
}

// SizeBuckets are the bounds, in bytes, of the request and response size
// histograms: problem bodies (under 1 KiB) up to the 32 MiB body limit.
func SizeBuckets() []float64 {
	return prometheus.ExponentialBuckets(256, 4, 10) // 256 B … 64 MiB
}

// Metrics returns middleware that instruments the requests of the Echo
// instance it is used on, registering its collectors with reg:
//
//   - imgsvc_http_requests_total, imgsvc_http_request_duration_seconds,
//     imgsvc_http_request_size_bytes and imgsvc_http_response_size_bytes, by
//     code (HTTP status), method and route;
//   - imgsvc_http_requests_in_flight;
//   - imgsvc_http_rejections_total, by route and code (the problem code);
//   - imgsvc_image_warnings_total, by code: images answered with an
//     X-Image-Warning (a broken ICC profile ignored, …).
//
// Labels are bounded: route is the route pattern (c.Path()) or "unmatched",
// never the URL; an unknown method is "other"; the middleware's own host and
// url labels are always empty. Errors are handed to the error handler before
// they are counted, so status and code are those the client receives
// wherever the middleware sits in the chain. Metrics panics if the
// collectors cannot be registered, as prometheus.MustRegister does.
func Metrics(reg prometheus.Registerer) echo.MiddlewareFunc {
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: MetricsNamespace, Subsystem: "http", Name: "requests_in_flight",
		Help: "Requests being served now.",
	})
	rejections := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: MetricsNamespace, Subsystem: "http", Name: "rejections_total",
		Help: "Requests answered with a problem (any non-2xx), by route and error code.",
	}, []string{"route", "code"})
	warnings := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: MetricsNamespace, Subsystem: "image", Name: "warnings_total",
		Help: "Images answered with a warning (the X-Image-Warning header), by warning code.",
	}, []string{"code"})
	reg.MustRegister(inFlight, rejections, warnings)

	blank := func(echo.Context, error) string { return "" }
	prom := echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Registerer: reg,
		Namespace:  MetricsNamespace,
		Subsystem:  "http",
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{
			"route":  func(c echo.Context, _ error) string { return RouteOf(c) },
			"method": func(c echo.Context, _ error) string { return MethodOf(c.Request().Method) },
			"host":   blank, // set by the client: unbounded
			"url":    blank, // replaced by route
		},
		DoNotUseRequestPathFor404: true,
		StatusCodeResolver: func(c echo.Context, err error) int {
			if c.Response().Committed {
				return c.Response().Status
			}
			if err != nil {
				return http.StatusInternalServerError
			}
			return c.Response().Status
		},
		HistogramOptsFunc: func(o prometheus.HistogramOpts) prometheus.HistogramOpts {
			switch o.Name {
			case "request_duration_seconds":
				o.Buckets = RequestDurationBuckets()
			case "request_size_bytes", "response_size_bytes":
				o.Buckets = SizeBuckets()
			}
			return o
		},
		AfterNext: func(c echo.Context, _ error) {
			if code := ErrorCodeOf(c); code != "" {
				rejections.WithLabelValues(RouteOf(c), code).Inc()
			}
			for _, w := range c.Response().Header().Values(HeaderImageWarning) {
				if code, _, ok := strings.Cut(w, ":"); ok && imaging.IsWarningCode(code) {
					warnings.WithLabelValues(code).Inc()
				}
			}
		},
	})

	return func(next echo.HandlerFunc) echo.HandlerFunc {
		h := prom(handleErrorFirst(next))
		return func(c echo.Context) error {
			inFlight.Inc()
			defer inFlight.Dec()
			return h(c)
		}
	}
}

// handleErrorFirst hands an error to the error handler so that the response
// (status, problem code) is written before the metrics read it. It returns
// the error, as Echo's request logger does; the error handler ignores an
// error whose response is already committed.
func handleErrorFirst(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err != nil && !c.Response().Committed {
			c.Error(err)
		}
		return err
	}
}

// RouteOf is the route label of c: the matched route pattern, or
// "unmatched" when no route matched.
func RouteOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return RouteUnmatched
}

// MethodOf is the method label of an HTTP method: the standard methods as
// they are, anything else "other".
func MethodOf(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return MethodOther
}

// requestFigures holds what the processing layer learns about one request,
// for its log line.
type requestFigures struct {
	queueWait atomic.Int64 // nanoseconds
}

type requestFiguresKey struct{}

// TrackRequest is middleware that gives each request a holder, reached
// through the request's context, in which RecordQueueWait records the time
// the request's job waited for a worker, for QueueWaitOf to report.
func TrackRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), requestFiguresKey{}, &requestFigures{})))
		return next(c)
	}
}

// RecordQueueWait adds d to the queue wait of the request ctx belongs to.
// It does nothing when ctx carries no holder (see TrackRequest).
func RecordQueueWait(ctx context.Context, d time.Duration) {
	if f, ok := ctx.Value(requestFiguresKey{}).(*requestFigures); ok {
		f.queueWait.Add(int64(d))
	}
}

// QueueWaitOf returns how long the request c waited for a worker: zero when
// it ran no job, or when TrackRequest is not in the chain.
func QueueWaitOf(c echo.Context) time.Duration {
	if f, ok := c.Request().Context().Value(requestFiguresKey{}).(*requestFigures); ok {
		return time.Duration(f.queueWait.Load())
	}
	return 0
}
