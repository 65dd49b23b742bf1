#!/usr/bin/env bash
# Overload test: drive the real binary at several times its capacity and
# check that it sheds load the way the contract says.
#
#   scripts/overload.sh                      # 60 s at 4x capacity
#   DURATION=30s FACTOR=6 scripts/overload.sh
#
# It builds ./cmd/imgsvc, starts it with a small pool, measures its capacity
# with hey (github.com/rakyll/hey, fetched through the Go module proxy; set
# HEY=/path/to/hey to use another), then offers FACTOR times that rate for
# DURATION and checks:
#   - every answer is 200, or 503 with code "overloaded" and a Retry-After
#     header (hey counts statuses and errors; curl samples check bodies);
#   - admitted requests keep a bounded p99 (P99_MAX_S);
#   - peak RSS stays under the memory budget (-memory-budget, MEMORY_BUDGET);
#   - right after the load a request succeeds at once (AFTER_MAX_S) and
#     /readyz is 200 again; the process exits 0 on SIGTERM.
# Exit status: 0 when all hold, 1 otherwise. Needs go, curl and awk.
set -euo pipefail

cd "$(dirname "$0")/.."

DURATION=${DURATION:-60s}
FACTOR=${FACTOR:-4}
WORKERS=${WORKERS:-2}
QUEUE_SIZE=${QUEUE_SIZE:-8}
QUEUE_TIMEOUT=${QUEUE_TIMEOUT:-10s}
MEMORY_BUDGET=${MEMORY_BUDGET:-268435456} # 256 MiB
CONCURRENCY=${CONCURRENCY:-64}
P99_MAX_S=${P99_MAX_S:-3}
AFTER_MAX_S=${AFTER_MAX_S:-2}
PORT=${PORT:-18480}
ADMIN_PORT=${ADMIN_PORT:-18481}
HEY_VERSION=${HEY_VERSION:-v0.1.5}

work=$(mktemp -d)
pid=
sampler=
rsswatch=
cleanup() {
	for p in $sampler $rsswatch; do kill "$p" 2>/dev/null || true; done
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

fail=0
bad() {
	echo "FAIL: $*" >&2
	fail=1
}

echo "==> building imgsvc and hey"
go build -o "$work/imgsvc" ./cmd/imgsvc
if [[ -z "${HEY:-}" ]]; then
	GOBIN="$work" go install "github.com/rakyll/hey@$HEY_VERSION"
	HEY="$work/hey"
fi

base="http://127.0.0.1:$PORT"
"$work/imgsvc" -addr "127.0.0.1:$PORT" -admin-addr "127.0.0.1:$ADMIN_PORT" -log-level error \
	-workers "$WORKERS" -queue-size "$QUEUE_SIZE" -queue-timeout "$QUEUE_TIMEOUT" \
	-memory-budget "$MEMORY_BUDGET" -retry-after 1s >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
	sleep 0.1
done
curl -fsS -o /dev/null "$base/healthz" || {
	cat "$work/server.log"
	exit 1
}

# The load image: a 1600×1200 JPEG, made by the service itself from a seed.
curl -fsS -o "$work/load.jpg" -H 'Content-Type: image/png' --data-binary @testdata/hostile/seeds/rgb-16x12.png \
	"$base/v1/process?width=1600&height=1200&fit=fill&format=jpeg&quality=90"
url="$base/v1/process?width=400&sharpen=0.5"
echo "==> load: POST a $(stat -c %s "$work/load.jpg")-byte 1600×1200 JPEG to /v1/process?width=400&sharpen=0.5"
echo "    service: -workers $WORKERS -queue-size $QUEUE_SIZE -queue-timeout $QUEUE_TIMEOUT -memory-budget $MEMORY_BUDGET"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }

echo "==> capacity: $WORKERS clients in a closed loop for 5 s"
"$HEY" -z 5s -c "$WORKERS" -m POST -T image/jpeg -D "$work/load.jpg" "$url" >"$work/capacity.txt"
capacity=$(awk '/Requests\/sec:/ {print $2}' "$work/capacity.txt")
single=$(awk '/Average:/ {print $2; exit}' "$work/capacity.txt")
rate=$(awk -v c="$capacity" -v f="$FACTOR" 'BEGIN {printf "%.1f", c * f}')
per=$(awk -v r="$rate" -v n="$CONCURRENCY" 'BEGIN {printf "%.3f", r / n}')
echo "    capacity ${capacity} req/s (mean latency ${single}s); offering ${rate} req/s = ${FACTOR}x"

# RSS, sampled, and curl samples of the answers, while the load runs.
(
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		r=$(rss_kib)
		((r > peak)) && peak=$r && echo "$peak" >"$work/rss_peak"
		sleep 0.1
	done
) &
rsswatch=$!
(
	i=0
	while :; do
		i=$((i + 1))
		curl -sS -o "$work/sample.$i.body" -D "$work/sample.$i.head" -w '%{http_code} %{time_total}\n' \
			-H 'Content-Type: image/jpeg' --data-binary @"$work/load.jpg" "$url" >>"$work/samples.txt" 2>>"$work/samples.err" || true
		sleep 0.2
	done
) &
sampler=$!

echo "==> overload: $CONCURRENCY clients at ${per} req/s each for $DURATION"
# The main load reports statuses and transport errors; a second hey at a
# small share of the rate writes per-request CSV for the admitted p99.
probe_c=4
"$HEY" -z "$DURATION" -c "$probe_c" -q "$per" -m POST -T image/jpeg -D "$work/load.jpg" -o csv "$url" >"$work/probe.csv" &
probe=$!
"$HEY" -z "$DURATION" -c "$CONCURRENCY" -q "$per" -m POST -T image/jpeg -D "$work/load.jpg" "$url" >"$work/load.txt"
wait "$probe"
end_ms=$(date +%s%3N)

