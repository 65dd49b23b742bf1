// Command imgsvc serves the imgsvc image processing API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, hurry := shutdownSignals(os.Interrupt, syscall.SIGTERM)
	if err := run(ctx, hurry, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "imgsvc: %v\n", err)
		os.Exit(1)
	}
}

// shutdownSignals returns a context that ends at the first of sigs (shut
// down gracefully) and a channel closed at the second (stop waiting: see
// serve). A third gets the signal's default action.
func shutdownSignals(sigs ...os.Signal) (context.Context, <-chan struct{}) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, sigs...)
	ctx, cancel := context.WithCancel(context.Background())
	hurry := make(chan struct{})
	go func() {
		<-c
		cancel()
		<-c
		close(hurry)
		signal.Stop(c)
	}()
	return ctx, hurry
}

// run is the whole program: main only supplies the process's context,
// arguments, environment and output. When ctx ends the service shuts down
// gracefully; when hurry closes too, it stops waiting (a nil hurry never
// closes).
func run(ctx context.Context, hurry <-chan struct{}, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, args[1:], getenv, stderr)
		case "version":
			fmt.Fprintf(stdout, "imgsvc %s (commit %s, %s)\n", version, commit, runtime.Version())
			return nil
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	app := newApp(cfg, getenv, logger)
	return app.serve(ctx, hurry)
}

