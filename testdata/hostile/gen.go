//go:build ignore

// gen writes the small, valid seed images of every format the service reads
// into seeds/. The fuzz targets and the hostile-input suite start from them.
// Run it from this directory: go run gen.go
package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func gradient(w, h int, alpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if alpha {
				a = uint8(x * 255 / w)
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, a})
		}
	}
	return img
}

// withOrientation inserts an Exif APP1 segment holding orientation o after the SOI.
func withOrientation(jpg []byte, o uint16) []byte {
	var t bytes.Buffer
	t.WriteString("MM\x00*")
	binary.Write(&t, binary.BigEndian, uint32(8))
	binary.Write(&t, binary.BigEndian, uint16(1))
	binary.Write(&t, binary.BigEndian, uint16(0x0112))
	binary.Write(&t, binary.BigEndian, uint16(3))
	binary.Write(&t, binary.BigEndian, uint32(1))
	binary.Write(&t, binary.BigEndian, [2]uint16{o, 0})
	binary.Write(&t, binary.BigEndian, uint32(0))
	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	files := map[string][]byte{}
	enc := func(name string, f func(*bytes.Buffer) error) {
		var b bytes.Buffer
		must(f(&b))
		files[name] = b.Bytes()
	}
	img := gradient(16, 12, false)
	enc("rgb-16x12.png", func(b *bytes.Buffer) error { return png.Encode(b, img) })
	enc("alpha-16x12.png", func(b *bytes.Buffer) error { return png.Encode(b, gradient(16, 12, true)) })
	gray := image.NewGray(image.Rect(0, 0, 9, 7))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 3)
	}
	enc("gray-9x7.png", func(b *bytes.Buffer) error { return png.Encode(b, gray) })
	enc("rgb-16x12.jpg", func(b *bytes.Buffer) error { return jpeg.Encode(b, img, &jpeg.Options{Quality: 80}) })
	enc("gray-9x7.jpg", func(b *bytes.Buffer) error { return jpeg.Encode(b, gray, &jpeg.Options{Quality: 80}) })
	files["exif6-16x12.jpg"] = withOrientation(files["rgb-16x12.jpg"], 6)
	enc("rgb-16x12.gif", func(b *bytes.Buffer) error { return gif.Encode(b, img, &gif.Options{NumColors: 16}) })
	pal := color.Palette{color.Black, color.White, color.NRGBA{255, 0, 0, 255}}
	anim := &gif.GIF{}
	for i := range 3 {
		fr := image.NewPaletted(image.Rect(0, 0, 6, 4), pal)
		for p := range fr.Pix {
			fr.Pix[p] = uint8((p + i) % 3)
		}
		anim.Image = append(anim.Image, fr)
		anim.Delay = append(anim.Delay, 5)
	}
	enc("anim-3x6x4.gif", func(b *bytes.Buffer) error { return gif.EncodeAll(b, anim) })
	enc("rgb-16x12.bmp", func(b *bytes.Buffer) error { return bmp.Encode(b, img) })
	enc("rgb-16x12.tiff", func(b *bytes.Buffer) error {
		return tiff.Encode(b, img, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
	})
	enc("raw-9x7.tiff", func(b *bytes.Buffer) error { return tiff.Encode(b, gray, nil) })
	for name, b := range files {
		must(os.WriteFile(filepath.Join("seeds", name), b, 0o644))
	}
}
