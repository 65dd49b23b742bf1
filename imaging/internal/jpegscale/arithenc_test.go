package jpegscale

import (
	"bytes"
	"fmt"
	"testing"
)

// A minimal arithmetic encoder (ITU T.81 D.1 and F.1.4, sequential only),
// to make files with DAC conditioning other than the defaults libjpeg's
// tools always write.

type arithEncoder struct {
	out    []byte
	c      uint32
	a      uint32
	ct     int
	buffer int // pending output byte, -1 for none
	sc, zc int // stacked 0xFF bytes and pending zero bytes
}

func newArithEncoder() *arithEncoder {
	return &arithEncoder{a: 0x10000, ct: 11, buffer: -1}
}

func (e *arithEncoder) emit(b int) {
	e.out = append(e.out, byte(b))
	if b == 0xFF {
		e.out = append(e.out, 0)
	}
}

func (e *arithEncoder) zeros() {
	for ; e.zc > 0; e.zc-- {
		e.out = append(e.out, 0)
	}
}

// carry propagates an overflow into the pending byte.
func (e *arithEncoder) carry() {
	if e.buffer >= 0 {
		e.zeros()
		e.emit(e.buffer + 1)
	}
	e.zc += e.sc
	e.sc = 0
}

// settle outputs the pending byte and the stacked 0xFF bytes.
func (e *arithEncoder) settle() {
	if e.buffer == 0 {
		e.zc++
	} else if e.buffer >= 0 {
		e.zeros()
		e.emit(e.buffer)
	}
	if e.sc > 0 {
		e.zeros()
		for ; e.sc > 0; e.sc-- {
			e.emit(0xFF)
		}
	}
}

func (e *arithEncoder) encode(st *byte, val int) {
	sv := *st
	t := qeTable[sv&0x7F]
	qe := t >> 16
	e.a -= qe
	if val != int(sv>>7) {
		if e.a >= qe {
			e.c += e.a
			e.a = qe
		}
		*st = sv&0x80 ^ byte(t)
	} else {
		if e.a >= 0x8000 {
			return
		}
		if e.a < qe {
			e.c += e.a
			e.a = qe
		}
		*st = sv&0x80 ^ byte(t>>8)
	}
	for e.a < 0x8000 {
		e.a <<= 1
		e.c <<= 1
		if e.ct--; e.ct == 0 {
			switch temp := int(e.c >> 19); {
			case temp > 0xFF:
				e.carry()
				e.buffer = temp & 0xFF
			case temp == 0xFF:
				e.sc++
			default:
				e.settle()
				e.buffer = temp
			}
			e.c &= 0x7FFFF
			e.ct += 8
		}
	}
}

func (e *arithEncoder) finish() []byte {
	if temp := (e.a - 1 + e.c) & 0xFFFF0000; temp < e.c {
		e.c = temp + 0x8000
	} else {
		e.c = temp
	}
	e.c <<= uint(e.ct)
	if e.c&0xF8000000 != 0 {
		e.carry()
	} else {
		e.settle()
	}
	if e.c&0x7FFF800 != 0 {
		e.zeros()
		e.emit(int(e.c>>19) & 0xFF)
		if e.c&0x7F800 != 0 {
			e.emit(int(e.c>>11) & 0xFF)
		}
	}
	return e.out
}

// seqEncoder codes blocks of zig-zag coefficients with the sequential model.
type seqEncoder struct {
	e     *arithEncoder
	dc    [4][dcStatBins]byte
	ac    [4][acStatBins]byte
	fixed byte
	l, u  [4]int
	k     [4]int
	dcCtx [4]int
	pred  [4]int
}

