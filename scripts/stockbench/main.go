// Command stockbench is the reference for scripts/bench.sh: it serves the
// stock pipeline (image.Decode, imaging.Resize with Lanczos, jpeg.Encode) over
// HTTP, so that the same load generator measures it beside imgsvc, and it
// writes a generated image set when no corpus is at hand.
//
//	stockbench -addr 127.0.0.1:0     # POST an image to /?width=300&quality=85
//	stockbench -gen DIR              # write generated JPEG and PNG inputs
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "stockbench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stockbench", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the stock pipeline server")
	gen := fs.String("gen", "", "write generated inputs to this directory and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *gen != "" {
		return generate(*gen)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: http.HandlerFunc(handle)}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// handle resizes the posted image to ?width= (default 300) and answers a
// JPEG of ?quality= (default 85).
func handle(w http.ResponseWriter, r *http.Request) {
	width, quality := 300, 85
	if v, err := strconv.Atoi(r.URL.Query().Get("width")); err == nil && v > 0 {
		width = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("quality")); err == nil && v > 0 {
		quality = v
	}
	img, _, err := image.Decode(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	img = imaging.Resize(img, width, 0, imaging.Lanczos)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(buf.Bytes())
}

// generate writes photo-like JPEGs (q90) and PNGs of a few sizes to dir.
func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sizes := []struct {
		ext  string
		w, h int
	}{
		{"jpg", 4000, 3000}, {"jpg", 2560, 1920}, {"jpg", 1920, 1280}, {"png", 3000, 2000},
	}
	for _, s := range sizes {
		name := filepath.Join(dir, fmt.Sprintf("gen-%dx%d.%s", s.w, s.h, s.ext))
		img := photo(s.w, s.h)
		var buf bytes.Buffer
		var err error
		if s.ext == "png" {
			err = png.Encode(&buf, img)
		} else {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		}
		if err == nil {
			err = os.WriteFile(name, buf.Bytes(), 0o644)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// photo returns smooth gradients with fine noise.
func photo(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	c8 := func(v int) uint8 { return uint8(min(max(v, 0), 255)) }
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			n := int(seed>>28) - 8
			img.SetNRGBA(x, y, color.NRGBA{c8(x*255/w + n), c8(y*255/h + n), c8((x+y)*128/(w+h) + 64 + n), 255})
		}
	}
	return img
}
