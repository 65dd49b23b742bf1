package jpegscale

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// FormatError reports that the input is not a valid JPEG, and where the
// decoder noticed: Offset is the byte offset of the marker segment that is
// wrong (its 0xFF), or of the entropy-coded data being read.
type FormatError struct {
	Msg    string
	Offset int
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("jpegscale: invalid JPEG format: %s at byte %d", e.Msg, e.Offset)
}

// TruncatedError reports that the data ends before the image is complete.
//
// Scan is the 1-based scan the data ends in: the scan whose entropy-coded
// data or header (SOS, or a table segment before it) is cut off. Scan is 0
// when the data ends in the headers before the first scan; such a file is
// refused even with Options.Partial.
//
// Scans is the number of scans the file has as far as known: the SOS
// segments with a complete header present in the data (at least Scan).
// ScansUnknown is set when more scans may have followed: always for a
// progressive file (its scan count is only known from the encoder's script),
// and for a sequential file whose scans present do not cover every
// component. A baseline file has one scan, so Scans is 1 and ScansUnknown
// false.
//
// Rows is the fraction (0 to 1) of the scan's MCUs, in raster order, that
// were decoded before the data ran out; 0 when the data ends in the scan's
// header. (A progressive scan that cannot change the image at the requested
// scale, such as an AC scan at 1/8, is not decoded: if the data ends in it,
// the image is complete at that scale and DecodeWith returns it with a
// warning.)
//
// Offset is where the data ends (its length).
type TruncatedError struct {
	Offset       int
	Scan, Scans  int
	ScansUnknown bool
	Progressive  bool
	Rows         float64
}

func (e *TruncatedError) Error() string { return "jpegscale: " + e.describe() }

func (e *TruncatedError) describe() string {
	if e.Scan == 0 {
		return fmt.Sprintf("the data ends at byte %d, in the headers before the first scan", e.Offset)
	}
	of := fmt.Sprint(e.Scans)
	if e.ScansUnknown {
		of = "at least " + of
	}
	kind := "sequential"
	if e.Progressive {
		kind = "progressive"
	}
	s := fmt.Sprintf("the data ends in scan %d of %s (%s), at byte %d", e.Scan, of, kind, e.Offset)
	return s + fmt.Sprintf(", with about %d%% of its rows decoded", int(math.Floor(e.Rows*100)))
}

// Options control DecodeWith.
type Options struct {
	// Partial returns the image decoded so far, instead of a
	// *TruncatedError, when the data ends after the first scan began (as
	// browsers render a partly loaded image): for a sequential file the
	// rows decoded and mid grey below; for a progressive file every scan
	// so far, the cut one up to where it ends. The Report names the
	// truncation.
	Partial bool
	// Procs above 1 decodes the scans of a progressive file on up to
	// Procs goroutines, where they do not depend on each other; the result
	// is the same.
	Procs int
}

// Report lists what DecodeWith worked around.
type Report struct {
	// Warnings are short English phrases, at most maxWarnings of them
	// (the last then says how many more there were), in the order met.
	Warnings []string
	// Truncated is set when Options.Partial returned an image of a
	// truncated file: the error Decode would have returned.
	Truncated *TruncatedError
}

// maxWarnings bounds Report.Warnings, so that a file with thousands of
// damaged restart intervals costs a bounded amount of memory.
const maxWarnings = 16

func (d *decoder) warn(format string, args ...any) {
	r := &d.report
	switch {
	case d.probe:
	case len(r.Warnings) < maxWarnings:
		r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
	default:
		d.moreWarnings++
	}
}

// finishWarnings replaces the last warning with a count when there were
// more than maxWarnings.
func (d *decoder) finishWarnings() {
	if d.moreWarnings > 0 {
		d.report.Warnings[maxWarnings-1] = fmt.Sprintf("%d more warnings", d.moreWarnings+1)
	}
}

// fail returns a FormatError at the offset of the current marker segment.
func (d *decoder) fail(msg string) error {
	return &FormatError{Msg: msg, Offset: d.segStart}
}

// errEOD is returned by the marker reader when the data ends; decode turns
// it into a *TruncatedError.
var errEOD = errors.New("unexpected end of data")

// Errors met inside entropy-coded data: they end a restart interval (see
// decodeScan) and are reported as warnings.
var (
	errBadCode   = errors.New("bad Huffman code")
	errBadDC     = errors.New("bad DC coefficient size")
	errBadRefine = errors.New("bad refinement coefficient size")
	errOverrun   = errors.New("premature end of data segment")
	errBadMag    = errors.New("bad arithmetic-coded magnitude")
	errBadRun    = errors.New("arithmetic-coded run past the end of the block")
	errBadTable  = errors.New("bad Huffman table")
)

// DecodeWith decodes a JPEG at 1/denom scale like Decode, but works around
// damage as libjpeg does and says what it did in the Report:
//
//   - stray bytes before a marker are skipped;
//   - a bad code inside a restart interval (or, without restart markers, a
//     scan) ends that interval: its remaining blocks are left mid grey (in a
//     progressive scan, as the earlier scans left them) and decoding
//     resumes at the next restart marker;
//   - restart markers out of sequence are resynchronised as libjpeg does;
//   - a missing EOI marker after complete scans is accepted.
//
// Data that ends before the image is complete yields a *TruncatedError, or
// with o.Partial (once a scan has begun) the image decoded so far. Other
// damage yields a *FormatError with the byte offset.
func DecodeWith(data []byte, denom int, o Options) (image.Image, Report, error) {
	switch denom {
	case 1, 2, 4, 8:
	default:
		return nil, Report{}, fmt.Errorf("jpegscale: bad scale denominator %d", denom)
	}
	d := &decoder{data: data, denom: denom, bs: 8 / denom, opts: o, procs: o.Procs}
	img, err := d.decode()
	d.finishWarnings()
	if err != nil {
		return nil, d.report, err
	}
	return img, d.report, nil
}

// truncated returns te, or with Options.Partial the image decoded so far.
func (d *decoder) truncated(te *TruncatedError) (image.Image, error) {
	if !d.settle() {
		return nil, nil
	}
	te.Progressive = d.progressive
	if te.Scan > 0 {
		n, covered := d.countScans()
		te.Scans = max(n, te.Scan)
		te.ScansUnknown = d.progressive || !covered
	}
	if !d.opts.Partial || te.Scan == 0 || !d.setup {
		return nil, te
	}
	d.warn("%s", te.describe())
	d.report.Truncated = te
	if !d.progressive {
		for i := 0; i < d.nComp; i++ {
			if c := &d.comp[i]; !c.scanned {
				for j := range c.pix {
					c.pix[j] = 128
				}
			}
		}
	} else {
		d.reconstructProgressive()
	}
	return d.result(), nil
}
