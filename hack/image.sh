#!/usr/bin/env bash
# Builds the gateway's OCI image from source, without Docker or a registry (hack/ociimage),
# and the pause image the test node's containerd uses as its pod sandbox.
#
#   hack/image.sh [OUT_DIR]   -> OUT_DIR/bridgehead-image.tar, OUT_DIR/pause-image.tar
#
# The gateway image holds bin/bridgehead (cgo: it opens libcrypto 3 with dlopen for RSA
# handshakes, see proxy/opensslrsa) and the Debian libcrypto, libc and loader it needs. Every file and the image carry the commit time, so
# the same commit gives the same digest.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-bin}"
IMAGE="${IMAGE:-docker.io/bridgehead/bridgehead:dev}"
PAUSE_IMAGE="${PAUSE_IMAGE:-docker.io/bridgehead/pause:dev}"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
epoch="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
mkdir -p "$OUT/image-root"
work="$(cd "$OUT/image-root" && pwd)"

# The image tool is its own module (hack/ociimage/go.mod), pinned there.
(cd hack/ociimage && go build -trimpath -o "$work/ociimage" .)

export GOFLAGS="${GOFLAGS:-} -trimpath"
CGO_ENABLED=1 go build -ldflags "-s -w -X main.version=$version" -o "$work/bridgehead" ./cmd/bridgehead
CGO_ENABLED=0 go build -ldflags "-s -w" -o "$work/pause" ./hack/pause

# awk reads ldconfig's whole output: leaving at the first match would end ldconfig with
# SIGPIPE, which pipefail turns into this script's failure (exit 141) when it is still
# writing.
libcrypto="$(ldconfig -p | awk '/libcrypto\.so\.3 .*x86-64/ && !found {print $NF; found = 1}')"
[ -n "$libcrypto" ] || { echo "image: libcrypto.so.3 not found (apt-get install libssl3)" >&2; exit 1; }

"$work/ociimage" -o "$OUT/bridgehead-image.tar" -name "$IMAGE" -epoch "$epoch" \
	-entrypoint /bin/bridgehead -cmd serve \
	-label org.opencontainers.image.source=https://github.com/bridgehead/bridgehead \
	-label org.opencontainers.image.version="$version" \
	-label org.opencontainers.image.revision="$revision" \
	-label org.opencontainers.image.title=bridgehead \
	-add /bin/bridgehead="$work/bridgehead" \
	-add "$libcrypto=$libcrypto" \
	-with-libs
"$work/ociimage" -o "$OUT/pause-image.tar" -name "$PAUSE_IMAGE" -epoch "$epoch" \
	-entrypoint /pause -add /pause="$work/pause" \
	-label org.opencontainers.image.source=https://github.com/bridgehead/bridgehead \
	-label org.opencontainers.image.revision="$revision"
