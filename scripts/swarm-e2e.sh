#!/usr/bin/env bash
# End-to-end test of the imgsvc image on Docker Swarm, with no registry.
#
#   scripts/swarm-e2e.sh            # build, deploy, check, tear down
#   KEEP=1 scripts/swarm-e2e.sh     # leave the stack up on :8080 afterwards
#   scripts/swarm-e2e.sh --update   # rewrite the table in docs/status-codes.md
#                                   # instead of comparing it (= UPDATE_DOCS=1)
#
# What it does, in order (each step prints what it saw; any failure exits
# non-zero, and cleanup runs from a trap):
#   1. builds the image with scripts/docker-build.sh (never pulls),
#   2. initialises a single-node swarm if there is none (and leaves it again
#      at the end only if it made it),
#   3. deploys docker-compose.yml as stack $STACK, without Prometheus and
#      Grafana (their images cannot be pulled offline),
#   4. waits for every replica to be healthy,
#   5. sends the three input forms (raw bytes, multipart, JSON base64),
#   6. sends a set of client mistakes to the Swarm front on :$PORT and to a
#      single `docker run` container of the same image on :$ENGINE_PORT,
#      asserts the same status and problem `code`, and compares the table it
#      makes with the section of docs/status-codes.md between the swarm-e2e
#      markers: on a difference it prints a diff and fails, leaving the doc
#      as it is; with --update (or UPDATE_DOCS=1) it rewrites the section
#      instead. The two lines that say where and when the run was (front,
#      ports, date, versions) are not compared,
#   7. runs load during `docker service update --force` and asserts that no
#      request failed,
#   8. kills one task's container and asserts that Swarm replaces it.
#
# Routing mesh: Swarm's ingress and service VIPs need IPVS in the kernel. On
# a kernel without it (no /proc/net/ip_vs once the swarm is up) the ingress
# port never opens; the script then says so, deploys imgsvc with
# endpoint_mode: dnsrr and puts a small TCP round-robin proxy service
# ("edge", no retries, resolving tasks.<service> per connection) on :$PORT in
# host mode instead. LB=ingress or LB=edge forces a choice.
#
# Environment: STACK (imgsvc), PORT (8080), ENGINE_PORT (28080), KEEP (0),
# LB (auto), LOAD_CLIENTS (6), IMGSVC_VERSION (dev), BUILD=0 to reuse an
# existing image, UPDATE_DOCS (0; 1 is --update), IMGSVC_DRAIN_DELAY /
# IMGSVC_SHUTDOWN_GRACE passed to the stack.
set -euo pipefail

UPDATE_DOCS=${UPDATE_DOCS:-0}
for arg in "$@"; do
  case "$arg" in
    --update) UPDATE_DOCS=1 ;;
    -h|--help) sed -n '2,/^set -euo pipefail/{/^set/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "swarm-e2e.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

STACK=${STACK:-imgsvc}
SVC="${STACK}_imgsvc"
PORT=${PORT:-8080}
ENGINE_PORT=${ENGINE_PORT:-28080}
KEEP=${KEEP:-0}
LB=${LB:-auto}
BUILD=${BUILD:-1}
LOAD_CLIENTS=${LOAD_CLIENTS:-6}
export IMGSVC_VERSION=${IMGSVC_VERSION:-dev}
IMAGE="imgsvc:${IMGSVC_VERSION}"
EDGE_IMAGE="imgsvc-e2e-edge:local"
ENGINE_NAME="${STACK}-e2e-engine"
REPLICAS=3
STATUS_DOC="docs/status-codes.md"

WORK=$(mktemp -d)
CREATED_SWARM=0
STACK_DEPLOYED=0
ENGINE_STARTED=0
LOAD_PID=""
T0=$(date +%s)
SUMMARY=()
FAILED=0

# --- output ----------------------------------------------------------------

