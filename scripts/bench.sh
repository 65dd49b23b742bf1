#!/usr/bin/env bash
# bench.sh measures imgsvc end to end over HTTP beside the stock pipeline
# (image.Decode + imaging.Resize(Lanczos) + jpeg.Encode, served by
# scripts/stockbench) and a libvips peer that does what imaginary does
# (scripts/vipspeer, its own module: it needs cgo and libvips-dev), all driven
# by the same load generator (hey) in the same run: per file at concurrency 1
# (req/s, p50/p95/p99), the whole set at concurrency 4 (req/s), and the peak
# RSS of each server. It prints the speedup per file, the geometric mean, and
# PASS/MISS against the targets of docs/performance.md. Then the workload
# matrix: every file under each workload (thumbnails, cover crop, PNG out,
# rotate, blur, full-size re-encode, WebP out), the same query to imgsvc and
# the peer (and to the stock server for the plain JPEG resizes), with the
# median time at concurrency 1, the output bytes, and a geometric mean per
# workload. Against the peer it prints, per workload, the geometric-mean
# speedup, the slowest file, the ratio of output bytes and the PSNR of both
# against a full-size high-quality reference (scripts/benchcmp), with
# PASS/MISS for the targets of docs/performance.md ("Speed at every size"),
# and draws the matrix as an SVG bar chart (scripts/benchchart).
#
# It exits non-zero only when something fails (a build, a server, an answer
# that is neither a 200 nor a 4xx declining the workload), never for a missed
# target. A server that declines a workload of the matrix with 400, 406, 415,
# 422 or 501 (imgsvc before it writes WebP, say) shows n/a there, and the
# reasons are listed under the table.
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
#   BENCH_VIPS=0     skip the libvips peer (skipped with a message when
#                    pkg-config finds no libvips: apt-get install libvips-dev)
#   BENCH_VIPS_CONCURRENCY  libvips threads per image in the peer (default 1,
#                    imaginary's default)
#   BENCH_MATRIX_N   requests per cell of the workload matrix, at c=1 after one
#                    warm-up (default 5); BENCH_MATRIX_N=0 skips the matrix
#   BENCH_PSNR=0     skip the PSNR of the matrix's outputs (it decodes each
#                    file at full size and resizes it with Lanczos)
#   BENCH_CHART      where to write the matrix's SVG chart (default: a new
#                    temp file, whose path is printed; docs/bench-matrix.svg
#                    is the one docs/performance.md shows)
#   BENCH_CHART_NOTE a note added under the chart's title (the run's conditions)
#   BENCH_LONG=1     a longer run: defaults of 20, 100 and 30 requests for
#                    BENCH_N1, BENCH_N4 and BENCH_MATRIX_N
#   BENCH_HEY        path of a hey binary (default: installed into a temp dir)
#   BENCH_ARGS       extra imgsvc flags, e.g. "-workers 4"
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ ${BENCH_LONG:-0} == 1 ]]; then long=(20 100 30); else long=(5 40 5); fi
n1=${BENCH_N1:-${long[0]}}
n4=${BENCH_N4:-${long[1]}}
nm=${BENCH_MATRIX_N:-${long[2]}}
width=${BENCH_WIDTH:-300}
stock=${BENCH_STOCK:-1}
vips=${BENCH_VIPS:-1}
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
if [[ $vips == 1 ]] && ! pkg-config --exists vips 2>/dev/null; then
	echo "bench: libvips peer SKIPPED: pkg-config finds no libvips (apt-get install libvips-dev)" >&2
	vips=0
fi
if [[ $vips == 1 ]]; then
	(cd scripts/vipspeer && go build -o "$tmp/vipspeer" .) || fail "build scripts/vipspeer"
fi
if ((nm > 0)); then command -v curl >/dev/null || fail "the workload matrix needs curl (or BENCH_MATRIX_N=0)"; fi
if ((nm > 0)) && [[ ${BENCH_PSNR:-1} == 1 ]]; then go build -o "$tmp/benchcmp" ./scripts/benchcmp || fail "build scripts/benchcmp"; fi

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

# heyrun NAME URL FILE C N: runs hey into $tmp/hey.csv (one line per request)
# and checks every answer was 200.
heyrun() {
	local out="$tmp/hey.csv" ok
	"$hey" -n "$5" -c "$4" -t 300 -o csv -m POST -T "$(ctype "$3")" -D "$3" "$2" >"$out" 2>&1 || { cat "$out" >&2; fail "hey failed"; }
	ok=$(awk -F, '$7 == 200' "$out" | wc -l)
	if [[ $ok -ne $5 ]]; then
		head -5 "$out" >&2
		fail "$1: $(basename "$3"): $ok of $5 answers were 200"
	fi
}

