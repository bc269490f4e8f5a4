# syntax=docker/dockerfile:1

# Build stage: a static ucc binary.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ucc ./cmd/ucc

# Runtime stage: the binary plus ffmpeg/ffprobe for transcoding.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ucc \
    && useradd --system --uid 10001 --gid ucc --home-dir /var/lib/ucc --create-home --shell /usr/sbin/nologin ucc
COPY --from=build /out/ucc /usr/local/bin/ucc
USER 10001:10001
WORKDIR /var/lib/ucc
# Listen on all interfaces inside the container; the fs storage driver (when
# UCC_STORAGE=fs) keeps objects in the user's home.
ENV UCC_HTTP_ADDR=0.0.0.0:8080 \
    UCC_STORAGE_DIR=/var/lib/ucc/objects
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/ucc"]
CMD ["serve"]
