package imaging

import (
	"bytes"
	"encoding/binary"
)

// Orientation returns the EXIF orientation (1–8) of the encoded image in b,
// or 1 when it has none or it cannot be read. It reads only the metadata: a
// JPEG's APP1 segment, a TIFF's first IFD, a PNG eXIf or a WebP EXIF chunk.
func Orientation(f Format, b []byte) int {
	var tiff []byte
	switch f {
	case FormatJPEG:
		tiff = jpegEXIF(b)
	case FormatTIFF:
		tiff = b
	case FormatPNG:
		tiff = pngChunk(b, "eXIf")
	case FormatWebP:
		tiff = riffChunk(b, "EXIF")
		tiff = bytes.TrimPrefix(tiff, []byte("Exif\x00\x00"))
	}
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return 1
}

// jpegEXIF returns the TIFF structure inside a JPEG's Exif APP1 segment.
func jpegEXIF(b []byte) []byte {
	start, end := jpegEXIFSegment(b)
	if start < 0 {
		return nil
	}
	return b[start+10 : end]
}

// jpegEXIFSegment returns the bounds of a JPEG's Exif APP1 segment, marker
// included, or -1, -1 when there is none.
func jpegEXIFSegment(b []byte) (start, end int) {
	start, end = -1, -1
	jpegSegments(b, func(marker byte, at int, p []byte) bool {
		if marker == 0xE1 && bytes.HasPrefix(p, []byte("Exif\x00\x00")) {
			start, end = at, at+4+len(p)
			return false
		}
		return true
	})
	return start, end
}

// jpegSegments calls f with each marker segment before the first scan (where
// the metadata is): its marker, the offset of its 0xFF and its payload,
// until f returns false. It stops at anything that is not a marker segment.
func jpegSegments(b []byte, f func(marker byte, at int, payload []byte) bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return
		}
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
			i += 2
			continue
		}
		if m == 0xDA || m == 0xD9 { // start of scan, end of image
			return
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) || !f(m, i, b[i+4:i+2+n]) {
			return
		}
		i += 2 + n
	}
}

// ifd0Entry returns the byte order of a TIFF structure and the 12-byte
// entry of tag in its first IFD, or a nil entry when there is none.
func ifd0Entry(t []byte, tag uint16) (binary.ByteOrder, []byte) {
	if len(t) < 8 {
		return nil, nil
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return nil, nil
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return nil, nil
	}
	n := int64(bo.Uint16(t[off:]))
	for k := int64(0); k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			return nil, nil
		}
		if bo.Uint16(t[e:]) == tag {
			return bo, t[e : e+12]
		}
	}
	return nil, nil
}

// tiffOrientation reads tag 0x0112 from the first IFD of a TIFF structure.
func tiffOrientation(t []byte) int {
	bo, e := ifd0Entry(t, 0x0112)
	if e == nil {
		return 0
	}
	// SHORT, count 1: the value sits in the first two bytes of the value field.
	return int(bo.Uint16(e[8:]))
}

// pngChunk returns the data of the first chunk of the given type before IDAT.
func pngChunk(b []byte, typ string) []byte {
	i := 8
	for i+8 <= len(b) {
		n := int64(binary.BigEndian.Uint32(b[i:]))
		t := string(b[i+4 : i+8])
		end := int64(i) + 12 + n
		if n > int64(len(b)) || end > int64(len(b)) {
			return nil
		}
		if t == typ {
			return b[i+8 : i+8+int(n)]
		}
		if t == "IDAT" && typ != "IDAT" && typ != "eXIf" {
			return nil
		}
		i = int(end)
	}
	return nil
}

// riffChunk returns the data of the first top-level chunk of a WebP file with
// the given FourCC.
func riffChunk(b []byte, fourcc string) []byte {
	for _, c := range riffChunks(b) {
		if c.id == fourcc {
			return c.data
		}
	}
	return nil
}

type chunk struct {
	id   string
	data []byte
}

// riffChunks lists the top-level chunks of a RIFF/WEBP file.
func riffChunks(b []byte) []chunk {
	if len(b) < 12 {
		return nil
	}
	var out []chunk
	i := 12
	for i+8 <= len(b) && len(out) < 1<<16 {
		n := int64(binary.LittleEndian.Uint32(b[i+4:]))
		end := int64(i) + 8 + n
		if end > int64(len(b)) {
			end = int64(len(b))
		}
		out = append(out, chunk{id: string(b[i : i+4]), data: b[i+8 : end]})
		i = int(end + end&1) // chunks are padded to even sizes
	}
	return out
}

// keepEXIF copies the source's Exif APP1 segment into a JPEG output, with
// the orientation reset to 1 when the pixels were already turned upright.
func keepEXIF(out, src []byte, oriented bool) []byte {
	start, end := jpegEXIFSegment(src)
	if start < 0 || len(out) < 2 {
		return out
	}
	seg := bytes.Clone(src[start:end])
	if oriented {
		setTIFFOrientation(seg[10:], 1) // after FF E1, length, "Exif\0\0"
	}
	res := make([]byte, 0, len(out)+len(seg))
	res = append(res, out[:2]...)
	res = append(res, seg...)
	return append(res, out[2:]...)
}

func setTIFFOrientation(t []byte, v uint16) {
	if len(t) < 8 {
		return
	}
	le := string(t[:2]) == "II"
	u16 := func(b []byte) int {
		if le {
			return int(b[0]) | int(b[1])<<8
		}
		return int(b[0])<<8 | int(b[1])
	}
	u32 := func(b []byte) int64 {
		if le {
			return int64(b[0]) | int64(b[1])<<8 | int64(b[2])<<16 | int64(b[3])<<24
		}
		return int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
	}
	off := u32(t[4:])
	if off < 8 || off+2 > int64(len(t)) {
		return
	}
	n := int64(u16(t[off:]))
	for k := int64(0); k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			return
		}
		if u16(t[e:]) == 0x0112 {
			if le {
				t[e+8], t[e+9] = byte(v), byte(v>>8)
			} else {
				t[e+8], t[e+9] = byte(v>>8), byte(v)
			}
			return
		}
	}
}
