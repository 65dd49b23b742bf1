# imgsvc container image.
#
# Online (any Docker, classic builder or BuildKit):
#     docker build -t imgsvc:dev .
#
# Offline (no registry): scripts/docker-build.sh makes a local builder image
# from the host's Go toolchain, module cache and native libraries and passes
# it as GO_IMAGE and NATIVE_IMAGE. See docs/deploy.md.
#
# The file deliberately avoids BuildKit-only syntax (RUN --mount, heredocs)
# so that the classic builder (DOCKER_BUILDKIT=0) builds it too.

# Any image with a POSIX shell and a Go toolchain >= the version in go.mod.
ARG GO_IMAGE=golang:1.26

# Debian packages whose shared libraries the image carries for the codecs the
# service dlopens at run time (purego, no cgo), with their dependency closure,
# the dynamic loader and libc. Adding one (libavif15) is a change to this line
# only; scripts/docker-build.sh reads it from here.
ARG NATIVE_PKGS="libwebp7 libwebpdemux2 libwebpmux3 libheif1"
# The Debian release they come from, whatever GO_IMAGE is based on (golang:1.26
# is Debian 13, whose libheif has its decoders in separate plugin packages).
ARG NATIVE_IMAGE=debian:bookworm-slim
ARG NATIVE_SUITE=bookworm

# ---------------------------------------------------------------------------
# Native libraries, as a root filesystem tree in /out/native (see
# scripts/dlprobe/native-libs.sh). Online: apt-get installs NATIVE_PKGS here.
# Offline: scripts/docker-build.sh collected them on the (Debian 12) host into
# its builder image's /opt/imgsvc-native, and passes that image here too.
FROM ${NATIVE_IMAGE} AS native

ARG NATIVE_PKGS
ARG NATIVE_SUITE

COPY scripts/dlprobe/native-libs.sh /usr/local/bin/native-libs.sh
RUN set -eu; mkdir -p /out; \
    have=/opt/imgsvc-native/usr/share/imgsvc/native-libs; \
    if [ -f "$have" ]; then \
      pkgs=$(sed -n 's/^# packages: //p' "$have"); \
      if [ "$pkgs" != "$(echo $NATIVE_PKGS)" ]; then \
        echo "the builder image carries the libraries of '$pkgs', not of NATIVE_PKGS='$NATIVE_PKGS': make it again with scripts/docker-build.sh --offline" >&2; \
        exit 1; \
      fi; \
      echo "native libraries from the builder image ($(sed -n 's/^# debian: //p' "$have")):"; \
      ls /opt/imgsvc-native/var/lib/dpkg/status.d; \
      cp -a /opt/imgsvc-native /out/native; \
    else \
      . /etc/os-release; \
      if [ "${VERSION_CODENAME:-}" != "$NATIVE_SUITE" ]; then \
        echo "NATIVE_PKGS are Debian $NATIVE_SUITE packages, but NATIVE_IMAGE is ${PRETTY_NAME:-not Debian}" >&2; \
        exit 1; \
      fi; \
      apt-get update -q; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $NATIVE_PKGS; \
      rm -rf /var/lib/apt/lists/*; \
      sh /usr/local/bin/native-libs.sh /out/native $NATIVE_PKGS; \
    fi

# ---------------------------------------------------------------------------
FROM ${GO_IMAGE} AS build

ENV CGO_ENABLED=0 \
    GOOS=linux \
    GOFLAGS=-trimpath

WORKDIR /src

# Modules first so that code changes reuse the download layer.
COPY go.mod go.sum ./
RUN go mod download

# dlprobe: opens each native library with purego, as the service does, and
# calls a trivial function in it. It runs here against /out/native through
# the collected loader, so a library that does not load fails the build; the
# image keeps it for `docker run --entrypoint /dlprobe`.
COPY --from=native /out/native/ /out/native/
COPY scripts/dlprobe/ scripts/dlprobe/
RUN go build -ldflags "-s -w" -o /out/dlprobe ./scripts/dlprobe \
 && list=/out/native/usr/share/imgsvc/native-libs \
 && loader=$(sed -n 's/^# loader: //p' "$list") \
 && libdirs=$(sed -n 's/^# libdirs: //p' "$list" | sed 's,^,/out/native,; s,:,:/out/native,g') \
 && "/out/native$loader" --library-path "$libdirs" /out/dlprobe -list "$list"

# Minimal root filesystem for the final stage: a non-root user, CA roots, an
# empty /tmp (mounted as tmpfs when the root filesystem is read-only), dlprobe.
RUN mkdir -p /out/rootfs/etc/ssl/certs /out/rootfs/tmp \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
        > /out/rootfs/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' > /out/rootfs/etc/group \
 && cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ca-certificates.crt \
 && chmod 1777 /out/rootfs/tmp \
 && cp /out/dlprobe /out/rootfs/dlprobe

COPY . .

ARG VERSION=dev
ARG COMMIT=unknown
RUN go build \
        -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/imgsvc ./cmd/imgsvc

# ---------------------------------------------------------------------------
FROM scratch AS runtime

ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown

LABEL org.opencontainers.image.title="imgsvc" \
      org.opencontainers.image.description="Image-processing HTTP service" \
      org.opencontainers.image.source="https://github.com/imgsvc/imgsvc" \
      org.opencontainers.image.url="https://github.com/imgsvc/imgsvc" \
      org.opencontainers.image.documentation="https://github.com/imgsvc/imgsvc/blob/main/docs/deploy.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}"

# Three layers, the largest and stablest first: the native libraries (with
# the loader, libc and /var/lib/dpkg/status.d for image scanners), the small
# root filesystem, the binary.
COPY --from=native /out/native/ /
COPY --from=build /out/rootfs/ /
COPY --from=build /out/imgsvc /imgsvc

# The loader also searches /usr/lib/x86_64-linux-gnu without it (there is no
# /etc/ld.so.cache); set so that a dlopen by bare name never depends on that.
ENV IMGSVC_ADDR=:8080 \
    IMGSVC_ADMIN_ADDR=:9090 \
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu

USER 65532:65532
EXPOSE 8080 9090

# Exec form: the image has no shell. The subcommand asks the local admin
# listener for /healthz (it reads IMGSVC_ADMIN_ADDR like the server does).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/imgsvc", "healthcheck"]

ENTRYPOINT ["/imgsvc"]