if [[ -t 1 ]]; then B=$'\e[1m'; G=$'\e[32m'; R=$'\e[31m'; Y=$'\e[33m'; N=$'\e[0m'; else B='' G='' R='' Y='' N=''; fi
elapsed() { echo "$(( $(date +%s) - T0 ))s"; }
step() { printf '\n%s== %s%s  (%s)\n' "$B" "$*" "$N" "$(elapsed)"; }
info() { printf '   %s\n' "$*"; }
note() { printf '   %sNOTE:%s %s\n' "$Y" "$N" "$*"; }
pass() { printf '   %sPASS%s %s\n' "$G" "$N" "$*"; SUMMARY+=("PASS  $*"); }
fail() { printf '   %sFAIL%s %s\n' "$R" "$N" "$*"; SUMMARY+=("FAIL  $*"); FAILED=1; }
die() { fail "$*"; exit 1; }

print_summary() {
  printf '\n%s== Summary%s  (%s total)\n' "$B" "$N" "$(elapsed)"
  local s
  for s in "${SUMMARY[@]}"; do printf '   %s\n' "$s"; done
}

cleanup() {
  local rc=$?
  set +e
  if [[ -n "$LOAD_PID" ]]; then kill "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null; fi
  [[ $FAILED -eq 0 && $rc -ne 0 ]] && SUMMARY+=("FAIL  aborted (exit $rc)")
  print_summary
  if [[ "$KEEP" == 1 ]]; then
    printf '\n%s== KEEP=1: leaving everything up%s\n' "$B" "$N"
    info "stack:   docker stack rm $STACK   (API on http://127.0.0.1:$PORT)"
    [[ $ENGINE_STARTED == 1 ]] && info "engine:  docker rm -f $ENGINE_NAME   (API on http://127.0.0.1:$ENGINE_PORT)"
    [[ $CREATED_SWARM == 1 ]] && info "swarm:   docker swarm leave --force   (this script created it)"
  else
    printf '\n%s== Cleanup%s\n' "$B" "$N"
    [[ $ENGINE_STARTED == 1 ]] && docker rm -f "$ENGINE_NAME" >/dev/null 2>&1 && info "removed container $ENGINE_NAME"
    if [[ $STACK_DEPLOYED == 1 ]]; then
      docker stack rm "$STACK" >/dev/null 2>&1 && info "removed stack $STACK"
      # Wait for the tasks and the network to go, so a re-run starts clean.
      for _ in $(seq 1 30); do
        [[ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$STACK")" ]] \
          && ! docker network inspect "${STACK}_imgsvc" >/dev/null 2>&1 && break
        sleep 1
      done
    fi
    if [[ $CREATED_SWARM == 1 ]]; then
      docker swarm leave --force >/dev/null 2>&1 && info "left the swarm this script created"
    fi
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers ---------------------------------------------------------------

need() { command -v "$1" >/dev/null || die "$1 is required"; }

PY=python3
pick_python() {
  local p
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then PY=$p; return; fi
  done
  die "python3 with PyYAML is required (Debian: apt-get install python3-yaml)"
}

healthy_tasks() {
  docker ps -q --filter "label=com.docker.swarm.service.name=$SVC" --filter health=healthy | wc -l
}

# wait_until SECONDS DESCRIPTION COMMAND...: poll once a second.
wait_until() {
  local limit=$1 what=$2; shift 2
  local start; start=$(date +%s)
  until "$@"; do
    if (( $(date +%s) - start >= limit )); then return 1; fi
    sleep 1
  done
  info "$what after $(( $(date +%s) - start ))s"
}

all_replicas_healthy() {
  local want=$1 run
  run=$(docker service ls --filter "name=$SVC" --format '{{.Replicas}}' | head -1)
  [[ "$run" == "$want/$want" && "$(healthy_tasks)" -ge "$want" ]] \
    && [[ "$(docker ps -q --filter "label=com.docker.swarm.service.name=$SVC" | wc -l)" -eq "$want" ]]
}

http_ok() { curl -fs -m 2 -o /dev/null "$1" 2>/dev/null; }

# A small RGB PNG written with zlib/struct only (no imaging library needed).
make_png() {
  "$PY" - "$1" "$2" "$3" <<'PY'
import struct, sys, zlib
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in ((x * 255) // max(w - 1, 1), (y * 255) // max(h - 1, 1), 128)) for y in range(h))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
open(path, "wb").write(png)
PY
}

# problem_code FILE: the "code" member of a problem+json body, or "-".
problem_code() {
  "$PY" - "$1" <<'PY'
import json, sys
try:
    print(json.load(open(sys.argv[1], "rb")).get("code") or "-")
except Exception:
    print("-")
PY
}

# status_doc DOC TABLE: with UPDATE_DOCS=1, write TABLE (a whole swarm-e2e
# section, markers included) into DOC in place of its section; otherwise
# compare TABLE with that section, print a diff and return 1 if they differ.
# The lines that say where and when the run was (front and ports; date,
# image and Engine versions) change from run to run and are not compared.
status_doc() {
  local doc=$1 table=$2 volatile='^(Last run: |\(.*\) and as a single )' cur
  if [[ "$UPDATE_DOCS" == 1 ]]; then
    "$PY" - "$doc" "$table" <<'PY'
import os, sys
doc, table = sys.argv[1], open(sys.argv[2]).read()
b, e = "<!-- swarm-e2e:begin -->", "<!-- swarm-e2e:end -->"
text = open(doc).read() if os.path.exists(doc) else ""
i, j = text.find(b), text.find(e)
if i != -1 and j > i:
    text = text[:i] + table.rstrip("\n") + text[j + len(e):]
else:
    text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + table
open(doc, "w").write(text)
PY
    info "UPDATE_DOCS=1: table written to $doc (between the swarm-e2e markers)"
    return 0
  fi
  cur=$(mktemp)
  if [[ -f "$doc" ]]; then
    awk '/<!-- swarm-e2e:begin -->/ {p = 1} p {print} /<!-- swarm-e2e:end -->/ {p = 0}' "$doc" >"$cur"
  fi
  if diff -q <(grep -Ev "$volatile" "$cur") <(grep -Ev "$volatile" "$table") >/dev/null; then
    rm -f "$cur"
    return 0
  fi
  diff -u --label "$doc (swarm-e2e section)" --label "this run" "$cur" "$table" | sed 's/^/   /' || true
  info "(the 'Last run:' line and the line naming the front are shown but not compared)"
  rm -f "$cur"
  return 1
}

# --- 0. prerequisites ------------------------------------------------------

step "Prerequisites"
need docker; need curl; pick_python
docker info >/dev/null 2>&1 || die "cannot talk to the Docker engine"
info "engine $(docker version -f '{{.Server.Version}}'), client $(docker version -f '{{.Client.Version}}'), $PY"
for p in "$PORT" "$ENGINE_PORT"; do
  if curl -s -m 1 -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null; then
    die "port $p already answers on 127.0.0.1 (a previous stack? try: docker stack rm $STACK)"
  fi
done

# --- 1. build --------------------------------------------------------------

step "1. Build $IMAGE without pulling anything"
if [[ "$BUILD" == 1 ]]; then
  b0=$(date +%s)
  if ! scripts/docker-build.sh -t "$IMAGE" >"$WORK/build.log" 2>&1; then
    tail -30 "$WORK/build.log" | sed 's/^/   /'
    die "image build failed"
  fi
  grep -E '^\[docker-build\]' "$WORK/build.log" | sed 's/^/   /'
  pass "image $IMAGE built in $(( $(date +%s) - b0 ))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MiB", $1/1048576}'), user $(docker image inspect -f '{{.Config.User}}' "$IMAGE"))"
else
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "BUILD=0 but $IMAGE does not exist"
  info "BUILD=0: using the existing $IMAGE"
fi

# --- 2. swarm --------------------------------------------------------------

step "2. Swarm"
state=$(docker info -f '{{.Swarm.LocalNodeState}}')
if [[ "$state" == active ]]; then
  [[ "$(docker info -f '{{.Swarm.ControlAvailable}}')" == true ]] || die "this node is in a swarm but is not a manager"
  info "using the existing swarm ($(docker node ls -q | wc -l) node(s)); it will be left as it is"
else
  docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null
  CREATED_SWARM=1
  info "initialised a single-node swarm on 127.0.0.1 (it will be left at the end)"
fi

if [[ "$LB" == auto ]]; then
  # dockerd loads ip_vs when the swarm starts; without it there is no mesh.
  for _ in 1 2 3; do [[ -e /proc/net/ip_vs ]] && break; sleep 1; done
  if [[ -e /proc/net/ip_vs ]]; then LB=ingress; else LB=edge; fi
fi
case "$LB" in
  ingress)
    FRONT="Swarm ingress :$PORT"
    info "IPVS present: requests go through the routing mesh on :$PORT" ;;
  edge)
    FRONT="Swarm :$PORT (edge proxy, dnsrr)"
    note "this kernel has no IPVS (/proc/net/ip_vs is missing), so Swarm's routing mesh"
    note "and service VIPs cannot work here. imgsvc is deployed with endpoint_mode: dnsrr"
    note "and a TCP round-robin proxy service ('edge', no retries) publishes :$PORT in"
    note "host mode; it picks a task from tasks.imgsvc for every new connection."
    note "(tasks.imgsvc is also the name Prometheus looks up to scrape each task)." ;;
  *) die "LB must be auto, ingress or edge" ;;
