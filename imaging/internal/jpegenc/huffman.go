package jpegenc

import (
	"errors"
	"io"
	"math/bits"
)

// huffSpec is a Huffman table as DHT carries it: counts[i] codes of length
// i+1, then the symbols in order of increasing code length.
type huffSpec struct {
	counts [16]byte
	vals   []byte
}

// stdHuffman holds the example tables of JPEG Annex K.3 (luma DC, luma AC,
// chroma DC, chroma AC). Read only.
var stdHuffman = [4]huffSpec{
	// Luminance DC.
	{
		[16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
		[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
	},
	// Luminance AC.
	{
		[16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125},
		[]byte{
			0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12,
			0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
			0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
			0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
			0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16,
			0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
			0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
			0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
			0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
			0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
			0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79,
			0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
			0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
			0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
			0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
			0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
			0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
			0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
			0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
			0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		},
	},
	// Chrominance DC.
	{
		[16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
		[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
	},
	// Chrominance AC.
	{
		[16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119},
		[]byte{
			0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21,
			0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
			0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91,
			0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
			0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34,
			0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
			0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38,
			0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
			0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
			0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
			0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
			0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
			0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96,
			0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
			0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
			0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
			0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2,
			0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
			0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
			0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		},
	},
}

// huffEnc is a Huffman table ready for encoding: for each symbol its code
// shifted left by 8 with the code length in the low 8 bits (0: no code).
type huffEnc [256]uint32

// build derives the codes of a table (JPEG Annex C).
func (t *huffEnc) build(s *huffSpec) error {
	*t = huffEnc{}
	code, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for i := 0; i < int(s.counts[l-1]); i++ {
			if k >= len(s.vals) {
				return errors.New("jpegenc: Huffman table counts exceed its symbols")
			}
			t[s.vals[k]] = code<<8 | uint32(l)
			code++
			k++
		}
		if code > 1<<l {
			return errors.New("jpegenc: Huffman table is over-subscribed")
		}
		code <<= 1
	}
	return nil
}

// optimalHuffman builds a length-limited (16-bit) Huffman table for the
// symbol frequencies freq, as libjpeg's jpeg_gen_optimal_table does (JPEG
// Annex K.2): a reserved pseudo-symbol 256 keeps any code from being all
// ones, and lengths over 16 are folded back.
func optimalHuffman(freq *[257]int64) huffSpec {
	var f [257]int64
	copy(f[:], freq[:])
	f[256] = 1
	var codesize [257]int
	var others [257]int
	for i := range others {
		others[i] = -1
	}
	for {
		c1, c2 := -1, -1
		v := int64(1) << 62
		for i := 0; i <= 256; i++ {
			if f[i] != 0 && f[i] <= v {
				v, c1 = f[i], i
			}
		}
		v = int64(1) << 62
		for i := 0; i <= 256; i++ {
			if f[i] != 0 && f[i] <= v && i != c1 {
				v, c2 = f[i], i
			}
		}
		if c2 < 0 {
			break
		}
		f[c1] += f[c2]
		f[c2] = 0
		codesize[c1]++
		for others[c1] >= 0 {
			c1 = others[c1]
			codesize[c1]++
		}
		others[c1] = c2
		codesize[c2]++
		for others[c2] >= 0 {
			c2 = others[c2]
			codesize[c2]++
		}
	}
	const maxLen = 257 // the deepest a tree of 257 symbols can be
	var nbits [maxLen + 1]int
	for i := 0; i <= 256; i++ {
		if codesize[i] > 0 {
			nbits[codesize[i]]++
		}
	}
	for i := maxLen; i > 16; i-- {
		for nbits[i] > 0 {
			j := i - 2
			for nbits[j] == 0 {
				j--
			}
			nbits[i] -= 2
			nbits[i-1]++
			nbits[j+1] += 2
			nbits[j]--
		}
	}
	i := 16
	for i > 0 && nbits[i] == 0 {
		i--
	}
	nbits[i]-- // drop the reserved symbol, which has the longest code
	var s huffSpec
	for l := 1; l <= 16; l++ {
		s.counts[l-1] = byte(nbits[l])
	}
	for l := 1; l <= maxLen; l++ {
		for j := 0; j < 256; j++ {
			if codesize[j] == l {
				s.vals = append(s.vals, byte(j))
			}
		}
	}
	return s
}

// bitWriter packs Huffman codes into bytes with 0xFF stuffing, buffering
// its output.
type bitWriter struct {
	acc uint64 // the low n bits are pending
	n   uint
	buf []byte
	w   io.Writer
	err error
}

const flushAt = 64 << 10

// put appends the n low bits of v (n <= 32).
func (b *bitWriter) put(v uint64, n uint) {
	b.acc = b.acc<<n | v
	b.n += n
	if b.n >= 32 {
		b.flush32()
	}
}

func (b *bitWriter) flush32() {
	b.n -= 32
	v := uint32(b.acc >> b.n)
	// Any 0xFF byte in v is a zero byte in ^v.
	if x := ^v; (x-0x01010101)&^x&0x80808080 == 0 {
		b.buf = append(b.buf, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	} else {
		for s := 24; s >= 0; s -= 8 {
			c := byte(v >> s)
			b.buf = append(b.buf, c)
			if c == 0xFF {
				b.buf = append(b.buf, 0)
			}
		}
	}
	if len(b.buf) >= flushAt {
		b.drain()
	}
}

// drain writes out what is buffered.
func (b *bitWriter) drain() {
	if b.err == nil && len(b.buf) > 0 {
		_, b.err = b.w.Write(b.buf)
	}
	b.buf = b.buf[:0]
}

// finish pads the last byte with one bits (JPEG F.1.2.3).
func (b *bitWriter) finish() {
	if pad := (8 - b.n%8) % 8; pad > 0 {
		b.acc = b.acc<<pad | (1<<pad - 1)
		b.n += pad
	}
	for b.n >= 8 {
		b.n -= 8
		c := byte(b.acc >> b.n)
		b.buf = append(b.buf, c)
		if c == 0xFF {
			b.buf = append(b.buf, 0)
		}
	}
}

// unzig[i] is the natural-order index of the i-th coefficient in zigzag order.
var unzig = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// zigzag loads a natural-order block in zigzag order and returns the
// bitmap of its non-zero AC coefficients (bit i for zigzag position i).
func zigzag(b *[64]int16, z *[64]int16) uint64 {
	var mask uint64
	z[0] = b[0]
	for i := 1; i < 64; i++ {
		v := b[unzig[i]]
		z[i] = v
		mask |= uint64((uint16(v)|uint16(-v))>>15) << i
	}
	return mask
}

// acMask returns the bitmap of a zigzag-order block's non-zero AC
// coefficients (bit i for position i), four at a time: a lane's top bit
// is set in (v&0x7FFF + 0x7FFF) | v when v is not zero, and a multiply
// gathers the four top bits.
func acMask(z *[64]int16) uint64 {
	const low, top = 0x7FFF_7FFF_7FFF_7FFF, 0x8000_8000_8000_8000
	const gather = 1<<48 | 1<<33 | 1<<18 | 1<<3
	var mask uint64
	for i := 0; i < 64; i += 4 {
		q := (*[4]int16)(z[i : i+4])
		w := uint64(uint16(q[0])) | uint64(uint16(q[1]))<<16 | uint64(uint16(q[2]))<<32 | uint64(uint16(q[3]))<<48
		t := ((w&low + low) | w) & top
		mask |= (t >> 15 * gather >> 48) << i
	}
	return mask &^ 1
}

// magnitude returns the JPEG size category of v and its additional bits.
func magnitude(v int32) (uint, uint64) {
	s := v >> 31
	n := uint(bits.Len32(uint32((v ^ s) - s)))
	// A negative value is coded as v-1 in n bits.
	return n, uint64(uint32(v+s) & (1<<n - 1))
}

// errRange reports coefficients outside what 8-bit JPEG can code.
var errRange = errors.New("jpegenc: a coefficient is out of range for 8-bit JPEG (|AC| <= 1023, |DC difference| <= 2047)")

// encodeBlock codes one block, given in zigzag order with the bitmap of
// its non-zero AC coefficients; prev is the component's previous DC. It
// reports false if a value does not fit 8-bit JPEG.
func encodeBlock(bw *bitWriter, z *[64]int16, mask uint64, prev *int32, dc, ac *huffEnc) bool {
	ok := true
	d := int32(z[0]) - *prev
	*prev = int32(z[0])
	n, v := magnitude(d)
	if n > 11 {
		return false
	}
	c := dc[n]
	bw.put(uint64(c>>8)<<n|v, uint(c&0xff)+n)
	mask &^= 1
	k := 1
	for mask != 0 {
		i := bits.TrailingZeros64(mask)
		mask &= mask - 1
		r := i - k
		for r > 15 {
			c := ac[0xF0]
			bw.put(uint64(c>>8), uint(c&0xff))
			r -= 16
		}
		n, v := magnitude(int32(z[i]))
		if n > 10 {
			ok = false
			n, v = 10, v&(1<<10-1)
		}
		c := ac[(r<<4|int(n))&0xff]
		bw.put(uint64(c>>8)<<n|v, uint(c&0xff)+n)
		k = i + 1
	}
	if k < 64 {
		c := ac[0]
		bw.put(uint64(c>>8), uint(c&0xff))
	}
	return ok
}

// countBlock gathers the symbols encodeBlock would code.
func countBlock(z *[64]int16, mask uint64, prev *int32, dc, ac *[257]int64) bool {
	d := int32(z[0]) - *prev
	*prev = int32(z[0])
	n, _ := magnitude(d)
	if n > 11 {
		return false
	}
	dc[n]++
	mask &^= 1
	k := 1
	for mask != 0 {
		i := bits.TrailingZeros64(mask)
		mask &= mask - 1
		r := i - k
		for r > 15 {
			ac[0xF0]++
			r -= 16
		}
		n, _ := magnitude(int32(z[i]))
		if n > 10 {
			return false
		}
		ac[(r<<4|int(n))&0xff]++
		k = i + 1
	}
	if k < 64 {
		ac[0]++
	}
	return true
}

// IsStandardHuffman reports whether a DHT table (its 16 counts and its
// symbols) is one of the example tables of JPEG Annex K.3, which an
// encoder writes when it does not make tables for the image.
func IsStandardHuffman(counts, vals []byte) bool {
	for i := range stdHuffman {
		s := &stdHuffman[i]
		if string(counts) == string(s.counts[:]) && string(vals) == string(s.vals) {
			return true
		}
	}
	return false
}
