package heif

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// fixture is a HEIC or AVIF file made by heif-enc or avifenc, with what
// decoding it must give.
type fixture struct {
	name   string
	path   string
	want   *image.NRGBA // the picture as shown
	tol    float64      // largest mean absolute colour difference
	format string
	alpha  bool
	depth  int
	images int
	icc    []byte
	stored image.Point // ispe size
	// alphaMayGo: libheif 1.15 ignores an alpha plane whose size differs
	// from the colour image's after the latter's irot or clap.
	alphaMayGo bool
	premul     bool
}

// makeFixtures encodes the test files into dir. It skips the test unless
// heif-enc and avifenc are installed.
func makeFixtures(t testing.TB, dir string) []fixture {
	t.Helper()
	needTool(t, "heif-enc", pkgHeifTool)
	needTool(t, "avifenc", pkgAvifTool)
	icc, err := os.ReadFile(iccFile)
	if err != nil {
		t.Skipf("no ICC profile to embed (apt-get install %s): %v", pkgICC, err)
	}

	src := pattern(96, 64, false)
	srcA := pattern(96, 64, true)
	odd := pattern(95, 63, true)
	wide := pattern(256, 128, false)
	srcPNG := writePNG(t, dir, "src.png", src, nil, false)
	srcAPNG := writePNG(t, dir, "srcA.png", srcA, nil, false)
	deepPNG := writePNG(t, dir, "deep.png", src, nil, true)
	iccPNG := writePNG(t, dir, "icc.png", src, icc, false)
	oddPNG := writePNG(t, dir, "odd.png", odd, nil, false)
	widePNG := writePNG(t, dir, "wide.png", wide, nil, false)
	red, green, blue := color.NRGBA{220, 30, 30, 255}, color.NRGBA{30, 200, 40, 255}, color.NRGBA{20, 40, 210, 255}
	multi := []string{
		writePNG(t, dir, "red.png", flat(64, 48, red), nil, false),
		writePNG(t, dir, "green.png", flat(80, 40, green), nil, false),
		writePNG(t, dir, "blue.png", flat(32, 32, blue), nil, false),
	}

	var fs []fixture
	out := func(name string) string { return filepath.Join(dir, name) }
	heic := func(name string, args []string, f fixture) {
		f.name, f.path, f.format = name, out(name+".heic"), "heic"
		run(t, "heif-enc", append([]string{"-q", "90", "-o", f.path}, args...)...)
		fs = append(fs, f)
	}
	avif := func(name string, args []string, f fixture) {
		f.name, f.path, f.format = name, out(name+".avif"), "avif"
		run(t, "avifenc", append(append([]string{"-j", "1", "-s", "8"}, args...), f.path)...)
		fs = append(fs, f)
	}
	size := func(img *image.NRGBA) image.Point { return img.Rect.Size() }

	heic("heic-alpha", []string{srcAPNG}, fixture{want: srcA, tol: 6, alpha: true, depth: 8, images: 1, stored: size(srcA)})
	heic("heic-10bit", []string{"-b", "10", deepPNG}, fixture{want: src, tol: 6, depth: 10, images: 1, stored: size(src)})
	heic("heic-icc", []string{iccPNG}, fixture{want: src, tol: 6, depth: 8, images: 1, icc: icc, stored: size(src)})
	heic("heic-odd", []string{oddPNG}, fixture{want: odd, tol: 7, alpha: true, depth: 8, images: 1, stored: size(odd)})
	// Several inputs make several top-level images; the first is primary.
	heic("heic-multi", multi, fixture{want: flat(64, 48, red), tol: 4, depth: 8, images: 3, stored: image.Pt(64, 48)})

	// A 3×2 grid of 128×64 tiles, as phones write (they use 512×512).
	const cols, rows, tw, th = 3, 2, 128, 64
	gridSrc := pattern(cols*tw, rows*th, false)
	var tiles []string
	for r := range rows {
		for c := range cols {
			tile := crop(gridSrc, image.Rect(c*tw, r*th, (c+1)*tw, (r+1)*th))
			tiles = append(tiles, writePNG(t, dir, fmt.Sprintf("tile%d%d.png", r, c), tile, nil, false))
		}
	}
	heic("heic-tiles", tiles, fixture{})
	tilesFile := fs[len(fs)-1].path
	fs = fs[:len(fs)-1]
	gridFile := out("heic-grid.heic")
	if err := os.WriteFile(gridFile, heicGrid(t, readFile(t, tilesFile), cols, rows, cols*tw, rows*th), 0o644); err != nil {
		t.Fatal(err)
	}
	fs = append(fs, fixture{name: "heic-grid", path: gridFile, format: "heic", want: gridSrc, tol: 6, depth: 8, images: 1, stored: size(gridSrc)})

	avif("avif-lossless-alpha", []string{"-l", srcAPNG}, fixture{want: srcA, depth: 8, alpha: true, images: 1, stored: size(srcA)})
	for k := 1; k <= 3; k++ {
		want := src
		for range k {
			want = rotateCCW(want)
		}
		avif(fmt.Sprintf("avif-irot%d", k), []string{"-l", "--irot", fmt.Sprint(k), srcPNG},
			fixture{want: want, depth: 8, images: 1, stored: size(src)})
	}
	for m := range 2 {
		avif(fmt.Sprintf("avif-imir%d", m), []string{"-l", "--imir", fmt.Sprint(m), srcPNG},
			fixture{want: mirror(src, m), depth: 8, images: 1, stored: size(src)})
	}
	// irot comes before imir in the file, and is applied first.
	avif("avif-irot1-imir1", []string{"-l", "--irot", "1", "--imir", "1", srcPNG},
		fixture{want: mirror(rotateCCW(src), 1), depth: 8, images: 1, stored: size(src)})
	avif("avif-clap", []string{"-l", "--crop", "8,4,64,48", srcPNG},
		fixture{want: crop(src, image.Rect(8, 4, 72, 52)), depth: 8, images: 1, stored: size(src)})
	// libavif 0.11 leaves the alpha item untransformed, so after a
	// quarter turn its size differs from the colour image's.
	avif("avif-irot1-alpha", []string{"-l", "--irot", "1", srcAPNG},
		fixture{want: rotateCCW(srcA), depth: 8, alpha: true, images: 1, stored: size(srcA), alphaMayGo: true})
	avif("avif-10bit", []string{"-d", "10", "--min", "0", "--max", "8", srcPNG},
		fixture{want: src, tol: 3, depth: 10, images: 1, stored: size(src)})
	avif("avif-12bit", []string{"-d", "12", "--min", "0", "--max", "8", srcAPNG},
		fixture{want: srcA, tol: 3, alpha: true, depth: 12, images: 1, stored: size(srcA)})
	avif("avif-icc", []string{"-l", "--icc", iccFile, srcPNG},
		fixture{want: src, depth: 8, images: 1, icc: icc, stored: size(src)})
	avif("avif-premultiplied", []string{"-l", "-p", srcAPNG},
		fixture{want: srcA, tol: 2, alpha: true, premul: true, depth: 8, images: 1, stored: size(srcA)})
	avif("avif-420", []string{"-y", "420", "--min", "0", "--max", "10", srcAPNG},
		fixture{want: srcA, tol: 6, alpha: true, depth: 8, images: 1, stored: size(srcA)})
	// A 2×2 grid of 128×64 tiles, as phones write (they use 512×512).
	avif("avif-grid", []string{"-l", "-g", "2x2", widePNG},
		fixture{want: wide, depth: 8, images: 1, stored: size(wide)})
	return fs
}