# load NAME URL FILE C N: runs hey and prints "rps p50ms p95ms p99ms" from its
# per-request CSV (hey's own percentile summary is unreliable for small
# request counts).
load() {
	heyrun "$@"
	awk -F, 'NR > 1 {print $1, $1 + $8}' "$tmp/hey.csv" | sort -n | awk '
		{rt[NR] = $1 * 1000; if ($2 > end) end = $2}
		function pct(p,  i) {i = int(p * NR + 0.999999); if (i < 1) i = 1; return rt[i]}
		END {printf "%.2f %.1f %.1f %.1f\n", NR / end, pct(0.5), pct(0.95), pct(0.99)}'
}

# Servers: imgsvc with its defaults, on a free loopback port; the stock server.
"$tmp/imgsvc" -addr 127.0.0.1:0 -admin-addr off -log-level info ${BENCH_ARGS:-} 2>"$tmp/imgsvc.log" &
pids+=($!)
ours_pid=$!
ours_addr=$(wait_addr "$tmp/imgsvc.log" '"addr":"[^"]*"')
ours="http://$ours_addr/v1/process?width=$width&format=jpeg&quality=85"
if [[ $stock == 1 ]]; then
	"$tmp/stockbench" -addr 127.0.0.1:0 >"$tmp/stock.log" 2>&1 &
	pids+=($!)
	stock_pid=$!
	stock_addr=$(wait_addr "$tmp/stock.log" 'listening on .*')
	stockurl="http://$stock_addr/?width=$width&quality=85"
fi
if [[ $vips == 1 ]]; then
	"$tmp/vipspeer" -addr 127.0.0.1:0 -concurrency "${BENCH_VIPS_CONCURRENCY:-1}" >"$tmp/vips.log" 2>&1 &
	pids+=($!)
	vips_pid=$!
	vips_addr=$(wait_addr "$tmp/vips.log" 'listening on .*')
	vipsurl="http://$vips_addr/process?width=$width&format=jpeg&quality=85"
fi

# The c=1 step compares imgsvc with the stock pipeline; the matrix below
# measures the peer at c=1. The c=4 step runs all three.
servers=(ours)
[[ $stock == 1 ]] && servers+=(stock)
servers4=("${servers[@]}")
[[ $vips == 1 ]] && servers4+=(vips)
url() {
	case $1 in
	ours) echo "$ours" ;; stock) echo "$stockurl" ;; vips) echo "$vipsurl" ;;
	esac
}

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
for s in "${servers4[@]}"; do
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
[[ $vips == 1 ]] && rss_vips=$(hwm "$vips_pid")

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
[[ $vips == 1 ]] && line+=", vips ${rps4[vips]} req/s"
echo "$line   target >= 22.8 (2x imaginary's 11.4)   $(verdict "${rps4[ours]} >= 22.8")"
line="peak RSS: ours $rss_ours MiB"
[[ $stock == 1 ]] && line+=", stock $rss_stock MiB"
[[ $vips == 1 ]] && line+=", vips $rss_vips MiB"
echo "$line   target <= 300 MB   $(verdict "$rss_ours * 1048576 <= 300000000")"

# The workload matrix: NAME|QUERY|stock when the stock server does it too (it
# only resizes to a width and writes JPEG). The same query goes to imgsvc's
# /v1/process and the peer's /process.
workloads=(
	"300 px JPEG|width=300&format=jpeg&quality=85|stock"
	"1280 px JPEG|width=1280&format=jpeg&quality=85|stock"
	"400x400 cover|width=400&height=400&fit=cover&format=jpeg&quality=85|"
	"300 px PNG out|width=300&format=png|"
	"1280 px rotate 90|width=1280&rotate=90&format=jpeg&quality=85|"
	"800 px blur 3|width=800&blur=3&format=jpeg&quality=85|"
	"full-size JPEG q85|format=jpeg&quality=85|"
	"1280 px WebP q80|width=1280&format=webp&quality=80|"
)
mservers=(ours)
[[ $vips == 1 ]] && mservers+=(vips)
[[ $stock == 1 ]] && mservers+=(stock)
base() {
	case $1 in
	ours) echo "http://$ours_addr/v1/process?" ;; vips) echo "http://$vips_addr/process?" ;; stock) echo "http://$stock_addr/?" ;;
	esac
}

