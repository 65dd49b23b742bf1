package jpegscale

import (
	"os/exec"
	"slices"
	"testing"
)

// TestCoefficientsZigZag checks that coefficients in zig-zag order are the
// natural-order ones reordered, for every layout and coding transcoded,
// with and without requantisation.
func TestCoefficientsZigZag(t *testing.T) {
	q := [64]uint16{}
	for i := range q {
		q[i] = uint16(3 + i)
	}
	targets := map[string]func(int) *[64]uint16{"kept": nil, "requantised": func(int) *[64]uint16 { return &q }}
	for _, c := range transcodeCases(t) {
		for tn, target := range targets {
			nat, err := coefficients(c.data, target, false, 1)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			zz, err := coefficients(c.data, target, true, 1)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if nat.ZigZag || !zz.ZigZag {
				t.Fatalf("%s: ZigZag %v and %v", c.name, nat.ZigZag, zz.ZigZag)
			}
			for i := range nat.Components {
				a, b := nat.Components[i], zz.Components[i]
				if a.Quant != b.Quant || len(a.Coeffs) != len(b.Coeffs) {
					t.Fatalf("%s %s component %d: tables or sizes differ", c.name, tn, i)
				}
				for off := 0; off < len(a.Coeffs); off += 64 {
					for k := 0; k < 64; k++ {
						if a.Coeffs[off+int(zigzag[k])] != b.Coeffs[off+k] {
							t.Fatalf("%s %s component %d block %d: zig-zag %d is %d, natural has %d",
								c.name, tn, i, off/64, k, b.Coeffs[off+k], a.Coeffs[off+int(zigzag[k])])
						}
					}
				}
			}
			if err := zz.Orient(6); err == nil {
				t.Errorf("%s: Orient turned zig-zag blocks", c.name)
			}
		}
	}
}

// TestCoefficientsProcs checks that a progressive file's blocks
// requantised on several goroutines are the ones requantised on one, for
// splits that do and do not fall on a component's end.
func TestCoefficientsProcs(t *testing.T) {
	if _, err := exec.LookPath("cjpeg"); err != nil {
		t.Skipf("cjpeg not found (Debian package %s): no progressive file to split", jpegToolsPkg)
	}
	data := runTool(t, ppm(701, 517, 4), "cjpeg", "-quality", "97", "-progressive")
	q := [64]uint16{}
	for i := range q {
		q[i] = uint16(5 + i)
	}
	target := func(int) *[64]uint16 { return &q }
	one, err := coefficients(data, target, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, procs := range []int{2, 3, 8} {
		many, err := coefficients(data, target, true, procs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range one.Components {
			if n := len(one.Components[i].Coeffs) / 64; i == 0 && n < 2*1024 {
				t.Fatalf("only %d luma blocks: too few to split", n)
			}
			if !slices.Equal(one.Components[i].Coeffs, many.Components[i].Coeffs) {
				t.Errorf("procs %d, component %d: the coefficients differ", procs, i)
			}
		}
	}
}
