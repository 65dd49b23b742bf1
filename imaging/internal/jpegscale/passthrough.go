package jpegscale

import (
	"bytes"
	"io"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegenc"
)

// passThrough writes data, a baseline Huffman-coded JPEG whose coefficients
// f come out of requantisation unchanged, with its headers rewritten and
// its entropy-coded data copied as it is: SOI, the JFIF APP0 and segments
// as jpegenc writes them, then the source's DQT, SOF0, DHT and DRI segments
// in their order, its one scan with the restart markers in it, and EOI.
// The source's APPn and COM segments are dropped, as a re-encode drops them.
//
// It reports false, having written nothing, for a file that is not that
// simple, or whose Huffman tables are the Annex K examples rather than
// ones made for the image (a re-encode with optimised tables makes such a
// file 5-10% smaller): a frame other than SOF0, 16-bit tables, more than one scan, a
// marker after the scan other than EOI (DNL, …), a table the frame's
// coefficients were not decoded with; Transcode then re-encodes. The
// entropy-coded data must have been decoded without error or warning
// (Coefficients checks it), so the copy is as sound as a re-encode.
func passThrough(w io.Writer, data []byte, f *CoefFrame, segments [][]byte) (bool, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return false, nil
	}
	var (
		quant   [4][64]uint16 // natural order
		defined [4]bool
		tq      []int // the table of each frame component
		keep    [][]byte
		scan    []byte // SOS through EOI
	)
	i := 2
	for scan == nil {
		for i < len(data) && data[i] == 0xFF && i+1 < len(data) && data[i+1] == 0xFF {
			i++ // fill bytes
		}
		if i+4 > len(data) || data[i] != 0xFF {
			return false, nil
		}
		m := data[i+1]
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 || i+2+n > len(data) {
			return false, nil
		}
		seg, body := data[i:i+2+n], data[i+4:i+2+n]
		i += 2 + n
		switch {
		case m >= 0xE0 && m <= 0xEF || m == 0xFE:
			// APPn, COM: dropped.
		case m == 0xDB: // DQT
			for len(body) > 0 {
				pq, t := body[0]>>4, int(body[0]&15)
				if pq != 0 || t > 3 || len(body) < 65 {
					return false, nil
				}
				for k := 0; k < 64; k++ {
					quant[t][zigzag[k]] = uint16(body[1+k])
				}
				defined[t] = true
				body = body[65:]
			}
			keep = append(keep, seg)
		case m == 0xC4: // DHT
			for len(body) > 0 {
				if len(body) < 17 || body[0]>>4 > 1 || body[0]&15 > 1 {
					return false, nil
				}
				total := 0
				for _, c := range body[1:17] {
					total += int(c)
				}
				if len(body) < 17+total || jpegenc.IsStandardHuffman(body[1:17], body[17:17+total]) {
					// The Annex K tables: re-encoding with tables
					// made for the image saves some 5-10%.
					return false, nil
				}
				body = body[17+total:]
			}
			keep = append(keep, seg)
		case m == 0xDD: // DRI
			keep = append(keep, seg)
		case m == 0xC0: // SOF0
			if tq != nil || len(body) < 6 || body[0] != 8 || int(body[5]) != len(f.Components) ||
				len(body) != 6+3*len(f.Components) {
				return false, nil
			}
			for c := range f.Components {
				t := int(body[6+3*c+2])
				if body[6+3*c] != f.Components[c].ID || t > 3 {
					return false, nil
				}
				tq = append(tq, t)
			}
			keep = append(keep, seg)
		case m == 0xDA: // SOS: one scan of every component, whole spectrum
			if tq == nil || len(body) < 1 || int(body[0]) != len(tq) || len(body) != 1+2*len(tq)+3 ||
				body[1+2*len(tq)] != 0 || body[2+2*len(tq)] != 63 || body[3+2*len(tq)] != 0 {
				return false, nil
			}
			end := scanEnd(data, i)
			if end < 0 {
				return false, nil
			}
			scan = data[i-2-n : end]
		default:
			return false, nil
		}
	}
	for c, t := range tq {
		if !defined[t] || quant[t] != f.Components[c].Quant {
			return false, nil
		}
	}
	n := 32
	for _, s := range segments {
		n += len(s)
	}
	for _, s := range keep {
		n += len(s)
	}
	// The headers are small; the scan is written from the source as it is.
	b, err := jpegenc.AppendStart(make([]byte, 0, n), segments)
	if err != nil {
		return false, err
	}
	for _, s := range keep {
		b = append(b, s...)
	}
	if _, err := w.Write(b); err != nil {
		return true, err
	}
	_, err = w.Write(scan)
	return true, err
}

// scanEnd finds the end of the entropy-coded data that starts at i: the
// index just past the EOI marker that must follow it, or -1 if another
// marker comes first. Stuffed zero bytes and RSTn markers are part of the
// data.
func scanEnd(data []byte, i int) int {
	for {
		j := bytes.IndexByte(data[i:], 0xFF)
		if j < 0 {
			return -1
		}
		i += j + 1
		for i < len(data) && data[i] == 0xFF {
			i++ // fill bytes before a marker
		}
		if i >= len(data) {
			return -1
		}
		switch m := data[i]; {
		case m == 0x00 || m >= 0xD0 && m <= 0xD7:
			i++
		case m == 0xD9:
			return i + 1
		default:
			return -1
		}
	}
}
