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
	./imaging:FuzzEncodePNG
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

# One run of a target; its output goes to the terminal and to $log.
fuzz_once() {
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "${extra[@]}" "$pkg" 2>&1 | tee "$log"
}

# The inputs a target has written so far.
written() {
	ls "$pkg/testdata/fuzz/$target" 2>/dev/null | sort || true
}

# Go's fuzz coordinator (go1.26 and earlier, go.dev/issue/75804) can end a
# run that found nothing with "context deadline exceeded" when -fuzztime runs
# out while a worker is mid-call: the target fails with no input written. A
# failure that wrote no input and printed nothing but that is run again, up to
# twice; a failing input, any other message, or three such runs in a row fail.
coordinator_race() {
	[[ "$(written)" == "$before" ]] &&
		! grep -qE 'Failing input written to|panic:|fuzzing process hung' "$log" &&
		grep -qx '    context deadline exceeded' "$log"
}

failed=()
summary=()
for pt in "${selected[@]}"; do
	pkg=${pt%%:*} target=${pt#*:}
	echo "==> go test -run '^\$' -fuzz '^${target}\$' -fuzztime $FUZZTIME ${extra[*]} $pkg"
	log=$(mktemp)
	start=$SECONDS
	before=$(written)
	status=FAIL races=0
	for attempt in 1 2 3; do
		if fuzz_once; then
			status=ok
			break
		fi
		if ((attempt == 3)) || ! coordinator_race; then
			break
		fi
		races=$((races + 1))
		echo "fuzz.sh: $target hit the coordinator's deadline race (go.dev/issue/75804) and wrote no input; running it again"
	done
	if [[ "$status" == FAIL ]]; then
		failed+=("$target")
		grep -E 'Failing input written to|go test -run=' "$log" || true
	elif ((races)); then
		status="ok/${races}race"
	fi
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | awk '{print $2}' || true)
	summary+=("$(printf '%-17s %-28s %-12s %6ss  %s execs' "$target" "$pkg" "$status" "$((SECONDS - start))" "${execs:-?}")")
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