esac

# --- 3. deploy -------------------------------------------------------------

step "3. Deploy the stack '$STACK'"
if [[ "$LB" == edge ]]; then
  need go
  mkdir -p "$WORK/edge"
  cat >"$WORK/edge/main.go" <<'GO'
// edge: a TCP round-robin proxy over the addresses of a DNS name, resolved
// for every new connection (Swarm's tasks.<service>). No retries: a failed
// dial is a failed request, as it would be through IPVS.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"sort"
	"sync/atomic"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "listen address")
	name := flag.String("backend", "tasks.imgsvc", "DNS name of the backends")
	port := flag.String("port", "8080", "backend port")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("edge: %s -> %s:%s", *listen, *name, *port)
	var n atomic.Uint64
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Print(err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			ips, err := net.LookupHost(*name)
			if err != nil || len(ips) == 0 {
				log.Printf("resolve %s: %v", *name, err)
				return
			}
			sort.Strings(ips)
			addr := net.JoinHostPort(ips[n.Add(1)%uint64(len(ips))], *port)
			b, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				log.Printf("dial %s: %v", addr, err)
				return
			}
			defer b.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(b, c); b.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			go func() { io.Copy(c, b); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			<-done
			<-done
		}(c)
	}
}
GO
  ( cd "$WORK/edge" && printf 'module edge\n\ngo 1.22\n' >go.mod \
      && CGO_ENABLED=0 GOFLAGS='' GOTOOLCHAIN=local go build -o edge . ) || die "building the edge proxy failed"
  tar -C "$WORK/edge" -cf "$WORK/edge.tar" edge
  old_edge=$(docker image inspect -f '{{.Id}}' "$EDGE_IMAGE" 2>/dev/null || true)
  docker import -c 'ENTRYPOINT ["/edge"]' -c 'USER 65532:65532' "$WORK/edge.tar" "$EDGE_IMAGE" >/dev/null
  # The previous import would be left untagged; drop it.
  if [[ -n "$old_edge" && "$old_edge" != "$(docker image inspect -f '{{.Id}}' "$EDGE_IMAGE")" ]]; then
    docker rmi "$old_edge" >/dev/null 2>&1 || true
  fi
  info "edge proxy image $EDGE_IMAGE ($(docker image inspect -f '{{.Size}}' "$EDGE_IMAGE" | awk '{printf "%.1f MiB", $1/1048576}'))"
