#!/usr/bin/env bash
# Memory bound: the inputs and connection patterns that used to push imgsvc
# past its container's memory, against the real binary and against the
# container image run with the stack file's limits.
#
#   scripts/memory.sh                 # binary, then container (when Docker runs)
#   SKIP_CONTAINER=1 scripts/memory.sh
#
# Both runs use GOMEMLIMIT=460MiB, as the stack file does. scripts/memcheck
# sends, one scenario at a time (each alone and four at once):
#   - a 16-bit RGB PNG 9000×9000 and a 16-bit RGBA PNG 7000×7000 (width=100,
#     and the 7000×7000 at full size),
#   - an interlaced RGBA PNG 9000×9000 (width=100),
#   - 200 uploads that declare Content-Length: 33000000, send 4 bytes and
#     stall for 15 s, with a normal request in the middle,
#   - 24 concurrent genuine 30 MB uploads, and the same 30 MB PNG of noise
#     re-encoded at full size as PNG and JPEG, and at 1800 px as WebP
#     (whose encoder's buffers are native), 4 at once (jobs near the budget),
# and checks peak RSS < 480 MiB in every scenario (VmHWM, reset between
# scenarios), the Go heap < 300 MB while the uploads stall, that the normal
# request is answered 200, and that every answer is 200, 413, 422 or 503.
# In the container (512 MiB, 1 CPU, as in docker-compose.yml) it then checks
# that Docker saw no OOM kill and no restart.
# Exit status: 0 when all hold. Needs go and curl; Docker for the container.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18580}
ADMIN_PORT=${ADMIN_PORT:-18581}
IMAGE=${IMAGE:-imgsvc:memcheck}
NAME=imgsvc-memcheck
work=$(mktemp -d)
pid=
cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	docker rm -f "$NAME" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

wait_healthy() {
	for _ in $(seq 1 100); do
		if curl -fsS "$1/healthz" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	echo "memory: $1 did not become healthy" >&2
	return 1
}

echo "==> building imgsvc and memcheck"
go build -o "$work/imgsvc" ./cmd/imgsvc
go build -o "$work/memcheck" ./scripts/memcheck
mkdir -p "$work/inputs"

echo "==> the binary, GOMEMLIMIT=460MiB"
GOMEMLIMIT=460MiB "$work/imgsvc" -addr "127.0.0.1:$PORT" -admin-addr "127.0.0.1:$ADMIN_PORT" -log-level warn \
	2>"$work/imgsvc.log" &
pid=$!
wait_healthy "http://127.0.0.1:$PORT"
"$work/memcheck" -url "http://127.0.0.1:$PORT" -admin "http://127.0.0.1:$ADMIN_PORT" -pid "$pid" -inputs "$work/inputs"
kill -TERM "$pid"
wait "$pid"
pid=
echo "binary: exited 0 after SIGTERM"

if [[ -n "${SKIP_CONTAINER:-}" ]]; then
	echo "==> container run SKIPPED (SKIP_CONTAINER set)"
	exit 0
fi
if ! docker info >/dev/null 2>&1; then
	echo "==> container run SKIPPED: no Docker engine reachable (docker info failed)"
	exit 0
fi

echo "==> the container image, with the stack file's limits (512 MiB, 1 CPU, GOMEMLIMIT=460MiB)"
# Always build: an image left by an earlier run may hold older code (the
# build reuses its cached layers when nothing changed).
scripts/docker-build.sh -q -t "$IMAGE" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
docker rm -f "$NAME" >/dev/null 2>&1 || true
docker run -d --name "$NAME" --memory 512m --memory-swap 512m --cpus 1 \
	-e GOMEMLIMIT=460MiB -e IMGSVC_LOG_LEVEL=warn \
	-p "127.0.0.1:$PORT:8080" -p "127.0.0.1:$ADMIN_PORT:9090" "$IMAGE" >/dev/null
wait_healthy "http://127.0.0.1:$PORT"
cpid=$(docker inspect -f '{{.State.Pid}}' "$NAME")
status=0
"$work/memcheck" -url "http://127.0.0.1:$PORT" -admin "http://127.0.0.1:$ADMIN_PORT" -pid "$cpid" -inputs "$work/inputs" || status=1
state=$(docker inspect -f 'OOMKilled={{.State.OOMKilled}} RestartCount={{.RestartCount}} Running={{.State.Running}} ExitCode={{.State.ExitCode}}' "$NAME")
echo "container: $state"
if [[ "$state" != "OOMKilled=false RestartCount=0 Running=true ExitCode=0" ]]; then
	echo "FAIL: the container was killed or restarted" >&2
	docker logs --tail 20 "$NAME" >&2 || true
	status=1
fi
exit "$status"
