package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

// config is the whole configuration surface of imgsvc. Every field is a
// flag, and every flag falls back to the environment variable IMGSVC_<FLAG>.
type config struct {
	Addr      string
	AdminAddr string

	Workers      int
	QueueSize    int
	QueueTimeout time.Duration
	JobTimeout   time.Duration
	MemoryBudget int64
	BodyMemory   int64

	MaxBodyBytes    int64
	MaxInputPixels  int64
	MaxOutputPixels int64
	MaxFilterTaps   int64
	MaxFrames       int

	ReadHeaderTimeout time.Duration
	BodyTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int

	ShutdownGrace time.Duration
	DrainDelay    time.Duration
	RetryAfter    time.Duration

	LogLevel  string
	LogFormat string

	APIKeys      string // secret: never logged or echoed in errors
	APIKeysFile  string
	APIKeyHeader string
	AuthExempt   string
	CORSOrigins  string

	Playground bool

	keys []string // APIKeys and the keys in APIKeysFile, checked
}

// envName is the environment variable a flag falls back to.
func envName(flagName string) string {
	return "IMGSVC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig fills a config from args, then from getenv for every flag not
// given on the command line. Output (usage, errors) goes to out.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("imgsvc", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", ":8080", "public listen address (the API)")
	fs.StringVar(&c.AdminAddr, "admin-addr", ":9090", "admin listen address (/metrics, /healthz, /readyz); empty or \"off\" disables it")

	fs.IntVar(&c.Workers, "workers", 0, "image workers; 0 means GOMAXPROCS, which follows the container CPU limit")
	fs.IntVar(&c.QueueSize, "queue-size", 0, "jobs that may wait for a worker; 0 means 4 per worker; past it requests get 503 overloaded at once")
	fs.DurationVar(&c.QueueTimeout, "queue-timeout", 10*time.Second, "longest wait for a worker before 503 overloaded")
	fs.DurationVar(&c.JobTimeout, "job-timeout", 30*time.Second, "deadline of one job once it runs, before 503 processing_timeout")
	fs.Int64Var(&c.MemoryBudget, "memory-budget", 0, "estimated bytes all jobs in flight may use; 0 means 60% of the Go memory limit (GOMEMLIMIT, by default 90% of the container's), or 1.5 GiB without one; -1 disables memory admission")
	fs.Int64Var(&c.BodyMemory, "max-body-memory", 0, "bytes of request bodies (and the buffers decoded from them) held across all connections at once; past it a request waits up to -queue-timeout, then gets 503 overloaded; 0 means 20% of the Go memory limit, or 512 MiB without one, and at least twice -max-body-bytes; -1 disables the bound")

	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", handlers.DefaultMaxBodyBytes, "largest request body, in bytes (413 body_too_large)")
	fs.Int64Var(&c.MaxInputPixels, "max-input-pixels", imaging.DefaultMaxInputPixels, "largest input image, width × height from its header (422 image_too_large)")
	fs.Int64Var(&c.MaxOutputPixels, "max-output-pixels", imaging.DefaultMaxOutputPixels, "largest output image, width × height (422 output_too_large)")
	fs.Int64Var(&c.MaxFilterTaps, "max-filter-taps", imaging.DefaultMaxFilterTaps, "largest blur/sharpen work, output pixels × kernel taps × 2 (400 invalid_option); keeps jobs within -job-timeout")
	fs.IntVar(&c.MaxFrames, "max-frames", imaging.DefaultMaxFrames, "most frames of an animation processed whole (422 image_too_large); the pixel limits count all its frames")

	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time to read a request's headers")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", 60*time.Second, "time to read a request's body (408 request_timeout)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", 0, "time from the end of the headers to the end of the response; 0 means body-timeout + queue-timeout + job-timeout + 10s, so every answer the service can give is written")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	fs.IntVar(&c.MaxHeaderBytes, "max-header-bytes", 64<<10, "largest request header block, in bytes (431)")

	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 20*time.Second, "on SIGTERM, how long in-flight requests may take to finish")
	fs.DurationVar(&c.DrainDelay, "drain-delay", 0, "on SIGTERM, how long to keep serving with /readyz failing before closing listeners (lets load balancers notice)")
	fs.DurationVar(&c.RetryAfter, "retry-after", 2*time.Second, "Retry-After suggested in 503 answers")

	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")

	fs.StringVar(&c.APIKeys, "api-keys", "", "comma-separated API keys; when any key is set, /v1/process and /v1/info need one (Authorization: Bearer <key> or -api-key-header); prefer -api-keys-file or the variable, as flags show in ps")
	fs.StringVar(&c.APIKeysFile, "api-keys-file", "", "file of API keys, one per line; blank lines and lines starting with # are skipped; read once at start")
	fs.StringVar(&c.APIKeyHeader, "api-key-header", handlers.DefaultAPIKeyHeader, "header that may carry an API key, besides Authorization: Bearer")
	fs.StringVar(&c.AuthExempt, "auth-exempt", handlers.DefaultAuthExempt, "comma-separated routes served without an API key; \"none\" for none")
	fs.StringVar(&c.CORSOrigins, "cors-origins", "", "comma-separated origins whose web pages may call the API (CORS), e.g. https://app.example.com, or *; empty disables CORS")

	fs.BoolVar(&c.Playground, "playground", true, "serve the playground, a page to try the API in a browser, at GET / (its page and files need no API key); false makes / a 404")

	fs.Usage = func() {
		fmt.Fprintf(out, "imgsvc: an image processing service.\n\nUsage:\n  imgsvc [flags]\n  imgsvc healthcheck   exit 0 when the local instance is healthy\n  imgsvc version       print the version\n\nFlags (each also read from the environment variable shown; a flag on the command line wins):\n")
		fs.VisitAll(func(f *flag.Flag) {
			def := f.DefValue
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(out, "  -%s  (%s, default %s)\n        %s\n", f.Name, envName(f.Name), def, f.Usage)
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fromEnv := map[string]string{}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || envErr != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			fromEnv[f.Name] = v
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if c.AdminAddr == "off" || c.AdminAddr == "none" {
		c.AdminAddr = "" // an empty variable reads as unset, so the environment needs a word
	}
	if err := c.validate(); err != nil {
		var fe *flagError
		if errors.As(err, &fe) {
			if v, ok := fromEnv[fe.flag]; ok {
				return c, fmt.Errorf("%s=%q: %w", envName(fe.flag), v, err)
			}
		}
		return c, err
	}
	keys, err := c.loadKeys()
	if err != nil {
		var fe *flagError
		if errors.As(err, &fe) && fromEnv[fe.flag] != "" {
			return c, fmt.Errorf("%s: %w", envName(fe.flag), err) // never echo a key
		}
		return c, err
	}
	c.keys = keys
	return c, nil
}

// loadKeys gathers the keys of -api-keys and -api-keys-file. Its errors
// name a key by position, never by value.
func (c config) loadKeys() ([]string, error) {
	keys, err := handlers.ParseAPIKeyList(c.APIKeys)
	if err != nil {
		return nil, badFlag("api-keys", "%v", err)
	}
	if c.APIKeysFile != "" {
		f, err := os.Open(c.APIKeysFile)
		if err != nil {
			return nil, badFlag("api-keys-file", "%v", err)
		}
		defer f.Close()
		fileKeys, err := handlers.ParseAPIKeyFile(f)
		if err != nil {
			return nil, badFlag("api-keys-file", "%s: %v", c.APIKeysFile, err)
		}
		if len(fileKeys) == 0 {
			return nil, badFlag("api-keys-file", "%s has no key", c.APIKeysFile)
		}
		keys = append(keys, fileKeys...)
	}
	return keys, nil
}

// list splits a comma-separated flag value, dropping blanks.
func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// flagError is a configuration error that names the flag at fault, so
// parseConfig can name the environment variable when the value came from it.
type flagError struct {
	flag string
	msg  string
}

func (e *flagError) Error() string { return "-" + e.flag + " " + e.msg }

func badFlag(name, format string, args ...any) error {
	return &flagError{flag: name, msg: fmt.Sprintf(format, args...)}
}

func (c config) validate() error {
	switch {
	case c.Addr == "":
		return badFlag("addr", "must not be empty")
	case c.Workers < 0:
		return badFlag("workers", "must be 0 or more, got %d", c.Workers)
	case c.QueueSize < 0:
		return badFlag("queue-size", "must be 0 or more, got %d", c.QueueSize)
	case c.MaxBodyBytes <= 0:
		return badFlag("max-body-bytes", "must be positive, got %d", c.MaxBodyBytes)
	case c.MaxInputPixels <= 0:
		return badFlag("max-input-pixels", "must be positive, got %d", c.MaxInputPixels)
	case c.MaxOutputPixels <= 0:
		return badFlag("max-output-pixels", "must be positive, got %d", c.MaxOutputPixels)
	case c.MaxFilterTaps <= 0:
		return badFlag("max-filter-taps", "must be positive, got %d", c.MaxFilterTaps)
	case c.MaxFrames <= 0:
		return badFlag("max-frames", "must be positive, got %d", c.MaxFrames)
	case c.WriteTimeout < 0:
		return badFlag("write-timeout", "must not be negative, got %s", c.WriteTimeout)
	case c.ShutdownGrace < 0:
		return badFlag("shutdown-grace", "must not be negative, got %s", c.ShutdownGrace)
	case c.DrainDelay < 0:
		return badFlag("drain-delay", "must not be negative, got %s", c.DrainDelay)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return badFlag("log-format", "must be json or text, got %q", c.LogFormat)
	}
	if !isToken(c.APIKeyHeader) || strings.EqualFold(c.APIKeyHeader, "Authorization") {
		return badFlag("api-key-header", "must be a header name other than Authorization, got %q", c.APIKeyHeader)
	}
	if c.AuthExempt != "none" {
		for _, p := range list(c.AuthExempt) {
			if !strings.HasPrefix(p, "/") {
				return badFlag("auth-exempt", "lists routes, which start with /, got %q", p)
			}
		}
	}
	for _, o := range list(c.CORSOrigins) {
		if err := handlers.CheckOrigin(o); err != nil {
			return badFlag("cors-origins", "%v", err)
		}
	}
	return nil
}

// isToken reports whether s is an HTTP token, as header names are.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, b) >= 0 {
			return false
		}
	}
	return s != ""
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, badFlag("log-level", "must be debug, info, warn or error, got %q", s)
	}
	return l, nil
}
