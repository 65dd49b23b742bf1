#!/usr/bin/env bash
# Build the imgsvc container image from ./Dockerfile, with or without a
# registry.
#
#   scripts/docker-build.sh                 # auto: never pulls
#   scripts/docker-build.sh --online        # plain build, golang:1.26 and debian:bookworm-slim pulled
#   scripts/docker-build.sh -t imgsvc:1.2.0 --version 1.2.0
#
# Modes
#   auto     (default) use GO_IMAGE (golang:1.26) and NATIVE_IMAGE
#            (debian:bookworm-slim) if the engine already has both, otherwise
#            make a local builder image (offline mode).
#   online   docker build with GO_IMAGE and NATIVE_IMAGE as they are; the
#            engine pulls them, and the native stage apt-get installs the
#            native libraries.
#   offline  make a local builder image from what this machine has and build
#            the same Dockerfile with --build-arg GO_IMAGE=<that image> and
#            NATIVE_IMAGE=<that image>:
#              - the host's Go toolchain (GOROOT, test/ and api/ left out),
#              - a static busybox for the RUN steps (Debian's busybox-static,
#                fetched with `apt-get download` once and kept in
#                .cache/docker-build/, or the file named by $BUSYBOX),
#              - the host's CA bundle,
#              - a module cache holding exactly the modules the build needs
#                (filled on the host through the host's GOPROXY / module
#                cache; the container itself runs with GOPROXY=off),
#              - the native libraries: the Debian packages named by
#                NATIVE_PKGS in the Dockerfile, with their dependency
#                closure, the loader and libc, collected from the host by
#                scripts/dlprobe/native-libs.sh into /opt/imgsvc-native (the
#                host must be Debian 12; missing packages are apt-get
#                installed when running as root).
#            The builder image is tagged by Go version and a hash of
#            go.mod/go.sum, the collector and the native packages'
#            versions, and is reused while those do not change.
#
# After the build, a smoke test runs the image with a read-only root
# filesystem and no network: /dlprobe must dlopen every native library
# (through purego, as the service does) and `/imgsvc version` must start.
# A failure fails the script.
#
# Options
#   -t, --tag TAG      tag the result (repeatable; default imgsvc:${IMGSVC_VERSION:-dev})
#   --version V        version stamped into the binary and the OCI labels
#                      (default: git describe --tags --always --dirty)
#   --commit C         commit stamped into the binary (default: git rev-parse HEAD)
#   --mode M           auto | online | offline
#   --online|--offline shorthands for --mode
#   --go-image IMAGE   builder image for online/auto (default golang:1.26)
#   --no-cache         pass --no-cache to docker build
#   -q, --quiet        less docker build output
#   -h, --help
#
# Environment: DOCKER_BUILDKIT is set to 0 when the buildx plugin is missing
# (the Dockerfile needs no BuildKit features). BUSYBOX=/path/to/static/busybox
# skips the apt-get download. NATIVE_PKGS="..." overrides the Dockerfile's
# list of native library packages (passed as a build argument).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '[docker-build] %s\n' "$*" >&2; }
die() { printf '[docker-build] ERROR: %s\n' "$*" >&2; exit 1; }

MODE=auto
GO_IMAGE=${GO_IMAGE:-golang:1.26}
TAGS=()
VERSION=${VERSION:-}
COMMIT=${COMMIT:-}
NO_CACHE=()
QUIET=()
CACHE_DIR="$ROOT/.cache/docker-build"
BUILDER_REPO=imgsvc-builder
# Bump when the builder image recipe below changes.
BUILDER_RECIPE=3
# The native library packages and the Debian release they are named for: one
# list, in the Dockerfile (ARG NATIVE_PKGS); the environment may override it.
dockerfile_arg() { sed -n "s/^ARG $1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" Dockerfile | head -n 1; }
NATIVE_PKGS=${NATIVE_PKGS:-$(dockerfile_arg NATIVE_PKGS)}
NATIVE_IMAGE=$(dockerfile_arg NATIVE_IMAGE)
NATIVE_SUITE=$(dockerfile_arg NATIVE_SUITE)
CLEANUP=()
trap 'rm -rf "${CLEANUP[@]}"' EXIT