func (s *seqEncoder) block(ci, td, ta int, b []int16) {
	e := s.e
	// DC (F.1.4.1).
	st := &s.dc[td]
	i := s.dcCtx[ci]
	v := int(b[0]) - s.pred[ci]
	s.pred[ci] = int(b[0])
	if v == 0 {
		e.encode(&st[i], 0)
		s.dcCtx[ci] = 0
	} else {
		e.encode(&st[i], 1)
		sign := 0
		if v < 0 {
			v, sign = -v, 1
		}
		e.encode(&st[i+1], sign)
		i += 2 + sign
		m := 0
		if v--; v != 0 {
			e.encode(&st[i], 1)
			m = 1
			i = 20
			for v2 := v >> 1; v2 != 0; v2 >>= 1 {
				e.encode(&st[i], 1)
				m <<= 1
				i++
			}
		}
		e.encode(&st[i], 0)
		switch {
		case m < (1<<s.l[td])>>1:
			s.dcCtx[ci] = 0
		case m > (1<<s.u[td])>>1:
			s.dcCtx[ci] = 12 + 4*sign
		default:
			s.dcCtx[ci] = 4 + 4*sign
		}
		for i += 14; m > 1; {
			m >>= 1
			e.encode(&st[i], btoi(v&m != 0))
		}
	}
	// AC (F.1.4.2).
	ac := &s.ac[ta]
	ke := 0
	for k := 63; k > 0; k-- {
		if b[k] != 0 {
			ke = k
			break
		}
	}
	k := 1
	for ; k <= ke; k++ {
		i := 3 * (k - 1)
		e.encode(&ac[i], 0)
		for b[k] == 0 {
			e.encode(&ac[i+1], 0)
			i += 3
			k++
		}
		e.encode(&ac[i+1], 1)
		v := int(b[k])
		if v > 0 {
			e.encode(&s.fixed, 0)
		} else {
			v = -v
			e.encode(&s.fixed, 1)
		}
		i += 2
		m := 0
		if v--; v != 0 {
			e.encode(&ac[i], 1)
			m = 1
			if v2 := v >> 1; v2 != 0 {
				e.encode(&ac[i], 1)
				m <<= 1
				i = 217
				if k <= s.k[ta] {
					i = 189
				}
				for v2 >>= 1; v2 != 0; v2 >>= 1 {
					e.encode(&ac[i], 1)
					m <<= 1
					i++
				}
			}
		}
		e.encode(&ac[i], 0)
		for i += 14; m > 1; {
			m >>= 1
			e.encode(&ac[i], btoi(v&m != 0))
		}
	}
	if k <= 63 {
		e.encode(&ac[3*(k-1)], 1) // EOB
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// recodeArith re-codes a progressive JPEG as a sequential arithmetic-coded
// one with the given DAC conditioning (dcLU[t] = U<<4 | L, acK[t]), one
// interleaved scan, component i using tables min(i, 1).
func recodeArith(t testing.TB, prog []byte, dcLU, acK [2]byte) []byte {
	t.Helper()
	d := &decoder{data: prog, denom: 1, bs: 8}
	if _, err := d.decode(); err != nil || !d.progressive || d.arith {
		t.Fatalf("source: %v (progressive %v, arithmetic %v)", err, d.progressive, d.arith)
	}
	var out bytes.Buffer
	out.Write([]byte{0xFF, soi})
	// Copy DQT and the frame header (as SOF9) from the source.
	for p := 2; p+4 <= len(prog) && prog[p] == 0xFF; {
		m := prog[p+1]
		n := int(prog[p+2])<<8 | int(prog[p+3])
		if m == sos {
			break
		}
		switch m {
		case dqt:
			out.Write(prog[p : p+2+n])
		case sof2:
			out.Write([]byte{0xFF, sof9})
			out.Write(prog[p+2 : p+2+n])
		}
		p += 2 + n
	}
	out.Write([]byte{0xFF, dac, 0, 10, 0x00, dcLU[0], 0x01, dcLU[1], 0x10, acK[0], 0x11, acK[1]})
	sosSeg := []byte{0xFF, sos, 0, byte(6 + 2*d.nComp), byte(d.nComp)}
	for i := 0; i < d.nComp; i++ {
		tb := byte(min(i, 1))
		sosSeg = append(sosSeg, d.comp[i].id, tb<<4|tb)
	}
	out.Write(append(sosSeg, 0, 63, 0))

	s := &seqEncoder{e: newArithEncoder(), fixed: fixedState}
	for tb := range 2 {
		s.l[tb], s.u[tb], s.k[tb] = int(dcLU[tb]&15), int(dcLU[tb]>>4), int(acK[tb])
	}
	for my := 0; my < d.myy; my++ {
		for mx := 0; mx < d.mxx; mx++ {
			for i := 0; i < d.nComp; i++ {
				c := &d.comp[i]
				tb := min(i, 1)
				for y := 0; y < c.v; y++ {
					for x := 0; x < c.h; x++ {
						bx, by := mx*c.h+x, my*c.v+y
						s.block(i, tb, tb, c.coef[(by*c.bw+bx)*64:][:64])
					}
				}
			}
		}
	}
	out.Write(s.e.finish())
	out.Write([]byte{0xFF, eoi})
	return out.Bytes()
}

// TestArithConditioning checks DAC conditioning other than the defaults:
// progressive Huffman fixtures re-coded as sequential arithmetic files must
// show the same image.
func TestArithConditioning(t *testing.T) {
	conds := []struct {
		dcLU, acK [2]byte
	}{
		{[2]byte{0x10, 0x10}, [2]byte{5, 5}}, // the defaults
		{[2]byte{0x42, 0x00}, [2]byte{1, 40}},
		{[2]byte{0xF0, 0x33}, [2]byte{63, 0}},
		{[2]byte{0xFF, 0x51}, [2]byte{20, 2}},
	}
	for _, f := range []string{"prog-2x2-100x75.jpg", "prog-1x1-37x23.jpg", "gray-prog-100x75.jpg", "prog-4x1-100x75.jpg"} {
		prog := fixture(t, f)
		for _, c := range conds {
			name := fmt.Sprintf("%s DC %02x %02x AC %d %d", f, c.dcLU[0], c.dcLU[1], c.acK[0], c.acK[1])
			arith := recodeArith(t, prog, c.dcLU, c.acK)
			checkSameDecode(t, name, prog, arith)
			if !raceEnabled {
				checkCost(t, name, arith)
			}
		}
	}
}
