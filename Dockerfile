# imgsvc container image.
#
# Online (any Docker, classic builder or BuildKit):
#     docker build -t imgsvc:dev .
#
# Offline (no registry): scripts/docker-build.sh makes a local builder image
# from the host's Go toolchain and module cache and passes it as GO_IMAGE.
# See docs/deploy.md.
#
# The file deliberately avoids BuildKit-only syntax (RUN --mount, heredocs)
# so that the classic builder (DOCKER_BUILDKIT=0) builds it too.

# Any image with a POSIX shell and a Go toolchain >= the version in go.mod.
ARG GO_IMAGE=golang:1.26

# ---------------------------------------------------------------------------
FROM ${GO_IMAGE} AS build

ARG VERSION=dev
ARG COMMIT=unknown

ENV CGO_ENABLED=0 \
    GOOS=linux \
    GOFLAGS=-trimpath

WORKDIR /src

# Modules first so that code changes reuse the download layer.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN go build \
        -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/imgsvc ./cmd/imgsvc

# Minimal root filesystem for the final stage: a non-root user, CA roots and
# an empty /tmp (mounted as tmpfs when the root filesystem is read-only).
RUN mkdir -p /out/rootfs/etc/ssl/certs /out/rootfs/tmp \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
        > /out/rootfs/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' > /out/rootfs/etc/group \
 && cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ca-certificates.crt \
 && chmod 1777 /out/rootfs/tmp

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

COPY --from=build /out/rootfs/ /
COPY --from=build /out/imgsvc /imgsvc

ENV IMGSVC_ADDR=:8080 \
    IMGSVC_ADMIN_ADDR=:9090

USER 65532:65532
EXPOSE 8080 9090

# Exec form: the image has no shell. The subcommand asks the local admin
# listener for /healthz (it reads IMGSVC_ADMIN_ADDR like the server does).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/imgsvc", "healthcheck"]

ENTRYPOINT ["/imgsvc"]
