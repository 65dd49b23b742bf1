package imaging

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"

	"github.com/gen2brain/webp"
)

// webpFramesCost is what decoding an animated WebP holds: libwebp's
// animation decoder composites every frame and the binding returns them
// all at once, as Go RGBA images, with libwebp's canvases and frame buffers
// (native) and the binding's copy of the input on top. With the system's
// libwebp the process's peak RSS grew by 52.3 MB decoding 24 smooth
// 800×600 frames (46.1 MB of them: 12.5 bytes a pixel of native buffers)
// and by 27.7 MB for 24 noisy 400×300 frames from a 7.2 MB input, with the
// collector off. On libwebp's WebAssembly build all of it sits in the
// module's linear memory, which is Go heap: it grows by reallocation (old
// and new copies live at once) and the binding allocates a Go image per
// frame that it drops for a view of that memory. The peak heap measured
// 2.4–2.8 times the frames' bytes for smooth frames (a tiny input), and
// 52–66 MB for 11.5 MB of noisy frames from a 7.2 MB input, whose Huffman
// tables grow with the input.
func webpFramesCost(in Info) int64 {
	px, frames := in.Pixels(), int64(max(in.Frames, 1))*in.Pixels()*4
	if webp.Dynamic() != nil {
		return 3*(frames+px*8) + 6*int64(in.Bytes) + decoderFixed
	}
	return frames + px*16 + 2*int64(in.Bytes) + decoderFixed
}

// decodeWebPFrames decodes an animated WebP with libwebp, whose animation
// decoder composites the frames (blending and disposal) onto the canvas.
// WebP gives delays in milliseconds and plays an animation loop times (0:
// forever); they are turned into GIF's hundredths and loop count.
func decodeWebPFrames(b []byte, in Info) (frameSource, error) {
	a, err := webp.DecodeAll(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	loop := 0
	if anim := riffChunk(b, "ANIM"); len(anim) >= 6 {
		if n := int(binary.LittleEndian.Uint16(anim[4:])); n > 0 {
			loop = n - 1
			if n == 1 {
				loop = -1
			}
		}
	}
	return &webpSource{a: a, loop: loop}, nil
}

type webpSource struct {
	a    *webp.WEBP
	loop int
	next int
}

func (s *webpSource) Len() int  { return len(s.a.Image) }
func (s *webpSource) Loop() int { return s.loop }

func (s *webpSource) Next() (image.Image, int, error) {
	i := s.next
	if i >= len(s.a.Image) {
		return nil, 0, fmt.Errorf("no frame %d", i)
	}
	img := s.a.Image[i]
	s.a.Image[i] = nil // handed on: its pixels may go once transformed
	s.next++
	delay := 0
	if i < len(s.a.Delay) {
		delay = (s.a.Delay[i] + 5) / 10
	}
	return img, delay, nil
}
