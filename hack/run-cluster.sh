#!/usr/bin/env bash
# make run-cluster: a Kubernetes API server on this machine and Bridgehead serving from it.
#
#   1. hack/devcluster starts kube-apiserver + etcd (the envtest binaries hack/envtest.sh
#      builds from source), installs the CRDs, writes tmp/run-cluster/kubeconfig, writes the
#      demo PKI into examples/ingress/generated/ and starts a stand-in ACME solver.
#   2. The IngressClass "bridgehead" and the gateway's namespace are applied with kubectl.
#   3. The demo HTTPS backend runs on 127.0.0.1:9443.
#   4. `bridgehead serve` runs against the API server (Ctrl-C stops everything).
#
# The API server refuses loopback addresses in EndpointSlices, so the examples reach the
# local backend through ExternalName Services to localhost: the gateway runs with
# --allow-external-name-services. Only processes this script started are stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE="${RUN_CLUSTER_DIR:-tmp/run-cluster}"
PKI=examples/ingress/generated
mkdir -p "$STATE"
export KUBEBUILDER_ASSETS
KUBEBUILDER_ASSETS="$(hack/envtest.sh)"
KUBECTL="$KUBEBUILDER_ASSETS/kubectl"

pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM

echo "run-cluster: starting kube-apiserver and etcd" >&2
go build -o "$STATE/devcluster" ./hack/devcluster
"$STATE/devcluster" --dir "$PWD/$STATE" --pki "$PKI" >"$STATE/devcluster.out" 2>"$STATE/devcluster.log" &
pids+=($!)
for _ in $(seq 1 600); do
	grep -q '^ready$' "$STATE/devcluster.out" 2>/dev/null && break
	if ! kill -0 "${pids[0]}" 2>/dev/null; then
		cat "$STATE/devcluster.log" >&2
		exit 1
	fi
	sleep 0.1
done
grep -q '^ready$' "$STATE/devcluster.out" || { echo "run-cluster: the API server did not start; see $STATE/devcluster.log" >&2; exit 1; }
export KUBECONFIG
KUBECONFIG="$(sed -n 's/^kubeconfig: *//p' "$STATE/devcluster.out")" # $STATE/kubeconfig

"$KUBECTL" apply -f config/manager/ingressclass.yaml >&2
"$KUBECTL" create namespace bridgehead --dry-run=client -o yaml | "$KUBECTL" apply -f - >&2

# examples/ingress/backend.yaml names this port.
bin/bridgehead demo-backend --listen 127.0.0.1:9443 --cert "$PKI/backend.crt" --key "$PKI/backend.key" \
	--name "Bridgehead demo backend" >"$STATE/demo-backend.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
	grep -q 'serving HTTPS' "$STATE/demo-backend.log" 2>/dev/null && break
	if ! kill -0 "${pids[-1]}" 2>/dev/null; then
		echo "run-cluster: the demo backend did not start (is 'make run' using 127.0.0.1:9443?):" >&2
		cat "$STATE/demo-backend.log" >&2
		exit 1
	fi
	sleep 0.1
done

cat >&2 <<MSG

run-cluster: the API server is up. In another terminal:

  export KUBECONFIG=$KUBECONFIG
  $KUBECTL apply -f examples/ingress/namespace.yaml
  $KUBECTL apply -f $PKI/secrets.yaml -f examples/ingress/
  curl --cacert $PKI/ca.crt --resolve app.localtest.me:8443:127.0.0.1 https://app.localtest.me:8443/

(examples/ingress/README.md has more.) Ctrl-C stops the gateway, the backend and the API server.

MSG

bin/bridgehead serve --kubeconfig "$KUBECONFIG" --gateway-namespace bridgehead \
	--allow-external-name-services --redirect-port 8443 --publish-address 127.0.0.1 "$@" &
pids+=($!)
wait "${pids[-1]}"