func newLogger(cfg config, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// app is the wired service: pool, pipeline, handlers, and two Echo servers.
type app struct {
	cfg    config
	log    *slog.Logger
	pool   *imaging.Pool
	srv    *handlers.Server
	public *echo.Echo
	admin  *echo.Echo
	memLim int64 // the memory limit in force (GOMEMLIMIT), 0 when none
	// bodyMemory is the bound on request body bytes held at once, 0 when none.
	bodyMemory int64
}

func newApp(cfg config, getenv func(string) string, logger *slog.Logger) *app {
	a := &app{cfg: cfg, log: logger}
	a.memLim = applyMemoryLimit(getenv, logger)
	budget := cfg.MemoryBudget
	switch {
	case budget < 0:
		budget = 0 // disabled
	case budget == 0 && a.memLim > 0:
		budget = a.memLim * 6 / 10
	case budget == 0:
		budget = 3 << 29 // 1.5 GiB
	}
	bodies := cfg.BodyMemory
	switch {
	case bodies < 0:
		bodies = 0 // no bound
	case bodies == 0 && a.memLim > 0:
		bodies = max(a.memLim/5, 2*cfg.MaxBodyBytes)
	case bodies == 0:
		bodies = max(512<<20, 2*cfg.MaxBodyBytes)
	}
	if bodies > 0 && bodies < 2*cfg.MaxBodyBytes {
		logger.Warn("-max-body-memory is under twice -max-body-bytes: the largest multipart and JSON bodies will be refused",
			"max_body_memory", bodies, "max_body_bytes", cfg.MaxBodyBytes)
	}
	reg := newRegistry()
	m := newMetrics(reg)
	a.pool = imaging.NewPool(imaging.PoolConfig{
		Workers: cfg.Workers, QueueSize: cfg.QueueSize, QueueTimeout: cfg.QueueTimeout,
		JobTimeout: cfg.JobTimeout, MemoryBudget: budget, OnQueueWait: m.observeQueueWait,
	})
	registerPoolMetrics(reg, a.pool)
	pipe := imaging.NewPipeline(imaging.Limits{
		MaxInputPixels: cfg.MaxInputPixels, MaxOutputPixels: cfg.MaxOutputPixels, MaxFilterTaps: cfg.MaxFilterTaps,
		MaxFrames: cfg.MaxFrames,
	}, a.pool, m.observePhase)
	a.srv = handlers.New(m.instrument(pipe), logger, handlers.Config{
		MaxBodyBytes: cfg.MaxBodyBytes, BodyTimeout: cfg.BodyTimeout, RetryAfter: cfg.RetryAfter, Saturation: a.pool,
		MaxBodyMemory: bodies, BodyMemoryWait: cfg.QueueTimeout,
	})
	a.bodyMemory = bodies
	registerBodyMetrics(reg, a.srv, bodies)
	registerCodecMetrics(reg)
	logCodecs(logger)

	origins := list(cfg.CORSOrigins)
	secure := handlers.SecureHeadersConfig{}
	if len(origins) > 0 {
		secure.CrossOriginResourcePolicy = "cross-origin"
	}
	a.public = newEcho()
	a.public.Pre(sanitizeRequestID)
	a.public.Use(handlers.SecureHeadersWithConfig(secure)) // first: on every answer, errors included
	// Metrics outside the logger: its duration covers the log line too.
	// Recover inside them: a panic becomes a logged, counted 500 internal.
	a.public.Use(middleware.RequestID(), handlers.Metrics(reg), a.requestLogger(), handlers.TrackRequest, a.recoverer())
	// CORS before keys: preflights carry no key, and a 401 must be readable by the page.
	if len(origins) > 0 {
		a.public.Use(handlers.CORSWithConfig(handlers.CORSConfig{AllowOrigins: origins, KeyHeader: cfg.APIKeyHeader}))
	}
	if len(cfg.keys) > 0 {
		exempt := list(cfg.AuthExempt)
		if cfg.AuthExempt == "none" || exempt == nil {
			exempt = []string{}
		}
		if cfg.Playground {
			// The page cannot send a key when the browser loads it; it sends
			// the key the user types with its own calls.
			exempt = append(exempt, handlers.PlaygroundPaths()...)
		}
		a.public.Use(handlers.APIKeyWithConfig(handlers.APIKeyConfig{Keys: cfg.keys, Header: cfg.APIKeyHeader, Exempt: exempt}))
	}
	logger.Info("access control", "api_keys", len(cfg.keys), "api_key_header", cfg.APIKeyHeader,
		"auth_exempt", cfg.AuthExempt, "cors_origins", origins, "playground", cfg.Playground)
	a.srv.Register(a.public)
	if cfg.Playground {
		handlers.RegisterPlayground(a.public)
	}

	if cfg.AdminAddr != "" {
		a.admin = newEcho()
		a.admin.HTTPErrorHandler = a.srv.HTTPErrorHandler
		a.admin.Use(handlers.SecureHeaders(), middleware.RequestID(), a.recoverer())
		a.srv.RegisterHealth(a.admin)
		a.admin.GET("/metrics", metricsHandler(reg))
	}
	return a
}

// logCodecs says at start what each format runs on, and warns where a codec
// runs on its WebAssembly fallback (several times slower than the system
// library).
func logCodecs(logger *slog.Logger) {
	for _, c := range imaging.Codecs() {
		attrs := []any{"format", string(c.Format), "backend", c.Backend()}
		if c.Decoder != nil {
			attrs = append(attrs, "decode", c.Decoder.Library)
		}
		if c.Encoder != nil {
			attrs = append(attrs, "encode", c.Encoder.Library)
		}
		if c.Backend() == "wasm" {
			logger.Warn("codec runs on its WebAssembly fallback: install the system library for native speed",
				append(attrs, "error", c.Native().Error())...)
			continue
		}
		logger.Info("codec", attrs...)
	}
}

// recoverer turns a panic into an error for the error handler (500
// internal, nothing leaked) and logs it, with its stack, as JSON.
func (a *app) recoverer() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			a.log.Error("panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"err", err.Error(), "stack", string(stack))
			return err
		},
	})
}

func newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	return e
}

func (a *app) httpServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		// The body has its own deadline (-body-timeout), set per request.
		ReadTimeout:    a.cfg.ReadHeaderTimeout + a.cfg.BodyTimeout,
		WriteTimeout:   a.writeTimeout(),
		IdleTimeout:    a.cfg.IdleTimeout,
		MaxHeaderBytes: a.cfg.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}

