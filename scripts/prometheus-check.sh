#!/usr/bin/env bash
# Checks imgsvc's Prometheus setup with the real tools, on loopback only:
#
#   1. promtool check config on deploy/prometheus/prometheus.yml (as shipped),
#      promtool check rules and promtool test rules on the alerts;
#   2. builds ./cmd/imgsvc and starts it on free loopback ports;
#   3. starts a real Prometheus (scrape and rule interval 1s, TSDB in a temp
#      dir) on a local variant of prometheus.yml: a static target instead of
#      the Swarm DNS lookup, and the same alerts.yml;
#   4. sends successes and errors, then queries Prometheus's HTTP API until
#      the target is up and the request rate has data; prints the figures;
#   5. runs every PromQL expression of the Grafana dashboard and checks that
#      the six alert rules evaluate.
#
# Needs go, curl, and Debian's prometheus package (it provides both
# `prometheus` and `promtool`): apt-get install -y prometheus. Installs
# nothing. Exits non-zero on any failure; a trap stops what it started.
# Takes about 30 s once the binary is built.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'prometheus-check: %s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }

for tool in promtool prometheus curl go; do
	command -v "$tool" >/dev/null || fail "$tool not found (apt-get install -y prometheus curl; Go from go.dev)"
done

WORK=$(mktemp -d)
IMGSVC_PID=""
PROM_PID=""
cleanup() {
	local rc=$?
	for pid in $PROM_PID $IMGSVC_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		for f in imgsvc.log prometheus.log; do
			[ -s "$WORK/$f" ] && { say "last lines of $f:"; tail -n 15 "$WORK/$f" >&2; }
		done
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT INT TERM

# --- 1. static checks ------------------------------------------------------
say "promtool $(promtool --version 2>&1 | head -n1 | awk '{print $3}')"
promtool check config deploy/prometheus/prometheus.yml >/dev/null || fail "promtool check config deploy/prometheus/prometheus.yml"
say "ok: check config deploy/prometheus/prometheus.yml (as shipped)"
promtool check rules deploy/prometheus/alerts.yml >/dev/null || fail "promtool check rules"
rules=$(grep -c '^ *- alert:' deploy/prometheus/alerts.yml)
say "ok: check rules deploy/prometheus/alerts.yml ($rules alerts)"
out=$(promtool test rules deploy/prometheus/alerts_test.yml 2>&1) || { echo "$out" >&2; fail "promtool test rules"; }
say "ok: test rules deploy/prometheus/alerts_test.yml ($(grep -c '^ *- name:' deploy/prometheus/alerts_test.yml) test groups)"

# --- 2. imgsvc -------------------------------------------------------------
go build -o "$WORK/imgsvc" ./cmd/imgsvc
"$WORK/imgsvc" -addr 127.0.0.1:0 -admin-addr 127.0.0.1:0 -workers 2 >"$WORK/imgsvc.log" 2>&1 &
IMGSVC_PID=$!
for _ in $(seq 100); do
	grep -q '"msg":"listening"' "$WORK/imgsvc.log" 2>/dev/null && break
	kill -0 "$IMGSVC_PID" 2>/dev/null || fail "imgsvc exited at start"
	sleep 0.1
done
line=$(grep '"msg":"listening"' "$WORK/imgsvc.log") || fail "imgsvc did not log its addresses"
API=$(sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' <<<"$line")
ADMIN=$(sed -n 's/.*"admin_addr":"\([^"]*\)".*/\1/p' <<<"$line")
say "imgsvc: public $API, admin $ADMIN"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$API/metrics")
[ "$code" = 404 ] || fail "the public port answers /metrics with $code, want 404"
say "ok: /metrics is not on the public port (404)"

# --- 3. Prometheus ----------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PROM_PORT=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if port_free "$p"; then PROM_PORT=$p; break; fi
done
[ -n "$PROM_PORT" ] || fail "no free port for Prometheus"
PROM="http://127.0.0.1:$PROM_PORT"

cp deploy/prometheus/alerts.yml "$WORK/alerts.yml"
cat >"$WORK/prometheus.yml" <<EOF
# Local variant of deploy/prometheus/prometheus.yml: same job and rules,
# a static target instead of dns_sd on tasks.imgsvc, 1 s intervals.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - alerts.yml
scrape_configs:
  - job_name: imgsvc
    static_configs:
      - targets: ['$ADMIN']
EOF
promtool check config "$WORK/prometheus.yml" >/dev/null || fail "promtool check config (local variant)"
say "ok: check config of the local variant (target $ADMIN)"

prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 150); do
	curl -fs "$PROM/-/ready" >/dev/null 2>&1 && break
	kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited at start"
	sleep 0.2
done
curl -fs "$PROM/-/ready" >/dev/null || fail "prometheus not ready after 30 s"
say "prometheus $(prometheus --version 2>&1 | head -n1 | awk '{print $3}') ready on $PROM"

# query EXPR: prints the API's JSON answer.
query() { curl -fsG "$PROM/api/v1/query" --data-urlencode "query=$1"; }
# scalar EXPR: prints the value of the first sample, or nothing.
scalar() { { query "$1" || true; } | sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'; }

# --- 4. traffic and queries -------------------------------------------------
PNG="$WORK/in.png"
base64 -d >"$PNG" <<'EOF'
iVBORw0KGgoAAAANSUhEUgAAACAAAAAYCAIAAAAUMWhjAAAFg0lEQVR42hXUIcuDUACFYeMwGQwmWbxxmAwGkyzeKCaDYUmMbxSTwWCSxRuHyWAwifHGYVowLMniovHbd/7AA4fDMQyDk4Fl4BicDYTBxcA3CA2uBtIgNkgNbgaFAQalQW3QGtwNlMHDYDCYDBYDbfA0eBm8DT4GX4PDwDBMTiaWiWNyNhEmFxPfJDS5mkiT2CQ1uZkUJpiUJrVJa3I3USYPk8FkMllMtMnT5GXyNvmYfE0O8wfYnGwsG8fmbCNsLja+TWhztZE2sU1qc7MpbLApbWqb1uZuo2weNoPNZLPYaJunzcvmbfOx+doc9g9wOblYLo7L2UW4XFx8l9Dl6iJdYpfU5eZSuOBSutQurcvdRbk8XAaXyWVx0S5Pl5fL2+Xj8nU53B8gOAksgSM4C4TgIvAFoeAqkIJYkApugkKAoBTUglZwFyjBQzAIJsEi0IKn4CV4Cz6Cr+AQP8Dj5GF5OB5nD+Fx8fA9Qo+rh/SIPVKPm0fhgUfpUXu0HncP5fHwGDwmj8VDezw9Xh5vj4/H1+PwfkDAKcAKcALOASLgEuAHhAHXABkQB6QBt4AigIAyoA5oA+4BKuARMARMAUuADngGvALeAZ+Ab8AR/ICIU4QV4UScI0TEJcKPCCOuETIijkgjbhFFBBFlRB3RRtwjVMQjYoiYIpYIHfGMeEW8Iz4R34gj+gGSk8SSOJKzREguEl8SSq4SKYklqeQmKSRISkktaSV3iZI8JINkkiwSLXlKXpK35CP5Sg75AxJOCVaCk3BOEAmXBD8hTLgmyIQ4IU24JRQJJJQJdUKbcE9QCY+EIWFKWBJ0wjPhlfBO+CR8E47kB2ScMqwMJ+OcITIuGX5GmHHNkBlxRppxyygyyCgz6ow2456hMh4ZQ8aUsWTojGfGK+Od8cn4ZhzZD8g55Vg5Ts45R+RccvycMOeaI3PinDTnllPkkFPm1Dltzj1H5TxyhpwpZ8nROc+cV84755PzzTnyHwAnsMCB8//QuYAPIVz/OyeGFG5Q8J8SamjhDgoeMMAEC2h4wgve8IEvHL/3MipOFVaFU3GuEBWXCr8irLhWyIq4Iq24VRQVVJQVdUVbca9QFY+KoWKqWCp0xbPiVfGu+FR8K47qBzScGqwGp+HcIBouDX5D2HBtkA1xQ9pwaygaaCgb6oa24d6gGh4NQ8PUsDTohmfDq+Hd8Gn4NhzND+g4dVgdTse5Q3RcOvyOsOPaITvijrTj1lF00FF21B1tx71DdTw6ho6pY+nQHc+OV8e749Px7Ti6H6A4KSyFozgrhOKi8BWh4qqQiliRKm6KQv23XipqRau4K5TioRgUk2JRaMVT8VK8FR/FV3GoH9Bz6rF6nJ5zj+i59Pg9Yc+1R/bEPWnPrafooafsqXvannuP6nn0DD1Tz9Kje549r553z6fn23P0P2DkNGKNOCPnETFyGfFHwpHriByJR9KR20gxwkg5Uo+0I/cRNfIYGUamkWVEjzxHXiPvkc/Id+QYf8DMacaacWbOM2LmMuPPhDPXGTkTz6Qzt5lihplypp5pZ+4zauYxM8xMM8uMnnnOvGbeM5+Z78wx/wDNSWNpHM1ZIzQXja8JNVeN1MSaVHPTFPp/6qWm1rSau0ZpHppBM2kWjdY8NS/NW/PRfDWH/gErpxVrxVk5r4iVy4q/Eq5cV+RKvJKu3FaKFVbKlXqlXbmvqJXHyrAyrSwreuW58lp5r3xWvivH+gM2ThvWhrNx3hAblw1/I9y4bsiNeCPduG0UG2yUG/VGu3HfUBuPjWFj2lg29MZz47Xx3vhsfDeO7QfsnHasHWfnvCN2Ljv+Trhz3ZE78U66c9spdtgpd+qddue+o3YeO8POtLPs6J3nzmvnvfPZ+e4cO39nPzU9F59ANwAAAABJRU5ErkJggg==
EOF
sent=0
send_round() {
	local c
	c=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$PNG" -H 'Content-Type: image/png' "http://$API/v1/process?width=16&format=jpeg")
	[ "$c" = 200 ] || fail "POST /v1/process answered $c, want 200"
	c=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$PNG" -H 'Content-Type: image/png' "http://$API/v1/info")
	[ "$c" = 200 ] || fail "POST /v1/info answered $c, want 200"
	c=$(curl -s -o /dev/null -w '%{http_code}' --data-binary 'hello' -H 'Content-Type: text/plain' "http://$API/v1/process")
	[ "$c" = 415 ] || fail "text/plain answered $c, want 415"
	c=$(curl -s -o /dev/null -w '%{http_code}' "http://$API/no/such/route")
	[ "$c" = 404 ] || fail "unknown route answered $c, want 404"
	sent=$((sent + 4))
}

up="" rate=""
start=$SECONDS
while [ $((SECONDS - start)) -lt 60 ]; do
	send_round
	up=$(scalar 'up{job="imgsvc"}')
	rate=$(scalar 'sum(rate(imgsvc_http_requests_total{job="imgsvc"}[30s]))')
	if [ "$up" = 1 ] && [ -n "$rate" ] && [ "$rate" != 0 ]; then break; fi
	sleep 0.5
done
[ "$up" = 1 ] || fail "up{job=\"imgsvc\"} is '${up:-no data}' after 60 s, want 1"
[ -n "$rate" ] && [ "$rate" != 0 ] || fail "sum(rate(imgsvc_http_requests_total[30s])) has no data after 60 s"
say "ok: up{job=\"imgsvc\"} = $up after $((SECONDS - start)) s"
say "ok: sum(rate(imgsvc_http_requests_total[30s])) = $rate req/s ($sent requests sent)"

# Figures by series, for the record.
series() { # EXPR LABEL
	query "$1" | { grep -o "\"$2\":\"[^\"]*\"[^]]*\]" || true; } | sed -n "s/\"$2\":\"\([^\"]*\)\".*,\"\([^\"]*\)\"\]/    \1 = \2/p"
}
say "requests by route (sum of imgsvc_http_requests_total):"
series 'sum by (route) (imgsvc_http_requests_total{job="imgsvc"})' route
say "rejections by code (sum of imgsvc_http_rejections_total):"
series 'sum by (code) (imgsvc_http_rejections_total{job="imgsvc"})' code
n=$(scalar 'count(count by (code) (imgsvc_http_rejections_total{job="imgsvc"}))')
[ "${n:-0}" -ge 2 ] || fail "expected rejections with at least 2 codes, got ${n:-none}"
say "phase p95 seconds (imgsvc_phase_duration_seconds):"
series 'histogram_quantile(0.95, sum by (phase, le) (rate(imgsvc_phase_duration_seconds_bucket{job="imgsvc"}[30s])))' phase
for e in 'imgsvc_workers{job="imgsvc"}' 'imgsvc_queue_capacity{job="imgsvc"}' \
	'histogram_quantile(0.95, sum by (le) (rate(imgsvc_http_request_duration_seconds_bucket{job="imgsvc"}[30s])))' \
	'sum(imgsvc_input_pixels_sum{job="imgsvc"}) / sum(imgsvc_input_pixels_count{job="imgsvc"})' \
	'count(imgsvc_build_info{job="imgsvc"})'; do
	v=$(scalar "$e")
	[ -n "$v" ] || fail "no data for $e"
	say "    $e = $v"
done

# --- 5. dashboard and alert expressions -------------------------------------
total=0 withdata=0
while IFS= read -r expr; do
	q=${expr//\$__rate_interval/30s}
	q=${q//\$__range/5m}
	q=${q//\$instance/.*}
	ans=$(query "$q") || fail "dashboard query failed: $expr"
	grep -q '"status":"success"' <<<"$ans" || fail "dashboard query failed: $expr: $ans"
	total=$((total + 1))
	grep -q '"result":\[\]' <<<"$ans" || withdata=$((withdata + 1))
done < <(grep -o '"expr": "\([^"\\]\|\\.\)*"' deploy/grafana/dashboards/*.json |
	sed 's/^[^"]*"expr": "//; s/"$//; s/\\"/"/g; s/\\\\/\\/g')
[ "$total" -gt 0 ] || fail "no expressions found in deploy/grafana/dashboards"
say "ok: $total dashboard queries evaluate; $withdata return data now"

ok=0
for _ in $(seq 30); do
	ok=$(curl -fs "$PROM/api/v1/rules" | { grep -o '"health":"ok"' || true; } | wc -l)
	[ "$ok" -ge "$rules" ] && break
	sleep 0.5
done
[ "$ok" -ge "$rules" ] || fail "only $ok of $rules alert rules evaluate with health ok"
firing=$(curl -fs "$PROM/api/v1/alerts" | { grep -o '"alertname":"[^"]*"' || true; } | sort -u | sed 's/.*:"\(.*\)"/\1/' | tr '\n' ' ')
say "ok: $ok alert rules loaded and evaluating; active alerts: ${firing:-none}"
say "PASS in $SECONDS s"
