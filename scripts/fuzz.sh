#!/usr/bin/env bash
# Run every fuzz target of the service for a while, one after another.
#
#   scripts/fuzz.sh                 # each target for FUZZTIME (default 15s)
#   FUZZTIME=2m scripts/fuzz.sh     # longer
#   FUZZ_TARGETS='FuzzTransform FuzzJSON' scripts/fuzz.sh
#   FUZZ_PARALLEL=4 scripts/fuzz.sh # fuzzing workers per target (default: go's, GOMAXPROCS)
#
# go test -fuzz takes one target at a time, so each runs on its own. A target
# that finds a failure writes the input to <pkg>/testdata/fuzz/<target>/ and
# this script exits 1 after running the rest: commit that file as a
# regression seed together with the fix (see docs/reliability.md).
set -euo pipefail

cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-15s}
FUZZ_PARALLEL=${FUZZ_PARALLEL:-}

# package:target, in the order they run.
ALL=(
	./imaging:FuzzSniff
	./imaging:FuzzInspect
	./imaging:FuzzParseOptions
	./imaging:FuzzTransform
	./imaging:FuzzDecodePNG
	./imaging:FuzzBMPRLE
	./imaging:FuzzTIFFExtra
	./imaging:FuzzAnimation
	./imaging/internal/jpegscale:FuzzDecode
	./imaging/internal/jpegscale:FuzzTranscode
	./imaging/internal/heif:FuzzDecode
	./imaging/internal/icc:FuzzParse
	./handlers:FuzzRawBody
	./handlers:FuzzMultipart
	./handlers:FuzzJSON
	./handlers:FuzzBase64Literal
	./handlers:FuzzOverlay
)

selected=()
if [[ -n "${FUZZ_TARGETS:-}" ]]; then
	for want in $FUZZ_TARGETS; do
		found=
		for pt in "${ALL[@]}"; do
			if [[ "${pt#*:}" == "$want" ]]; then
				selected+=("$pt")
				found=1
			fi
		done
		if [[ -z "$found" ]]; then
			echo "fuzz.sh: unknown target $want; known: ${ALL[*]#*:}" >&2
			exit 2
		fi
	done
else
	selected=("${ALL[@]}")
fi

# Every target must exist: a renamed target would otherwise be skipped silently.
for pt in "${selected[@]}"; do
	pkg=${pt%%:*} target=${pt#*:}
	if ! list=$(go test -list "^${target}\$" "$pkg" 2>&1) || ! grep -qx "$target" <<<"$list"; then
		echo "fuzz.sh: $pkg has no target $target (or does not build):" >&2
		echo "$list" >&2
		exit 2
	fi
done

extra=()
if [[ -n "$FUZZ_PARALLEL" ]]; then
	extra+=(-parallel "$FUZZ_PARALLEL")
fi

failed=()
summary=()
for pt in "${selected[@]}"; do
	pkg=${pt%%:*} target=${pt#*:}
	echo "==> go test -run '^\$' -fuzz '^${target}\$' -fuzztime $FUZZTIME ${extra[*]} $pkg"
	log=$(mktemp)
	start=$SECONDS
	if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "${extra[@]}" "$pkg" 2>&1 | tee "$log"; then
		status=ok
	else
		status=FAIL
		failed+=("$target")
		grep -E 'Failing input written to|go test -run=' "$log" || true
	fi
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | awk '{print $2}')
	summary+=("$(printf '%-16s %-30s %-4s %6ss  %s execs' "$target" "$pkg" "$status" "$((SECONDS - start))" "${execs:-?}")")
	rm -f "$log"
done

echo
echo "fuzz.sh summary (FUZZTIME=$FUZZTIME):"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
	echo "fuzz.sh: FAILED: ${failed[*]}; the failing inputs are under <pkg>/testdata/fuzz/<target>/" >&2
	exit 1
fi
echo "fuzz.sh: no failures"
