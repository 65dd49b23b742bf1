#!/usr/bin/env bash
# bench.sh measures imgsvc end to end over HTTP beside the stock pipeline
# (image.Decode + imaging.Resize(Lanczos) + jpeg.Encode, served by
# scripts/stockbench), both driven by the same load generator (hey) in the
# same run: per file at concurrency 1 (req/s, p50/p95/p99), the whole set at
# concurrency 4 (req/s), and the peak RSS of each server. It prints the
# speedup per file, the geometric mean, and PASS/MISS against the targets of
# docs/performance.md.
#
# It exits non-zero only when something fails (a build, a server, a non-200
# answer), never for a missed target.
#
# Environment:
#   BENCH_DIR        images to send (default: ../shared/corpus beside the
#                    repository when it exists, else a generated set)
#   BENCH_N1         requests per file at concurrency 1 (default 5)
#   BENCH_N4         requests per file at concurrency 4 (default 40: with only a
#                    few, the ramp-up and the tail of each file's run leave
#                    cores idle and the throughput reads low)
#   BENCH_WIDTH      output width (default 300); the output is JPEG q85
#   BENCH_STOCK=0    skip the stock server (no speedups then)
#   BENCH_HEY        path of a hey binary (default: installed into a temp dir)
#   BENCH_ARGS       extra imgsvc flags, e.g. "-workers 4"
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n1=${BENCH_N1:-5}
n4=${BENCH_N4:-40}
width=${BENCH_WIDTH:-300}
stock=${BENCH_STOCK:-1}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "bench: $*" >&2; exit 1; }

# The load generator: hey, an existing tool, installed into a temp GOBIN.
hey=${BENCH_HEY:-}
if [[ -z $hey ]]; then
	if command -v hey >/dev/null; then
		hey=$(command -v hey)
	else
		echo "installing hey..." >&2
		GOBIN="$tmp/bin" go install github.com/rakyll/hey@v0.1.5 || fail "cannot install hey"
		hey="$tmp/bin/hey"
	fi
fi

echo "building..." >&2
go build -o "$tmp/imgsvc" ./cmd/imgsvc || fail "build imgsvc"
go build -o "$tmp/stockbench" ./scripts/stockbench || fail "build stockbench"

dir=${BENCH_DIR:-}
if [[ -z $dir ]]; then
	if [[ -d $root/../shared/corpus ]]; then
		dir=$root/../shared/corpus
	else
		dir=$tmp/images
		echo "no corpus: generating images into a temp dir" >&2
		"$tmp/stockbench" -gen "$dir" || fail "generate images"
	fi
