#!/usr/bin/env bash
# The control plane at scale: `make bench-scale`.
#
# N IngressRoutes (1, 1,000, 10,000: BENCH_SCALE_ROUTES; Ingresses with BENCH_SCALE_KIND=Ingress,
# Gateway API HTTPRoutes of one Gateway with BENCH_SCALE_KIND=HTTPRoute), each for its own host on the web
# entry point, all to one Service without endpoints: a served route answers 503 with
# "Bridgehead-Error: NoEndpoints", an unknown host 404, so no backend is needed.
# BENCH_SCALE_KIND=HTTPRouteTLS is end-to-end TLS on the Gateway API: each HTTPRoute to its
# own Service (without endpoints) behind its own BackendTLSPolicy (a CA in a ConfigMap, the
# Service's host name), and the Gateway presents a client certificate to the backends; a
# route is the three objects.
# Two modes (BENCH_SCALE_MODES, both by default):
#   folder   the routes in a folder, 100 per file (`serve --config-dir`)
#   cluster  the routes in a real kube-apiserver and etcd (hack/devcluster, the envtest
#            binaries), created with kubectl
# For each mode and N, `bridgehead serve` starts (GOMAXPROCS=2, loopback addresses) and the
# bench prints:
#   start -> serving   from the process start to the last route being served
#   statuses written   cluster mode: from the start until the status writer has been quiet
#                      for 5 s
#   new route -> served   median of 5 (BENCH_SCALE_CHANGES): one new IngressRoute (folder: a
#                      new file renamed into
#                      the folder; cluster: `kubectl create` returns) -> the gateway serves
#                      its host (polled every 5 ms)
#   CPU per change     median of 5 (BENCH_SCALE_CHANGES): the gateway's CPU from the change to 1 s after served
#                      (the rebuild, and in a cluster the status write and the Event)
#   CPU idle           over 30 s once everything is written and the gateway is quiet
# Between changes the bench waits until the gateway is quiet (under 5% of a core), so the
# work of one change (and of removing its route again) is not counted in the next.
#   RSS, peak RSS      of the gateway process at the end
# Everything runs on loopback; every process started is stopped by its PID.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

COUNTS=${BENCH_SCALE_ROUTES:-1 1000 10000}
# BENCH_SCALE_KIND: the routes' kind, IngressRoute (the default), Ingress, HTTPRoute or
# HTTPRouteTLS.
KIND=${BENCH_SCALE_KIND:-IngressRoute}
KINDS=${KIND}s
[ "$KIND" != Ingress ] || KINDS=Ingresses
[ "$KIND" != HTTPRouteTLS ] || KINDS="HTTPRoutes to verified backends (a Service and a BackendTLSPolicy each)"
MODES=${BENCH_SCALE_MODES:-folder cluster}
BRIDGEHEAD=${BRIDGEHEAD:-bin/bridgehead}
IDLE=${BENCH_SCALE_IDLE:-30}
# BENCH_SCALE_CHANGES: how many routes each row adds (and removes) one by one; more give a
# profile (below) more samples.
CHANGES=${BENCH_SCALE_CHANGES:-5}
# BENCH_SCALE_PPROF=DIR: a CPU profile of the gateway over each row's changes,
# DIR/MODE.ROUTES.pprof (the profiler's own cost is in that row's figures), one over the
# idle measurement, DIR/MODE.ROUTES.idle.pprof, and the live heap before the changes and
# after the idle seconds, DIR/MODE.ROUTES.heap0.pprof and DIR/MODE.ROUTES.heap.pprof.
PPROF_DIR=${BENCH_SCALE_PPROF:-}
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
	printf 'bench-scale: error: %s\n' "$*" >&2
	exit 1
}
[ -x "$BRIDGEHEAD" ] || die "$BRIDGEHEAD not found: run 'make build' first (make bench-scale does)"
hack/apt-install.sh curl >/dev/null

for mode in $MODES; do
	case $mode in folder | cluster) ;; *) die "BENCH_SCALE_MODES: unknown mode $mode (folder, cluster)" ;; esac