fi

# Interpolate and merge the real compose file, then leave out what cannot run
# offline (and, without IPVS, swap the mesh for the edge proxy).
docker stack config -c docker-compose.yml >"$WORK/stack.full.yml"
"$PY" - "$WORK/stack.full.yml" "$WORK/stack.yml" "$LB" "$EDGE_IMAGE" "$SVC" "$PORT" <<'PY'
import sys, yaml
src, dst, lb, edge_image, svc, port = sys.argv[1:]
d = yaml.safe_load(open(src))
services = d["services"]
left_out = [s for s in ("prometheus", "grafana") if s in services]
for s in left_out:
    del services[s]
for v in ("prometheus-data", "grafana-data"):
    (d.get("volumes") or {}).pop(v, None)
if lb == "edge":
    im = services["imgsvc"]
    im.pop("ports", None)
    im.setdefault("deploy", {})["endpoint_mode"] = "dnsrr"
    services["edge"] = {
        "image": edge_image,
        "command": ["-listen", ":8080", "-backend", "tasks.imgsvc", "-port", "8080"],
        "ports": [{"target": 8080, "published": int(port), "protocol": "tcp", "mode": "host"}],
        "networks": {"imgsvc": None},
        "read_only": True,
        "deploy": {"replicas": 1, "restart_policy": {"condition": "any"}},
    }