fi
files=()
for f in "$dir"/*; do
	case ${f,,} in *.jpg | *.jpeg | *.png | *.gif | *.webp | *.bmp | *.tif | *.tiff) files+=("$f") ;; esac
done
((${#files[@]})) || fail "no images in $dir"

ctype() {
	case ${1,,} in
	*.jpg | *.jpeg) echo image/jpeg ;; *.png) echo image/png ;; *.gif) echo image/gif ;;
	*.webp) echo image/webp ;; *.bmp) echo image/bmp ;; *) echo image/tiff ;;
	esac
}

# wait_addr LOG PATTERN: the first host:port the log line matching PATTERN names.
wait_addr() {
	local i addr
	for i in $(seq 100); do
		addr=$(grep -o "$2" "$1" 2>/dev/null | head -1 | grep -oE '127\.0\.0\.1:[0-9]+' || true)
		[[ -n $addr ]] && { echo "$addr"; return; }
		sleep 0.1
	done
	cat "$1" >&2
	fail "server did not start"
}

# hwm PID: peak resident set size in MiB.
hwm() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# load NAME URL FILE C N: runs hey, checks every answer was 200, and prints
# "rps p50ms p95ms p99ms" from its per-request CSV (hey's own percentile
# summary is unreliable for small request counts).
load() {
	local out="$tmp/hey-$1-$4-$(basename "$3").csv"
	"$hey" -n "$5" -c "$4" -t 300 -o csv -m POST -T "$(ctype "$3")" -D "$3" "$2" >"$out" 2>&1 || { cat "$out" >&2; fail "hey failed"; }
	local ok
	ok=$(awk -F, '$7 == 200' "$out" | wc -l)
	if [[ $ok -ne $5 ]]; then
		head -5 "$out" >&2
		fail "$1: $(basename "$3"): $ok of $5 answers were 200"
	fi
	awk -F, 'NR > 1 {print $1, $1 + $8}' "$out" | sort -n | awk '
		{rt[NR] = $1 * 1000; if ($2 > end) end = $2}
		function pct(p,  i) {i = int(p * NR + 0.999999); if (i < 1) i = 1; return rt[i]}
		END {printf "%.2f %.1f %.1f %.1f\n", NR / end, pct(0.5), pct(0.95), pct(0.99)}'
}

# Servers: imgsvc with its defaults, on a free loopback port; the stock server.
"$tmp/imgsvc" -addr 127.0.0.1:0 -admin-addr off -log-level info ${BENCH_ARGS:-} 2>"$tmp/imgsvc.log" &
pids+=($!)
ours_pid=$!
ours="http://$(wait_addr "$tmp/imgsvc.log" '"addr":"[^"]*"')/v1/process?width=$width&format=jpeg&quality=85"
if [[ $stock == 1 ]]; then
	"$tmp/stockbench" -addr 127.0.0.1:0 >"$tmp/stock.log" 2>&1 &
	pids+=($!)
	stock_pid=$!
	stockurl="http://$(wait_addr "$tmp/stock.log" 'listening on .*')/?width=$width&quality=85"
fi

servers=(ours)
[[ $stock == 1 ]] && servers+=(stock)
url() { if [[ $1 == ours ]]; then echo "$ours"; else echo "$stockurl"; fi; }

echo "images: $dir (${#files[@]} files); output ${width} px JPEG q85; hey $n1 requests/file at c=1, $n4 at c=4" >&2
declare -A p50
printf "\n%-45s %-6s %8s %8s %8s %8s\n" "file (c=1)" server "req/s" "p50 ms" "p95 ms" "p99 ms"
for f in "${files[@]}"; do
	for s in "${servers[@]}"; do
		load "$s" "$(url "$s")" "$f" 1 1 >/dev/null # warm up
		read -r rps a b c < <(load "$s" "$(url "$s")" "$f" 1 "$n1")
		p50[$s,$f]=$a
		printf "%-45s %-6s %8s %8s %8s %8s\n" "$(basename "$f")" "$s" "$rps" "$a" "$b" "$c"
	done
done

# Concurrency 4: each file n4 times at c=4, one after the other; the set's
# throughput is all requests over the summed time (each file equally often).
declare -A rps4
printf "\n%-45s %-6s %8s %8s %8s %8s\n" "file (c=4)" server "req/s" "p50 ms" "p95 ms" "p99 ms"
for s in "${servers[@]}"; do
	total=0
	for f in "${files[@]}"; do
		read -r rps a b c < <(load "$s" "$(url "$s")" "$f" 4 "$n4")
		printf "%-45s %-6s %8s %8s %8s %8s\n" "$(basename "$f")" "$s" "$rps" "$a" "$b" "$c"
		total=$(awk -v t="$total" -v n="$n4" -v r="$rps" 'BEGIN {print t + n/r}')
	done
	rps4[$s]=$(awk -v t="$total" -v n="$n4" -v k="${#files[@]}" 'BEGIN {printf "%.2f", n*k/t}')
done
rss_ours=$(hwm "$ours_pid")
[[ $stock == 1 ]] && rss_stock=$(hwm "$stock_pid")

# Summary and targets.
printf "\n%-45s %10s %10s %8s\n" "file" "stock p50" "ours p50" speedup
logsum=0
miss_jpeg=""
for f in "${files[@]}"; do
	[[ $stock == 1 ]] || break
	sp=$(awk -v a="${p50[stock,$f]}" -v b="${p50[ours,$f]}" 'BEGIN {printf "%.2f", a/b}')
	printf "%-45s %10s %10s %7sx\n" "$(basename "$f")" "${p50[stock,$f]}" "${p50[ours,$f]}" "$sp"
	logsum=$(awk -v s="$logsum" -v x="$sp" 'BEGIN {print s + log(x)}')
	case ${f,,} in *.jpg | *.jpeg) awk -v x="$sp" 'BEGIN {exit !(x < 3)}' && miss_jpeg+=" $(basename "$f")" ;; esac
done

verdict() { if awk "BEGIN {exit !($1)}"; then echo PASS; else echo MISS; fi; }
echo
if [[ $stock == 1 ]]; then
	geo=$(awk -v s="$logsum" -v n="${#files[@]}" 'BEGIN {printf "%.2f", exp(s/n)}')
	echo "geometric-mean speedup: ${geo}x                  target >= 6x      $(verdict "$geo >= 6")"
	if [[ -z $miss_jpeg ]]; then
		echo "every JPEG >= 3x                                                  PASS"
	else
		echo "every JPEG >= 3x: under 3x:$miss_jpeg            MISS"
	fi
fi
# A progressive JPEG against a baseline JPEG of the same size (WxH in the name).
for f in "${files[@]}"; do
	[[ ${f,,} == *progressive*.jp*g ]] || continue
	size=$(basename "$f" | grep -oE '[0-9]+x[0-9]+' | head -1 || true)
	for g in "${files[@]}"; do
		[[ $g != "$f" && ${g,,} != *progressive* && ${g,,} == *.jp*g && -n $size && $(basename "$g") == *"$size"* ]] || continue
		echo "progressive $(basename "$f") ${p50[ours,$f]} ms vs baseline $(basename "$g") ${p50[ours,$g]} ms   $(verdict "${p50[ours,$f]} <= ${p50[ours,$g]} * 1.05")"
	done
done
line="throughput at c=4: ours ${rps4[ours]} req/s"
[[ $stock == 1 ]] && line+=", stock ${rps4[stock]} req/s"
echo "$line   target >= 22.8 (2x imaginary's 11.4)   $(verdict "${rps4[ours]} >= 22.8")"
line="peak RSS: ours $rss_ours MiB"
[[ $stock == 1 ]] && line+=", stock $rss_stock MiB"
echo "$line   target <= 300 MB   $(verdict "$rss_ours * 1048576 <= 300000000")"
if grep -q '"level":"ERROR"' "$tmp/imgsvc.log"; then
	grep '"level":"ERROR"' "$tmp/imgsvc.log" | head -5 >&2
	fail "imgsvc logged errors"
fi
