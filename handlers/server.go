// Package handlers adapts HTTP to the imaging domain: routes, the three input
// forms, content negotiation, and the mapping of error codes to statuses.
package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// Processor transforms an encoded image, and computes the placeholder
// /v1/info?placeholder=true reports.
type Processor interface {
	Process(ctx context.Context, src []byte, opt imaging.Options) (imaging.Result, error)
	Placeholder(ctx context.Context, src []byte) (imaging.Placeholder, error)
}

// Saturation reports whether the processing queue would refuse a new job.
type Saturation interface {
	Saturated() bool
}

// Config configures a Server. Zero values mean the defaults.
type Config struct {
	// MaxBodyBytes is the largest request body accepted; zero means 32 MiB.
	MaxBodyBytes int64
	// BodyTimeout is how long a handler waits for the whole body; zero means no limit
	// beyond the server's read timeout.
	BodyTimeout time.Duration
	// RetryAfter is the delay suggested to clients in 503 answers; zero means 1 s.
	RetryAfter time.Duration
	// Saturation, if set, makes /readyz fail while the queue is full.
	Saturation Saturation
	// MaxBodyMemory bounds the bytes of request bodies (and the buffers made
	// from them) held across all connections at once; zero means no bound.
	MaxBodyMemory int64
	// BodyMemoryWait is how long a request waits for body memory before it
	// is refused with 503 overloaded; zero means 2 s.
	BodyMemoryWait time.Duration
}

// DefaultMaxBodyBytes is the default body limit.
const DefaultMaxBodyBytes = 32 << 20

// Server holds the handlers of the public and admin APIs.
type Server struct {
	proc     Processor
	log      *slog.Logger
	cfg      Config
	bodies   *bodyBudget
	draining atomic.Bool
}

// New returns a Server that processes images with proc.
func New(proc Processor, logger *slog.Logger, cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BodyMemoryWait <= 0 {
		cfg.BodyMemoryWait = 2 * time.Second
	}
	return &Server{proc: proc, log: logger, cfg: cfg, bodies: newBodyBudget(cfg.MaxBodyMemory, cfg.BodyMemoryWait)}
}

// Route is one route of the public API.
type Route struct {
	Method, Path string
}

// PublicRoutes lists the public routes, short aliases included, and the
// playground's (see RegisterPlayground), which it can turn off.
func PublicRoutes() []Route {
	return []Route{
		{http.MethodPost, "/v1/process"}, {http.MethodPost, "/process"},
		{http.MethodPost, "/v1/info"}, {http.MethodPost, "/info"},
		{http.MethodGet, "/v1/openapi.json"}, {http.MethodGet, "/v1/errors/:code"},
		{http.MethodGet, "/healthz"}, {http.MethodGet, "/readyz"},
		{http.MethodGet, "/"}, {http.MethodGet, "/playground/:file"},
	}
}

// Register adds the public routes to e and installs the error handler.
func (s *Server) Register(e *echo.Echo) {
	e.HTTPErrorHandler = s.HTTPErrorHandler
	e.Pre(s.closeWhenDraining)
	for _, p := range []string{"/v1/process", "/process"} {
		e.POST(p, s.handleProcess)
	}
	for _, p := range []string{"/v1/info", "/info"} {
		e.POST(p, s.handleInfo)
	}
	getAndHead(e, "/v1/openapi.json", s.handleOpenAPI)
	getAndHead(e, "/v1/errors/:code", s.handleErrorType)
	s.RegisterHealth(e)
}

// RegisterHealth adds /healthz and /readyz to e (the admin listener has them too).
func (s *Server) RegisterHealth(e *echo.Echo) {
	getAndHead(e, "/healthz", s.handleHealthz)
	getAndHead(e, "/readyz", s.handleReadyz)
}

// getAndHead registers h for GET and HEAD: probes often use HEAD.
func getAndHead(e *echo.Echo, path string, h echo.HandlerFunc) {
	e.GET(path, h)
	e.HEAD(path, h)
}

// BodyMemoryInUse is the bytes of request bodies held now.
func (s *Server) BodyMemoryInUse() int64 { return s.bodies.InUse() }

// SetDraining marks the server as shutting down: /readyz fails from then
// on, and every answer asks the client to close its connection.
func (s *Server) SetDraining(v bool) { s.draining.Store(v) }

// closeWhenDraining adds "Connection: close" to every answer while the
// server drains, so keep-alive clients open their next connection elsewhere
// instead of racing the listener's close.
func (s *Server) closeWhenDraining(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.draining.Load() {
			c.Response().Header().Set(echo.HeaderConnection, "close")
		}
		return next(c)
	}
}

