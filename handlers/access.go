package handlers

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/imgsvc/imgsvc/imaging"
)

// Access control: optional API keys, optional CORS, and security headers on
// every answer. Each is middleware in Echo's X / XWithConfig / XConfig form.

// DefaultAPIKeyHeader is the header that may carry an API key besides
// Authorization: Bearer.
const DefaultAPIKeyHeader = "X-API-Key"

// DefaultAuthExempt lists the routes served without an API key: the probes,
// the API description, and the pages every problem's "type" points to (a
// client refused with 401 must be able to read what unauthorized means).
const DefaultAuthExempt = "/healthz,/readyz,/v1/openapi.json,/v1/errors/{code}"

// MinAPIKeyLength is the shortest API key accepted: shorter keys are guessable.
const MinAPIKeyLength = 16

// authRealm is the realm of WWW-Authenticate.
const authRealm = "imgsvc"

// APIKeyConfig configures APIKeyWithConfig.
type APIKeyConfig struct {
	// Keys are the accepted API keys. At least one is required.
	Keys []string
	// Header is the header that may carry a key besides Authorization: Bearer;
	// empty means DefaultAPIKeyHeader.
	Header string
	// Exempt lists the route paths served without a key, in OpenAPI
	// (/v1/errors/{code}) or Echo (/v1/errors/:code) form; nil means
	// DefaultAuthExempt. Paths no route serves get 404 without a key.
	Exempt []string
}

// APIKey returns middleware that answers 401 unauthorized unless the request
// carries one of keys. See APIKeyWithConfig.
func APIKey(keys ...string) echo.MiddlewareFunc {
	return APIKeyWithConfig(APIKeyConfig{Keys: keys})
}

// APIKeyWithConfig returns middleware that answers 401 unauthorized, with
// WWW-Authenticate, unless the request carries a configured key as
// "Authorization: Bearer <key>" or in cfg.Header. It spares OPTIONS (CORS
// preflights carry no credentials), the exempt routes, and requests no route
// matches, which get their 404. Keys are compared as SHA-256 digests in
// constant time against every configured key, so neither a key's content
// nor its length shows in the timing. It panics without keys.
func APIKeyWithConfig(cfg APIKeyConfig) echo.MiddlewareFunc {
	if len(cfg.Keys) == 0 {
		panic("handlers: APIKeyWithConfig needs at least one key")
	}
	if cfg.Header == "" {
		cfg.Header = DefaultAPIKeyHeader
	}
	if cfg.Exempt == nil {
		cfg.Exempt = strings.Split(DefaultAuthExempt, ",")
	}
	ks := newKeySet(cfg.Keys)
	exempt := map[string]bool{}
	for _, p := range cfg.Exempt {
		exempt[echoPath(p)] = true
	}
	header := cfg.Header
	return middleware.KeyAuthWithConfig(middleware.KeyAuthConfig{
		Skipper: func(c echo.Context) bool {
			return c.Request().Method == http.MethodOptions || exempt[c.Path()] || !routed(c)
		},
		KeyLookup: "header:" + echo.HeaderAuthorization + ":Bearer ,header:" + header,
		Validator: func(key string, _ echo.Context) (bool, error) {
			return ks.match(key), nil
		},
		ErrorHandler: func(_ error, c echo.Context) error {
			return unauthorized(c, header)
		},
	})
}

// echoPath turns an OpenAPI path template (/v1/errors/{code}) into Echo's
// form (/v1/errors/:code).
func echoPath(p string) string {
	p = strings.TrimSpace(p)
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		j := strings.IndexByte(p, '}')
		if i < 0 || j < i {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		b.WriteByte(':')
		b.WriteString(p[i+1 : j])
		p = p[j+1:]
	}
}

// routed reports whether a route serves c's path (with c's method or not).
// Only such requests need a key: everything else is 404 not_found, which
// tells nothing the OpenAPI document does not.
func routed(c echo.Context) bool {
	p := c.Path()
	if p == "" {
		return false
	}
	for _, r := range c.Echo().Routes() {
		if r.Path == p {
			return true
		}
	}
	return false
}