// errHurry is why the shutdown grace ended early: a second signal.
var errHurry = errors.New("second signal")

// serve listens on both addresses until ctx ends, then shuts down: readiness
// fails first, keep-alives stop, in-flight requests finish within the grace.
// Once hurry closes it waits no more: the rest of the drain delay is skipped
// and open connections are closed at once.
func (a *app) serve(ctx context.Context, hurry <-chan struct{}) error {
	publicLn, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on -addr %s: %w", a.cfg.Addr, err)
	}
	var adminLn net.Listener
	if a.admin != nil {
		if adminLn, err = net.Listen("tcp", a.cfg.AdminAddr); err != nil {
			publicLn.Close()
			return fmt.Errorf("listen on -admin-addr %s: %w", a.cfg.AdminAddr, err)
		}
	}
	a.logStart(publicLn, adminLn)

	errc := make(chan error, 2)
	publicSrv := a.httpServer(a.cfg.Addr, a.public)
	a.public.Server = publicSrv
	go func() { errc <- serveOn(publicSrv, publicLn) }()
	var adminSrv *http.Server
	if adminLn != nil {
		adminSrv = a.httpServer(a.cfg.AdminAddr, a.admin)
		go func() { errc <- serveOn(adminSrv, adminLn) }()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.log.Info("shutting down", "grace", a.cfg.ShutdownGrace.String(), "drain_delay", a.cfg.DrainDelay.String())
	// Draining: /readyz fails and every answer carries "Connection: close".
	// Turning keep-alives off here instead would close idle connections at
	// once, racing clients that are sending their next request on them.
	a.srv.SetDraining(true)
	if a.cfg.DrainDelay > 0 && runErr == nil {
		start := time.Now()
		select {
		case <-time.After(a.cfg.DrainDelay): // let load balancers and clients move away
		case <-hurry:
			a.log.Warn("second signal: drain delay cut short",
				"waited", time.Since(start).Round(time.Millisecond).String(), "drain_delay", a.cfg.DrainDelay.String())
		}
	}
	publicSrv.SetKeepAlivesEnabled(false)
	gctx, cancelGrace := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancelGrace()
	sctx, cancel := context.WithCancelCause(gctx)
	defer cancel(nil)
	go func() {
		select {
		case <-hurry:
			cancel(errHurry)
		case <-sctx.Done():
		}
	}()
	hurried := func() bool { return errors.Is(context.Cause(sctx), errHurry) }
	if err := publicSrv.Shutdown(sctx); err != nil {
		if hurried() {
			a.log.Warn("second signal: closing connections with requests still in flight")
		} else {
			a.log.Warn("public server did not finish in time", "err", err)
		}
		publicSrv.Close()
	}
	// Jobs still running when the grace is over are abandoned with the process.
	closed := make(chan struct{})
	go func() { a.pool.Close(); close(closed) }()
	select {
	case <-closed:
	case <-sctx.Done():
		switch busy := a.pool.Stats().Busy; {
		case !hurried():
			a.log.Warn("jobs still running at the end of the shutdown grace", "busy", busy)
		case busy > 0:
			a.log.Warn("second signal: abandoning jobs still running", "busy", busy)
		}
	}
	if adminSrv != nil {
		if err := adminSrv.Shutdown(sctx); err != nil {
			adminSrv.Close()
		}
	}
	a.log.Info("stopped")
	return runErr
}

// writeTimeout is -write-timeout, or by default long enough for the slowest
// answer the service can give: a body read to its deadline, a full queue
// wait and a job run to its deadline.
func (a *app) writeTimeout() time.Duration {
	if a.cfg.WriteTimeout > 0 {
		return a.cfg.WriteTimeout
	}
	return a.cfg.BodyTimeout + a.cfg.QueueTimeout + a.cfg.JobTimeout + 10*time.Second
}

