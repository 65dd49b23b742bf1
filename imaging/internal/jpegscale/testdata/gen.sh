#!/bin/sh
# Regenerates the JPEG fixtures in this directory. Needs libjpeg-turbo-progs
# (cjpeg, jpegtran, wrjpgcom) and ImageMagick (convert) for the CMYK files:
#   apt-get install -y libjpeg-turbo-progs imagemagick
#   cd imaging/internal/jpegscale/testdata && sh gen.sh
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# src W H: a deterministic photo-like ASCII PPM (gradients, a disc, a dark
# rectangle, a gentle texture and pseudo-random noise).
src() {
	awk -v w="$1" -v h="$2" 'BEGIN {
		print "P3"; print w, h; print 255
		seed = 12345
		for (y = 0; y < h; y++) for (x = 0; x < w; x++) {
			seed = (seed * 1103515245 + 12345) % 2147483648
			n = (seed / 2147483648) * 12 - 6
			r = 40 + 180 * x / w; g = 200 - 150 * y / h
			b = 128 + 40 * sin((x + 2 * y) / 11)
			dx = x - int(w / 3); dy = y - int(h / 3)
			if (dx * dx + dy * dy < (w * w + h * h) / 36) { r = 250; g = 30 }
			if (x > w / 2 && y > h / 2) { b = 10; g = g / 3 }
			printf "%d %d %d\n", c(r + n), c(g - n), c(b + n / 2)
		}
	}
	function c(v) { v = int(v + 0.5); return v < 0 ? 0 : (v > 255 ? 255 : v) }'
}

src 64 48 >"$tmp/64x48.ppm"
src 37 23 >"$tmp/37x23.ppm"
src 17 9 >"$tmp/17x9.ppm"
src 1 1 >"$tmp/1x1.ppm"
src 100 75 >"$tmp/100x75.ppm"

for s in 1x1 2x1 1x2 2x2 4x1 4x2; do
	cjpeg -quality 85 -sample "$s" "$tmp/64x48.ppm" >"seq-$s-64x48.jpg"
	cjpeg -quality 85 -sample "$s" "$tmp/37x23.ppm" >"seq-$s-37x23.jpg"
	cjpeg -quality 85 -sample "$s" -progressive "$tmp/37x23.ppm" >"prog-$s-37x23.jpg"
	cjpeg -quality 85 -sample "$s" -progressive "$tmp/100x75.ppm" >"prog-$s-100x75.jpg"
done
cjpeg -quality 90 -sample 2x2 "$tmp/17x9.ppm" >seq-2x2-17x9.jpg
cjpeg -quality 90 -sample 2x2 -progressive "$tmp/17x9.ppm" >prog-2x2-17x9.jpg
cjpeg -quality 90 -sample 2x2 -progressive "$tmp/1x1.ppm" >prog-2x2-1x1.jpg
cjpeg -quality 90 -grayscale "$tmp/37x23.ppm" >gray-37x23.jpg
cjpeg -quality 90 -grayscale -progressive "$tmp/100x75.ppm" >gray-prog-100x75.jpg
cjpeg -quality 90 -optimize "$tmp/100x75.ppm" >seq-optimized-100x75.jpg
# Quality 3 without -baseline gives 16-bit quantisation tables (SOF1).
cjpeg -quality 3 "$tmp/64x48.ppm" >seq-q3-16bit-dqt-64x48.jpg

# Restart intervals: every MCU, every 3 MCUs, every MCU row.
cjpeg -quality 85 -restart 1B "$tmp/37x23.ppm" >seq-rst1b-37x23.jpg
cjpeg -quality 85 -restart 3B -sample 2x1 "$tmp/64x48.ppm" >seq-rst3b-2x1-64x48.jpg
cjpeg -quality 85 -restart 1 -grayscale "$tmp/37x23.ppm" >gray-rst1row-37x23.jpg
cjpeg -quality 85 -restart 2B -progressive -sample 1x1 "$tmp/37x23.ppm" >prog-rst2b-1x1-37x23.jpg
cjpeg -quality 85 -restart 5B -progressive -grayscale "$tmp/37x23.ppm" >gray-prog-rst5b-37x23.jpg

