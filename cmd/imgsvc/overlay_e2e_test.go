package main

import (
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestE2E_overlay drives the binary with curl as a user would: a photo and
// a logo, as multipart (-F overlay=@logo.png) and as JSON (overlay_b64),
// and checks that the corner the overlay goes to has the logo's colour and
// the centre the photo's; then the mistakes users make with overlays.
func TestE2E_overlay(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found (Debian package curl); install it to run the end-to-end test")
	}
	dir := t.TempDir()
	f := func(name string) string { return filepath.Join(dir, name) }
	blue := color.NRGBA{0, 0, 255, 255}
	photo := image.NewNRGBA(image.Rect(0, 0, 320, 240))
	for i := 0; i < len(photo.Pix); i += 4 {
		photo.Pix[i+2], photo.Pix[i+3] = 255, 255
	}
	for name, data := range map[string][]byte{
		"photo.jpg": encodeImage(t, photo, "jpeg"),
		"logo.png":  encodeImage(t, quadrants(60, 40), "png"), // red, green / blue, yellow
	} {
		if err := os.WriteFile(f(name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startBinary(t)
	url := s.base + "/v1/process"

	// The logo is 60×40 at the bottom right, 16 px from the edges: x
	// 244–303, y 184–223. Its bottom-right quadrant is yellow.
	corner, centre := image.Pt(290, 215), image.Pt(160, 120)
	check := func(t *testing.T, img image.Image, corner image.Point, want color.NRGBA) {
		t.Helper()
		if c := img.At(corner.X, corner.Y); !near(c, want, 24) {
			t.Errorf("pixel %v = %v, want the logo's %v", corner, c, want)
		}
		if c := img.At(centre.X, centre.Y); !near(c, blue, 24) {
			t.Errorf("centre pixel = %v, want the photo's blue", c)
		}
	}
	t.Run("multipart", func(t *testing.T) {
		r := curl(t, url, "-F", "image=@"+f("photo.jpg"), "-F", "overlay=@"+f("logo.png"))
		check(t, checkImage(t, r, "jpeg", 320, 240), corner, yellow)
	})
	t.Run("multipart with options", func(t *testing.T) {
		// Top left, 8 px in, 120 wide: its top-left quadrant (red) at 8–67.
		r := curl(t, url+"?overlay_gravity=northwest", "-F", "image=@"+f("photo.jpg"), "-F", "overlay=@"+f("logo.png"),
			"-F", "overlay_margin=8", "-F", "overlay_width=120", "-F", "format=png")
		check(t, checkImage(t, r, "png", 320, 240), image.Pt(20, 20), red)
	})
	t.Run("json", func(t *testing.T) {
		logo, _ := os.ReadFile(f("logo.png"))
		body, _ := json.Marshal(map[string]any{"image_b64": e2eB64(t, f("photo.jpg")), "overlay_b64": base64.StdEncoding.EncodeToString(logo),
			"options": map[string]any{"overlay_opacity": 1, "format": "png"}})
		if err := os.WriteFile(f("req.json"), body, 0o644); err != nil {
			t.Fatal(err)
		}
		r := curl(t, url, "-H", "Content-Type: application/json", "--data-binary", "@"+f("req.json"))
		m := e2eJSONResponse(t, r, "image/png", "png", 320, 240)
		out, err := base64.StdEncoding.DecodeString(m["image_b64"].(string))
		if err != nil {
			t.Fatal(err)
		}
		check(t, checkDecoded(t, out, "png", 320, 240), corner, yellow)
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			url  string
			want e2eWant
		}{
			{"raw bytes with an overlay option", []string{"--data-binary", "@" + f("photo.jpg"), "-H", "Content-Type: image/jpeg"}, url + "?overlay_gravity=north",
				e2eWant{status: 400, code: "invalid_option", field: "overlay_gravity", hint: []string{"-F overlay=@logo.png"}}},
			{"overlay without @", []string{"-F", "image=@" + f("photo.jpg"), "-F", "overlay=logo.png"}, url,
				e2eWant{status: 400, code: "body_is_path", field: "overlay", hint: []string{"-F overlay=@logo.png"}}},
			{"watermark part", []string{"-F", "image=@" + f("photo.jpg"), "-F", "watermark=@" + f("logo.png")}, url,
				e2eWant{status: 400, code: "missing_file_part", field: "overlay", hint: []string{`rename the part "watermark" to overlay`}}},
			{"overlay options, no overlay part", []string{"-F", "image=@" + f("photo.jpg"), "-F", "overlay_opacity=0.5"}, url,
				e2eWant{status: 400, code: "missing_file_part", field: "overlay", detail: []string{"overlay_opacity is set"}}},
			{"opacity in percent", []string{"-F", "image=@" + f("photo.jpg"), "-F", "overlay=@" + f("logo.png"), "-F", "overlay_opacity=50"}, url,
				e2eWant{status: 400, code: "invalid_option", field: "overlay_opacity", hint: []string{"give 0.5"}}},
			{"overlay not an image", []string{"-F", "image=@" + f("photo.jpg"), "-F", "overlay=@" + f("req.json")}, url,
				e2eWant{status: 415, code: "unsupported_image_format", field: "overlay", detail: []string{"the overlay image"}}},
		}
		if err := os.WriteFile(f("req.json"), []byte(`{"not": "an image"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { checkProblem(t, curl(t, tt.url, tt.args...), tt.want) })
		}
	})
}
