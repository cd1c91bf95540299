#!/usr/bin/env bash
# Builds, from source and without Docker or a registry, the images the Gateway API
# conformance suite's manifests name, and writes one OCI archive per image name:
#
#   hack/conformance-images.sh   -> prints the archive paths, one per line
#
# - registry.k8s.io/gateway-api/echo-basic:{v1.5.1,v1.6.0-dev.2,v1.6.0-dev.3}: the suite's
#   echo backend, built from sigs.k8s.io/gateway-api/conformance/echo-basic at the suite's
#   version (upstream publishes one binary under several tags; the manifests of v1.6.3 name
#   three of them). Like upstream's Dockerfile: static, runs as nonroot, ENTRYPOINT /echo-basic.
# - registry.k8s.io/coredns/coredns:v1.12.2: the DNS server of the suite's UDPRoute tests,
#   built from github.com/coredns/coredns through the module proxy.
#
# Everything is cached by version under $BRIDGEHEAD_CACHE/conformance, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE_VERSION="${SUITE_VERSION:-v1.6.3}"
ECHO_TAGS="${ECHO_TAGS:-v1.5.1 v1.6.0-dev.2 v1.6.0-dev.3}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.12.2}"
cache="${BRIDGEHEAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bridgehead}/conformance"
ociimage="$cache/ociimage"
mkdir -p "$cache"

log() { echo "conformance-images: $*" >&2; }
# A fixed image time: the archives depend only on the versions, so a rebuild gives the
# same digest and a warm run reuses the cached archive.
epoch=0

# stdout is the list of archives; tools print to stderr.
if [ ! -x "$ociimage" ] || [ hack/ociimage/main.go -nt "$ociimage" ] || [ hack/ociimage/go.mod -nt "$ociimage" ]; then
	(cd hack/ociimage && go build -trimpath -o "$ociimage" .)
fi

# echo-basic: built from the test/conformance module, which pins the suite's version.
echo_dir="$cache/echo-basic-$SUITE_VERSION"
if [ ! -x "$echo_dir/echo-basic" ]; then
	log "building echo-basic $SUITE_VERSION"
	mkdir -p "$echo_dir"
	(cd test/conformance && CGO_ENABLED=0 go build -trimpath -ldflags "-buildid= -s -w" \
		-o "$echo_dir/echo-basic.tmp" sigs.k8s.io/gateway-api/conformance/echo-basic)
	mv "$echo_dir/echo-basic.tmp" "$echo_dir/echo-basic"
fi
for tag in $ECHO_TAGS; do
	tar="$echo_dir/echo-basic-$tag.tar"
	if [ ! -s "$tar" ]; then
		"$ociimage" -o "$tar.tmp" -name "registry.k8s.io/gateway-api/echo-basic:$tag" -epoch "$epoch" \
			-user 65532:65532 -entrypoint /echo-basic -add /echo-basic="$echo_dir/echo-basic" \
			-label org.opencontainers.image.source=https://github.com/kubernetes-sigs/gateway-api \
			-label org.opencontainers.image.version="$SUITE_VERSION" >&2
		mv "$tar.tmp" "$tar"
	fi
	echo "$tar"
done

# coredns: the suite's manifest runs it with only NET_BIND_SERVICE and binds :53, so the
# image runs as root (no file capabilities in our archives); no privilege escalation is
# allowed by the pod spec either way.
dns_dir="$cache/coredns-$COREDNS_VERSION"
if [ ! -x "$dns_dir/coredns" ]; then
	log "building coredns $COREDNS_VERSION (module proxy; a few minutes cold)"
	mkdir -p "$dns_dir"
	if ! GOBIN="$dns_dir" CGO_ENABLED=0 GOFLAGS=-trimpath go install -ldflags "-s -w" \
		"github.com/coredns/coredns@$COREDNS_VERSION" >&2; then
		log "coredns $COREDNS_VERSION could not be built: the suite's base coredns Deployment will not start"
		exit 1
	fi
fi
tar="$dns_dir/coredns-$COREDNS_VERSION.tar"
if [ ! -s "$tar" ]; then
	"$ociimage" -o "$tar.tmp" -name "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" -epoch "$epoch" \
		-user 0:0 -entrypoint /coredns -add /coredns="$dns_dir/coredns" \
		-label org.opencontainers.image.source=https://github.com/coredns/coredns \
		-label org.opencontainers.image.version="$COREDNS_VERSION" >&2
	mv "$tar.tmp" "$tar"
fi
echo "$tar"
