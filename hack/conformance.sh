#!/usr/bin/env bash
# Runs the upstream Gateway API conformance suite (v1.6.3) against Bridgehead installed
# with its Helm chart on the real single-node Kubernetes of `make cluster-up`, and writes
# the upstream ConformanceReport into conformance/reports/. `make conformance` calls it.
#
#   PROFILES=GATEWAY-HTTP,GATEWAY-TLS   conformance profiles (default: those, GATEWAY-GRPC and GATEWAY-TCP)
#   RUN_TEST=HTTPRouteSimpleSameNamespace   one test only (features read from the GatewayClass)
#   SKIP_TESTS=A,B                      tests to skip
#   SUPPORTED_FEATURES=A,B              claim these instead of the GatewayClass status
#   KEEP_CLUSTER=1                      leave the node (and the release) up afterwards
#   SUITE_ARGS="-debug"                 more flags for the suite (see test/conformance)
#
# Every phase prints its elapsed time; a summary is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE_VERSION=v1.6.3
PROFILES="${PROFILES:-GATEWAY-HTTP,GATEWAY-TLS,GATEWAY-GRPC,GATEWAY-TCP}"
RELEASE=bridgehead
NAMESPACE=bridgehead-system
GATEWAY_CLASS=bridgehead
# The report's implementation.version must be a semantic version: the last tag, else
# v0.0.0-<commit> (upstream names the report after it).
VERSION="${VERSION:-$(git describe --tags --match 'v*' 2>/dev/null || echo "v0.0.0-$(git rev-parse --short=12 HEAD)")}"
REPORT_DIR="conformance/reports/$SUITE_VERSION/bridgehead"
# A partial run (one test, or some skipped) never overwrites the published report.
if [ -n "${RUN_TEST:-}${SKIP_TESTS:-}" ]; then
	REPORT="${REPORT:-bin/conformance-partial-report.yaml}"
else
	REPORT="${REPORT:-$REPORT_DIR/standard-$VERSION-default-report.yaml}"
fi

summary=()
phase_start=0
phase() { phase_name="$1"; phase_start=$(date +%s); echo "=== conformance: $phase_name" >&2; }
phase_done() {
	local s=$(( $(date +%s) - phase_start ))
	summary+=("$(printf '%-28s %5ss' "$phase_name" "$s")")
	echo "=== conformance: $phase_name done in ${s}s" >&2
}
print_summary() {
	echo "=== conformance: elapsed per phase" >&2
	printf '  %s\n' "${summary[@]}" >&2
}

eval "$(bin/cluster env)"
export KUBECONFIG
kubectl=bin/kubectl
helm=bin/helm

cleanup() {
	local rc=$?
	if [ "${KEEP_CLUSTER:-}" != 1 ]; then
		phase "cluster down"
		make --no-print-directory cluster-down || rc=1
		phase_done
	else
		echo "=== conformance: KEEP_CLUSTER=1, the node stays up (make cluster-down)" >&2
	fi
	print_summary
	exit $rc
}
trap cleanup EXIT

# 1. The node: started when it is not running; otherwise the fresh gateway image is imported.
if [ -x "$kubectl" ] && $kubectl get --raw=/readyz >/dev/null 2>&1; then
	phase "gateway image (warm node)"
	make --no-print-directory image-import
else
	phase "node up + gateway image"
	make --no-print-directory cluster-up
fi
phase_done

# 2. The suite's images, built from source and imported under the names its manifests use.
phase "suite images build"
mapfile -t archives < <(hack/conformance-images.sh)
phase_done
phase "suite images import"
bin/cluster import "${archives[@]}"
phase_done

# Every image the suite's manifests name must be in the node's containerd before anything
# is applied: a missing one would make the kubelet try to pull it from the Internet.
suite_dir="$(cd test/conformance && go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api/conformance)"
present="$(ctr -a "$(dirname "$KUBECONFIG")/containerd/containerd.sock" -n k8s.io images ls -q)"
missing=0
for img in $(grep -rhoE 'image: *[^ ]+' "$suite_dir/base" "$suite_dir/tests" | awk '{print $2}' | sort -u); do
	grep -qxF "$img" <<<"$present" || { echo "=== conformance: image $img is not in the node's containerd" >&2; missing=1; }
done
[ "$missing" = 0 ] || { echo "=== conformance: refusing to run: the kubelet would pull the images above (make conformance-images)" >&2; exit 1; }

# 3. The Gateway API Standard-channel CRDs (cluster-up installs them too; idempotent) and
#    the gateway, with its Service on 80/443 and a GatewayClass named for the suite.
phase "CRDs + helm install"
$kubectl apply --server-side --force-conflicts -f config/crd/gateway-api/ >/dev/null
$helm upgrade --install "$RELEASE" charts/bridgehead --namespace "$NAMESPACE" --create-namespace \
	--wait --timeout 180s \
	--set image.repository=docker.io/bridgehead/bridgehead --set image.tag=dev --set image.pullPolicy=Never \
	--set service.type=ClusterIP --set service.ports.web=80 --set service.ports.websecure=443 \
	--set gatewayAPI.enabled=true --set gatewayAPI.gatewayClass.name="$GATEWAY_CLASS" \
	-f test/conformance/values.yaml
# The image tag stays `dev`: restart so the pods run the image imported above.
$kubectl -n "$NAMESPACE" rollout restart "deployment/$RELEASE" >/dev/null
$kubectl -n "$NAMESPACE" rollout status "deployment/$RELEASE" --timeout=180s
$kubectl wait --for=condition=Accepted --timeout=60s "gatewayclass/$GATEWAY_CLASS"
phase_done

# 4. The suite. The report is written even when tests fail; the exit status is the suite's.
phase "suite"
mkdir -p "$REPORT_DIR"
report_abs="$(pwd)/$REPORT"
args=(-gateway-class="$GATEWAY_CLASS" -conformance-profiles="$PROFILES"
	-organization=bridgehead -project=bridgehead -url=https://github.com/bridgehead/bridgehead
	-version="$VERSION" -contact=https://github.com/bridgehead/bridgehead/issues
	-cleanup-base-resources=true -report-output="$report_abs")
[ -n "${RUN_TEST:-}" ] && args+=(-run-test="$RUN_TEST")
[ -n "${SKIP_TESTS:-}" ] && args+=(-skip-tests="$SKIP_TESTS")
[ -n "${SUPPORTED_FEATURES:-}" ] && args+=(-supported-features="$SUPPORTED_FEATURES")
# shellcheck disable=SC2206
args+=(${SUITE_ARGS:-})
log="${LOG:-bin/conformance.log}"
set +e
(cd test/conformance && BRIDGEHEAD_CONFORMANCE=1 go test -count=1 -timeout 80m -run '^TestConformance$' -v . -args "${args[@]}") >"$log" 2>&1
suite_rc=$?
set -e
phase_done
grep -E '^\s*--- (FAIL|PASS|SKIP)' "$log" | awk '{print $2}' | sort | uniq -c >&2 || true
echo "=== conformance: suite exit status $suite_rc; log $log; report $REPORT" >&2
[ -s "$REPORT" ] || { echo "=== conformance: no report was written" >&2; exit 1; }
exit $suite_rc