# probe NAME WORKLOAD URL FILE [SAVE]: one request with curl, which is also
# the warm-up; prints the output bytes, or n/a when the server declines the
# workload (the reason goes to $tmp/na), and copies the output to SAVE. Any
# other answer but a 200 of the asked format fails the run.
probe() {
	local meta code size type want reason
	meta=$(curl -sS --max-time 300 -o "$tmp/probe.out" -w '%{http_code}|%{size_download}|%{content_type}' \
		-H "Content-Type: $(ctype "$4")" --data-binary @"$4" "$3") || fail "$1: $(basename "$4"): curl failed"
	IFS='|' read -r code size type <<<"$meta"
	case $code in
	200)
		want=image/$(grep -oE 'format=[a-z]+' <<<"$3" | cut -d= -f2 || true)
		[[ $1 == stock || $want == image/ ]] && want=image/jpeg
		[[ $type == "$want"* ]] || fail "$1: $2: $(basename "$4"): answered $type, want $want"
		[[ -z ${5:-} ]] || cp "$tmp/probe.out" "$5"
		echo "$size"
		;;
	400 | 406 | 415 | 422 | 501)
		reason=$(grep -oE '"(code|detail)":"([^"\\]|\\.)*"' "$tmp/probe.out" | tr '\n' ' ' || true)
		[[ -n $reason ]] || reason=$(head -c 120 "$tmp/probe.out" | tr '\n' ' ')
		echo "$1, $2, $(basename "$4"): HTTP $code $reason" >>"$tmp/na"
		echo n/a
		;;
	*)
		head -c 300 "$tmp/probe.out" >&2
		fail "$1: $2: $(basename "$4"): HTTP $code"
		;;
	esac
}

# median NAME URL FILE: the median time in ms of nm requests at c=1.
median() {
	heyrun "$1" "$2" "$3" 1 "$nm"
	awk -F, 'NR > 1 {print $1 * 1000}' "$tmp/hey.csv" | sort -n |
		awk '{v[NR] = $1} END {printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# geo DIGITS X...: the geometric mean of the numeric Xs to DIGITS decimals,
# n/a when there are none.
geo() {
	local d=$1
	shift
	printf '%s\n' "$@" | awk -v f="%.${d}f" '$1 + 0 > 0 {s += log($1); n++} END {if (n) printf f, exp(s/n); else printf "n/a"}'
}

# ratio A B: A/B, or n/a unless both are numbers.
ratio() {
	if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]]; then awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; else echo n/a; fi
}