func serveOn(s *http.Server, ln net.Listener) error {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

func (a *app) logStart(public, admin net.Listener) {
	st := a.pool.Stats()
	attrs := []any{
		"version", version, "commit", commit, "go", runtime.Version(),
		"addr", public.Addr().String(), "workers", st.Workers, "queue_size", st.QueueSize,
		"gomaxprocs", runtime.GOMAXPROCS(0), "num_cpu", runtime.NumCPU(),
		"memory_budget_bytes", st.MemoryLimit, "memory_limit_bytes", a.memLim,
		"max_body_bytes", a.cfg.MaxBodyBytes, "max_body_memory_bytes", a.bodyMemory,
	}
	if admin != nil {
		attrs = append(attrs, "admin_addr", admin.Addr().String())
	}
	a.log.Info("listening", attrs...)
	if inContainer() {
		for _, ln := range []net.Listener{public, admin} {
			if ln == nil {
				continue
			}
			if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsLoopback() {
				a.log.Warn("listening on a loopback address inside a container: nothing outside the container can connect; listen on 0.0.0.0 (e.g. -addr :8080)",
					"addr", ta.String())
			}
		}
	}
}

// inContainer guesses whether the process runs in a container.
func inContainer() bool {
	if _, err := os.Stat("/.dockerenv"); err == nil {
		return true
	}
	if _, err := os.Stat("/run/.containerenv"); err == nil {
		return true
	}
	b, err := os.ReadFile("/proc/1/cgroup")
	return err == nil && (strings.Contains(string(b), "docker") || strings.Contains(string(b), "kubepods"))
}

// sanitizeRequestID drops an incoming X-Request-ID that is too long or not
// printable ASCII, so a fresh one is generated instead of echoing junk.
func sanitizeRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" {
			ok := len(id) <= 128
			for i := 0; ok && i < len(id); i++ {
				ok = id[i] > 0x20 && id[i] < 0x7f
			}
			if !ok {
				h.Del(echo.HeaderXRequestID)
			}
		}
		return next(c)
	}
}

func (a *app) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError:      true,
		LogStatus:        true,
		LogMethod:        true,
		LogRoutePath:     true,
		LogLatency:       true,
		LogRequestID:     true,
		LogContentLength: true,
		LogResponseSize:  true,
		LogRemoteIP:      true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			route := v.RoutePath
			if route == "" {
				route = "unmatched"
			}
			a.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("route", route), slog.Int("status", v.Status),
				slog.String("code", handlers.ErrorCodeOf(c)), slog.String("bytes_in", v.ContentLength),
				slog.Int64("bytes_out", v.ResponseSize), slog.Float64("duration_ms", float64(v.Latency.Microseconds())/1000),
				slog.Float64("queue_wait_ms", float64(handlers.QueueWaitOf(c).Microseconds())/1000),
				slog.String("remote_ip", v.RemoteIP))
			return nil
		},
	})
}

// applyMemoryLimit sets the Go memory limit to 90% of the container's when
// GOMEMLIMIT is not set, and returns the limit in force (0 when none).
func applyMemoryLimit(getenv func(string) string, logger *slog.Logger) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	lim := cgroupMemoryLimit()
	if lim <= 0 {
		return 0
	}
	goLim := lim / 10 * 9
	debug.SetMemoryLimit(goLim)
	logger.Info("memory limit from cgroup", "cgroup_limit_bytes", lim, "gomemlimit_bytes", goLim)
	return goLim
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup (v2, then
// v1), or returns 0 when there is none.
func cgroupMemoryLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0 // v1 reports "no limit" as a huge number
		}
		return n
	}
	return 0
}

// healthcheck asks the local instance's admin listener (or the public one
// when the admin listener is off) for /healthz. It is for container images
// without a shell or curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	addr := cfg.AdminAddr
	if addr == "" {
		addr = cfg.Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: bad address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}