yaml.safe_dump(d, open(dst, "w"), sort_keys=False)
PY
note "Prometheus and Grafana are LEFT OUT of this deployment: their images cannot be"
note "pulled without a registry. The stack file used is docker-compose.yml as merged by"
note "'docker stack config', minus those two services$( [[ $LB == edge ]] && echo ', plus the edge proxy')."
IMGSVC_IMAGE=imgsvc docker stack deploy --resolve-image never --detach=true -c "$WORK/stack.yml" "$STACK" 2>&1 \
  | grep -v -e '^$' -e 'Since --detach' -e 'In a future release' | sed 's/^/   /'
STACK_DEPLOYED=1

# --- 4. healthy ------------------------------------------------------------

step "4. Wait for $REPLICAS healthy replicas"
d0=$(date +%s)
wait_until 120 "$REPLICAS/$REPLICAS replicas running and healthy" all_replicas_healthy "$REPLICAS" \
  || { docker service ps --no-trunc "$SVC" | sed 's/^/   /'; die "replicas not healthy within 120s"; }
wait_until 60 "http://127.0.0.1:$PORT/healthz answers" http_ok "http://127.0.0.1:$PORT/healthz" \
  || die ":$PORT does not answer /healthz"
docker service ps "$SVC" --filter desired-state=running --format '{{.Name}}  {{.CurrentState}}  {{.Node}}' | sed 's/^/   /'
cid=$(docker ps -q --filter "label=com.docker.swarm.service.name=$SVC" | head -1)
info "task container: user=$(docker inspect -f '{{.Config.User}}' "$cid") read_only=$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$cid") memory=$(docker inspect -f '{{.HostConfig.Memory}}' "$cid") nano_cpus=$(docker inspect -f '{{.HostConfig.NanoCpus}}' "$cid") health=$(docker inspect -f '{{.State.Health.Status}}' "$cid")"
startup=$(docker logs "$cid" 2>&1 | grep -m1 -io '.*gomaxprocs[^,}]*' | grep -o '"gomaxprocs":[0-9]*\|gomaxprocs=[0-9]*' | head -1 || true)
[[ -n "$startup" ]] && info "startup log: $startup, GOMEMLIMIT=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$cid" | sed -n 's/^GOMEMLIMIT=//p')"
pass "$REPLICAS/$REPLICAS replicas healthy $(( $(date +%s) - d0 ))s after deploy"

# The single-container comparison: same image, plain `docker run`.
docker rm -f "$ENGINE_NAME" >/dev/null 2>&1 || true
docker run -d --name "$ENGINE_NAME" -p "127.0.0.1:$ENGINE_PORT:8080" \
  --read-only --tmpfs /tmp:size=64m --cap-drop ALL "$IMAGE" >/dev/null
ENGINE_STARTED=1
wait_until 60 "docker run container $ENGINE_NAME answers on :$ENGINE_PORT" http_ok "http://127.0.0.1:$ENGINE_PORT/healthz" \
  || die "the docker run container did not come up"

# --- 5. input forms --------------------------------------------------------