# Right after: one request must succeed at once.
after=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: image/jpeg' --data-binary @"$work/load.jpg" "$url" || echo "000 0")
after_ms=$(($(date +%s%3N) - end_ms))
ready=$(curl -sS -o /dev/null -w '%{http_code}' "$base/readyz" || echo 000)
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=

echo
echo "==> results"
sed -n '/Summary:/,/Requests\/sec/p' "$work/load.txt"
echo "  Status code distribution (hey):"
sed -n '/Status code distribution:/,/^$/p' "$work/load.txt" | grep '\[' || true
errors=$(sed -n '/Error distribution:/,$p' "$work/load.txt" | grep '\[' || true)
if [[ -n "$errors" ]]; then
	echo "  Error distribution (hey):"
	echo "$errors"
	bad "transport errors under load"
fi
others=$(sed -n '/Status code distribution:/,/^$/p' "$work/load.txt" | grep -oE '\[[0-9]+\]' | tr -d '[]' | grep -vE '^(200|503)$' || true)
[[ -z "$others" ]] || bad "statuses other than 200 and 503: $others"
ok200=$(sed -n '/Status code distribution:/,/^$/p' "$work/load.txt" | awk '/\[200\]/ {print $2}')
shed=$(sed -n '/Status code distribution:/,/^$/p' "$work/load.txt" | awk '/\[503\]/ {print $2}')
[[ -n "$shed" ]] || bad "no request was shed with 503: the load did not reach overload"
[[ -n "$ok200" ]] || bad "no request was admitted"

# The admitted p99, from the probe's per-request CSV.
read -r admitted p50 p99 pmax probe_others < <(awk -F, 'NR > 1 {
		if ($7 == 200) lat[n++] = $1; else if ($7 != 503) o++
	} END {
		if (n == 0) { print 0, 0, 0, 0, o + 0; exit }
		# insertion sort is fine for a few thousand samples
		for (i = 1; i < n; i++) { v = lat[i]; j = i - 1; while (j >= 0 && lat[j] > v) { lat[j + 1] = lat[j]; j-- }; lat[j + 1] = v }
		i99 = int(0.99 * n); if (i99 >= n) i99 = n - 1
		print n, lat[int(0.5 * n)], lat[i99], lat[n - 1], o + 0
	}' "$work/probe.csv")
echo "  admitted requests (probe, $probe_c clients): $admitted; p50 ${p50}s, p99 ${p99}s, max ${pmax}s (bound p99 <= ${P99_MAX_S}s)"
[[ "$probe_others" == 0 ]] || bad "the probe saw $probe_others answers other than 200 and 503"
awk -v p="$p99" -v m="$P99_MAX_S" 'BEGIN {exit !(p <= m)}' || bad "admitted p99 ${p99}s is over ${P99_MAX_S}s"

# The curl samples: every 503 must be problem+json "overloaded" with Retry-After.
n503=0 n200=0 nbad=0
for head in "$work"/sample.*.head; do
	[[ -e "$head" ]] || continue
	body=${head%.head}.body
	status=$(awk 'NR == 1 {print $2}' "$head")
	case "$status" in
	200) n200=$((n200 + 1)) ;;
	503)
		n503=$((n503 + 1))
		grep -qi '^Retry-After: [0-9]' "$head" || {
			nbad=$((nbad + 1))
			echo "    503 without Retry-After: $head"
		}
		grep -qi '^Content-Type: application/problem+json' "$head" || nbad=$((nbad + 1))
		grep -q '"code":"overloaded"' "$body" || {
			nbad=$((nbad + 1))
			echo "    503 body: $(head -c 300 "$body")"
		}
		;;
	*)
		nbad=$((nbad + 1))
		echo "    sample answered $status: $(head -c 300 "$body" 2>/dev/null)"
		;;
	esac
done
echo "  curl samples: $n200 x 200, $n503 x 503 (each checked: problem+json, code overloaded, Retry-After), $nbad bad"
((nbad == 0)) || bad "$nbad sampled answers broke the contract"
((n503 > 0)) || echo "  note: no curl sample was shed; the 503 body and header were not checked in this run"

peak_kib=$(cat "$work/rss_peak" 2>/dev/null || echo 0)
hwm=$(hwm_kib)
((hwm > peak_kib)) && peak_kib=$hwm
budget_kib=$((MEMORY_BUDGET / 1024))
echo "  peak RSS $((peak_kib / 1024)) MiB (memory budget $((budget_kib / 1024)) MiB)"
((peak_kib < budget_kib)) || bad "peak RSS over the memory budget"

read -r after_code after_time <<<"$after"
echo "  right after the load: $after_code in ${after_time}s (sent ${after_ms} ms after the load ended); /readyz $ready"
[[ "$after_code" == 200 ]] || bad "the first request after the load answered $after_code"
awk -v t="$after_time" -v m="$AFTER_MAX_S" 'BEGIN {exit !(t <= m)}' || bad "the first request after the load took ${after_time}s"
[[ "$ready" == 200 ]] || bad "/readyz answered $ready after the load"

kill -0 "$pid" 2>/dev/null || bad "the process died"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=
echo "  exit status after SIGTERM: $code"
((code == 0)) || bad "exit status $code"

if ((fail)); then
	echo "overload.sh: FAILED" >&2
	tail -20 "$work/server.log" >&2
	exit 1
fi
echo "overload.sh: ok: ${ok200} admitted, ${shed} shed with 503 at ${FACTOR}x capacity (${capacity} req/s) for $DURATION"
