package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imgsvc/imgsvc/imaging"
)

// bodyBudget bounds the bytes of request bodies, and of the buffers derived
// from them (a multipart part's copy, decoded base64), held across all
// connections at once. Unlike a FIFO semaphore it lets any request that fits
// go ahead, so a small request is not stuck behind a large one that waits.
type bodyBudget struct {
	limit int64 // zero: no bound
	wait  time.Duration

	mu    sync.Mutex
	used  int64
	freed chan struct{} // closed and replaced whenever bytes are released
}

func newBodyBudget(limit int64, wait time.Duration) *bodyBudget {
	return &bodyBudget{limit: limit, wait: wait, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting up to the budget's wait for others to
// release them. It returns CodeOverloaded when they did not,
// CodeRequestTimeout when ctx ended first, and CodeBodyTooLarge at once
// when n alone is over the limit.
func (b *bodyBudget) acquire(ctx context.Context, n int64) error {
	if b.limit <= 0 || n <= 0 {
		return nil
	}
	if n > b.limit {
		return imaging.Errorf(CodeBodyTooLarge, "this request needs %s of body memory; the service holds at most %s of request bodies at once (-max-body-memory)",
			humanBytes(n), humanBytes(b.limit)).
			WithHint("send a smaller image, or ask the operator to raise -max-body-memory (it should be at least twice -max-body-bytes)")
	}
	var timer <-chan time.Time
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		used, freed := b.used, b.freed
		b.mu.Unlock()
		if timer == nil {
			t := time.NewTimer(b.wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-freed:
		case <-timer:
			return imaging.Errorf(imaging.CodeOverloaded,
				"the service holds %s of request bodies and this one needs %s more; the limit is %s (-max-body-memory), and nothing was freed within %s",
				humanBytes(used), humanBytes(n), humanBytes(b.limit), b.wait).
				WithHint("retry after the number of seconds in the Retry-After header, with backoff; many large uploads at once fill the body memory")
		case <-ctx.Done():
			return imaging.Errorf(imaging.CodeRequestTimeout, "the request ended while it waited for body memory (%v)", ctx.Err()).Wrap(ctx.Err()).
				WithHint("the client closed the connection or its deadline passed; retry")
		}
	}
}

func (b *bodyBudget) release(n int64) {
	if b.limit <= 0 || n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// InUse is the bytes held now.
func (b *bodyBudget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// bodyHold is what one request holds of the body budget. It charges the
// buffers the request has alive (live), and never less than a floor
// reserved up front for a body of known length: the most the request's
// form can need, so that admitted requests never wait on each other.
type bodyHold struct {
	budget *bodyBudget
	ctx    context.Context
	held   int64 // charged to the budget
	floor  int64
	live   int64 // bytes of buffers alive
}

// reserve raises the floor to n, acquiring what is missing.
func (h *bodyHold) reserve(n int64) error {
	if n > h.held {
		if err := h.budget.acquire(h.ctx, n-h.held); err != nil {
			return err
		}
		h.held = n
	}
	h.floor = max(h.floor, n)
	return nil
}

// alloc charges a buffer of n bytes before it is made.
func (h *bodyHold) alloc(n int64) error {
	if h.live+n > h.held {
		if err := h.budget.acquire(h.ctx, h.live+n-h.held); err != nil {
			return err
		}
		h.held = h.live + n
	}
	h.live += n
	return nil
}

// free gives back the charge of a buffer that is no longer used.
func (h *bodyHold) free(n int64) {
	h.live = max(h.live-n, 0)
	h.trim()
}

// dropFloor ends the up-front reservation: from now on the request holds
// only its live buffers.
func (h *bodyHold) dropFloor() {
	h.floor = 0
	h.trim()
}

func (h *bodyHold) trim() {
	if t := max(h.live, h.floor); h.held > t {
		h.budget.release(h.held - t)
		h.held = t
	}
}

// releaseAll returns everything the request holds; call it when the
// request's buffers are no longer used.
func (h *bodyHold) releaseAll() {
	h.budget.release(h.held)
	h.held, h.floor, h.live = 0, 0, 0
}

// minBodyBuffer is the first allocation of a body buffer.
const minBodyBuffer = 32 << 10

// readAll reads r to its end into one buffer that grows only as bytes
// arrive, never from a declared length alone. Each buffer is charged to h
// before it is made, and given back once its bytes are copied into the
// next. The buffer doubles; when size is known (≥ 0) it jumps to size+1
// (so that a body as long as it said fits exactly, and EOF is seen without
// growing) as soon as doubling would pass half of that, so the old and new
// buffers together never exceed 1.5 × (size+1). limit bounds the bytes
// read; past it readAll returns errTooLong.
func readAll(r io.Reader, size, limit int64, h *bodyHold) ([]byte, error) {
	first := min(int64(minBodyBuffer), limit+1)
	if size >= 0 && size+1 <= first {
		first = size + 1
	} else if size >= 0 {
		first = min(first, (size+2)/2)
	}
	if err := h.alloc(first); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, first)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return buf, errTooLong
			}
			c := int64(cap(buf))
			next := 2 * c
			if size >= 0 && c <= size && 2*next > size+1 {
				next = size + 1
			}
			next = min(max(next, c+1), limit+1)
			if err := h.alloc(next); err != nil {
				return buf, err
			}
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
			h.free(c)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, errTooLong
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

var errTooLong = errors.New("body longer than its limit")

// bodyNeed is the most memory a request of a form holds, as a multiple of
// its body: 1.5 while the body buffer grows; a JSON body and its decoded
// base64 (¾ of it); a multipart body and its image part.
func bodyNeed(contentType string) float64 {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt = strings.ToLower(mt); {
	case mt == "multipart/form-data":
		return 2
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return 1.75
	}
	return 1.5
}

// readBody reads the whole body into one buffer charged to the body budget.
// A body whose Content-Length is over the limit is refused before reading;
// one that turns out longer is refused as soon as it passes the limit.
func (s *Server) readBody(c echo.Context, h *bodyHold) ([]byte, error) {
	req := c.Request()
	if req.ContentLength > s.cfg.MaxBodyBytes {
		return nil, s.bodyTooLarge(req.ContentLength)
	}
	if s.cfg.BodyTimeout > 0 {
		// Ignored where the writer does not support it (httptest).
		_ = http.NewResponseController(c.Response().Writer).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	}
	size := req.ContentLength // -1 when unknown (chunked)
	if size > 0 {
		// The client said how much it sends: reserve the most this request
		// can need now (or refuse it before reading a byte), so admitted
		// requests never wait on each other's memory halfway through.
		if err := h.reserve(int64(float64(size+1) * bodyNeed(req.Header.Get(echo.HeaderContentType)))); err != nil {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return nil, err
		}
	}
	buf, err := readAll(req.Body, size, s.cfg.MaxBodyBytes, h)
	if err == nil {
		return buf, nil
	}
	var ie *imaging.Error
	var ne net.Error
	switch {
	case errors.As(err, &ie):
		c.Response().Header().Set(echo.HeaderConnection, "close")
		return nil, ie
	case errors.Is(err, errTooLong):
		return nil, s.bodyTooLarge(-1)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return nil, imaging.Errorf(imaging.CodeRequestTimeout, "the body was not received within %s (got %d bytes)", s.cfg.BodyTimeout, len(buf)).
			WithHint("send the body faster, or ask the operator to raise -body-timeout; check the network between the client and the service")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, imaging.Errorf(imaging.CodeRequestTimeout, "the connection closed after %d of %d bytes of the body", len(buf), req.ContentLength).
			WithHint("the client stopped sending; retry")
	}
	return nil, imaging.Errorf(imaging.CodeRequestTimeout, "the body could not be read after %d bytes", len(buf)).Wrap(err).
		WithHint("the connection failed while sending; retry")
}

func (s *Server) bodyTooLarge(got int64) *imaging.Error {
	lim := s.cfg.MaxBodyBytes
	e := imaging.Errorf(CodeBodyTooLarge, "the body is larger than the limit of %d bytes (%s)", lim, humanBytes(lim))
	if got > 0 {
		e.Detail = fmt.Sprintf("the body is %d bytes (%s); the limit is %d bytes (%s)", got, humanBytes(got), lim, humanBytes(lim))
	}
	e.Hint = "send a smaller image, or ask the operator to raise -max-body-bytes (and the body limit of any proxy in front, e.g. nginx client_max_body_size)"
	return e
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
