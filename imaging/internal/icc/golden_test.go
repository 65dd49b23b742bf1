package icc

import (
	"os"
	"path/filepath"
	"testing"
)

type goldenPixel struct {
	in   []byte
	want [3]byte
}

// TestToSRGB_golden checks a few colours against values LittleCMS 2.14
// gave through Pillow's ImageCms (perceptual, default flags, built-in
// sRGB), so that CI without Pillow still checks the arithmetic. One code
// value of difference per channel is allowed.
func TestToSRGB_golden(t *testing.T) {
	rgb := func(w ...[3]byte) []goldenPixel {
		in := [][]byte{{0, 0, 0}, {255, 255, 255}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 64, 32}, {30, 200, 120}, {250, 240, 10}, {12, 12, 12}, {90, 110, 230}}
		var px []goldenPixel
		for i := range w {
			px = append(px, goldenPixel{in[i], w[i]})
		}
		return px
	}
	tests := []struct {
		name    string
		profile func() ([]byte, error)
		pixels  []goldenPixel
	}{
		{"compatibleWithAdobeRGB1998", func() ([]byte, error) {
			return os.ReadFile(filepath.Join(iccDir, "compatibleWithAdobeRGB1998.icc"))
		}, rgb([3]byte{0, 0, 0}, [3]byte{255, 255, 255}, [3]byte{255, 0, 0}, [3]byte{0, 255, 0}, [3]byte{0, 0, 255},
			[3]byte{146, 62, 24}, [3]byte{0, 201, 116}, [3]byte{254, 240, 0}, [3]byte{4, 4, 4}, [3]byte{79, 110, 234})},
		{"DisplayP3", gen(displayP3), rgb([3]byte{0, 0, 0}, [3]byte{255, 255, 255}, [3]byte{255, 0, 0}, [3]byte{0, 255, 0}, [3]byte{0, 0, 255},
			[3]byte{138, 59, 21}, [3]byte{0, 204, 112}, [3]byte{252, 240, 0}, [3]byte{12, 12, 12}, [3]byte{85, 111, 238})},
		{"lutAtoB RGB Lab", gen(mabRGBLab), rgb([3]byte{0, 14, 7}, [3]byte{255, 255, 255}, [3]byte{255, 43, 0}, [3]byte{0, 249, 0}, [3]byte{0, 29, 255},
			[3]byte{144, 65, 4}, [3]byte{0, 199, 117}, [3]byte{239, 243, 0}, [3]byte{0, 15, 8}, [3]byte{38, 116, 234})},
		{"lut8 RGB Lab", gen(mft1RGBLab), rgb([3]byte{0, 0, 0}, [3]byte{255, 255, 255}, [3]byte{255, 7, 1}, [3]byte{0, 255, 0}, [3]byte{0, 2, 255},
			[3]byte{146, 53, 8}, [3]byte{0, 201, 113}, [3]byte{252, 240, 0}, [3]byte{2, 2, 2}, [3]byte{79, 109, 234})},
		{"lut16 RGB XYZ", gen(mft2RGBXYZ), rgb([3]byte{0, 0, 0}, [3]byte{255, 255, 255}, [3]byte{255, 14, 0}, [3]byte{0, 235, 0}, [3]byte{0, 14, 239},
			[3]byte{156, 83, 45}, [3]byte{0, 200, 144}, [3]byte{254, 234, 0}, [3]byte{13, 13, 13}, [3]byte{100, 134, 228})},
		{"lutAtoB CMYK Lab", gen(mabCMYKLab), []goldenPixel{
			{[]byte{0, 0, 0, 0}, [3]byte{255, 255, 255}}, {[]byte{255, 255, 255, 255}, [3]byte{0, 0, 0}},
			{[]byte{255, 0, 0, 0}, [3]byte{38, 221, 255}}, {[]byte{0, 255, 0, 0}, [3]byte{232, 54, 209}},
			{[]byte{0, 0, 255, 0}, [3]byte{255, 244, 19}}, {[]byte{0, 0, 0, 255}, [3]byte{10, 10, 10}},
			{[]byte{40, 80, 120, 20}, [3]byte{194, 166, 126}}, {[]byte{200, 30, 10, 60}, [3]byte{65, 157, 184}},
			{[]byte{10, 10, 10, 240}, [3]byte{27, 27, 27}}, {[]byte{128, 128, 128, 128}, [3]byte{72, 71, 64}},
		}},
		{"grey v4 gamma 2.2", gen(func() []byte { return grayProfile(0x04200000, tagPara(0, 2.2)) }), []goldenPixel{
			{[]byte{0}, [3]byte{0, 0, 0}}, {[]byte{1}, [3]byte{0, 0, 0}}, {[]byte{8}, [3]byte{2, 2, 2}},
			{[]byte{64}, [3]byte{62, 62, 62}}, {[]byte{128}, [3]byte{129, 129, 129}}, {[]byte{200}, [3]byte{201, 201, 201}},
			{[]byte{255}, [3]byte{255, 255, 255}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.profile()
			if err != nil {
				t.Skipf("profile not installed: %v", err)
			}
			p, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := p.ToSRGB()
			if err != nil {
				t.Fatal(err)
			}
			for _, px := range tt.pixels {
				var got [3]byte
				if err := tr.Apply(got[:], 3, px.in, len(px.in)); err != nil {
					t.Fatal(err)
				}
				for k := range got {
					if d := int(got[k]) - int(px.want[k]); d < -1 || d > 1 {
						t.Errorf("%v → %v, LittleCMS gives %v", px.in, got, px.want)
						break
					}
				}
			}
		})
	}
}

func gen(f func() []byte) func() ([]byte, error) {
	return func() ([]byte, error) { return f(), nil }
}
