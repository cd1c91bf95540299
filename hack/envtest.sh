#!/usr/bin/env bash
# Builds the Kubernetes binaries the tests run from source through the Go module proxy,
# because no prebuilt downloads are reachable from our machines: etcd and kube-apiserver
# (envtest), kubectl, and the node components of the real single-node cluster
# (kube-controller-manager, kube-scheduler, kubelet, kube-proxy; see hack/cluster).
#
# The binaries are cached by version outside the clone, so a fresh clone on the same
# machine (as CI makes) reuses them. Prints the asset directory on stdout; everything else
# goes to stderr. Idempotent: a second run with the binaries present does nothing.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.1}"
ETCD_VERSION="${ETCD_VERSION:-3.7.3}"
CACHE_ROOT="${BRIDGEHEAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bridgehead}"
ASSETS="$CACHE_ROOT/k8s/$K8S_VERSION-etcd$ETCD_VERSION"

log() { echo "envtest: $*" >&2; }

# build_kubernetes builds the named commands of k8s.io/kubernetes in one throwaway module
# and one `go build`, so they share the compilation of the packages they have in common
# (most of k8s.io/kubernetes/pkg): the node components cost a few minutes on top of
# kube-apiserver instead of a cold build each.
build_kubernetes() {
	local work
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' RETURN
	log "building $* v$K8S_VERSION from the module proxy (cold: ~25 min on 2 cores)"
	(
		cd "$work"
		go mod init bridgehead.dev/envtest-kubernetes >/dev/null 2>&1
		# Kubernetes' go.mod requires its staging modules at v0.0.0 with replace directives
		# pointing into its own tree; a module that depends on it must replace each of them
		# with the published v0.<minor>.<patch> release.
		gomod="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
		[ -f "$gomod" ] || { log "could not download k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
		staging_version="v0.${K8S_VERSION#1.}"
		args=(-require "k8s.io/kubernetes@v$K8S_VERSION")
		while read -r mod; do
			case "$mod" in
			# No v0.x releases of these two are published, and nothing we build needs them.
			k8s.io/sample-cli-plugin | k8s.io/sample-controller) continue ;;
			esac
			args+=(-replace "$mod=$mod@$staging_version")
		done < <(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$gomod" | sort -u)
		go mod edit "${args[@]}"
		pkgs=()
		{
			echo '//go:build tools'
			echo
			echo 'package tools'
			echo
			for cmd in "$@"; do
				echo "import _ \"k8s.io/kubernetes/cmd/$cmd\""
				pkgs+=("k8s.io/kubernetes/cmd/$cmd")
			done
		} >tools.go
		go mod tidy >/dev/null 2>&1
		major="${K8S_VERSION%%.*}"
		minor="${K8S_VERSION#*.}"
		minor="${minor%%.*}"
		pkg=k8s.io/component-base/version
		mkdir -p out
		# Static and reproducible; stamped, or the binaries report v0.0.0-master.
		CGO_ENABLED=0 go build -trimpath -o out/ \
			-ldflags "-s -w -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor" \
			"${pkgs[@]}"
		for cmd in "$@"; do
			mv "out/$cmd" "$ASSETS/$cmd.tmp"
			mv "$ASSETS/$cmd.tmp" "$ASSETS/$cmd"
		done
	)
}

build_etcd() {
	local work
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' RETURN
	log "building etcd v$ETCD_VERSION from the module proxy (~2 min)"
	(
		cd "$work"
		go mod init bridgehead.dev/envtest-etcd >/dev/null 2>&1
		cat >main.go <<'GO'
// Command etcd is the upstream etcd server, built from its published module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
		go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
		go mod tidy >&2
		CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ASSETS/etcd.tmp" .
	)
	mv "$ASSETS/etcd.tmp" "$ASSETS/etcd"
}

mkdir -p "$ASSETS"
[ -x "$ASSETS/etcd" ] || build_etcd
missing=()
for cmd in kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy; do
	[ -x "$ASSETS/$cmd" ] || missing+=("$cmd")
done
[ ${#missing[@]} -eq 0 ] || build_kubernetes "${missing[@]}"
echo "$ASSETS"