# Custom scan script: DC with successive approximation, AC split into
# several spectral bands with point transforms and refinement scans.
cat >"$tmp/scans.txt" <<'SCANS'
0,1,2: 0-0, 0, 2;
0: 1-2, 0, 2;
0: 3-9, 0, 1;
2: 1-63, 0, 1;
1: 1-63, 0, 1;
0: 10-63, 0, 2;
0,1,2: 0-0, 2, 1;
0: 10-63, 2, 1;
0: 1-2, 2, 1;
0: 1-9, 1, 0;
0,1,2: 0-0, 1, 0;
1: 1-63, 1, 0;
2: 1-63, 1, 0;
0: 10-63, 1, 0;
SCANS
cjpeg -quality 90 -sample 2x2 -scans "$tmp/scans.txt" "$tmp/100x75.ppm" >prog-scans-2x2-100x75.jpg
# Non-interleaved DC scans and a spectral band straddling the 1/4 and 1/2 cut-offs.
cat >"$tmp/scans2.txt" <<'SCANS'
0: 0-0, 0, 0;
1: 0-0, 0, 0;
2: 0-0, 0, 0;
0: 1-4, 0, 0;
0: 5-30, 0, 0;
0: 31-63, 0, 0;
1: 1-63, 0, 0;
2: 1-63, 0, 0;
SCANS
cjpeg -quality 90 -sample 2x1 -scans "$tmp/scans2.txt" "$tmp/100x75.ppm" >prog-scans2-2x1-100x75.jpg

# Markers in unusual places: comments and an APP segment.
wrjpgcom -comment "fixture comment" seq-2x2-37x23.jpg >seq-com-37x23.jpg

# ImageMagick writes 4-component JPEGs as YCCK (Adobe transform 2); patching
# the transform flag to 0 gives an (inverted) Adobe CMYK file.
convert "$tmp/64x48.ppm" -colorspace CMYK -quality 90 ycck-64x48.jpg
perl -0777 -pe 's/(Adobe.{6})\x02/${1}\x00/s' ycck-64x48.jpg >cmyk-64x48.jpg
convert "$tmp/37x23.ppm" -colorspace CMYK -sampling-factor 2x2,1x1,1x1,2x2 -quality 90 ycck-2x2-37x23.jpg
perl -0777 -pe 's/(Adobe.{6})\x02/${1}\x00/s' ycck-2x2-37x23.jpg >cmyk-2x2-37x23.jpg

# Lossless transcodes: NAME.jt-*.jpg holds exactly the coefficients of
# NAME.jpg, so both must decode identically.
jpegtran -restart 2B -progressive seq-2x2-64x48.jpg >seq-2x2-64x48.jt-prog-rst2b.jpg
jpegtran -progressive seq-4x2-64x48.jpg >seq-4x2-64x48.jt-prog.jpg
jpegtran -restart 1B seq-1x2-64x48.jpg >seq-1x2-64x48.jt-rst1b.jpg
jpegtran -scans "$tmp/scans.txt" seq-optimized-100x75.jpg >seq-optimized-100x75.jt-scans.jpg
jpegtran -scans "$tmp/scans2.txt" -restart 1B seq-optimized-100x75.jpg >seq-optimized-100x75.jt-scans2-rst1b.jpg
jpegtran -progressive -restart 3B cmyk-2x2-37x23.jpg >cmyk-2x2-37x23.jt-prog-rst3b.jpg
# Arithmetic-coded transcodes (SOF9, SOF10), same coefficients again.
jpegtran -arithmetic seq-2x2-37x23.jpg >seq-2x2-37x23.jt-arith.jpg
jpegtran -arithmetic -restart 1B seq-rst1b-37x23.jpg >seq-rst1b-37x23.jt-arith.jpg
jpegtran -arithmetic -restart 1 gray-37x23.jpg >gray-37x23.jt-arith-rst1row.jpg
jpegtran -arithmetic -progressive seq-1x1-64x48.jpg >seq-1x1-64x48.jt-arith-prog.jpg
jpegtran -arithmetic prog-scans-2x2-100x75.jpg >prog-scans-2x2-100x75.jt-arith.jpg
jpegtran -arithmetic -progressive -restart 1B cmyk-2x2-37x23.jpg >cmyk-2x2-37x23.jt-arith-prog-rst1b.jpg

# Valid JPEGs this package does not decode (it must return ErrUnsupported).
cjpeg -quality 85 -rgb "$tmp/37x23.ppm" >unsupported-rgb-37x23.jpg