done
case $KIND in IngressRoute | Ingress | HTTPRoute | HTTPRouteTLS) ;; *) die "BENCH_SCALE_KIND: unknown kind $KIND (IngressRoute, Ingress, HTTPRoute, HTTPRouteTLS)" ;; esac
[[ $CHANGES =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCALE_CHANGES: $CHANGES is not a positive count of changes"
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
# The gateway runs from a copy, as make bench's does (hack/bench/run.sh): a binary the Go
# linker has just written sits in the page cache in large folios that the kernel maps
# whole on the first fault, ~14 MiB more file-backed RSS than the same bytes copied
# (measured 2026-12-06: 54 against 40 MiB with one route), as an image unpack writes them.
cp "$BRIDGEHEAD" "$WORK/bridgehead"
BRIDGEHEAD=$WORK/bridgehead
read -r WEB_PORT ADMIN_PORT < <(go run ./hack/bench/benchtool freeports 2 | paste -sd' ')

# route NAME: one route of KIND for NAME.scale.test, as YAML.
route() {
	case $KIND in
	IngressRoute) printf -- '---\napiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: %s\n  namespace: scale\nspec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`%s.scale.test`)\n    services:\n    - name: backend\n      port: http\n' "$1" "$1" ;;
	Ingress) printf -- '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: %s\n  namespace: scale\nspec:\n  ingressClassName: bridgehead\n  rules:\n  - host: %s.scale.test\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: backend\n            port:\n              name: http\n' "$1" "$1" ;;
	HTTPRoute) printf -- '---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: %s\n  namespace: scale\nspec:\n  parentRefs:\n  - name: gw\n  hostnames: [%s.scale.test]\n  rules:\n  - backendRefs:\n    - name: backend\n      port: 80\n' "$1" "$1" ;;
	HTTPRouteTLS)
		# Headless: the API server the bench starts has 256 cluster IPs (envtest's range), and
		# the gateway reads a Service's EndpointSlices either way.
		printf -- '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: scale\nspec:\n  clusterIP: None\n  ports:\n  - name: https\n    port: 443\n' "$1"
		printf -- '---\napiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata:\n  name: %s\n  namespace: scale\nspec:\n  targetRefs:\n  - group: ""\n    kind: Service\n    name: %s\n  validation:\n    hostname: %s.scale.svc\n    caCertificateRefs:\n    - group: ""\n      kind: ConfigMap\n      name: backend-ca\n' "$1" "$1" "$1"
		printf -- '---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: %s\n  namespace: scale\nspec:\n  parentRefs:\n  - name: gw\n  hostnames: [%s.scale.test]\n  rules:\n  - backendRefs:\n    - name: %s\n      port: 443\n' "$1" "$1" "$1"
		;;
	esac
}
# routes FROM TO: routes rFROM..rTO-1.
routes() {
	local i
	for ((i = $1; i < $2; i++)); do route "$(printf 'r%05d' "$i")"; done
}
SERVICE='apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: scale
spec:
  ports:
  - name: http
    port: 80'
# The IngressClass the Helm chart installs: without it every Ingress carries a warning,
# and a cluster's first report records 10,000 Warning Events while the bench measures.
[ "$KIND" != Ingress ] || SERVICE+='
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: bridgehead
spec:
  controller: bridgehead.dev/ingress-controller'
# The GatewayClass of Bridgehead and the Gateway the HTTPRoutes attach to: its listener's
# port 80 is the web entry point, whatever port web listens on.
[[ $KIND != HTTPRoute* ]] || SERVICE+='
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: bridgehead
spec:
  controllerName: gateway.bridgehead.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: scale
spec:
  gatewayClassName: bridgehead
  listeners:
  - name: http
    port: 80
    protocol: HTTP'

# End-to-end TLS: the backends' CA, which every policy names, and the Gateway's client
# certificate, made here (a day long).
if [ "$KIND" = HTTPRouteTLS ]; then
	hack/apt-install.sh openssl >/dev/null
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=scale-backend-ca \
		-keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=scale-gateway \
		-keyout "$WORK/client.key" -out "$WORK/client.crt" 2>/dev/null
	SERVICE+="
  tls:
    backend:
      clientCertificateRef:
        name: gateway-client
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: backend-ca
  namespace: scale
data:
  ca.crt: |
$(sed 's/^/    /' "$WORK/ca.crt")
---
apiVersion: v1
kind: Secret
metadata:
  name: gateway-client
  namespace: scale
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 "$WORK/client.crt")
  tls.key: $(base64 -w0 "$WORK/client.key")"
fi