if ((nm > 0)); then
	echo "workload matrix: $nm requests per cell at c=1 after one warm-up; vips peer: libvips ${BENCH_VIPS_CONCURRENCY:-1} thread(s) per image" >&2
	[[ $vips == 1 ]] || echo "workload matrix: no libvips peer in this run (vips columns are -)" >&2
	: >"$tmp/na"
	: >"$tmp/manifest"
	mkdir -p "$tmp/out"
	fmt="%-40s %9s %9s %9s %9s %9s %9s %9s\n"
	summary=()
	# Per workload (index wi): the geomean speedup against the peer, the
	# slowest file against it, the geomean of ours/vips output bytes, and
	# the geomean times for the chart.
	declare -A W=()
	wi=0
	for w in "${workloads[@]}"; do
		IFS='|' read -r wname query stockok <<<"$w"
		printf "\n== %s: %s\n" "$wname" "$query"
		printf "$fmt" file "ours ms" "vips ms" "stock ms" vips/ours "ours B" "vips B" "stock B"
		declare -A cell=()
		g_ours=() g_vips=() g_stock=() g_ratio=() b_ours=() b_vips=() b_stock=() b_ratio=()
		worst=n/a worstfile=-
		fj=0
		for f in "${files[@]}"; do
			cell=([ours,ms]=- [vips,ms]=- [stock,ms]=- [ours,b]=- [vips,b]=- [stock,b]=-)
			for s in "${mservers[@]}"; do
				[[ $s == stock && -z $stockok ]] && continue
				out="$tmp/out/$s.$wi.$fj"
				cell[$s,b]=$(probe "$s" "$wname" "$(base "$s")$query" "$f" "$out")
				if [[ ${cell[$s,b]} == n/a ]]; then
					cell[$s,ms]=n/a
				else
					cell[$s,ms]=$(median "$s" "$(base "$s")$query" "$f")
					[[ $s == stock ]] || printf '%s\t%s\t%s\n' "$f" "$query" "$out" >>"$tmp/manifest"
				fi
			done
			r=$(ratio "${cell[vips,ms]}" "${cell[ours,ms]}")
			g_ours+=("${cell[ours,ms]}") g_vips+=("${cell[vips,ms]}") g_stock+=("${cell[stock,ms]}") g_ratio+=("$r")
			b_ours+=("${cell[ours,b]}") b_vips+=("${cell[vips,b]}") b_stock+=("${cell[stock,b]}")
			b_ratio+=("$(ratio "${cell[ours,b]}" "${cell[vips,b]}")")
			if [[ $r != n/a ]] && { [[ $worst == n/a ]] || awk -v a="$r" -v b="$worst" 'BEGIN {exit !(a < b)}'; }; then
				worst=$r worstfile=$(basename "$f")
			fi
			[[ $r == n/a ]] || r+=x
			printf "$fmt" "$(basename "$f")" "${cell[ours,ms]}" "${cell[vips,ms]}" "${cell[stock,ms]}" "$r" \
				"${cell[ours,b]}" "${cell[vips,b]}" "${cell[stock,b]}"
			fj=$((fj + 1))
		done
		gr=$(geo 2 "${g_ratio[@]}")
		W[$wi,name]=$wname W[$wi,speedup]=$gr W[$wi,worst]=$worst W[$wi,worstfile]=$worstfile
		W[$wi,bytes]=$(geo 2 "${b_ratio[@]}")
		[[ $gr == n/a ]] || gr+=x
		row=("$(geo 1 "${g_ours[@]}")" "$(geo 1 "${g_vips[@]}")" "$(geo 1 "${g_stock[@]}")" "$gr" \
			"$(geo 0 "${b_ours[@]}")" "$(geo 0 "${b_vips[@]}")" "$(geo 0 "${b_stock[@]}")")
		[[ $stockok ]] || row[2]=- row[6]=-
		[[ $vips == 1 ]] || row[1]=- row[3]=- row[5]=-
		W[$wi,ours]=${row[0]} W[$wi,vips]=${row[1]} W[$wi,stock]=${row[2]}
		printf "$fmt" "geomean" "${row[@]}"
		summary+=("$(printf "$fmt" "$wname" "${row[@]}")")
		wi=$((wi + 1))
	done
	printf "\n== workload matrix: geometric means over the %d files (vips/ours > 1: imgsvc is faster)\n" "${#files[@]}"
	printf "$fmt" workload "ours ms" "vips ms" "stock ms" vips/ours "ours B" "vips B" "stock B"
	printf '%s\n' "${summary[@]}"
	if [[ -s $tmp/na ]]; then
		echo
		echo "n/a (declined by the server, not a failure of this run):"
		sort -u "$tmp/na" | sed 's/^/  /'
	fi

	# Quality: the PSNR of each output against a reference made by the same
	# operation from the full-size decode in high quality (scripts/benchcmp).
	declare -A psnr=()
	if [[ ${BENCH_PSNR:-1} == 1 && -s $tmp/manifest ]]; then
		echo "workload matrix: PSNR against a full-size Lanczos reference..." >&2
		"$tmp/benchcmp" "$tmp/manifest" >"$tmp/psnr.tsv" || fail "benchcmp"
		while IFS=$'\t' read -r out db; do psnr[$out]=$db; done <"$tmp/psnr.tsv"
	fi
	# pmean SERVER WI: the mean PSNR of a server's outputs of workload WI over
	# the files both servers answered, n/a when there are none.
	pmean() {
		local k vals=()
		for ((k = 0; k < ${#files[@]}; k++)); do
			local a=${psnr[$tmp/out/ours.$2.$k]:-} b=${psnr[$tmp/out/vips.$2.$k]:-}
			[[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]] || continue
			if [[ $1 == ours ]]; then vals+=("$a"); else vals+=("$b"); fi
		done
		printf '%s\n' "${vals[@]}" | awk '$1 + 0 > 0 {s += $1; n++} END {if (n) printf "%.2f", s/n; else printf "n/a"}'
	}

	# Targets per workload, against the peer: geomean speedup >= 1, no file
	# under 0.7x, output bytes at most 10% over the peer's, PSNR at most 1 dB
	# under the peer's; 300 px JPEG >= 2x; the full-size re-encode aims at 1.5x.
	if [[ $vips == 1 ]]; then
		printf "\n== targets against the libvips peer (speedup = vips ms / ours ms; bytes = ours/vips; PSNR in dB against a full-size reference)\n"
		tfmt="%-20s %8s %8s %-34s %8s %9s %9s %7s  %s\n"
		printf "$tfmt" workload speedup "" "slowest file" bytes "PSNR ours" "PSNR vips" "ΔPSNR" "speed>=1  file>=0.7  bytes<=1.1  ΔPSNR>=-1"
		allspeed="" allworst="" allbytes="" allpsnr=""
		v() { if [[ $1 == n/a ]]; then echo "n/a "; else verdict "$1 $2"; fi; }
		for ((k = 0; k < wi; k++)); do
			sp=${W[$k,speedup]} wo=${W[$k,worst]} by=${W[$k,bytes]}
			po=$(pmean ours "$k") pv=$(pmean vips "$k")
			dp=n/a
			[[ $po != n/a && $pv != n/a ]] && dp=$(awk -v a="$po" -v b="$pv" 'BEGIN {printf "%+.2f", a-b}')
			vs=$(v "$sp" ">= 1") vw=$(v "$wo" ">= 0.7") vb=$(v "$by" "<= 1.10") vp=$(v "$dp" ">= -1")
			[[ $vs == MISS ]] && allspeed+=" ${W[$k,name]};"
			[[ $vw == MISS ]] && allworst+=" ${W[$k,name]};"
			[[ $vb == MISS ]] && allbytes+=" ${W[$k,name]};"
			[[ $vp == MISS ]] && allpsnr+=" ${W[$k,name]};"
			extra=""
			case ${W[$k,name]} in
			"300 px JPEG") extra="  >=2x $(v "$sp" ">= 2")" ;;
			full-size*) extra="  aim 1.5x $(v "$sp" ">= 1.5")" ;;
			esac
			[[ $sp == n/a ]] || sp+=x
			[[ $wo == n/a ]] || wo+=x
			printf "$tfmt" "${W[$k,name]}" "$sp" "" "${W[$k,worstfile]} $wo" "$by" "$po" "$pv" "$dp" \
				"$vs       $vw       $vb         $vp$extra"
		done
		echo
		echo "every workload at least as fast as the peer (geomean)   $([[ -z $allspeed ]] && echo PASS || echo "MISS:$allspeed")"
		echo "no file under 0.7x the peer                            $([[ -z $allworst ]] && echo PASS || echo "MISS:$allworst")"
		echo "output bytes within 10% of the peer's                  $([[ -z $allbytes ]] && echo PASS || echo "MISS:$allbytes")"
		if [[ ${BENCH_PSNR:-1} == 1 ]]; then
			echo "PSNR no more than 1 dB under the peer's                $([[ -z $allpsnr ]] && echo PASS || echo "MISS:$allpsnr")"
		fi
	fi

	# The chart: one group of bars per workload, speed relative to the peer
	# (else to the stock server, for the workloads it runs).
	if [[ $vips == 1 || $stock == 1 ]]; then
		go build -o "$tmp/benchchart" ./scripts/benchchart || fail "build scripts/benchchart"
		baseline=libvips
		[[ $vips == 1 ]] || baseline=stock
		{
			printf 'workload\timgsvc'
			[[ $vips == 1 ]] && printf '\tlibvips'
			[[ $stock == 1 ]] && printf '\tstock'
			echo
			for ((k = 0; k < wi; k++)); do
				printf '%s\t%s' "${W[$k,name]}" "${W[$k,ours]}"
				[[ $vips == 1 ]] && printf '\t%s' "${W[$k,vips]}"
				[[ $stock == 1 ]] && printf '\t%s' "${W[$k,stock]}"
				echo
			done
		} >"$tmp/chart.tsv"
		chart=${BENCH_CHART:-}
		[[ -n $chart ]] || chart=$(mktemp --suffix=.svg "${TMPDIR:-/tmp}/bench-matrix.XXXXXX")
		note="$(date -u +%Y-%m-%d) · ${#files[@]} files · $nm requests per cell at c=1, median · geometric means · $(nproc) cores"
		"$tmp/benchchart" -baseline "$baseline" -title "imgsvc against the $baseline peer, per workload" -note "$note${BENCH_CHART_NOTE:+ · $BENCH_CHART_NOTE}" \
			<"$tmp/chart.tsv" >"$chart" || fail "benchchart"
		echo
		echo "chart: $chart"
	fi
fi

if grep -q '"level":"ERROR"' "$tmp/imgsvc.log"; then
	grep '"level":"ERROR"' "$tmp/imgsvc.log" | head -5 >&2
	fail "imgsvc logged errors"
fi
