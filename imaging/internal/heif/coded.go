package heif

import (
	"encoding/binary"
	"errors"
	"math"
)

// libheif 1.15 sizes an image by its ispe property, but its decoders size
// their frames by the coded stream, which nobody checks against ispe: a
// 1 KB AVIF that says 64×64 can hold an 8000×8000 frame, and decoding it
// allocates 800 MiB. codedPixels reads the frame sizes the decoders will
// allocate, before they run.

// errCoded reports a box or coded header too short or malformed to read.
var errCoded = errors.New("malformed box or coded header")

// codedPixels returns the largest pixel count of the frames and canvases
// that the coded items of an ISOBMFF file (HEIF or AVIF) declare: the
// picture size of every HEVC SPS in an hvcC box or in the data of an hvc1
// item, the maximum frame size of every AV1 sequence header in an av1C box
// or in the data of an av01 item, and the output size of every grid and
// overlay item. It looks at every item, not only the primary image's, so
// it may exceed what decoding the primary image needs. Zero means it found
// no coded item.
func codedPixels(data []byte) (int, error) {
	meta, ok := findBox(data, "meta", 0)
	if !ok {
		return 0, errCoded
	}
	if len(meta) < 4 {
		return 0, errCoded
	}
	meta = meta[4:] // version and flags
	var (
		best  int
		types = map[uint32]string{} // item ID → item type
		idat  []byte
		items []ilocItem
	)
	note := func(w, h uint64) {
		px := uint64(math.MaxInt32)
		if w == 0 || h <= px/w {
			px = min(w*h, px)
		}
		best = max(best, int(px))
	}
	err := eachBox(meta, func(typ string, body []byte) error {
		var err error
		switch typ {
		case "iinf":
			err = parseIinf(body, types)
		case "iloc":
			items, err = parseIloc(body)
		case "idat":
			idat = body
		case "iprp":
			ipco, ok := findBox(body, "ipco", 0)
			if !ok {
				return nil
			}
			err = eachBox(ipco, func(typ string, body []byte) error {
				switch typ {
				case "hvcC":
					return hvcCSizes(body, note)
				case "av1C":
					if len(body) < 4 {
						return errCoded
					}
					return av1Sizes(body[4:], note)
				}
				return nil
			})
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		typ := types[it.id]
		switch typ {
		case "hvc1", "av01", "grid", "iovl":
		default:
			continue
		}
		b, err := it.data(data, idat)
		if err != nil {
			return 0, err
		}
		switch typ {
		case "hvc1":
			err = hevcSizes(b, note)
		case "av01":
			err = av1Sizes(b, note)
		case "grid":
			// version, flags, rows-1, columns-1, then the output size.
			if len(b) < 4 {
				return 0, errCoded
			}
			err = derivedSize(b[1], b[4:], note)
		case "iovl":
			// version, flags, four 16-bit fill values, then the size.
			if len(b) < 10 {
				return 0, errCoded
			}
			err = derivedSize(b[1], b[10:], note)
		}
		if err != nil {
			return 0, err
		}
	}
	return best, nil
}

// derivedSize reads the output width and height of a grid or overlay: 16-bit
// fields, or 32-bit ones when bit 0 of flags is set.
func derivedSize(flags byte, b []byte, note func(w, h uint64)) error {
	if flags&1 == 0 {
		if len(b) < 4 {
			return errCoded
		}
		note(uint64(binary.BigEndian.Uint16(b)), uint64(binary.BigEndian.Uint16(b[2:])))
		return nil
	}
	if len(b) < 8 {
		return errCoded
	}
	note(uint64(binary.BigEndian.Uint32(b)), uint64(binary.BigEndian.Uint32(b[4:])))
	return nil
}

// eachBox calls fn with the type and body of each box in b.
func eachBox(b []byte, fn func(typ string, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return errCoded
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return errCoded
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return errCoded
		}
		if err := fn(typ, b[hdr:size]); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}

// findBox returns the body of the first box of type typ in b; skip is the
// number of bytes of b before its boxes.
func findBox(b []byte, typ string, skip int) (body []byte, ok bool) {
	if len(b) < skip {
		return nil, false
	}
	found := errors.New("found")
	err := eachBox(b[skip:], func(t string, bb []byte) error {
		if t == typ {
			body = bb
			return found
		}
		return nil
	})
	return body, err == found
}

// parseIinf records the type of each item of an iinf box.
func parseIinf(b []byte, types map[uint32]string) error {
	if len(b) < 4 {
		return errCoded
	}
	n := 2
	if b[0] != 0 {
		n = 4
	}
	if len(b) < 4+n {
		return errCoded
	}
	return eachBox(b[4+n:], func(typ string, e []byte) error {
		if typ != "infe" || len(e) < 4 || e[0] < 2 {
			return nil // versions 0 and 1 carry no item type
		}
		var id uint32
		var rest []byte
		if e[0] == 2 {
			if len(e) < 4+2+2+4 {
				return errCoded
			}
			id, rest = uint32(binary.BigEndian.Uint16(e[4:])), e[8:]
		} else {
			if len(e) < 4+4+2+4 {
				return errCoded
			}
			id, rest = binary.BigEndian.Uint32(e[4:]), e[10:]
		}
		types[id] = string(rest[:4])
		return nil
	})
}

// ilocItem is where an item's data lies.
type ilocItem struct {
	id      uint32
	method  int // 0: in the file, 1: in idat
	base    uint64
	extents [][2]uint64 // offset, length
}

// data returns the item's bytes, copied only when it has several extents.
func (it ilocItem) data(file, idat []byte) ([]byte, error) {
	src := file
	switch it.method {
	case 0:
	case 1:
		src = idat
	default:
		return nil, nil // libheif 1.15 refuses other methods itself
	}
	var out []byte
	for i, e := range it.extents {
		off, n := it.base+e[0], e[1]
		if n == 0 {
			n = uint64(len(src)) - min(off, uint64(len(src))) // to the end
		}
		if off > uint64(len(src)) || n > uint64(len(src))-off {
			return nil, errCoded
		}
		if len(it.extents) == 1 {
			return src[off : off+n], nil
		}
		if i == 0 {
			out = make([]byte, 0, n)
		}
		out = append(out, src[off:off+n]...)
	}
	return out, nil
}

// parseIloc reads an iloc box, versions 0 to 2.
func parseIloc(b []byte) ([]ilocItem, error) {
	r := reader{b: b}
	version := r.u(8)
	r.u(24) // flags
	offSize, lenSize := int(r.u(4)), int(r.u(4))
	baseSize, idxSize := int(r.u(4)), int(r.u(4))
	if version == 0 {
		idxSize = 0
	}
	count := r.u(16)
	if version == 2 {
		count = r.u(32)
	}
	var items []ilocItem
	for range count {
		if r.err != nil {
			break
		}
		var it ilocItem
		if version < 2 {
			it.id = uint32(r.u(16))
		} else {
			it.id = uint32(r.u(32))
		}
		if version > 0 {
			it.method = int(r.u(16) & 0xF)
		}
		r.u(16) // data reference index
		it.base = r.u(8 * baseSize)
		n := r.u(16)
		for range n {
			if r.err != nil {
				break
			}
			r.u(8 * idxSize)
			off := r.u(8 * offSize)
			it.extents = append(it.extents, [2]uint64{off, r.u(8 * lenSize)})
		}
		items = append(items, it)
	}
	return items, r.err
}

// hvcCSizes reads the SPS NAL units of an hvcC box.
func hvcCSizes(b []byte, note func(w, h uint64)) error {
	if len(b) < 23 {
		return errCoded
	}
	arrays := int(b[22])
	b = b[23:]
	for range arrays {
		if len(b) < 3 {
			return errCoded
		}
		nalType, n := b[0]&0x3F, int(binary.BigEndian.Uint16(b[1:]))
		b = b[3:]
		for range n {
			if len(b) < 2 {
				return errCoded
			}
			size := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+size {
				return errCoded
			}
			if nalType == 33 {
				if err := spsSize(b[2:2+size], note); err != nil {
					return err
				}
			}
			b = b[2+size:]
		}
	}
	return nil
}

// hevcSizes reads the SPS NAL units in the data of an hvc1 item: NAL units
// each after a 4-byte length, as libheif 1.15 and the encoders write them.
func hevcSizes(b []byte, note func(w, h uint64)) error {
	for len(b) >= 4 {
		n := uint64(binary.BigEndian.Uint32(b))
		if n > uint64(len(b)-4) {
			return nil // libheif hands the rest to the decoder as it is
		}
		nal := b[4 : 4+n]
		if len(nal) >= 2 && nal[0]>>1&0x3F == 33 {
			if err := spsSize(nal, note); err != nil {
				return err
			}
		}
		b = b[4+n:]
	}
	return nil
}

// spsSize reads pic_width_in_luma_samples and pic_height_in_luma_samples
// from an HEVC SPS NAL unit (ITU-T H.265 7.3.2.2).
func spsSize(nal []byte, note func(w, h uint64)) error {
	if len(nal) < 3 {
		return errCoded
	}
	// Drop the emulation prevention bytes (00 00 03) of the first bytes.
	rbsp := make([]byte, 0, min(len(nal), 128))
	zeros := 0
	for _, c := range nal[2:min(len(nal), 130)] {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		rbsp = append(rbsp, c)
	}
	r := reader{b: rbsp}
	r.u(4) // sps_video_parameter_set_id
	subLayers := int(r.u(3))
	r.u(1)  // temporal id nesting
	r.u(88) // general profile
	r.u(8)  // general_level_idc
	profile := make([]bool, subLayers)
	level := make([]bool, subLayers)
	for i := range subLayers {
		profile[i], level[i] = r.u(1) == 1, r.u(1) == 1
	}
	if subLayers > 0 {
		r.u(2 * (8 - subLayers))
	}
	for i := range subLayers {
		if profile[i] {
			r.u(88)
		}
		if level[i] {
			r.u(8)
		}
	}
	r.ue() // sps_seq_parameter_set_id
	if r.ue() == 3 {
		r.u(1) // separate_colour_plane_flag
	}
	w, h := r.ue(), r.ue()
	if r.err != nil {
		return r.err
	}
	note(w, h)
	return nil
}

// av1Sizes reads the sequence header OBUs of a run of AV1 OBUs (AV1 5.3 and
// 5.5).
func av1Sizes(b []byte, note func(w, h uint64)) error {
	for len(b) > 0 {
		hdr := b[0]
		typ, ext, hasSize := hdr>>3&0xF, hdr>>2&1, hdr>>1&1
		n := 1 + int(ext)
		if len(b) < n {
			return errCoded
		}
		size := uint64(len(b) - n)
		if hasSize == 1 {
			v, m := leb128(b[n:])
			if m == 0 {
				return errCoded
			}
			n += m
			size = v
		}
		if size > uint64(len(b)-n) {
			return nil // the decoder will refuse it
		}
		if typ == 1 { // OBU_SEQUENCE_HEADER
			if err := seqHeaderSize(b[n:n+int(size)], note); err != nil {
				return err
			}
		}
		b = b[n+int(size):]
	}
	return nil
}

// seqHeaderSize reads max_frame_width_minus_1 and max_frame_height_minus_1
// from an AV1 sequence header (AV1 5.5.1).
func seqHeaderSize(b []byte, note func(w, h uint64)) error {
	r := reader{b: b}
	r.u(3) // seq_profile
	r.u(1) // still_picture
	if r.u(1) == 1 {
		r.u(5) // seq_level_idx[0] of a reduced still picture header
	} else {
		decoderModel, bufferDelayLen := false, 0
		if r.u(1) == 1 { // timing_info_present_flag
			r.u(64) // num_units_in_display_tick, time_scale
			if r.u(1) == 1 {
				r.uvlc() // num_ticks_per_picture_minus_1
			}
			if r.u(1) == 1 { // decoder_model_info_present_flag
				decoderModel = true
				bufferDelayLen = int(r.u(5)) + 1
				r.u(32 + 5 + 5)
			}
		}
		displayDelay := r.u(1) == 1
		ops := int(r.u(5)) + 1
		for range ops {
			r.u(12) // operating_point_idc
			if r.u(5) > 7 {
				r.u(1) // seq_tier
			}
			if decoderModel && r.u(1) == 1 {
				r.u(2*bufferDelayLen + 1)
			}
			if displayDelay && r.u(1) == 1 {
				r.u(4)
			}
		}
	}
	wBits, hBits := int(r.u(4))+1, int(r.u(4))+1
	w, h := r.u(wBits)+1, r.u(hBits)+1
	if r.err != nil {
		return r.err
	}
	note(w, h)
	return nil
}

// leb128 decodes an unsigned LEB128 number of at most 8 bytes, returning
// it and its length (0 if malformed).
func leb128(b []byte) (uint64, int) {
	var v uint64
	for i := range min(len(b), 8) {
		v |= uint64(b[i]&0x7F) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// reader reads big-endian bit fields; past the end it sets err and returns
// zeros.
type reader struct {
	b   []byte
	pos int // in bits
	err error
}

// u reads an n-bit unsigned number; n may exceed 64, keeping the low bits.
func (r *reader) u(n int) uint64 {
	var v uint64
	for range n {
		if r.pos >= 8*len(r.b) {
			r.err = errCoded
			return 0
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// ue reads an Exp-Golomb number (H.265 9.2).
func (r *reader) ue() uint64 {
	zeros := 0
	for r.u(1) == 0 {
		if r.err != nil || zeros == 32 {
			r.err = errCoded
			return 0
		}
		zeros++
	}
	return 1<<zeros - 1 + r.u(zeros)
}

// uvlc reads an AV1 variable-length number (AV1 4.10.3).
func (r *reader) uvlc() uint64 {
	zeros := 0
	for r.u(1) == 0 {
		if r.err != nil {
			return 0
		}
		zeros++
	}
	if zeros >= 32 {
		return math.MaxUint32
	}
	return 1<<zeros - 1 + r.u(zeros)
}
