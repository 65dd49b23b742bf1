#!/usr/bin/env bash
# Makes the generic CMYK press profile that imgsvc applies to CMYK and YCCK
# images without an embedded profile:
#   imaging/internal/icc/press/generic-press-fogra39.icc
#
# It is an ArgyllCMS colprof characterization of FOGRA39L, the measurement
# data of ISO 12647-2 offset printing on coated paper that Debian's
# icc-profiles-free ships under the Zlib licence; the profile it makes is
# under the same licence. Run it only to remake the profile (the result
# differs in its creation date); CI uses the committed one.
#
#   apt-get install argyll icc-profiles-free
#   scripts/make-press-profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
data=/usr/share/color/icc/FOGRA39L.ti3
command -v colprof >/dev/null || { echo "colprof not found: apt-get install argyll" >&2; exit 1; }
[[ -r $data ]] || { echo "$data not found: apt-get install icc-profiles-free" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$data" "$work/FOGRA39L.ti3"
# -qm: medium quality A2B tables (the ones imgsvc reads); -b n: no extra
# effort on the B2A tables, which imgsvc never uses.
(cd "$work" && colprof -qm -b n \
	-D "imgsvc generic press, FOGRA39 characterization" \
	-C "Made with ArgyllCMS colprof from the FOGRA39L data of icc-profiles-free (Zlib licence)" \
	-O press.icc FOGRA39L >/dev/null)
out=imaging/internal/icc/press/generic-press-fogra39.icc
cp "$work/press.icc" "$out"
echo "wrote $out ($(wc -c <"$out") bytes)"