// unauthorized is the answer to a request without a valid key. It says
// whether a key was sent, never anything about the configured keys.
func unauthorized(c echo.Context, header string) error {
	h := c.Request().Header
	auth := h.Get(echo.HeaderAuthorization)
	bearer := len(auth) > len("Bearer ") && strings.EqualFold(auth[:len("Bearer ")], "Bearer ")
	challenge := `Bearer realm="` + authRealm + `"`
	var e *imaging.Error
	switch {
	case bearer || h.Get(header) != "":
		challenge += `, error="invalid_token"`
		e = imaging.Errorf(CodeUnauthorized, "the API key is not valid")
	case auth != "":
		e = imaging.Errorf(CodeUnauthorized, "the Authorization header does not have the form \"Bearer <key>\", and there is no %s header", header)
	default:
		e = imaging.Errorf(CodeUnauthorized, "this route needs an API key, and the request carries none")
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, challenge)
	return e.WithHint(`send the key as a bearer token: curl -H 'Authorization: Bearer $KEY' ...; Python: requests.post(url, headers={"Authorization": f"Bearer {key}"}); or in the %s header. The operator of the service issues keys`, header)
}

// keySet holds the SHA-256 digests of the accepted keys, never the keys.
type keySet struct {
	digests [][sha256.Size]byte
}

func newKeySet(keys []string) keySet {
	ks := keySet{digests: make([][sha256.Size]byte, 0, len(keys))}
	for _, k := range keys {
		ks.digests = append(ks.digests, sha256.Sum256([]byte(k)))
	}
	return ks
}

// match reports whether key is one of the set. It compares fixed-size
// digests against every key, without stopping at a match, so the time
// taken says nothing about which key matched, how long keys are, or how
// much of a key was right.
func (ks keySet) match(key string) bool {
	d := sha256.Sum256([]byte(key))
	found := 0
	for i := range ks.digests {
		found |= subtle.ConstantTimeCompare(d[:], ks.digests[i][:])
	}
	return found == 1
}

// CheckAPIKey reports what is wrong with a key, without quoting it: keys
// must be at least MinAPIKeyLength characters of printable ASCII with no
// space or comma, so they travel in a header and in a comma-separated list.
func CheckAPIKey(key string) error {
	for i := 0; i < len(key); i++ {
		if b := key[i]; b <= 0x20 || b >= 0x7f || b == ',' {
			return fmt.Errorf("has a character that is not printable ASCII, a space or a comma, at offset %d", i)
		}
	}
	if len(key) < MinAPIKeyLength {
		return fmt.Errorf("is %d characters long; use at least %d (e.g. openssl rand -hex 32)", len(key), MinAPIKeyLength)
	}
	return nil
}

