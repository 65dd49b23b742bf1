package imaging

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
)

// maxProfileBytes bounds an embedded ICC profile. Real ones stay under a
// few hundred kilobytes (press profiles reach two megabytes); a larger one
// is ignored with a warning.
const maxProfileBytes = 4 << 20

// embeddedProfile is where an image keeps its ICC profile, as its probe
// found it. Nothing is copied or inflated until the job runs, on a worker,
// inside the job's admitted cost.
type embeddedProfile struct {
	chunks   [][]byte // the profile's bytes, in one or more pieces (JPEG APP2)
	deflated bool     // the bytes are a zlib stream (PNG iCCP)
	broken   string   // why a profile that is there cannot be read; "" when it can
}

func (e embeddedProfile) present() bool { return len(e.chunks) > 0 || e.broken != "" }

// size is the most bytes the profile takes once assembled.
func (e embeddedProfile) size() int64 {
	if e.deflated {
		return maxProfileBytes
	}
	var n int64
	for _, c := range e.chunks {
		n += int64(len(c))
	}
	return n
}

// bytes assembles the profile.
func (e embeddedProfile) bytes() ([]byte, error) {
	if e.broken != "" {
		return nil, fmt.Errorf("%s", e.broken)
	}
	if len(e.chunks) == 1 && !e.deflated {
		return e.chunks[0], nil
	}
	b := bytes.Join(e.chunks, nil)
	if !e.deflated {
		return b, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("its zlib stream is damaged (%v)", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxProfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("its zlib stream is damaged (%v)", err)
	}
	if len(out) > maxProfileBytes {
		return nil, fmt.Errorf("it inflates to more than %d bytes", maxProfileBytes)
	}
	return out, nil
}

// nonEmpty returns b as the one chunk of a profile, or none when b is empty.
func nonEmpty(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	return [][]byte{b}
}

// jpegProfile finds the ICC profile of a JPEG: APP2 segments that start
// with "ICC_PROFILE\0", a sequence number and a count, reassembled in
// sequence order.
func jpegProfile(b []byte) embeddedProfile {
	const sig = "ICC_PROFILE\x00"
	var parts [][]byte
	var seqs []int
	count := 0
	bad := ""
	jpegSegments(b, func(marker byte, _ int, p []byte) bool {
		if marker != 0xE2 || !bytes.HasPrefix(p, []byte(sig)) {
			return true
		}
		if len(p) < len(sig)+2 {
			bad = "an ICC APP2 segment is too short"
			return true
		}
		seq, n := int(p[len(sig)]), int(p[len(sig)+1])
		switch {
		case count == 0:
			count = n
		case n != count:
			bad = fmt.Sprintf("its APP2 segments disagree on how many there are (%d and %d)", count, n)
		}
		parts, seqs = append(parts, p[len(sig)+2:]), append(seqs, seq)
		return true
	})
	if len(parts) == 0 {
		return embeddedProfile{}
	}
	if bad != "" {
		return embeddedProfile{broken: bad}
	}
	ordered := make([][]byte, count)
	for i, s := range seqs {
		if s < 1 || s > count || ordered[s-1] != nil {
			return embeddedProfile{broken: fmt.Sprintf("its APP2 segment number %d of %d is out of place or repeated", s, count)}
		}
		ordered[s-1] = parts[i]
	}
	if len(parts) != count {
		return embeddedProfile{broken: fmt.Sprintf("it is split over %d APP2 segments and only %d are in the file", count, len(parts))}
	}
	return embeddedProfile{chunks: ordered}
}

// pngProfile finds a PNG's iCCP chunk: a name, a NUL, compression method
// 0 and a zlib stream.
func pngProfile(b []byte) embeddedProfile {
	c := pngChunk(b, "iCCP")
	if c == nil {
		return embeddedProfile{}
	}
	i := bytes.IndexByte(c, 0)
	if i < 1 || i > 79 || i+2 > len(c) || c[i+1] != 0 {
		return embeddedProfile{broken: "its iCCP chunk has no valid name or compression method"}
	}
	return embeddedProfile{chunks: [][]byte{c[i+2:]}, deflated: true}
}

// webpProfile finds the ICCP chunk of an extended WebP.
func webpProfile(b []byte) embeddedProfile {
	if c := riffChunk(b, "ICCP"); c != nil {
		return embeddedProfile{chunks: [][]byte{c}}
	}
	return embeddedProfile{}
}

// tiffProfile reads tag 34675 (InterColorProfile) of a TIFF's first IFD.
func tiffProfile(t []byte) embeddedProfile {
	bo, e := ifd0Entry(t, 34675)
	if e == nil {
		return embeddedProfile{}
	}
	count, at := int64(bo.Uint32(e[4:])), int64(bo.Uint32(e[8:]))
	if count <= 4 || at+count > int64(len(t)) {
		return embeddedProfile{broken: "its InterColorProfile tag points outside the file"}
	}
	return embeddedProfile{chunks: [][]byte{t[at : at+count]}}
}

// embedICC rewrites what an encoder wrote into w with the profile
// Options carry, if any, embedded by embed.
func embedICC(w *bytes.Buffer, o Options, embed func(data, profile []byte) ([]byte, error)) error {
	if len(o.icc) == 0 {
		return nil
	}
	out, err := embed(w.Bytes(), o.icc)
	if err != nil {
		return err
	}
	w.Reset()
	_, err = w.Write(out)
	return err
}

// embedJPEGProfile inserts APP2 ICC segments after SOI and any APP0/APP1.
func embedJPEGProfile(data, profile []byte) ([]byte, error) {
	if len(data) < 4 {
		return data, fmt.Errorf("a %d-byte profile does not fit in a JPEG", len(profile))
	}
	segs, err := jpegICCSegments(profile)
	if err != nil {
		return data, err
	}
	// Insert after the APP0 (JFIF) and APP1 (Exif) segments at the front.
	at := 2
	for at+4 <= len(data) && data[at] == 0xFF && (data[at+1] == 0xE0 || data[at+1] == 0xE1) {
		at += 2 + int(binary.BigEndian.Uint16(data[at+2:]))
	}
	if at > len(data) {
		return data, fmt.Errorf("the encoded JPEG has no room for the profile")
	}
	seg := bytes.Join(segs, nil)
	out := make([]byte, 0, len(data)+len(seg))
	out = append(out, data[:at]...)
	out = append(out, seg...)
	return append(out, data[at:]...), nil
}

// jpegICCSegments splits a profile into APP2 ICC_PROFILE marker segments.
func jpegICCSegments(profile []byte) ([][]byte, error) {
	const sig = "ICC_PROFILE\x00"
	const room = 65535 - 2 - len(sig) - 2
	count := (len(profile) + room - 1) / room
	if count > 255 {
		return nil, fmt.Errorf("a %d-byte profile does not fit in a JPEG", len(profile))
	}
	segs := make([][]byte, count)
	for i := range segs {
		part := profile[i*room : min((i+1)*room, len(profile))]
		n := 2 + len(sig) + 2 + len(part)
		seg := append(make([]byte, 0, 2+n), 0xFF, 0xE2, byte(n>>8), byte(n))
		seg = append(seg, sig...)
		seg = append(seg, byte(i+1), byte(count))
		segs[i] = append(seg, part...)
	}
	return segs, nil
}

// embedPNGProfile inserts an iCCP chunk after IHDR.
func embedPNGProfile(data, profile []byte) ([]byte, error) {
	const ihdrEnd = 8 + 8 + 13 + 4
	if len(data) < ihdrEnd || string(data[12:16]) != "IHDR" {
		return data, fmt.Errorf("the encoded PNG does not start with IHDR")
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(profile)
	zw.Close()
	// The profile's name, "icc", its terminator and the compression method.
	chunk := appendPNGChunk(nil, "iCCP", append([]byte("icc\x00\x00"), z.Bytes()...))
	out := make([]byte, 0, len(data)+len(chunk))
	out = append(out, data[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, data[ihdrEnd:]...), nil
}

// embedWebPProfile adds an ICCP chunk, turning a simple WebP (VP8 or VP8L)
// into the extended format, or setting the ICC flag of a VP8X one.
func embedWebPProfile(data, profile []byte) ([]byte, error) {
	chunks := riffChunks(data)
	if len(chunks) == 0 {
		return data, fmt.Errorf("the encoded WebP has no chunks")
	}
	var vp8x []byte
	switch first := chunks[0]; first.id {
	case "VP8X":
		if len(first.data) < 10 {
			return data, fmt.Errorf("the encoded WebP's VP8X chunk is short")
		}
		vp8x = append([]byte(nil), first.data...)
		chunks = chunks[1:]
	case "VP8 ", "VP8L":
		w, h, alpha, ok := webpCanvas(first)
		if !ok {
			return data, fmt.Errorf("the encoded WebP's image chunk is malformed")
		}
		vp8x = make([]byte, 10)
		if alpha {
			vp8x[0] |= 0x10
		}
		putUint24(vp8x[4:], w-1)
		putUint24(vp8x[7:], h-1)
	default:
		return data, fmt.Errorf("the encoded WebP starts with a %q chunk", first.id)
	}
	vp8x[0] |= 0x20 // ICC profile
	var body bytes.Buffer
	body.WriteString("WEBP")
	writeRIFFChunk(&body, "VP8X", vp8x)
	writeRIFFChunk(&body, "ICCP", profile)
	for _, c := range chunks {
		if c.id != "ICCP" {
			writeRIFFChunk(&body, c.id, c.data)
		}
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(body.Len()))...)
	return append(out, body.Bytes()...), nil
}

// webpCanvas reads the size of a simple WebP's image chunk, and whether a
// lossless one has alpha.
func webpCanvas(c chunk) (w, h int, alpha, ok bool) {
	d := c.data
	switch c.id {
	case "VP8 ":
		if len(d) < 10 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a {
			return 0, 0, false, false
		}
		return int(binary.LittleEndian.Uint16(d[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(d[8:]) & 0x3fff), false, true
	case "VP8L":
		if len(d) < 5 || d[0] != 0x2f {
			return 0, 0, false, false
		}
		v := binary.LittleEndian.Uint32(d[1:])
		return int(v&0x3fff) + 1, int(v>>14&0x3fff) + 1, v>>28&1 == 1, true
	}
	return 0, 0, false, false
}

func putUint24(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }

func writeRIFFChunk(w *bytes.Buffer, id string, data []byte) {
	w.WriteString(id)
	w.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(data))))
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte(0)
	}
}