while [[ $# -gt 0 ]]; do
  case "$1" in
    -t|--tag) TAGS+=("$2"); shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --commit) COMMIT=$2; shift 2 ;;
    --mode) MODE=$2; shift 2 ;;
    --online) MODE=online; shift ;;
    --offline) MODE=offline; shift ;;
    --go-image) GO_IMAGE=$2; shift 2 ;;
    --no-cache) NO_CACHE=(--no-cache); shift ;;
    -q|--quiet) QUIET=(-q); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case "$MODE" in auto|online|offline) ;; *) die "--mode must be auto, online or offline" ;; esac

command -v docker >/dev/null || die "docker not found"
docker info >/dev/null 2>&1 || die "cannot talk to the Docker engine"

[[ ${#TAGS[@]} -gt 0 ]] || TAGS=("imgsvc:${IMGSVC_VERSION:-dev}")
if [[ -z "$VERSION" ]]; then
  VERSION=$(git describe --tags --always --dirty 2>/dev/null) || VERSION=dev
fi
if [[ -z "$COMMIT" ]]; then
  COMMIT=$(git rev-parse --verify -q HEAD 2>/dev/null) || COMMIT=unknown
fi
# They end up in -ldflags -X and in labels: one word each.
for v in "$VERSION" "$COMMIT"; do
  [[ "$v" =~ ^[A-Za-z0-9._+-]+$ ]] || die "version/commit must match [A-Za-z0-9._+-]+, got '$v'"
done
BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# The classic builder is enough; only use BuildKit when buildx is there.
if [[ -z "${DOCKER_BUILDKIT:-}" ]]; then
  if docker buildx version >/dev/null 2>&1; then
    export DOCKER_BUILDKIT=1
  else
    export DOCKER_BUILDKIT=0
  fi
fi
if [[ "$DOCKER_BUILDKIT" == 0 ]]; then
  BUILDER_DESC="classic builder (DOCKER_BUILDKIT=0, buildx not installed)"
else
  BUILDER_DESC="BuildKit"
fi

# --- offline builder image -------------------------------------------------

find_busybox() {
  if [[ -n "${BUSYBOX:-}" ]]; then
    [[ -x "$BUSYBOX" ]] || die "BUSYBOX=$BUSYBOX is not executable"
    echo "$BUSYBOX"; return
  fi
  local bb="$CACHE_DIR/busybox"
  if [[ ! -x "$bb" ]]; then
    command -v apt-get >/dev/null || die "no static busybox: set BUSYBOX=/path/to/static/busybox"
    log "fetching Debian's busybox-static with apt-get download (once)"
    local tmp; tmp=$(mktemp -d)
    chmod 777 "$tmp"   # apt's _apt user downloads into it
    ( cd "$tmp" && apt-get download -q busybox-static >&2 ) \
      || die "apt-get download busybox-static failed (run apt-get update, or set BUSYBOX=)"
    dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
    mkdir -p "$CACHE_DIR"
    cp "$tmp/x/bin/busybox" "$bb"
    rm -rf "$tmp"
  fi
  echo "$bb"
}

# The native libraries from this host's Debian packages, as a root filesystem
# tree in $1 (scripts/dlprobe/native-libs.sh: NATIVE_PKGS' libraries, their
# closure, the loader, libc). apt-get installs missing packages when it can.
collect_native() {
  local dest=$1 release codename pkg missing=()
  release=$( (. /etc/os-release && echo "${PRETTY_NAME:-unknown}") 2>/dev/null || echo unknown)
  codename=$( (. /etc/os-release && echo "${VERSION_CODENAME:-}") 2>/dev/null || true)
  [[ "$codename" == "$NATIVE_SUITE" ]] \
    || die "offline mode copies the native libraries (NATIVE_PKGS) from this host's Debian $NATIVE_SUITE packages; this host is $release"
  command -v dpkg-query >/dev/null || die "dpkg-query not found"
  for pkg in $NATIVE_PKGS; do
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" == installed ]] || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
      die "install the native library packages first: apt-get install --no-install-recommends ${missing[*]}"
    fi
    log "apt-get install --no-install-recommends ${missing[*]} (native libraries for the image)"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
    "${apt[@]}" >&2 || { apt-get update -q >&2 && "${apt[@]}" >&2; } \
      || die "apt-get install ${missing[*]} failed"
  fi
  sh scripts/dlprobe/native-libs.sh "$dest" $NATIVE_PKGS >&2 \
    || die "collecting the native libraries of $NATIVE_PKGS failed"
}

make_builder_image() {
  command -v go >/dev/null || die "offline mode needs Go on the host (go not in PATH)"
  local goroot gover hash tag stage native
  goroot=$(go env GOROOT)
  gover=$(go env GOVERSION)
  stage=$(mktemp -d)
  CLEANUP+=("$stage")
  # Collected first (a few seconds): their package versions are part of the tag.
  native="$stage/opt/imgsvc-native"
  collect_native "$native"
  hash=$(cat go.mod go.sum scripts/dlprobe/native-libs.sh \
             "$native/usr/share/imgsvc/native-libs" \
             <(grep -h -E '^(Package|Version):' "$native"/var/lib/dpkg/status.d/*) \
             <(echo "recipe=$BUILDER_RECIPE") | sha256sum | cut -c1-12)
  tag="$BUILDER_REPO:${gover}-${hash}"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "reusing builder image $tag"
    echo "$tag"; return
  fi
  log "making builder image $tag from the host's $gover ($goroot)"

  local bb
  bb=$(find_busybox)

  mkdir -p "$stage"/{bin,etc/ssl/certs,root,tmp,go/pkg/mod,usr/local}
  chmod 1777 "$stage/tmp"
  cp "$bb" "$stage/bin/busybox"
  local applet
  for applet in $("$stage/bin/busybox" --list); do
    [[ "$applet" == busybox ]] || ln -s busybox "$stage/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
  printf 'root:x:0:\n' >"$stage/etc/group"
  local ca
  for ca in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
    if [[ -f "$ca" ]]; then cp "$ca" "$stage/etc/ssl/certs/ca-certificates.crt"; break; fi
  done
  [[ -f "$stage/etc/ssl/certs/ca-certificates.crt" ]] || die "no CA bundle found on the host"

  # Modules: fill a fresh cache with what `go mod download` and the build of
  # ./cmd/imgsvc need, preferring the host's own module cache, then its
  # GOPROXY. -mod=readonly: never touch go.mod/go.sum in the work tree.
  local hostcache proxy
  hostcache=$(go env GOMODCACHE)
  proxy="file://$hostcache/cache/download,$(go env GOPROXY)"
  log "filling the builder's module cache (GOPROXY=$proxy)"
  (
    export GOMODCACHE="$stage/go/pkg/mod" GOPROXY="$proxy" GOFLAGS="-mod=readonly -modcacherw"
    go mod download
    if [[ -d cmd/imgsvc ]]; then
      GOOS=linux CGO_ENABLED=0 go list -e -deps ./cmd/imgsvc ./scripts/dlprobe >/dev/null
    fi
  ) || die "could not download the modules the build needs"
  log "module cache: $(du -sh "$stage/go/pkg/mod" | cut -f1)"

  log "importing (Go toolchain $(du -sh "$goroot" | cut -f1) + busybox + module cache + native libraries $(du -sh "$native" | cut -f1))"
  local gobase tarball="$stage/rootfs.tar"
  gobase=$(basename "$goroot")
  tar -C "$stage" -cf "$tarball" bin etc root tmp go opt
  # GOROOT goes in as /usr/local/go, whatever its path on the host.
  tar -C "$(dirname "$goroot")" -rf "$tarball" --anchored \
      --exclude="$gobase/test" --exclude="$gobase/api" \
      --transform "s,^$gobase,usr/local/go," \
      "$gobase"
  docker import \
      -c 'ENV PATH=/usr/local/go/bin:/go/bin:/bin' \
      -c 'ENV HOME=/root GOPATH=/go GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build' \
      -c 'ENV GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off CGO_ENABLED=0' \
      -c 'WORKDIR /src' \
      -c 'CMD ["/bin/sh"]' \
      -m "imgsvc offline builder: $gover + busybox + module cache + native libraries" \
      "$tarball" "$tag" >/dev/null
  docker run --rm "$tag" go version >&2 || die "builder image $tag does not run go"
  local stale
  stale=$(docker images --format '{{.Repository}}:{{.Tag}}' "$BUILDER_REPO" | grep -vx "$tag" | tr '\n' ' ' || true)
  [[ -z "$stale" ]] || log "older builder images (docker rmi them when unused): $stale"
  echo "$tag"
}

# --- build -----------------------------------------------------------------

case "$MODE" in
  online)
    BUILD_GO_IMAGE=$GO_IMAGE BUILD_NATIVE_IMAGE=$NATIVE_IMAGE
    log "online build: the engine pulls $GO_IMAGE and $NATIVE_IMAGE if it does not have them" ;;
  auto)
    if docker image inspect "$GO_IMAGE" >/dev/null 2>&1 && docker image inspect "$NATIVE_IMAGE" >/dev/null 2>&1; then
      BUILD_GO_IMAGE=$GO_IMAGE BUILD_NATIVE_IMAGE=$NATIVE_IMAGE
      log "auto: $GO_IMAGE and $NATIVE_IMAGE are present locally, using them"
    else
      log "auto: $GO_IMAGE or $NATIVE_IMAGE is not present locally, building offline (nothing is pulled)"
      BUILD_GO_IMAGE=$(make_builder_image)
      BUILD_NATIVE_IMAGE=$BUILD_GO_IMAGE
    fi ;;
  offline)
    BUILD_GO_IMAGE=$(make_builder_image)
    BUILD_NATIVE_IMAGE=$BUILD_GO_IMAGE ;;
esac

TAG_ARGS=()
for t in "${TAGS[@]}"; do TAG_ARGS+=(-t "$t"); done

log "docker build with the $BUILDER_DESC"
log "  GO_IMAGE=$BUILD_GO_IMAGE VERSION=$VERSION COMMIT=$COMMIT"
log "  NATIVE_IMAGE=$BUILD_NATIVE_IMAGE NATIVE_PKGS=$NATIVE_PKGS"
start=$(date +%s)
docker build --force-rm "${QUIET[@]}" "${NO_CACHE[@]}" \
  --build-arg "GO_IMAGE=$BUILD_GO_IMAGE" \
  --build-arg "VERSION=$VERSION" \
  --build-arg "COMMIT=$COMMIT" \
  --build-arg "BUILD_DATE=$BUILD_DATE" \
  --build-arg "NATIVE_IMAGE=$BUILD_NATIVE_IMAGE" \
  --build-arg "NATIVE_PKGS=$NATIVE_PKGS" \
  "${TAG_ARGS[@]}" \
  -f Dockerfile . >&2
took=$(( $(date +%s) - start ))

img=${TAGS[0]}
log "built in ${took}s: ${TAGS[*]}"
log "  id:      $(docker image inspect -f '{{.Id}}' "$img")"
log "  size:    $(docker image inspect -f '{{.Size}}' "$img" | awk '{printf "%.1f MiB", $1/1048576}')"
log "  user:    $(docker image inspect -f '{{.Config.User}}' "$img")"
log "  version: $(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$img")"
log "  layers:  $(docker image inspect -f '{{len .RootFS.Layers}}' "$img") (native libraries, rootfs, binary)"

# --- smoke test ------------------------------------------------------------
# As it will run: read-only root filesystem, non-root, no network. The
# libraries must dlopen through purego (and answer a trivial call), the
# binary must start, and there must be no shell.
log "smoke test: docker run --rm --read-only --entrypoint /dlprobe $img"
docker run --rm --read-only --network none --entrypoint /dlprobe "$img" 2>&1 | sed 's/^/    /' >&2 \
  || die "smoke test: the image cannot load its native libraries (see above)"
log "smoke test: docker run --rm --read-only $img version"
docker run --rm --read-only --network none "$img" version 2>&1 | sed 's/^/    /' >&2 \
  || die "smoke test: /imgsvc does not start in the image"
if docker run --rm --network none --entrypoint /bin/sh "$img" -c true >/dev/null 2>&1; then
  die "smoke test: the image has a shell (/bin/sh)"
fi
log "smoke test passed"
# The image name on stdout, for scripts: IMG=$(scripts/docker-build.sh)
echo "$img"