// ParseAPIKeyList splits a comma-separated list of keys (the -api-keys
// form), dropping blanks, and checks each with CheckAPIKey. Errors name a
// key by its position, never by its value.
func ParseAPIKeyList(s string) ([]string, error) {
	var keys []string
	for i, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if err := CheckAPIKey(k); err != nil {
			return nil, fmt.Errorf("key %d %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ParseAPIKeyFile reads keys one per line (the -api-keys-file form). Blank
// lines and lines starting with # are skipped; surrounding spaces and CRLF
// line ends are trimmed. Errors name a key by its line, never by its value.
func ParseAPIKeyFile(r io.Reader) ([]string, error) {
	var keys []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		k := strings.TrimSpace(sc.Text())
		if k == "" || strings.HasPrefix(k, "#") {
			continue
		}
		if err := CheckAPIKey(k); err != nil {
			return nil, fmt.Errorf("line %d: the key %w", n, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return keys, nil
}

// CORSConfig configures CORSWithConfig.
type CORSConfig struct {
	// AllowOrigins are the origins whose pages may call the API: "*" for any,
	// "https://app.example.com", or a pattern "https://*.example.com". At
	// least one is required.
	AllowOrigins []string
	// KeyHeader is the API key header browsers may send; empty means
	// DefaultAPIKeyHeader.
	KeyHeader string
	// MaxAge is how long browsers may cache a preflight answer; zero means 10 minutes.
	MaxAge time.Duration
}

// CORS returns CORSWithConfig with the given origins.
func CORS(origins ...string) echo.MiddlewareFunc {
	return CORSWithConfig(CORSConfig{AllowOrigins: origins})
}

// CORSWithConfig returns Echo's CORS middleware set for this API: it answers
// preflights itself (204, before any API key check) with POST and GET, the
// request headers the API reads, and Access-Control-Max-Age, and exposes the
// response headers clients read. No credentials (cookies) are allowed: the
// API authenticates with headers. It panics without origins.
func CORSWithConfig(cfg CORSConfig) echo.MiddlewareFunc {
	if len(cfg.AllowOrigins) == 0 {
		panic("handlers: CORSWithConfig needs at least one origin")
	}
	if cfg.KeyHeader == "" {
		cfg.KeyHeader = DefaultAPIKeyHeader
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 10 * time.Minute
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins: cfg.AllowOrigins,
		AllowMethods: []string{http.MethodPost, http.MethodGet},
		AllowHeaders: []string{echo.HeaderContentType, echo.HeaderAuthorization, cfg.KeyHeader,
			"X-Request-ID", echo.HeaderAccept},
		ExposeHeaders: []string{"X-Request-ID", "X-Image-Width", "X-Image-Height", "X-Image-Warning", "Retry-After",
			echo.HeaderWWWAuthenticate},
		MaxAge: int(cfg.MaxAge / time.Second),
	})
}

// CheckOrigin reports what is wrong with a -cors-origins entry: browsers
// send an origin as scheme://host[:port], with no path, not even "/".
func CheckOrigin(o string) error {
	if o == "*" {
		return nil
	}
	scheme, host, ok := strings.Cut(o, "://")
	switch {
	case !ok || scheme == "" || host == "":
		return fmt.Errorf("%q is not an origin: want scheme://host[:port], e.g. https://app.example.com, or *", o)
	case strings.ContainsAny(host, "/?#"):
		return fmt.Errorf("%q has a path; an origin is scheme://host[:port] only, e.g. %s://%s", o, scheme, strings.SplitN(host, "/", 2)[0])
	}
	return nil
}

// SecureHeadersConfig configures SecureHeadersWithConfig.
type SecureHeadersConfig struct {
	// CrossOriginResourcePolicy is the value of Cross-Origin-Resource-Policy;
	// empty means "same-site". Use "cross-origin" when pages of other sites
	// may read the answers (CORS).
	CrossOriginResourcePolicy string
}

// SecureHeaders returns SecureHeadersWithConfig with the defaults.
func SecureHeaders() echo.MiddlewareFunc {
	return SecureHeadersWithConfig(SecureHeadersConfig{})
}

// SecureHeadersWithConfig returns middleware that sets security headers on
// every answer, errors included, before the handler runs: nosniff, no
// referrer, a Content-Security-Policy that allows nothing (the answers are
// images and JSON, never HTML), no framing, and a Cross-Origin-Resource-Policy.
// X-XSS-Protection is left out (obsolete, and harmful in old browsers), and
// HSTS is for the TLS terminator in front. Neither Echo nor Go's server send
// a Server header.
func SecureHeadersWithConfig(cfg SecureHeadersConfig) echo.MiddlewareFunc {
	if cfg.CrossOriginResourcePolicy == "" {
		cfg.CrossOriginResourcePolicy = "same-site"
	}
	secure := middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
		ReferrerPolicy:        "no-referrer",
	})
	corp := cfg.CrossOriginResourcePolicy
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return secure(func(c echo.Context) error {
			c.Response().Header().Set("Cross-Origin-Resource-Policy", corp)
			return next(c)
		})
	}
}
