package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"net/http"
	"strings"
	"testing"
)

// e2eAnimation is an n-frame 60×40 GIF: a square moving over a background,
// each frame only the square's rectangle, at an offset.
func e2eAnimation(t *testing.T, n int) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{240, 240, 240, 255}, color.RGBA{200, 20, 20, 255}}
	bg := image.NewPaletted(image.Rect(0, 0, 60, 40), pal)
	g := &gif.GIF{Image: []*image.Paletted{bg}, Delay: []int{7}, LoopCount: 0,
		Config: image.Config{ColorModel: pal, Width: 60, Height: 40}}
	for i := 1; i < n; i++ {
		sq := image.NewPaletted(image.Rect(i*5, 10, i*5+10, 20), pal)
		for k := range sq.Pix {
			sq.Pix[k] = 1
		}
		g.Image, g.Delay = append(g.Image, sq), append(g.Delay, 7)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestE2E_animation sends animated GIFs to the running service and counts
// the frames of the answers; -max-frames comes from the environment.
func TestE2E_animation(t *testing.T) {
	s := startRun(t, map[string]string{"IMGSVC_MAX_FRAMES": "5"})
	four, six := e2eAnimation(t, 4), e2eAnimation(t, 6)
	tests := []struct {
		name   string
		query  string
		src    []byte
		status int
		frames int
		w, h   int
		code   string // of the problem, or of the X-Image-Warning
		inHint string
		ctype  string
	}{
		{"animated, resized", "width=30", four, 200, 4, 30, 20, "", "", "image/gif"},
		{"first frame", "width=30&frames=first", four, 200, 1, 30, 20, "", "", "image/gif"},
		{"over -max-frames", "width=30", six, 422, 0, 0, 0, "image_too_large", "-max-frames", ""},
		{"over -max-frames, first frame asked for", "frames=first", six, 200, 1, 60, 40, "", "", "image/gif"},
		{"PNG output flattens, with a warning", "format=png", four, 200, 1, 60, 40, "animation_flattened", "format=gif", "image/png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := doRequest(t, "POST", s.base+"/v1/process?"+tt.query, map[string]string{"Content-Type": "image/gif"}, tt.src)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %.300s", r.status, tt.status, r.body)
			}
			if tt.status != http.StatusOK {
				var p struct{ Code, Detail, Hint string }
				if err := json.Unmarshal(r.body, &p); err != nil {
					t.Fatal(err)
				}
				if p.Code != tt.code || !strings.Contains(p.Hint, tt.inHint) || !strings.Contains(p.Detail, "6 frames") {
					t.Errorf("problem %+v, want code %s, the frame count in the detail and %q in the hint", p, tt.code, tt.inHint)
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != tt.ctype {
				t.Fatalf("Content-Type %q, want %q", ct, tt.ctype)
			}
			warn := r.header.Get("X-Image-Warning")
			if tt.code != "" && (!strings.HasPrefix(warn, tt.code+":") || !strings.Contains(warn, tt.inHint)) || tt.code == "" && warn != "" {
				t.Errorf("X-Image-Warning %q, want code %q mentioning %q", warn, tt.code, tt.inHint)
			}
			if tt.ctype != "image/gif" {
				return
			}
			g, err := gif.DecodeAll(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Image) != tt.frames || g.Config.Width != tt.w || g.Config.Height != tt.h {
				t.Errorf("answer has %d frames of %d×%d, want %d of %d×%d", len(g.Image), g.Config.Width, g.Config.Height, tt.frames, tt.w, tt.h)
			}
			for i, d := range g.Delay {
				if d != 7 && tt.frames > 1 {
					t.Errorf("frame %d: delay %d, want 7", i, d)
				}
			}
		})
	}
}
