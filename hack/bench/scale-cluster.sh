#!/usr/bin/env bash
# The control plane at scale in cluster mode: `make bench-scale-cluster`.
#
# A real kube-apiserver and etcd (hack/devcluster, the envtest binaries) hold N
# IngressRoutes (1, 1,000, 10,000: BENCH_SCALE_ROUTES), each for its own host on the web
# entry point, all to one Service without endpoints: a served route answers 503 with
# "Bridgehead-Error: NoEndpoints", an unknown host 404, so no backend is needed. For each
# N, `bridgehead serve` starts against the API server (GOMAXPROCS=2, loopback addresses)
# and the bench prints:
#   start -> serving   from the process start to the last route being served
#   statuses written   from the start until the status writer has been quiet for 5 s
#   new route -> served   median of 5: `kubectl create` of one new IngressRoute returns ->
#                      the gateway serves its host (polled every 5 ms)
#   CPU per change     median of 5: the gateway's CPU from the create to 1 s after served
#                      (the rebuild, the status write and the Event of the new route)
#   CPU idle           over 30 s once everything is written
#   RSS, peak RSS      of the gateway process at the end
# Everything runs on loopback; every process started is stopped by its PID.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

COUNTS=${BENCH_SCALE_ROUTES:-1 1000 10000}
BRIDGEHEAD=${BRIDGEHEAD:-bin/bridgehead}
IDLE=${BENCH_SCALE_IDLE:-30}
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
	printf 'bench-scale-cluster: error: %s\n' "$*" >&2
	exit 1
}
[ -x "$BRIDGEHEAD" ] || die "$BRIDGEHEAD not found: run 'make build' first (make bench-scale-cluster does)"
hack/apt-install.sh curl >/dev/null

KUBEBUILDER_ASSETS=$(hack/envtest.sh)
export KUBEBUILDER_ASSETS
KUBECTL=$KUBEBUILDER_ASSETS/kubectl
WORK=$(mktemp -d /tmp/bridgehead-scale.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "kube-apiserver and etcd (hack/devcluster) in $WORK"
go build -o "$WORK/devcluster" ./hack/devcluster
"$WORK/devcluster" --dir "$WORK" --pki "$WORK/pki" --acme-solver "" >"$WORK/devcluster.out" 2>"$WORK/devcluster.log" &
PIDS+=($!)
for _ in $(seq 600); do
	grep -q '^ready$' "$WORK/devcluster.out" 2>/dev/null && break
	kill -0 "${PIDS[0]}" 2>/dev/null || die "the API server did not start: $(tail -n 5 "$WORK/devcluster.log")"
	sleep 0.1
done
grep -q '^ready$' "$WORK/devcluster.out" || die "the API server did not start within 60 s"
export KUBECONFIG=$WORK/kubeconfig

read -r WEB_PORT ADMIN_PORT < <(go run ./hack/bench/benchtool freeports 2 | paste -sd' ')

"$KUBECTL" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: scale
---
apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: scale
spec:
  ports:
  - name: http
    port: 80
EOF

# routes FROM TO: IngressRoutes rFROM..rTO-1 as one YAML stream.
routes() {
	awk -v from="$1" -v to="$2" 'BEGIN {
		for (i = from; i < to; i++) {
			printf "---\napiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: r%05d\n  namespace: scale\n", i
			printf "spec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`r%05d.scale.test`)\n    services:\n    - name: backend\n      port: http\n", i
		}
	}'
}