func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(c echo.Context) error {
	switch {
	case s.draining.Load():
		return imaging.Errorf(imaging.CodeOverloaded, "the service is shutting down and takes no new work").
			WithHint("send requests to another replica")
	case s.cfg.Saturation != nil && s.cfg.Saturation.Saturated():
		return imaging.Errorf(imaging.CodeOverloaded, "the processing queue is full").
			WithHint("send requests to another replica, or retry later")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// handleProcess is POST /v1/process.
func (s *Server) handleProcess(c echo.Context) error {
	in, err := s.readInput(c)
	if err != nil {
		return err
	}
	defer in.release()
	if imaging.Sniff(in.image) == "" {
		// Say what the bytes are before judging Accept or the options.
		return unsupportedFormat(in.image)
	}
	opt, err := imaging.ParseOptions(in.options, in.fieldName)
	if err != nil {
		return err
	}
	if err := in.checkOverlay(&opt); err != nil {
		return err
	}
	out, err := negotiate(c.Request().Header.Get(echo.HeaderAccept), in, &opt)
	if err != nil {
		return err
	}
	res, err := s.proc.Process(c.Request().Context(), in.image, opt)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("X-Image-Width", strconv.Itoa(res.Width))
	h.Set("X-Image-Height", strconv.Itoa(res.Height))
	for _, w := range res.Warnings {
		h.Add(HeaderImageWarning, headerSafe(w.String()))
	}
	h.Add(echo.HeaderVary, echo.HeaderAccept)
	if out == outJSON {
		return writeJSON(c, http.StatusOK, processResponse{
			ImageB64: base64.StdEncoding.EncodeToString(res.Data), ContentType: res.Format.MediaType(),
			Width: res.Width, Height: res.Height, Bytes: len(res.Data), Metadata: metadataOrEmpty(in.metadata),
			Warnings: h.Values(HeaderImageWarning),
		})
	}
	return c.Blob(http.StatusOK, res.Format.MediaType(), res.Data)
}

// HeaderImageWarning carries, one per header line, what the service worked
// around to answer with an image: "code: detail" (see imaging.Warning).
const HeaderImageWarning = "X-Image-Warning"

// headerSafe keeps a warning to the printable ASCII a header value may hold.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// processResponse is the JSON answer of /v1/process.
type processResponse struct {
	ImageB64    string          `json:"image_b64"`
	ContentType string          `json:"content_type"`
	Width       int             `json:"width"`
	Height      int             `json:"height"`
	Bytes       int             `json:"bytes"`
	Metadata    json.RawMessage `json:"metadata"`
	Warnings    []string        `json:"warnings,omitempty"`
}

// infoResponse is the answer of /v1/info.
type infoResponse struct {
	imaging.Info
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// BlurHash and DominantColor answer placeholder=true.
	BlurHash      string `json:"blurhash,omitempty"`
	DominantColor string `json:"dominant_color,omitempty"`
}

func metadataOrEmpty(m json.RawMessage) json.RawMessage {
	if m == nil {
		return json.RawMessage("{}")
	}
	return m
}

// handleInfo is POST /v1/info: the image's headers, without decoding pixels;
// with placeholder=true also a BlurHash and the dominant colour, from a
// small decode run on the worker pool.
func (s *Server) handleInfo(c echo.Context) error {
	in, err := s.readInput(c)
	if err != nil {
		return err
	}
	defer in.release()
	placeholder, err := infoPlaceholder(in)
	if err != nil {
		return err
	}
	if len(in.options) > 0 {
		// The options come in a map: sort their names, so the answer is the
		// same each time, and name them all.
		names := slices.Sorted(maps.Keys(in.options))
		got := fmt.Sprintf("%q", truncate(names[0], 60))
		if len(names) > 1 {
			quoted := make([]string, len(names))
			for i, name := range names {
				quoted[i] = strconv.Quote(truncate(name, 60))
			}
			got = fmt.Sprintf("%d: %s", len(names), strings.Join(quoted, ", "))
		}
		return infoOptionsError(in, names, got)
	}
	if err := in.infoOverlayError(); err != nil {
		return err
	}
	if imaging.Sniff(in.image) == "" {
		return unsupportedFormat(in.image)
	}
	info, err := imaging.Inspect(in.image)
	if err != nil {
		return err
	}
	resp := infoResponse{Info: info}
	if placeholder {
		ph, err := s.proc.Placeholder(c.Request().Context(), in.image)
		if err != nil {
			return err
		}
		resp.BlurHash, resp.DominantColor = ph.BlurHash, ph.DominantColor
	}
	if in.form == formJSON || in.metadata != nil {
		resp.Metadata = metadataOrEmpty(in.metadata)
	}
	return writeJSON(c, http.StatusOK, resp)
}

// jsonMarshal encodes v without HTML escaping: hints quote shell commands
// with < and >, and no answer of this API is embedded in HTML.
func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// writeJSON answers with v as application/json.
func writeJSON(c echo.Context, status int, v any) error {
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, echo.MIMEApplicationJSON, append(b, '\n'))
}
