# One image for ticketflow's three commands: `apiserver` (the HTTP API, the default),
# `worker` (the Temporal worker) and `apiserver migrate` (apply the migrations and exit).
#
#   docker build --build-arg VERSION=v1.2.0 --build-arg COMMIT=$(git rev-parse --short HEAD) -t ticketflow .
#   docker run --rm ticketflow apiserver --version
#
# The go build below is the one that internal/buildinfo's TestDockerfileBuild runs on machines
# without a Docker engine; keep it one RUN instruction with its output in /out/.

# Docs: the pinned Swagger UI and ReDoc files that the API embeds, from their npm packages, so that
# the docs pages need no CDN (internal/httpapi/docs/fetch.sh).
FROM node:22-alpine AS docs
RUN apk add --no-cache bash
WORKDIR /src
COPY internal/httpapi/docs/fetch.sh internal/httpapi/docs/fetch.sh
RUN internal/httpapi/docs/fetch.sh

# Build: static binaries (no cgo), no local paths (-trimpath), no symbol tables (-s -w), and
# the version and commit stamped in for --version and ticketflow_build_info.
FROM golang:1.26.8-alpine3.23 AS build
WORKDIR /src
# Modules first, in a layer of their own that only go.mod and go.sum invalidate.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
COPY --from=docs /src/internal/httpapi/docs/assets/ internal/httpapi/docs/assets/
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/ticketflow/ticketflow/internal/buildinfo.Version=${VERSION} -X github.com/ticketflow/ticketflow/internal/buildinfo.Commit=${COMMIT}" \
    -o /out/ ./worker ./apiserver

# Run: Alpine rather than scratch for its busybox wget, which the healthchecks in
# docker-compose.yml call; still a few MB, and the binaries need nothing from it.
FROM alpine:3.23.3
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="ticketflow" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
RUN addgroup -S -g 10001 ticketflow && adduser -S -D -H -u 10001 -G ticketflow ticketflow
COPY --from=build /out/worker /out/apiserver /usr/local/bin/
USER 10001:10001
# 8000: the API (HTTP_ADDR); 9464: the worker's /metrics, /healthz and /readyz
# (WORKER_METRICS_ADDR). Every interface, not the loopback one of the defaults: inside a container
# loopback is reachable from nowhere else.
ENV HTTP_ADDR=:8000 WORKER_METRICS_ADDR=:9464
EXPOSE 8000 9464
CMD ["apiserver"]