step "5. The three input forms through $FRONT"
make_png "$WORK/in.png" 64 48
"$PY" - "$WORK/in.png" "$WORK/in.json" <<'PY'
import base64, json, sys
json.dump({"image_b64": base64.b64encode(open(sys.argv[1], "rb").read()).decode()}, open(sys.argv[2], "w"))
PY
info "test image: 64x48 PNG, $(wc -c <"$WORK/in.png") bytes"
form_check() { # name expected-content-type curl-args...
  local name=$1 want=$2; shift 2
  local code ctype
  read -r code ctype < <(curl -sS -m 20 -o "$WORK/out.$name" -w '%{http_code} %{content_type}\n' "$@" || echo "000 -")
  if [[ "$code" == 200 && "$ctype" == $want* && -s "$WORK/out.$name" ]]; then
    pass "input form $name: 200 $ctype, $(wc -c <"$WORK/out.$name") bytes"
  else
    fail "input form $name: got $code $ctype $(head -c 200 "$WORK/out.$name" 2>/dev/null)"
  fi
}
U="http://127.0.0.1:$PORT/v1/process?width=32"
form_check raw       image/ -X POST -H 'Content-Type: image/png' --data-binary "@$WORK/in.png" "$U"
form_check multipart image/ -X POST -F "image=@$WORK/in.png;type=image/png" "$U"
# JSON in, JSON out: the result comes back base64-encoded in image_b64.
form_check json      application/json -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/in.json" "$U"
if [[ -s "$WORK/out.json" ]] && ! grep -q '"image_b64"' "$WORK/out.json"; then
  fail "input form json: the answer has no image_b64"
fi

# --- 6. client mistakes: Swarm vs Engine -----------------------------------

step "6. Client mistakes: $FRONT vs docker run :$ENGINE_PORT"
"$PY" -c 'import sys; sys.stdout.buffer.write(b"\0" * (33 * 1024 * 1024))' >"$WORK/big.bin"
printf '{"image": "%s"}' "$(base64 -w0 "$WORK/in.png")" >"$WORK/wrongkey.json"
printf '{"image_b64": "this is not base64!"}' >"$WORK/badb64.json"

# route | case | curl arguments (the URL path is appended to the base)
CASES=(
  "POST /v1/process|no Content-Type (--data-binary @file)|-X POST -H Content-Type: --data-binary @$WORK/in.png|/v1/process"
  "POST /v1/process|curl -d @file (form-urlencoded)|-X POST -d @$WORK/in.png|/v1/process"
  "POST /v1/process|Content-Type: text/plain|-X POST -H Content-Type:text/plain --data-binary @$WORK/in.png|/v1/process"
  "POST /v1/process|a file path as the body|-X POST -H Content-Type:image/png --data-binary ./photos/cat.png|/v1/process"
  "POST /v1/process|JSON with key image instead of image_b64|-X POST -H Content-Type:application/json --data-binary @$WORK/wrongkey.json|/v1/process"
  "POST /v1/process|JSON image_b64 that is not base64|-X POST -H Content-Type:application/json --data-binary @$WORK/badb64.json|/v1/process"
  "POST /v1/process|unknown option ?wdith=100|-X POST -H Content-Type:image/png --data-binary @$WORK/in.png|/v1/process?wdith=100"
  "POST /v1/info|no Content-Type|-X POST -H Content-Type: --data-binary @$WORK/in.png|/v1/info"
  "GET /v1/nope|unknown route|-X GET|/v1/nope"
  "GET /v1/process|wrong method|-X GET|/v1/process"
  "POST /v1/process|body over the limit (33 MiB)|-X POST -H Content-Type:image/png --data-binary @$WORK/big.bin|/v1/process"
)

probe() { # base args... -> "status code"
  local base=$1 args=$2 path=$3 out="$WORK/probe.body" st
  # shellcheck disable=SC2086
  st=$(curl -sS -m 30 -o "$out" -w '%{http_code}' $args "$base$path" 2>/dev/null) || st=${st:-000}
  echo "$st $(problem_code "$out")"
  rm -f "$out"
}

ROWS=()
mism=0
for c in "${CASES[@]}"; do
  IFS='|' read -r route what args path <<<"$c"
  read -r s_st s_code < <(probe "http://127.0.0.1:$PORT" "$args" "$path")
  read -r e_st e_code < <(probe "http://127.0.0.1:$ENGINE_PORT" "$args" "$path")
  if [[ "$s_st" == "$e_st" && "$s_code" == "$e_code" && "$s_st" =~ ^4 ]]; then m=yes; else m=NO; mism=$((mism + 1)); fi
  printf '   %-18s %-42s swarm %s %-26s engine %s %-26s %s\n' "$route" "$what" "$s_st" "$s_code" "$e_st" "$e_code" "$m"
  ROWS+=("| \`$route\` | $what | $s_st \`$s_code\` | $e_st \`$e_code\` | $m |")