served() { curl -s -D - -o /dev/null --max-time 2 -H "Host: $1" "http://127.0.0.1:$WEB_PORT/" | grep -q '^Bridgehead-Error: NoEndpoints'; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%d\n", ($12 + $13) * 1000 / hz}' "/proc/$1/stat"; }
now() { date +%s%N; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
status_writes() { curl -s --max-time 2 "http://127.0.0.1:$ADMIN_PORT/leader" | sed -n 's/.*"statusWrites":\([0-9]*\).*/\1/p'; }

have=0
results=()
for n in $COUNTS; do
	if [ "$n" -gt "$have" ]; then
		say "creating IngressRoutes $have..$((n - 1))"
		routes "$have" "$n" | "$KUBECTL" create -f - >/dev/null
		have=$n
	fi
	say "$n routes: bridgehead serve"
	t0=$(now)
	POD_NAMESPACE=scale GOMAXPROCS=2 "$BRIDGEHEAD" serve --kubeconfig "$KUBECONFIG" --gateway-namespace scale \
		--log-level warn --web-address "127.0.0.1:$WEB_PORT" --websecure-address 127.0.0.1:0 \
		--admin-address "127.0.0.1:$ADMIN_PORT" --publish-address 127.0.0.1 >"$WORK/serve.$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	last=$(printf 'r%05d.scale.test' $((n - 1)))
	until served "$last"; do
		kill -0 "$pid" 2>/dev/null || die "the gateway exited: $(tail -n 5 "$WORK/serve.$n.log")"
		[ $(($(now) - t0)) -lt 300000000000 ] || die "$n routes: not served within 300 s"
		sleep 0.02
	done
	start_ms=$((($(now) - t0) / 1000000))
	# The status writer is done when its count has not moved for 5 s.
	prev=-1 still=0
	while [ "$still" -lt 5 ]; do
		cur=$(status_writes)
		if [ "$cur" = "$prev" ]; then still=$((still + 1)); else still=0 prev=$cur; fi
		[ $(($(now) - t0)) -lt 900000000000 ] || die "$n routes: statuses still being written after 900 s"
		sleep 1
	done
	statuses_s=$(((($(now) - t0) / 1000000 - 5000) / 1000))
	lat=() cpu=()
	for k in 0 1 2 3 4; do
		name=$(printf 'n%d-%05d' "$k" "$n")
		c0=$(cpu_ms "$pid")
		printf -- '---\napiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: %s\n  namespace: scale\nspec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`%s.scale.test`)\n    services:\n    - name: backend\n      port: http\n' "$name" "$name" |
			"$KUBECTL" create -f - >/dev/null
		a=$(now)
		until served "$name.scale.test"; do
			[ $(($(now) - a)) -lt 60000000000 ] || die "$n routes: a new route was not served within 60 s"
			sleep 0.005
		done
		b=$(now)
		sleep 1
		lat+=($(((b - a) / 1000000)))
		cpu+=($(($(cpu_ms "$pid") - c0)))
		"$KUBECTL" delete ingressroute -n scale "$name" >/dev/null
		sleep 1
	done
	c0=$(cpu_ms "$pid")
	sleep "$IDLE"
	idle_ms=$(($(cpu_ms "$pid") - c0))
	read -r rss hwm < <(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {printf "%d %d\n", r / 1024, h / 1024}' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	results+=("$(printf '| %s | %d.%02d s | %d s | %d ms | %d ms | %d MiB (%d) | %d.%02d s / %d s |' "$n" \
		$((start_ms / 1000)) $((start_ms % 1000 / 10)) "$statuses_s" \
		"$(printf '%s\n' "${lat[@]}" | median)" "$(printf '%s\n' "${cpu[@]}" | median)" "$rss" "$hwm" \
		$((idle_ms / 1000)) $((idle_ms % 1000 / 10)) "$IDLE")")
	echo "    ${results[-1]}" >&2
	echo "    new route -> served (ms): ${lat[*]}; CPU per change (ms): ${cpu[*]}" >&2
done

echo
echo "Cluster mode, real kube-apiserver, $(nproc) cores, $(date -u '+%Y-%m-%d'), GOMAXPROCS=2"
echo "| routes | start -> serving | statuses written | new route -> served (median of 5) | CPU per change | RSS (peak) | CPU while idle |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
