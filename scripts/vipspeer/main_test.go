package main

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// TestRun starts the peer on a free loopback port, resizes a JPEG to a PNG
// through it, and stops it.
//
// The package links libvips through cgo, so without libvips-dev it does not
// build and this test cannot run to skip itself: go test then fails with
// pkg-config's "Package vips was not found". The check below covers a
// libvips too old or too broken for pkg-config.
func TestRun(t *testing.T) {
	if err := exec.Command("pkg-config", "--exists", "vips").Run(); err != nil {
		t.Skip("libvips is not installed (apt-get install libvips-dev): pkg-config --exists vips:", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listen address: %v", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	src := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			src.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var body bytes.Buffer
	if err := jpeg.Encode(&body, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantType   string
		wantW      int
		wantH      int
	}{
		{"resize to png", "width=300&format=png", http.StatusOK, "image/png", 300, 225},
		{"unknown option", "widht=300", http.StatusBadRequest, "text/plain; charset=utf-8", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post("http://"+addr+"/process?"+tt.query, "image/jpeg", bytes.NewReader(body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, out, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if tt.wantW == 0 {
				return
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("decoding the answer: %v", err)
			}
			if cfg.Width != tt.wantW || cfg.Height != tt.wantH {
				t.Errorf("got %dx%d, want %dx%d", cfg.Width, cfg.Height, tt.wantW, tt.wantH)
			}
		})
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
}