done
if [[ $mism -eq 0 ]]; then
  pass "${#CASES[@]} client mistakes: same 4xx status and code from Swarm and docker run"
else
  fail "$mism of ${#CASES[@]} client mistakes differ between Swarm and docker run (or were not 4xx)"
fi

{
  echo "<!-- swarm-e2e:begin -->"
  echo "<!-- Written by scripts/swarm-e2e.sh; edits inside these markers are overwritten. -->"
  echo
  echo "### Swarm vs Engine: client mistakes"
  echo
  echo "The same image answering the same mistaken requests through the Swarm front"
  echo "($FRONT, 3 replicas) and as a single \`docker run -p $ENGINE_PORT:8080\` container."
  echo "Last run: $(date -u +%Y-%m-%d), image $IMAGE ($(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE")), Docker Engine $(docker version -f '{{.Server.Version}}')."
  echo
  echo "| Route | Case | Swarm status, code | Engine (docker run) status, code | Match |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "<!-- swarm-e2e:end -->"
} >"$WORK/table.md"
if status_doc "$STATUS_DOC" "$WORK/table.md"; then
  [[ "$UPDATE_DOCS" == 1 ]] || pass "the table matches $STATUS_DOC"
else
  fail "the table differs from the one in $STATUS_DOC (diff above); if the change is meant, run scripts/swarm-e2e.sh --update and commit the doc"
fi

# --- 7. rolling update under load ------------------------------------------

# load.py OUT STOPFILE MAXSECS CLIENTS URL PNG: half the clients keep their
# connection alive, half open a new one per request. Bounded in time.
cat >"$WORK/load.py" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
out, stopfile, maxsecs, clients, url, png = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
u = urllib.parse.urlsplit(url)
body = open(png, "rb").read()
path = u.path + ("?" + u.query if u.query else "")
lock = threading.Lock()
stats = {"sent": 0, "ok": 0, "failed": 0, "errors": {}, "first_fail": None, "last_fail": None,
         "keepalive": {"sent": 0, "failed": 0}, "new_conn": {"sent": 0, "failed": 0}}
t0 = time.time()
import os
def stop():
    return os.path.exists(stopfile) or time.time() - t0 > maxsecs
def worker(keep):
    kind = "keepalive" if keep else "new_conn"
    conn = None
    while not stop():
        err = None
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            hdr = {"Content-Type": "image/png"}
            if not keep:
                hdr["Connection"] = "close"
            conn.request("POST", path, body=body, headers=hdr)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                err = "HTTP %d" % r.status
            if not keep or r.getheader("Connection", "").lower() == "close":
                conn.close(); conn = None
        except Exception as e:
            err = type(e).__name__
            try:
                conn.close()
            except Exception:
                pass
            conn = None
        with lock:
            stats["sent"] += 1
            stats[kind]["sent"] += 1
            if err:
                now = round(time.time() - t0, 2)
                stats["failed"] += 1
                stats[kind]["failed"] += 1
                stats["errors"][err] = stats["errors"].get(err, 0) + 1
                stats["first_fail"] = stats["first_fail"] or now
                stats["last_fail"] = now
            else:
                stats["ok"] += 1
ts = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(clients)]
for t in ts: t.start()
for t in ts: t.join()
stats["seconds"] = round(time.time() - t0, 1)
stats["rps"] = round(stats["sent"] / max(stats["seconds"], 0.1), 1)
json.dump(stats, open(out, "w"))
PY

