package heif

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// heicGrid turns a HEIC whose top-level images are the tiles of a
// cols×rows grid, in row order (as heif-enc writes for several inputs),
// into a HEIC whose primary image is that grid, w×h: the layout phones
// write with 512×512 tiles. heif-enc 1.15 cannot write grids itself.
func heicGrid(t testing.TB, src []byte, cols, rows, w, h int) []byte {
	t.Helper()
	ftyp, ok := findBox(src, "ftyp", 0)
	if !ok {
		t.Fatal("no ftyp")
	}
	meta, ok := findBox(src, "meta", 0)
	if !ok {
		t.Fatal("no meta")
	}
	var hdlr, infes, ipco, ipma []byte
	var items []ilocItem
	var idat []byte
	err := eachBox(meta[4:], func(typ string, body []byte) error {
		var err error
		switch typ {
		case "hdlr":
			hdlr = body
		case "iinf":
			n := 2
			if body[0] != 0 {
				n = 4
			}
			// Hide the tiles, as phones do, so that only the grid is a
			// top-level image.
			infes = bytes.Clone(body[4+n:])
			for b := infes; len(b) >= 12; {
				size := int(binary.BigEndian.Uint32(b))
				if size < 12 || size > len(b) {
					break
				}
				b[11] |= 1
				b = b[size:]
			}
		case "iloc":
			items, err = parseIloc(body)
		case "idat":
			idat = body
		case "iprp":
			ipco, _ = findBox(body, "ipco", 0)
			ipma, _ = findBox(body, "ipma", 0)
		}
		return err
	})
	if err != nil || hdlr == nil || infes == nil || ipco == nil || ipma == nil {
		t.Fatalf("unexpected HEIC layout: %v", err)
	}
	if len(items) != cols*rows {
		t.Fatalf("%d items, want %d tiles", len(items), cols*rows)
	}
	if ipma[0] != 0 || ipma[3]&1 != 0 {
		t.Fatalf("ipma version %d flags %d: only version 0 with 7-bit indices is handled", ipma[0], ipma[3])
	}

	const gridID = 1000
	nProps := 0
	eachBox(ipco, func(string, []byte) error { nProps++; return nil })

	u16 := func(b *bytes.Buffer, v int) { binary.Write(b, binary.BigEndian, uint16(v)) }
	u32 := func(b *bytes.Buffer, v int) { binary.Write(b, binary.BigEndian, uint32(v)) }
	box := func(typ string, parts ...[]byte) []byte {
		body := bytes.Join(parts, nil)
		var b bytes.Buffer
		u32(&b, 8+len(body))
		b.WriteString(typ)
		b.Write(body)
		return b.Bytes()
	}
	full := func(version byte) []byte { return []byte{version, 0, 0, 0} }

	// The grid descriptor: version, flags, rows-1, columns-1, 16-bit size.
	var grid bytes.Buffer
	grid.Write([]byte{0, 0, byte(rows - 1), byte(cols - 1)})
	u16(&grid, w)
	u16(&grid, h)
	var gridInfe bytes.Buffer
	u16(&gridInfe, gridID)
	u16(&gridInfe, 0)
	gridInfe.WriteString("grid\x00")
	var iinfBody bytes.Buffer
	u16(&iinfBody, len(items)+1)
	iinfBody.Write(infes)
	iinfBody.Write(box("infe", full(2), gridInfe.Bytes()))
	var dimg bytes.Buffer
	u16(&dimg, gridID)
	u16(&dimg, len(items))
	for _, it := range items {
		u16(&dimg, int(it.id))
	}
	var ispe bytes.Buffer
	u32(&ispe, w)
	u32(&ispe, h)
	var ipmaBody bytes.Buffer
	ipmaBody.Write(ipma[:4])
	u32(&ipmaBody, int(binary.BigEndian.Uint32(ipma[4:]))+1)
	ipmaBody.Write(ipma[8:])
	u16(&ipmaBody, gridID)
	ipmaBody.Write([]byte{1, byte(nProps + 1)}) // the new ispe, not essential

	// Tile data goes to a new mdat; the offsets are known once the meta
	// box's size is, and do not change its size.
	var tiles [][]byte
	for _, it := range items {
		b, err := it.data(src, idat)
		if err != nil {
			t.Fatal(err)
		}
		tiles = append(tiles, b)
	}
	build := func(mdatStart int) []byte {
		var iloc bytes.Buffer
		iloc.Write(full(1))
		iloc.Write([]byte{0x44, 0x00}) // 4-byte offsets and lengths, no base or index
		u16(&iloc, len(items)+1)
		off := mdatStart + 8
		for i, it := range items {
			u16(&iloc, int(it.id))
			u16(&iloc, 0) // in the file
			u16(&iloc, 0)
			u16(&iloc, 1)
			u32(&iloc, off)
			u32(&iloc, len(tiles[i]))
			off += len(tiles[i])
		}
		u16(&iloc, gridID)
		u16(&iloc, 1) // in idat
		u16(&iloc, 0)
		u16(&iloc, 1)
		u32(&iloc, 0)
		u32(&iloc, grid.Len())
		var pitm bytes.Buffer
		u16(&pitm, gridID)
		return box("meta", full(0),
			box("hdlr", hdlr),
			box("pitm", full(0), pitm.Bytes()),
			box("iinf", full(0), iinfBody.Bytes()),
			box("iref", full(0), box("dimg", dimg.Bytes())),
			box("iprp", box("ipco", ipco, box("ispe", full(0), ispe.Bytes())), box("ipma", ipmaBody.Bytes())),
			box("idat", grid.Bytes()),
			box("iloc", iloc.Bytes()),
		)
	}
	head := box("ftyp", ftyp)
	m := build(0)
	m = build(len(head) + len(m))
	return bytes.Join([][]byte{head, m, box("mdat", tiles...)}, nil)
}
