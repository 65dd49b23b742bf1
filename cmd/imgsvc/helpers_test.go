package main

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"net"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a process's or run's output, written from several
// goroutines, for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// buildBinary builds ./cmd/imgsvc into dir and returns its path.
func buildBinary(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "imgsvc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// animatedGIF is a w×h GIF of n frames in black, white and red.
func animatedGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White, color.NRGBA{255, 0, 0, 255}}
	a := &gif.GIF{}
	for i := range n {
		fr := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for p := range fr.Pix {
			fr.Pix[p] = uint8((p + i) % 3)
		}
		a.Image = append(a.Image, fr)
		a.Delay = append(a.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, a); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