served() { curl -s -D - -o /dev/null --max-time 2 -H "Host: $1" "http://127.0.0.1:$WEB_PORT/" | grep -q '^Bridgehead-Error: NoEndpoints'; }
# cpu_ms PID: the CPU time of the process's threads, in ms. schedstat counts nanoseconds;
# /proc/PID/stat counts clock ticks (10 ms here), a fifth of the 50 ms a change may cost.
# (A thread that exited takes its time with it; the Go runtime keeps its threads.)
cpu_ms() { cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{ns += $1} END {printf "%d\n", ns / 1e6}'; }
now() { date +%s%N; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# quiet PID: wait (at most 120 s) until the gateway uses under 5% of a core over half a
# second, so one change's work is not counted as the next one's, nor as idle.
quiet() {
	local c0 i
	for ((i = 0; i < 240; i++)); do
		c0=$(cpu_ms "$1")
		sleep 0.5
		[ $(($(cpu_ms "$1") - c0)) -ge 25 ] || return 0
	done
}
status_writes() { curl -s --max-time 2 "http://127.0.0.1:$ADMIN_PORT/leader" | sed -n 's/.*"statusWrites":\([0-9]*\).*/\1/p'; }

# start_cluster: the API server, the namespace and the Service.
start_cluster() {
	KUBEBUILDER_ASSETS=$(hack/envtest.sh)
	export KUBEBUILDER_ASSETS
	KUBECTL=$KUBEBUILDER_ASSETS/kubectl
	say "kube-apiserver and etcd (hack/devcluster) in $WORK/cluster"
	mkdir -p "$WORK/cluster"
	go build -o "$WORK/devcluster" ./hack/devcluster
	"$WORK/devcluster" --dir "$WORK/cluster" --pki "$WORK/cluster/pki" --acme-solver "" >"$WORK/devcluster.out" 2>"$WORK/devcluster.log" &
	DEVCLUSTER_PID=$!
	PIDS+=("$DEVCLUSTER_PID")
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q '^ready$' "$WORK/devcluster.out" 2>/dev/null && break
		kill -0 "$DEVCLUSTER_PID" 2>/dev/null || die "the API server did not start: $(tail -n 5 "$WORK/devcluster.log")"
		sleep 0.1
	done
	grep -q '^ready$' "$WORK/devcluster.out" || die "the API server did not start within 60 s"
	export KUBECONFIG=$WORK/cluster/kubeconfig
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: scale\n---\n%s\n' "$SERVICE" | "$KUBECTL" apply -f - >/dev/null
}

# grow MODE FROM TO: add routes FROM..TO-1 (folder: files of 100 routes).
grow() {
	local mode=$1 from=$2 to=$3 f
	say "$mode: adding $KINDS $from..$((to - 1))"
	if [ "$mode" = cluster ]; then
		routes "$from" "$to" | "$KUBECTL" create -f - >/dev/null
		return
	fi
	for ((f = from; f < to; f += 100)); do
		routes "$f" $((f + 100 < to ? f + 100 : to)) >"$WORK/folder/routes-$(printf '%05d' "$f").yaml"
	done
}

# change MODE add|remove NAME: one route appears or goes.
change() {
	local mode=$1 op=$2 name=$3
	if [ "$mode" = cluster ]; then
		if [ "$op" = add ]; then route "$name" | "$KUBECTL" create -f - >/dev/null; else route "$name" | "$KUBECTL" delete -f - >/dev/null; fi
		return
	fi
	if [ "$op" = add ]; then
		# Written aside and renamed in, as an editor or a config sync does.
		route "$name" >"$WORK/$name.tmp"
		mv "$WORK/$name.tmp" "$WORK/folder/$name.yaml"
	else
		rm "$WORK/folder/$name.yaml"
	fi
}

# measure MODE N: one row.
measure() {
	local mode=$1 n=$2 src pid t0 start_ms statuses="-" last prev cur still k name c0 a b lat=() cpu=() idle_ms rss hwm
	if [ "$mode" = cluster ]; then src=(--kubeconfig "$KUBECONFIG"); else src=(--config-dir "$WORK/folder"); fi
	[ -z "$PPROF_DIR" ] || src+=(--pprof)
	say "$mode, $n routes: bridgehead serve"
	t0=$(now)
	POD_NAMESPACE=scale GOMAXPROCS=2 "$BRIDGEHEAD" serve "${src[@]}" --gateway-namespace scale \
		--log-level warn --web-address "127.0.0.1:$WEB_PORT" --websecure-address 127.0.0.1:0 \
		--admin-address "127.0.0.1:$ADMIN_PORT" --publish-address 127.0.0.1 >"$WORK/serve.$mode.$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	last=$(printf 'r%05d.scale.test' $((n - 1)))
	until served "$last"; do
		kill -0 "$pid" 2>/dev/null || die "the gateway exited: $(tail -n 5 "$WORK/serve.$mode.$n.log")"
		[ $(($(now) - t0)) -lt 300000000000 ] || die "$mode, $n routes: not served within 300 s"
		sleep 0.02
	done
	start_ms=$((($(now) - t0) / 1000000))
	if [ "$mode" = cluster ]; then
		# The status writer is done when its count has not moved for 5 s.
		prev=-1 still=0
		while [ "$still" -lt 5 ]; do
			cur=$(status_writes)
			if [ "$cur" = "$prev" ]; then still=$((still + 1)); else still=0 prev=$cur; fi
			[ $(($(now) - t0)) -lt 900000000000 ] || die "$n routes: statuses still being written after 900 s"
			sleep 1
		done
		statuses="$(((($(now) - t0) / 1000000 - 5000) / 1000)) s"
	fi
	quiet "$pid"
	local profiler=
	if [ -n "$PPROF_DIR" ]; then
		mkdir -p "$PPROF_DIR"
		# The heap before the changes: `go tool pprof -sample_index=alloc_space -base
		# MODE.N.heap0.pprof MODE.N.heap.pprof` shows what the changes (and the idle
		# seconds) allocated. gc=1: a heap profile counts what was allocated up to the last
		# collection, so without one the start's last allocations would count as the
		# changes'.
		curl -sS --max-time 30 -o "$PPROF_DIR/$mode.$n.heap0.pprof" "http://127.0.0.1:$ADMIN_PORT/debug/pprof/heap?gc=1" ||
			say "the heap profile before the changes did not arrive"
		curl -sS --max-time $((2 * CHANGES + 30)) -o "$PPROF_DIR/$mode.$n.pprof" "http://127.0.0.1:$ADMIN_PORT/debug/pprof/profile?seconds=$((2 * CHANGES))" &
		profiler=$!
	fi
	for ((k = 0; k < CHANGES; k++)); do
		name=$(printf 'n%d-%05d' "$k" "$n")
		c0=$(cpu_ms "$pid")
		change "$mode" add "$name"
		a=$(now)
		until served "$name.scale.test"; do
			[ $(($(now) - a)) -lt 60000000000 ] || die "$mode, $n routes: a new route was not served within 60 s"
			sleep 0.005
		done
		b=$(now)
		sleep 1
		lat+=($(((b - a) / 1000000)))
		cpu+=($(($(cpu_ms "$pid") - c0)))
		change "$mode" remove "$name"
		sleep 0.2
		quiet "$pid"
	done
	[ -z "$profiler" ] || wait "$profiler" || say "the CPU profile did not arrive"
	if [ -n "$PPROF_DIR" ]; then
		# Over the idle measurement itself (a profile costs nothing while nothing runs).
		curl -sS --max-time $((IDLE + 30)) -o "$PPROF_DIR/$mode.$n.idle.pprof" "http://127.0.0.1:$ADMIN_PORT/debug/pprof/profile?seconds=$IDLE" &
		profiler=$!
	fi
	c0=$(cpu_ms "$pid")
	sleep "$IDLE"
	idle_ms=$(($(cpu_ms "$pid") - c0))
	if [ -n "$PPROF_DIR" ]; then
		wait "$profiler" || say "the idle CPU profile did not arrive"
		curl -sS --max-time 30 -o "$PPROF_DIR/$mode.$n.heap.pprof" "http://127.0.0.1:$ADMIN_PORT/debug/pprof/heap?gc=1" ||
			say "the heap profile did not arrive"
	fi
	read -r rss hwm < <(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {printf "%d %d\n", r / 1024, h / 1024}' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	ROW=$(printf '| %s | %s | %d.%02d s | %s | %d ms | %d ms | %d MiB (%d) | %d.%02d s / %d s |' "$mode" "$n" \
		$((start_ms / 1000)) $((start_ms % 1000 / 10)) "$statuses" \
		"$(printf '%s\n' "${lat[@]}" | median)" "$(printf '%s\n' "${cpu[@]}" | median)" "$rss" "$hwm" \
		$((idle_ms / 1000)) $((idle_ms % 1000 / 10)) "$IDLE")
	echo "    $ROW" >&2
	echo "    new route -> served (ms): ${lat[*]}; CPU per change (ms): ${cpu[*]}" >&2
}

results=()
for mode in $MODES; do
	if [ "$mode" = cluster ]; then
		start_cluster
	else
		mkdir -p "$WORK/folder"
		printf '%s\n' "$SERVICE" >"$WORK/folder/service.yaml"
	fi
	have=0
	for n in $COUNTS; do
		if [ "$n" -gt "$have" ]; then
			grow "$mode" "$have" "$n"
			have=$n
		fi
		measure "$mode" "$n"
		results+=("$ROW")
	done
done

echo
echo "$(nproc) cores, $(date -u '+%Y-%m-%d'), GOMAXPROCS=2, $KINDS, $("$BRIDGEHEAD" version)"
echo "| mode | routes | start -> serving | statuses written | new route -> served (median of $CHANGES) | CPU per change | RSS (peak) | CPU while idle |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
