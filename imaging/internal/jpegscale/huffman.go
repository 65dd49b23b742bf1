package jpegscale

import "encoding/binary"

// bitReader reads the entropy-coded segment of a scan. It removes byte
// stuffing (0xFF 0x00) and stops at the first marker, after which it supplies
// zero bits. pad counts those made-up bits so that a scan that consumes them
// (truncated or corrupt data) can be reported as an error.
type bitReader struct {
	data    []byte
	pos     int    // next byte of data to load
	acc     uint64 // bit buffer, left aligned; bits below the top n are zero
	n       int    // number of valid bits in acc
	pad     int    // number of zero bits appended after a marker or EOF
	stopped bool   // a marker or the end of data was reached
}

func (br *bitReader) reset(data []byte, pos int) {
	*br = bitReader{data: data, pos: pos}
}

// overrun reports whether bits beyond the end of the segment were consumed.
func (br *bitReader) overrun() bool { return br.n < br.pad }

// fill tops up the bit buffer so that it holds at least 57 bits.
func (br *bitReader) fill() {
	// Fast path: eight bytes without any 0xFF can be loaded at once.
	if !br.stopped && br.pos+8 <= len(br.data) {
		x := binary.BigEndian.Uint64(br.data[br.pos:])
		y := ^x
		if (y-0x0101010101010101)&^y&0x8080808080808080 == 0 {
			k := (64 - br.n) >> 3 // whole bytes that fit
			x &= ^uint64(0) << (64 - 8*uint(k))
			br.acc |= x >> uint(br.n)
			br.n += 8 * k
			br.pos += k
			return
		}
	}
	for br.n <= 56 {
		var b byte
		if !br.stopped {
			if br.pos < len(br.data) {
				b = br.data[br.pos]
				if b != 0xFF {
					br.pos++
				} else if br.pos+1 < len(br.data) && br.data[br.pos+1] == 0 {
					br.pos += 2
				} else {
					br.stopped = true
				}
			} else {
				br.stopped = true
			}
		}
		if br.stopped {
			b = 0
			br.pad += 8
		}
		br.acc |= uint64(b) << uint(56-br.n)
		br.n += 8
	}
}

// refill is fill for callers that keep the bit buffer in local variables.
func (br *bitReader) refill(acc uint64, n int) (uint64, int) {
	br.acc, br.n = acc, n
	br.fill()
	return br.acc, br.n
}

// slowCode decodes a code longer than lookBits from a local bit buffer
// holding at least 16 bits.
func slowCode(h *huffTable, acc uint64, n int) (int, uint64, int, error) {
	for l := lookBits + 1; l <= 16; l++ {
		code := int32(acc >> (64 - uint(l)))
		if code < h.maxCode[l] {
			return int(h.vals[(h.valPtr[l]+code)&0xFF]), acc << uint(l), n - l, nil
		}
	}
	return 0, acc, n, errBadCode
}

// bits returns the next s bits (0 <= s <= 16).
func (br *bitReader) bits(s int) int32 {
	if br.n < s {
		br.fill()
	}
	v := int32(br.acc >> (64 - uint(s)) & (1<<uint(s) - 1))
	br.acc <<= uint(s)
	br.n -= s
	return v
}

func (br *bitReader) bit() bool {
	if br.n < 1 {
		br.fill()
	}
	v := int64(br.acc) < 0
	br.acc <<= 1
	br.n--
	return v
}

// extend converts the s-bit value v to a signed coefficient (section F.2.2.1).
func extend(v int32, s int) int32 {
	if s == 0 {
		return 0
	}
	if v < 1<<uint(s-1) {
		return v - 1<<uint(s) + 1
	}
	return v
}

const lookBits = 9

// huffTable is a decoding table for one Huffman table.
type huffTable struct {
	defined bool
	// lut maps the next lookBits bits to codeLength<<8 | value; 0 means the
	// code is longer than lookBits.
	lut [1 << lookBits]uint16
	// fastAC maps the next lookBits bits, for AC tables, to the decoded
	// coefficient value<<16 | run<<8 | total bits (code + extra bits) when
	// both the code and its extra bits fit in lookBits; 0 otherwise.
	fastAC  [1 << lookBits]int32
	maxCode [17]int32 // maxCode[l]: one past the largest code of length l
	valPtr  [17]int32 // index into vals of the first code of length l, minus that code
	vals    [256]byte
}

// build constructs the table from the counts per code length and the values.
func (h *huffTable) build(counts *[16]byte, vals []byte) error {
	*h = huffTable{defined: true}
	copy(h.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		c := int32(counts[l-1])
		h.valPtr[l] = k - code
		for i := int32(0); i < c; i++ {
			if code >= 1<<uint(l) {
				return errBadTable
			}
			if l <= lookBits {
				// Fill all entries whose top l bits equal code.
				shift := uint(lookBits - l)
				base := code << shift
				e := uint16(l)<<8 | uint16(vals[k+i])
				for j := int32(0); j < 1<<shift; j++ {
					h.lut[base+j] = e
				}
			}
			code++
		}
		k += c
		h.maxCode[l] = code
		code <<= 1
	}
	// Build the fast AC table.
	for p := range h.lut {
		e := h.lut[p]
		if e == 0 {
			continue
		}
		l := int(e >> 8)
		rs := int(e & 0xFF)
		r, s := rs>>4, rs&15
		if s == 0 || l+s > lookBits {
			continue
		}
		extra := int32(p>>uint(lookBits-l-s)) & (1<<uint(s) - 1)
		v := extend(extra, s)
		h.fastAC[p] = v<<16 | int32(r)<<8 | int32(l+s)
	}
	return nil
}

// decode returns the next Huffman-coded value.
func (br *bitReader) decode(h *huffTable) (int, error) {
	if br.n < 16 {
		br.fill()
	}
	if e := h.lut[br.acc>>(64-lookBits)]; e != 0 {
		l := uint(e >> 8)
		br.acc <<= l
		br.n -= int(l)
		return int(e & 0xFF), nil
	}
	return br.decodeSlow(h)
}

func (br *bitReader) decodeSlow(h *huffTable) (int, error) {
	for l := lookBits + 1; l <= 16; l++ {
		code := int32(br.acc >> (64 - uint(l)))
		if code < h.maxCode[l] {
			br.acc <<= uint(l)
			br.n -= l
			return int(h.vals[(h.valPtr[l]+code)&0xFF]), nil
		}
	}
	return 0, errBadCode
}