start_load() { # name maxsecs
  rm -f "$WORK/stop"
  "$PY" "$WORK/load.py" "$WORK/load.$1.json" "$WORK/stop" "$2" "$LOAD_CLIENTS" \
    "http://127.0.0.1:$PORT/v1/process?width=32" "$WORK/in.png" &
  LOAD_PID=$!
}
stop_load() { # name -> prints figures
  touch "$WORK/stop"
  wait "$LOAD_PID" || true
  LOAD_PID=""
  "$PY" - "$WORK/load.$1.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("   load: %(sent)d requests in %(seconds)ss (%(rps)s req/s), %(ok)d ok, %(failed)d failed" % s)
print("         keep-alive clients: %d sent, %d failed; new connection per request: %d sent, %d failed"
      % (s["keepalive"]["sent"], s["keepalive"]["failed"], s["new_conn"]["sent"], s["new_conn"]["failed"]))
if s["failed"]:
    print("         errors: %s, between t=%ss and t=%ss" % (s["errors"], s["first_fail"], s["last_fail"]))
PY
}
load_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/load.$1.json" "$2"; }

update_state() { docker service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$SVC"; }
update_done() { local s; s=$(update_state); [[ "$s" == completed || "$s" == rollback_completed || "$s" == paused || "$s" == rollback_paused ]]; }

step "7. Rolling update (docker service update --force) under load"
start_load update 420
sleep 5
old_tasks=$(docker service ps -q --filter desired-state=running "$SVC" | sort | tr '\n' ' ')
u0=$(date +%s)
docker service update --force --detach=true "$SVC" >/dev/null
info "update started; order=$(docker service inspect -f '{{.Spec.UpdateConfig.Order}}' "$SVC") parallelism=$(docker service inspect -f '{{.Spec.UpdateConfig.Parallelism}}' "$SVC") delay=$(docker service inspect -f '{{.Spec.UpdateConfig.Delay}}' "$SVC") monitor=$(docker service inspect -f '{{.Spec.UpdateConfig.Monitor}}' "$SVC")"
wait_until 300 "update finished" update_done >/dev/null || { stop_load update; die "the update did not finish within 300s"; }
ustate=$(update_state)
utook=$(( $(date +%s) - u0 ))
info "update state: $ustate after ${utook}s"
wait_until 60 "$REPLICAS/$REPLICAS healthy again" all_replicas_healthy "$REPLICAS" || true
sleep 3
stop_load update
new_tasks=$(docker service ps -q --filter desired-state=running "$SVC" | sort | tr '\n' ' ')
[[ "$ustate" == completed ]] || fail "rolling update ended in state $ustate"
[[ "$old_tasks" != "$new_tasks" ]] || fail "rolling update replaced no task"
sent=$(load_field update sent); failed=$(load_field update failed)
if [[ "$ustate" == completed && "$failed" -eq 0 && "$sent" -gt 0 ]]; then
  pass "rolling update: $REPLICAS tasks replaced in ${utook}s; $sent requests during it, 0 failed"
else
  fail "rolling update: $sent requests during it, $failed failed (state $ustate, ${utook}s)"
fi

# --- 8. kill a task --------------------------------------------------------

step "8. Kill one task's container; Swarm must replace it"
victim=$(docker ps -q --filter "label=com.docker.swarm.service.name=$SVC" | head -1)
vtask=$(docker inspect -f '{{index .Config.Labels "com.docker.swarm.task.id"}}' "$victim")
start_load kill 120
sleep 2
k0=$(date +%s)
docker kill "$victim" >/dev/null
info "killed container ${victim:0:12} (task ${vtask:0:12})"
replaced() {
  all_replicas_healthy "$REPLICAS" && ! docker ps -q --no-trunc --filter "label=com.docker.swarm.task.id=$vtask" | grep -q .
}
if wait_until 120 "replacement running and healthy" replaced; then
  ktook=$(( $(date +%s) - k0 ))
  sleep 2
  stop_load kill
  pass "killed task replaced: $REPLICAS/$REPLICAS healthy again ${ktook}s after docker kill ($(load_field kill failed) of $(load_field kill sent) requests failed meanwhile; not asserted)"
else
  stop_load kill
  docker service ps "$SVC" | sed 's/^/   /'
  fail "no healthy replacement within 120s of docker kill"
fi
docker service ps "$SVC" --format '{{.Name}}  {{.DesiredState}}/{{.CurrentState}}  {{.Error}}' | head -12 | sed 's/^/   /'

[[ $FAILED -eq 0 ]] || exit 1
