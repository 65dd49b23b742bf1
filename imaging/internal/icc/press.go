package icc

import _ "embed"

// genericPress is the profile for CMYK images that carry none: an ArgyllCMS
// colprof characterization of the FOGRA39 data set (ISO 12647-2 offset on
// coated paper), the most common press condition in Europe and close to
// what US printers' SWOP gives on screen. scripts/make-press-profile.sh makes
// it; the measurement data comes from Debian's icc-profiles-free (Zlib
// licence), and the profile is ours, under the same licence.
//
//go:embed press/generic-press-fogra39.icc
var genericPress []byte

// GenericPress returns the bytes of the generic CMYK press profile. The
// caller must not change them.
func GenericPress() []byte { return genericPress }
