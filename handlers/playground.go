package handlers

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// The playground is a page at GET / to try /v1/process on your own image:
// it builds its form from the OpenAPI document, shows the original and the
// result side by side, the problem of a failed call, and the equivalent curl
// and Python requests calls. It is one HTML page, one script and one style
// sheet, embedded in the binary: it loads nothing from elsewhere, so it
// works offline and under PlaygroundCSP.

//go:embed playground
var playgroundFS embed.FS

// PlaygroundCSP is the Content-Security-Policy of the playground page: its
// own script, style sheet and API only; images from blob: (the chosen file
// and the result) and data:; no inline script or style, no forms posted,
// no framing.
const PlaygroundCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// PlaygroundPaths are the paths of the playground's routes, in OpenAPI form:
// the page and its assets. They need no API key (see APIKeyConfig.Exempt):
// they are the same static files for everyone, and the page sends the key
// the user types with its own calls to the API.
func PlaygroundPaths() []string { return []string{"/", "/playground/{file}"} }

// playgroundFile is one embedded file, ready to serve.
type playgroundFile struct {
	body        []byte
	contentType string
	etag        string
}

func loadPlaygroundFile(name, contentType string) playgroundFile {
	b, err := playgroundFS.ReadFile("playground/" + name)
	if err != nil {
		panic("handlers: playground file missing from the embed: " + name)
	}
	sum := sha256.Sum256(b)
	return playgroundFile{body: b, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// RegisterPlayground adds the playground to e: the page at GET / and its
// assets at GET /playground/{file}, each for HEAD too.
func RegisterPlayground(e *echo.Echo) {
	page := loadPlaygroundFile("index.html", "text/html; charset=utf-8")
	assets := map[string]playgroundFile{
		"playground.js":  loadPlaygroundFile("playground.js", "text/javascript; charset=utf-8"),
		"playground.css": loadPlaygroundFile("playground.css", "text/css; charset=utf-8"),
	}
	getAndHead(e, "/", func(c echo.Context) error {
		// The security middleware has set a policy that allows nothing; the
		// page needs its own script, style sheet and API.
		c.Response().Header().Set("Content-Security-Policy", PlaygroundCSP)
		return servePlaygroundFile(c, page)
	})
	getAndHead(e, "/playground/:file", func(c echo.Context) error {
		name := c.Param("file")
		f, ok := assets[name]
		if !ok {
			return imaging.Errorf(CodeNotFound, "the playground has no file %q", truncPath(name)).
				WithHint("the playground is at GET /; its files are /playground/playground.js and /playground/playground.css")
		}
		return servePlaygroundFile(c, f)
	})
}

// servePlaygroundFile answers with f: revalidated on each use by its ETag
// (304 when unchanged), so a new binary's files are never stale.
func servePlaygroundFile(c echo.Context, f playgroundFile) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.contentType)
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(f.body))
	return nil
}
