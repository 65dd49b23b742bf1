package icc

import (
	"bytes"
	"testing"
)

// TestTransform_Apply checks that pixel steps and converting in place give
// the same colours as packed buffers, and leave the other bytes alone.
func TestTransform_Apply(t *testing.T) {
	tests := []struct {
		name    string
		profile []byte
	}{
		{"matrix", displayP3()},
		{"gray", grayProfile(0x02100000, tagCurvGamma(1.8))},
		{"grid RGB", mabRGBLab()},
		{"grid CMYK", mabCMYKLab()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := p.ToSRGB()
			if err != nil {
				t.Fatal(err)
			}
			n := tr.Channels()
			const pixels = 1000
			packed := make([]byte, n*pixels)
			for i := range packed {
				packed[i] = byte(i*37 + i/7)
			}
			want := make([]byte, 3*pixels)
			if err := tr.Apply(want, 3, packed, n); err != nil {
				t.Fatal(err)
			}
			// In place, 5 bytes a pixel, the fifth a marker.
			buf := make([]byte, 5*pixels)
			for i := 0; i < pixels; i++ {
				copy(buf[5*i:], packed[n*i:n*i+n])
				buf[5*i+4] = 0xa5
			}
			if err := tr.Apply(buf, 5, buf, 5); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < pixels; i++ {
				if got := buf[5*i : 5*i+3]; !bytes.Equal(got, want[3*i:3*i+3]) {
					t.Fatalf("pixel %d in place = %v, want %v", i, got, want[3*i:3*i+3])
				}
				if buf[5*i+4] != 0xa5 {
					t.Fatalf("pixel %d: byte 4 changed to %#x", i, buf[5*i+4])
				}
			}
			if err := tr.Apply(make([]byte, 3*pixels-1), 3, packed, n); err == nil {
				t.Error("Apply into a short dst returned nil error")
			}
			if err := tr.Apply(want, 2, packed, n); err == nil {
				t.Error("Apply with dstStep 2 returned nil error")
			}
			if err := tr.Apply(nil, 3, nil, n); err != nil {
				t.Errorf("Apply of no pixels: %v", err)
			}
		})
	}
}

// TestTransform_ApplyWhite checks LittleCMS's white fix-up: device white
// (no ink, full RGB, full grey) maps to sRGB white exactly.
func TestTransform_ApplyWhite(t *testing.T) {
	tests := []struct {
		name    string
		profile []byte
		white   []byte
	}{
		{"matrix", displayP3(), []byte{255, 255, 255}},
		{"gray", grayProfile(0x04200000, tagPara(0, 2.2)), []byte{255}},
		{"grid RGB", mft1RGBLab(), []byte{255, 255, 255}},
		{"grid CMYK", mabCMYKLab(), []byte{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		p, _ := Parse(tt.profile)
		tr, err := p.ToSRGB()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := make([]byte, 3)
		if err := tr.Apply(got, 3, tt.white, len(tt.white)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte{255, 255, 255}) {
			t.Errorf("%s: white = %v, want [255 255 255]", tt.name, got)
		}
	}
}
