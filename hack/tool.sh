#!/usr/bin/env bash
# Installs a Go tool at a pinned version into a per-version cache outside the clone and
# links it into ./bin, so fresh clones on the same machine reuse the build.
#   hack/tool.sh NAME PACKAGE VERSION
set -euo pipefail
name="$1" pkg="$2" version="$3"
cache="${BRIDGEHEAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bridgehead}/tools/$name-$version"
if [ ! -x "$cache/$name" ]; then
	echo "tools: installing $name $version" >&2
	mkdir -p "$cache"
	GOBIN="$cache" GOFLAGS=-mod=mod go install "$pkg@$version"
fi
mkdir -p bin
ln -sfn "$cache/$name" "bin/$name"
