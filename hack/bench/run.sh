#!/usr/bin/env bash
# Bridgehead vs HAProxy and nginx on the same end-to-end TLS path: `make bench`.
#
# Every proxy terminates client TLS for bench.example.com (RSA-2048 edge certificate) and
# re-encrypts to ONE shared nginx HTTPS origin (one worker, a fixed 28-byte body), verifying
# it against a private CA by the name backend.bench.internal; connections to the origin are
# pooled (keep-alive) by all three. Pinning: the proxy under test on core 0, the load
# generator and the origin on core 1; GOMAXPROCS=1 for Bridgehead, nbthread 1 for HAProxy,
# worker_processes 1 (and no master process) for nginx. Each proxy is started fresh for
# each scenario, so its peak RSS (VmHWM) is that scenario's.
#
# A throughput figure measures a proxy only when that proxy is the bottleneck: in the
# throughput scenarios (keepalive, h2, h2origin, h2corigin) a Bridgehead run that used less
# than BENCH_MIN_PROXY_CPU % (90) of its core is measured again and then marked "not
# proxy-bound", which fails the run. A peer below that mark is flagged "load-bound" (the
# load core was full before the peer's was: its CPU per request still compares, its req/s
# is a lower bound) without failing the run, since nothing Bridgehead does can fix it. The "ceiling" row is the origin itself answering on the
# proxy's core (TLS with the edge certificate, no proxy): what the load core can drive.
#
# Scenarios (each BENCH_WARMUP s of warm-up, then BENCH_DURATION s measured):
#   keepalive    wrk, HTTP/1.1 keep-alive, BENCH_CONNS (50) connections
#   h2           h2load, HTTP/2, 50 connections x BENCH_STREAMS (10) streams; HTTP/1.1 to the origin
#   handshake    wrk with "Connection: close": a new TCP + full TLS handshake per request
#                (session tickets and the session cache are off on every proxy, because
#                wrk would otherwise resume; a probe with openssl s_client checks it). The
#                client's side of a handshake costs about what the proxy's does, so the load
#                core is the limit: compare CPU per request, not req/s.
#   passthrough  wrk keep-alive, TLS straight to the origin through the proxy routing by
#                SNI (Bridgehead IngressRouteTCP tls.passthrough; HAProxy mode tcp; nginx
#                stream ssl_preread). The proxy only copies bytes, so the load core is the
#                limit: compare CPU per request, not req/s.
#   h2origin     (not in the default list) as h2, but the origin offers HTTP/2 (ALPN) and
#                the proxies that can speak it upstream do (Bridgehead, HAProxy; nginx
#                cannot proxy HTTP/2 upstream and stays on HTTP/1.1)
#   h2corigin    (not in the default list) as h2, but the origin speaks HTTP/2 in clear
#                text (h2c, prior knowledge): Bridgehead (service scheme h2c) and HAProxy
#                (proto h2) only; nginx cannot speak it upstream, and the ceiling and
#                gostdlib sit out too
#
# Peers (BENCH_PROXIES): ceiling, bridgehead, haproxy, nginx by default; gostdlib on request
# (hack/bench/gostdlib: net/http's server and httputil.ReverseProxy, GOMAXPROCS=1, no
# passthrough), the Go standard library alone: what its HTTP stack costs per request, and the
# floor under any Go gateway's peak RSS.
#
# Rounds: BENCH_ROUNDS (2) interleaved rounds (every scenario and proxy once per round);
# the table shows the median of the rounds (peak RSS: the highest).
#
# Names: the URLs carry bench.example.com, so SNI and Host are the real ones. wrk is
# pointed at 127.0.0.1 by hack/bench/connect.lua (it replaces only wrk.resolve); h2load by
# --connect-to; curl by --resolve. Nothing touches /etc/hosts.
#
# Shared machines: before each run the bench waits (up to BENCH_QUIET_WAIT s) for both cores
# to be nearly idle; a run in which something else took over 20% of the proxy's core is
# measured again (BENCH_RETRIES times) and, if still disturbed, marked "noisy". As root, the
# bench's own processes run at nice BENCH_NICE (-10).
#
# Environment: BENCH_DURATION (10), BENCH_WARMUP (2), BENCH_CONNS (50), BENCH_STREAMS (10),
# BENCH_ROUNDS (2), BENCH_SCENARIOS ("keepalive h2 handshake passthrough"), BENCH_PROXIES
# ("ceiling bridgehead haproxy nginx"; gostdlib can be added), BENCH_MIN_PROXY_CPU (90), BRIDGEHEAD (bin/bridgehead),
# BENCH_QUIET_WAIT (20), BENCH_RETRIES (1), BENCH_NICE (-10), BENCH_PPROF=DIR (a CPU profile
# of Bridgehead during each measured run, DIR/SCENARIO.ROUND.pprof; the profiler costs a few
# % of CPU, so those runs are not for the table), BENCH_KEEP=1 keeps the work folder
# (certificates, configs, logs, raw outputs), which is otherwise removed after a clean run
# and kept after a failed one or one with errors.
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-50}
STREAMS=${BENCH_STREAMS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
QUIET_WAIT=${BENCH_QUIET_WAIT:-20}
RETRIES=${BENCH_RETRIES:-1}
NICE=${BENCH_NICE:--10}
MIN_PROXY_CPU=${BENCH_MIN_PROXY_CPU:-90}
SCENARIOS=${BENCH_SCENARIOS:-keepalive h2 handshake passthrough}
read -r -a PROXIES <<<"${BENCH_PROXIES:-ceiling bridgehead haproxy nginx}"
BRIDGEHEAD=${BRIDGEHEAD:-bin/bridgehead}
PPROF_DIR=${BENCH_PPROF:-}
HOSTNAME_EDGE=bench.example.com
HOSTNAME_BACKEND=backend.bench.internal
PROXY_CORE=0
LOAD_CORE=1
NGINX_STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- processes and cleanup

PIDS=()
WORK=""
FAILED=1
KEEP_WORK=${BENCH_KEEP:-0}

stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null || true
		return 0
	}
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "$FAILED" = 0 ] && [ "$KEEP_WORK" != 1 ]; then
			rm -rf "$WORK"
		else
			warn "work folder kept: $WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'warn "failed at line $LINENO: $BASH_COMMAND"' ERR
trap 'warn "interrupted"; exit 130' INT TERM

# start LOGFILE CMD...: start CMD in the background and remember its PID. taskset
# and env exec the command, so $! is the process itself.
start() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# wait_until SECONDS PID DESCRIPTION CMD...: poll CMD every 0.1 s until it succeeds, PID
# dies, or the time runs out.
wait_until() {
	local secs=$1 pid=$2 what=$3 i
	shift 3
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || {
			warn "$what: the process exited"
			return 1
		}
		sleep 0.1
	done
	warn "$what: not ready after ${secs}s"
	return 1
}

# ---------------------------------------------------------------- checks and setup

[ -x "$BRIDGEHEAD" ] || die "$BRIDGEHEAD not found: run 'make build' first (make bench does)"
for c in "$PROXY_CORE" "$LOAD_CORE"; do
	taskset -c "$c" true 2>/dev/null || die "core $c is not available to this process: the bench pins the proxy to core $PROXY_CORE and the load to core $LOAD_CORE"
done
for p in "${PROXIES[@]}"; do
	case $p in ceiling | bridgehead | haproxy | nginx | gostdlib) ;; *) die "BENCH_PROXIES: unknown proxy $p (ceiling, bridgehead, haproxy, nginx, gostdlib)" ;; esac
done
for scenario in $SCENARIOS; do
	case $scenario in keepalive | h2 | handshake | passthrough | h2origin | h2corigin) ;; *) die "BENCH_SCENARIOS: unknown scenario $scenario" ;; esac
done

say "Debian packages (wrk, haproxy, nginx, h2load, taskset, openssl, curl)"
hack/apt-install.sh wrk haproxy nginx-light libnginx-mod-stream nghttp2-client util-linux openssl curl
for c in wrk haproxy nginx h2load taskset openssl curl go; do
	command -v "$c" >/dev/null || die "$c is missing after installing the packages"
done
[ -f "$NGINX_STREAM_MODULE" ] || die "$NGINX_STREAM_MODULE is missing after installing libnginx-mod-stream"

WORK=$(mktemp -d /tmp/bridgehead-bench.XXXXXX)

# Everything the bench runs is pinned, and (as root) favoured over other processes so that
# a build elsewhere on the machine disturbs the numbers less; the same for every proxy.
if [ "$NICE" -lt 0 ] && [ "$(id -u)" -ne 0 ]; then
	NICE=0
fi
PIN_PROXY=(nice -n "$NICE" taskset -c "$PROXY_CORE")
PIN_LOAD=(nice -n "$NICE" taskset -c "$LOAD_CORE")
CLK_TCK=$(getconf CLK_TCK)

# The gateway runs from a copy: a binary the Go linker has just written (make bench
# rebuilds it) sits in the page cache in large folios that the kernel maps whole on the
# first fault, which shows ~10 MiB more file-backed RSS than the same binary read from
# disk or an image, as a deployment runs it.
cp "$BRIDGEHEAD" "$WORK/bridgehead"
BRIDGEHEAD=$WORK/bridgehead
if [ -n "$PPROF_DIR" ]; then
	mkdir -p "$PPROF_DIR"
	PPROF_DIR=$(cd "$PPROF_DIR" && pwd)
fi

say "benchtool (certificates, ports) and RSA-2048 PKI in $WORK"
go build -o "$WORK/benchtool" ./hack/bench/benchtool
if [[ " ${PROXIES[*]} " == *" gostdlib "* ]]; then
	go build -o "$WORK/gostdlib" ./hack/bench/gostdlib
fi
"$WORK/benchtool" certs "$WORK/pki"
PKI=$WORK/pki

read -r BACKEND_PORT BACKEND_H2_PORT BACKEND_H2C_PORT PROXY_PORT WEB_PORT ADMIN_PORT < <("$WORK/benchtool" freeports 6 | paste -sd' ')

# nginx_common DIR: the lines every nginx of the bench starts with. One process (no master,
# one worker's work), logs and temporary files in DIR.
nginx_common() {
	local dir=$1 modules=${2:-}
	mkdir -p "$dir/tmp"
	cat <<EOF
$modules
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
    worker_connections 8192;
}
EOF
}

# nginx_http_common DIR: the http-level lines every nginx of the bench shares: no access
# log, keep-alive connections that live through a whole run (nginx closes a client
# connection after 1,000 requests by default, HAProxy and Bridgehead do not).
nginx_http_common() {
	local dir=$1
	cat <<EOF
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
EOF
}

# origin_server LISTEN CERT KEY [LISTEN_OPTIONS] [TLS_LINES]: one server block answering
# every request with the fixed body.
origin_server() {
	cat <<EOF
    server {
        listen $1 ssl${4:-};
        ssl_certificate $2;
        ssl_certificate_key $3;
${5:-}
        location / {
            default_type text/plain;
            return 200 "hello from the bench origin\n";
        }
    }
EOF
}

# origin_h2c LISTEN: the same server block in clear text, HTTP/2 with prior knowledge only.
origin_h2c() {
	cat <<EOF
    server {
        listen $1 http2;
        location / {
            default_type text/plain;
            return 200 "hello from the bench origin\n";
        }
    }
EOF
}

# The origin: HTTP/1.1 only on BACKEND_PORT (the default scenarios), HTTP/2 offered on
# BACKEND_H2_PORT (h2origin), h2c on BACKEND_H2C_PORT (h2corigin).
ORIGIN_DIR=$WORK/origin
{
	nginx_common "$ORIGIN_DIR"
	echo "http {"
	nginx_http_common "$ORIGIN_DIR"
	origin_server "127.0.0.1:$BACKEND_PORT" "$PKI/backend.crt" "$PKI/backend.key"
	origin_server "127.0.0.1:$BACKEND_H2_PORT" "$PKI/backend.crt" "$PKI/backend.key" " http2"
	origin_h2c "127.0.0.1:$BACKEND_H2C_PORT"
	echo "}"
} >"$ORIGIN_DIR.conf"

say "nginx origin on core $LOAD_CORE, 127.0.0.1:$BACKEND_PORT (HTTP/1.1), :$BACKEND_H2_PORT (HTTP/2) and :$BACKEND_H2C_PORT (h2c)"
start "$WORK/origin.log" "${PIN_LOAD[@]}" nginx -e "$ORIGIN_DIR/error.log" -c "$ORIGIN_DIR.conf"
BACKEND_PID=$LAST_PID
backend_ok() {
	curl -sSf --max-time 2 --cacert "$PKI/backend-ca.crt" \
		--resolve "$HOSTNAME_BACKEND:$BACKEND_PORT:127.0.0.1" "https://$HOSTNAME_BACKEND:$BACKEND_PORT/"
}
wait_until 15 "$BACKEND_PID" "origin" backend_ok || {
	cat "$WORK/origin.log" "$ORIGIN_DIR/error.log" >&2 || true
	die "the nginx origin did not start"
}
backend_ok >"$WORK/expected.body"

# origin_port SCENARIO: the origin port the scenario's proxies forward to.
origin_port() {
	case $1 in
	h2origin) echo "$BACKEND_H2_PORT" ;;
	h2corigin) echo "$BACKEND_H2C_PORT" ;;
	*) echo "$BACKEND_PORT" ;;
	esac
}

# throughput SCENARIO: succeeds when the scenario's req/s should be limited by the proxy.
# Passthrough and handshake are cost scenarios: in the first the proxy only copies bytes,
# in the second the load generator's side of each full handshake costs about as much as
# the proxy's (the ceiling row shows the load core drives ~1,200 handshakes a second), so
# the load core is full first; their CPU per request compares the proxies.
throughput() { [ "$1" != passthrough ] && [ "$1" != handshake ]; }

# supports PROXY SCENARIO: fails for the pairs the bench does not run: Go's standard
# library has no SNI router, so the gostdlib peer sits out passthrough; h2corigin is for
# the proxies that speak h2c to an origin (nginx does not; the ceiling has no origin).
supports() {
	case $1:$2 in
	gostdlib:passthrough | nginx:h2corigin | ceiling:h2corigin | gostdlib:h2corigin) return 1 ;;
	esac
}

# h2client SCENARIO: succeeds when the scenario's clients speak HTTP/2 (h2load).
h2client() { [ "$1" = h2 ] || [ "$1" = h2origin ] || [ "$1" = h2corigin ]; }

# ---------------------------------------------------------------- proxy configurations

# bridgehead_config SCENARIO DIR: the manifests folder for one scenario.
bridgehead_config() {
	local scenario=$1 dir=$2
	mkdir -p "$dir"
	cp "$PKI/secrets.yaml" "$dir/secrets.yaml"
	cat >"$dir/backend.yaml" <<EOF
# The shared bench origin: a selector-less Service plus an EndpointSlice on loopback.
apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: bench
spec:
  ports:
  - name: https
    port: 443
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-local
  namespace: bench
  labels:
    kubernetes.io/service-name: backend
addressType: IPv4
ports:
- name: https
  port: $(origin_port "$scenario")
endpoints:
- addresses: [127.0.0.1]
EOF
	if [ "$scenario" = passthrough ]; then
		cat >"$dir/route.yaml" <<EOF
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRouteTCP
metadata:
  name: bench
  namespace: bench
spec:
  entryPoints: [websecure]
  routes:
  - match: HostSNI(\`$HOSTNAME_EDGE\`)
    services:
    - name: backend
      port: 443
  tls:
    passthrough: true
EOF
		return
	fi
	local options=""
	if [ "$scenario" = handshake ]; then
		# wrk resumes TLS sessions across its reconnects; without tickets every request
		# pays a full handshake (the scenario's point). The other proxies get the same.
		options=$'\n    options:\n      name: no-resumption'
		cat >"$dir/tlsoption.yaml" <<EOF
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TLSOption
metadata:
  name: no-resumption
  namespace: bench
spec:
  disableSessionTickets: true
EOF
	fi
	# Verified TLS to the origin, or HTTP/2 in clear text for h2corigin.
	local upstream="serversTransport: backend"
	[ "$scenario" != h2corigin ] || upstream="scheme: h2c"
	cat >"$dir/route.yaml" <<EOF
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: bench
  namespace: bench
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(\`$HOSTNAME_EDGE\`)
    services:
    - name: backend
      port: https
      $upstream
  tls:
    secretName: bench-edge-tls$options
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: ServersTransport
metadata:
  name: backend
  namespace: bench
spec:
  serverName: $HOSTNAME_BACKEND
  rootCAs:
  - secret: backend-ca
EOF
}

# haproxy_config SCENARIO FILE
haproxy_config() {
	local scenario=$1 file=$2 tickets="" cache="" port
	port=$(origin_port "$scenario")
	if [ "$scenario" = handshake ]; then
		tickets=" no-tls-tickets"
		cache="    tune.ssl.cachesize 0"
	fi
	cat >"$file" <<EOF
global
    nbthread 1
    maxconn 8192
    ssl-server-verify required
$cache

defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
EOF
	# Verified re-encryption, as Bridgehead's ServersTransport (rootCAs + serverName); h2
	# first, as Bridgehead offers (the default origin port answers only HTTP/1.1). For
	# h2corigin, HTTP/2 in clear text (prior knowledge), as Bridgehead's scheme h2c.
	local upstream="ssl verify required ca-file $PKI/backend-ca.crt verifyhost $HOSTNAME_BACKEND sni str($HOSTNAME_BACKEND) alpn h2,http/1.1"
	[ "$scenario" != h2corigin ] || upstream="proto h2"
	if [ "$scenario" = passthrough ]; then
		cat >>"$file" <<EOF

frontend tls_passthrough
    mode tcp
    bind 127.0.0.1:$PROXY_PORT
    tcp-request inspect-delay 5s
    tcp-request content accept if { req_ssl_hello_type 1 }
    use_backend backend_tcp if { req_ssl_sni -i $HOSTNAME_EDGE }

backend backend_tcp
    mode tcp
    server backend 127.0.0.1:$port
EOF
		return
	fi
	cat >>"$file" <<EOF

frontend https_in
    mode http
    bind 127.0.0.1:$PROXY_PORT ssl crt $PKI/edge.pem alpn h2,http/1.1$tickets
    # The headers Bridgehead sets (X-Forwarded-For/-Proto/-Host/-Port, X-Real-Ip).
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Forwarded-Port %[dst_port]
    http-request set-header X-Real-Ip %[src]
    use_backend backend_https if { req.hdr(host),field(1,:) -i $HOSTNAME_EDGE }

backend backend_https
    mode http
    http-reuse always
    server backend 127.0.0.1:$port $upstream
EOF
}

# nginx_config SCENARIO DIR: nginx as the third proxy (an ingress-nginx user's data plane).
nginx_config() {
	local scenario=$1 dir=$2 port tls=""
	port=$(origin_port "$scenario")
	if [ "$scenario" = passthrough ]; then
		nginx_common "$dir" "load_module $NGINX_STREAM_MODULE;"
		cat <<EOF
stream {
    map \$ssl_preread_server_name \$origin {
        $HOSTNAME_EDGE 127.0.0.1:$port;
        default 127.0.0.1:1;
    }
    server {
        listen 127.0.0.1:$PROXY_PORT;
        ssl_preread on;
        proxy_pass \$origin;
    }
}
EOF
		return
	fi
	[ "$scenario" = handshake ] && tls=$'        ssl_session_tickets off;\n        ssl_session_cache off;'
	nginx_common "$dir"
	cat <<EOF
http {
$(nginx_http_common "$dir")
    upstream origin {
        server 127.0.0.1:$port;
        keepalive 256;
        keepalive_requests 100000000;
    }
    server {
        listen 127.0.0.1:$PROXY_PORT ssl http2;
        server_name $HOSTNAME_EDGE;
        ssl_certificate $PKI/edge.crt;
        ssl_certificate_key $PKI/edge.key;
$tls
        location / {
            proxy_pass https://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            # The headers Bridgehead sets.
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_set_header X-Forwarded-Port \$server_port;
            proxy_set_header X-Real-Ip \$remote_addr;
            # Verified re-encryption by the backend's name, sessions resumed.
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $PKI/backend-ca.crt;
            proxy_ssl_name $HOSTNAME_BACKEND;
            proxy_ssl_server_name on;
        }
    }
}
EOF
}

# ceiling_config SCENARIO DIR: the origin itself on the proxy's port and core, with the
# certificate the clients check (the edge one; the origin's own for passthrough).
ceiling_config() {
	local scenario=$1 dir=$2 tls="" cert=$PKI/edge.crt key=$PKI/edge.key
	[ "$scenario" = handshake ] && tls=$'        ssl_session_tickets off;\n        ssl_session_cache off;'
	if [ "$scenario" = passthrough ]; then
		cert=$PKI/backend.crt key=$PKI/backend.key
	fi
	nginx_common "$dir"
	echo "http {"
	nginx_http_common "$dir"
	origin_server "127.0.0.1:$PROXY_PORT" "$cert" "$key" " http2" "$tls"
	echo "}"
}

# start_proxy PROXY SCENARIO: start it pinned to the proxy core; sets PROXY_PID.
start_proxy() {
	local proxy=$1 scenario=$2 base="$WORK/$2.$1"
	case $proxy in
	bridgehead)
		bridgehead_config "$scenario" "$base.d"
		local extra=()
		[ -z "$PPROF_DIR" ] || extra=(--pprof)
		start "$base.log" env GOMAXPROCS=1 "${PIN_PROXY[@]}" "$BRIDGEHEAD" serve \
			--config-dir "$base.d" --gateway-namespace bench --log-level warn \
			--web-address "127.0.0.1:$WEB_PORT" --websecure-address "127.0.0.1:$PROXY_PORT" \
			--admin-address "127.0.0.1:$ADMIN_PORT" "${extra[@]+"${extra[@]}"}"
		PROXY_PID=$LAST_PID
		wait_until 30 "$PROXY_PID" "bridgehead /readyz" curl -sf --max-time 2 "http://127.0.0.1:$ADMIN_PORT/readyz"
		;;
	haproxy)
		haproxy_config "$scenario" "$base.cfg"
		haproxy -c -q -f "$base.cfg" >"$base.check" 2>&1 || {
			cat "$base.check" >&2
			die "haproxy refused the generated $base.cfg"
		}
		start "$base.log" "${PIN_PROXY[@]}" haproxy -db -f "$base.cfg"
		PROXY_PID=$LAST_PID
		wait_until 30 "$PROXY_PID" "haproxy listening" probe_tcp "$PROXY_PORT"
		;;
	gostdlib)
		local h2=()
		[ "$scenario" != h2origin ] || h2=(-origin-h2)
		start "$base.log" env GOMAXPROCS=1 "${PIN_PROXY[@]}" "$WORK/gostdlib" \
			-listen "127.0.0.1:$PROXY_PORT" -cert "$PKI/edge.crt" -key "$PKI/edge.key" \
			-origin "127.0.0.1:$(origin_port "$scenario")" -origin-ca "$PKI/backend-ca.crt" \
			-origin-name "$HOSTNAME_BACKEND" -ready "127.0.0.1:$ADMIN_PORT" "${h2[@]+"${h2[@]}"}"
		PROXY_PID=$LAST_PID
		wait_until 30 "$PROXY_PID" "gostdlib listening" curl -sf --max-time 2 "http://127.0.0.1:$ADMIN_PORT/"
		;;
	nginx | ceiling)
		"${proxy}_config" "$scenario" "$base" >"$base.conf"
		nginx -t -q -e "$base/error.log" -c "$base.conf" >"$base.check" 2>&1 || {
			cat "$base.check" >&2
			die "nginx refused the generated $base.conf"
		}
		start "$base.log" "${PIN_PROXY[@]}" nginx -e "$base/error.log" -c "$base.conf"
		PROXY_PID=$LAST_PID
		wait_until 30 "$PROXY_PID" "$proxy listening" probe_tcp "$PROXY_PORT"
		;;
	esac
}

probe_tcp() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_proxy() {
	stop_pid "$PROXY_PID"
	forget_pid "$PROXY_PID"
}

# request_ok SCENARIO: one request as the scenario makes them; the origin's body back.
request_ok() {
	local scenario=$1 ca="$PKI/edge-ca.crt" proto=(--http1.1) got want="200 HTTP/1.1"
	[ "$scenario" = passthrough ] && ca="$PKI/backend-ca.crt"
	if h2client "$scenario"; then
		proto=(--http2)
		want="200 HTTP/2"
	fi
	rm -f "$WORK/got.body"
	got=$(curl -sS --max-time 3 "${proto[@]}" --cacert "$ca" -o "$WORK/got.body" \
		--resolve "$HOSTNAME_EDGE:$PROXY_PORT:127.0.0.1" "https://$HOSTNAME_EDGE:$PROXY_PORT/" \
		-w '%{http_code} HTTP/%{http_version}' 2>&1) || {
		LAST_REQUEST=$got
		return 1
	}
	LAST_REQUEST="$got: $(head -c 200 "$WORK/got.body" 2>/dev/null)"
	[ "$got" = "$want" ] && cmp -s "$WORK/got.body" "$WORK/expected.body"
}

# resumption_probe: "New" or "Reused" — does the proxy resume a TLS 1.3 session?
resumption_probe() {
	local sess="$WORK/probe.sess"
	rm -f "$sess"
	# The pause lets s_client read the post-handshake session ticket, if any.
	(sleep 0.3) | openssl s_client -connect "127.0.0.1:$PROXY_PORT" -servername "$HOSTNAME_EDGE" \
		-sess_out "$sess" >/dev/null 2>&1 || true
	if [ ! -s "$sess" ]; then
		echo "New"
		return
	fi
	(sleep 0.3) | openssl s_client -connect "127.0.0.1:$PROXY_PORT" -servername "$HOSTNAME_EDGE" \
		-sess_in "$sess" 2>/dev/null | awk '/^(New|Reused),/ && !done {sub(/,.*/, ""); print; done = 1}'
	# (awk reads to the end: leaving early would end openssl with SIGPIPE, a failure under pipefail)
}

# ---------------------------------------------------------------- measurements

# proc_cpu PID: utime + stime in clock ticks (all threads).
proc_cpu() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# proc_sys PID: stime alone (the kernel's share: system calls, TCP on loopback, TLS copies).
proc_sys() { awk '{sub(/^.*\) /, ""); print $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
proc_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# proc_rss_split PID: "anon file" resident MiB now (heap, stacks vs. mapped binary and libraries).
proc_rss_split() { awk '/^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {printf "%.1f %.1f\n", a / 1024, f / 1024}' "/proc/$1/status"; }
# core_ticks N: "busy total" ticks of core N since boot.
core_ticks() { awk -v c="cpu$1" '$1 == c {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
# busy_pct BUSY0 TOTAL0 BUSY1 TOTAL1: a core's busy share between two core_ticks.
busy_pct() { awk -v b0="$1" -v t0="$2" -v b1="$3" -v t1="$4" 'BEGIN {if (t1 > t0) printf "%.0f", (b1 - b0) / (t1 - t0) * 100; else print "-"}'; }
# sample_busy SECONDS: "busy0 busy1", both cores' busy % over SECONDS.
sample_busy() {
	local a0 a1 b0 b1
	read -r -a a0 < <(core_ticks "$PROXY_CORE")
	read -r -a a1 < <(core_ticks "$LOAD_CORE")
	sleep "$1"
	read -r -a b0 < <(core_ticks "$PROXY_CORE")
	read -r -a b1 < <(core_ticks "$LOAD_CORE")
	echo "$(busy_pct "${a0[@]}" "${b0[@]}") $(busy_pct "${a1[@]}" "${b1[@]}")"
}

# wait_quiet: on a shared machine, wait (at most BENCH_QUIET_WAIT s) until both cores
# are nearly idle before a run, so the run measures the proxy and not someone's build.
wait_quiet() {
	local i busy0 busy1 said=0
	for ((i = 0; i < QUIET_WAIT; i++)); do
		read -r busy0 busy1 < <(sample_busy 1)
		[ "$busy0" -le 15 ] && [ "$busy1" -le 15 ] && return 0
		[ "$said" = 1 ] || warn "other processes are using the cores (core $PROXY_CORE $busy0%, core $LOAD_CORE $busy1%): waiting up to ${QUIET_WAIT}s"
		said=1
	done
	warn "the machine stayed busy: this run will be noisy"
}

tcp_active_opens() { awk '/^Tcp:/ {if (!n) {for (i = 1; i <= NF; i++) if ($i == "ActiveOpens") f = i; n = 1} else print $f}' /proc/net/snmp; }

# load SCENARIO SECONDS OUT: run the scenario's load generator on the load core.
load() {
	local scenario=$1 secs=$2 out=$3 url="https://$HOSTNAME_EDGE:$PROXY_PORT/"
	# --foreground keeps the load generator in this process group, so Ctrl-C reaches it.
	local guard=(timeout --foreground $((secs + 30)) "${PIN_LOAD[@]}")
	case $scenario in
	keepalive | passthrough)
		"${guard[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" --latency -s hack/bench/connect.lua "$url" >"$out" 2>&1
		;;
	handshake)
		"${guard[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" --latency -H "Connection: close" \
			-s hack/bench/connect.lua "$url" >"$out" 2>&1
		;;
	h2 | h2origin | h2corigin)
		"${guard[@]}" h2load -t1 -c"$CONNS" -m"$STREAMS" -D "$secs" \
			--connect-to="127.0.0.1:$PROXY_PORT" --log-file="$out.requests" "$url" >"$out" 2>&1
		;;
	esac
}

# parse SCENARIO OUT: prints "requests rps p99_ms errors error_detail".
parse() {
	local scenario=$1 out=$2
	if h2client "$scenario"; then
		local p99="-"
		if [ -s "$out.requests" ]; then
			p99=$(awk -F'\t' '$2 > 0 {print $3}' "$out.requests" | sort -n |
				awk '{v[NR] = $1} END {if (NR == 0) {print "-"; exit} i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1; printf "%.2f\n", v[i] / 1000}')
			rm -f "$out.requests"
		fi
		awk -v p99="$p99" '
			/^finished in/ {rps = $4 + 0}
			/^requests:/ {for (i = 2; i < NF; i++) {if ($(i+1) ~ /^done/) done = $i; if ($(i+1) ~ /^failed/) failed = $i; if ($(i+1) ~ /^errored/) errored = $i; if ($(i+1) ~ /^timeout/) tmo = $i}}
			/^status codes:/ {s3xx = $5; non2xx = $5 + $7 + $9}
			END {
				# h2load counts errored (which includes timeouts) and 4xx/5xx within failed.
				err = failed + s3xx
				printf "%d %.2f %s %d failed=%d,errored=%d,timeout=%d,non-2xx=%d\n", done, rps, p99, err, failed, errored, tmo, non2xx
			}' "$out"
		return
	fi
	awk '
		function ms(v) {
			if (v ~ /us$/) return v * 0.001
			if (v ~ /ms$/) return v + 0
			if (v ~ /m$/) return v * 60000
			if (v ~ /s$/) return v * 1000
			return v
		}
		/requests in/ {req = $1}
		/^Requests\/sec:/ {rps = $2}
		/^ +99%/ {p99 = ms($2)}
		/Socket errors:/ {gsub(/,/, ""); conn = $4; rd = $6; wr = $8; tmo = $10}
		/Non-2xx or 3xx responses:/ {non2xx = $NF}
		END {
			err = conn + rd + wr + tmo + non2xx
			printf "%d %.2f %.2f %d connect=%d,read=%d,write=%d,timeout=%d,non-2xx=%d\n", req, rps, p99, err, conn, rd, wr, tmo, non2xx
		}' "$out"
}

# Per measurement (key SCENARIO/PROXY/ROUND) and, after the rounds, per SCENARIO/PROXY.
declare -A LOADBOUND ANON FILE RPS P99 CPUREQ SYSREQ CPUPCT CORE0 OTHER0 CORE1 RSS ERRS STATUS CONNREQ BCPUREQ BCONNS DETAIL

# noisy KEY: a note when much besides the proxy ran on its core during the run (kernel
# network work is normally a few %).
noisy() { awk -v o="${OTHER0[$1]:-0}" 'BEGIN {if (o > 20) printf " (noisy: core0 %d%% not the proxy)", o}'; }

# bound_check KEY SCENARIO PROXY: mark a throughput run in which the proxy did not keep
# its core busy: its req/s then measures the load core, not the proxy. For Bridgehead (the
# proxy under test) that fails the run; a peer is flagged.
bound_check() {
	local key=$1 scenario=$2 proxy=$3
	LOADBOUND[$key]=""
	[ "${STATUS[$key]:-}" = ok ] || return 0
	throughput "$scenario" || return 0
	[ "$proxy" != ceiling ] || return 0
	awk -v p="${CPUPCT[$key]}" -v m="$MIN_PROXY_CPU" 'BEGIN {exit !(p < m)}' || return 0
	if [ "$proxy" = bridgehead ]; then
		STATUS[$key]="not proxy-bound (${CPUPCT[$key]}% < ${MIN_PROXY_CPU}%)"
	else
		LOADBOUND[$key]="${CPUPCT[$key]}%"
	fi
}

# run_one PROXY SCENARIO ROUND: measure_one, again (up to BENCH_RETRIES times) when another
# process took a large share of the proxy's core during the run, or when the proxy was not
# the bottleneck.
run_one() {
	local key="$2/$1/$3" attempt
	for ((attempt = 0; attempt <= RETRIES; attempt++)); do
		measure_one "$1" "$2" "$3"
		bound_check "$key" "$2" "$1"
		local why
		case ${STATUS[$key]:-} in
		ok | ERRORS)
			why=$(noisy "$key")
			[ -n "$why" ] || return 0
			;;
		"not proxy-bound"*) why=" ${STATUS[$key]}" ;;
		*) return 0 ;;
		esac
		if [ "$attempt" -lt "$RETRIES" ]; then
			warn "$key:$why; measuring again"
		fi
	done
	return 0
}

# measure_one PROXY SCENARIO ROUND
measure_one() {
	local proxy=$1 scenario=$2 round=$3 key="$2/$1/$3" out="$WORK/$2.$1.$3.out" i
	say "$scenario: $proxy (round $round of $ROUNDS)"
	DETAIL[$key]=""
	OTHER0[$key]=0
	kill -0 "$BACKEND_PID" 2>/dev/null || die "the origin exited: $(tail -n 5 "$ORIGIN_DIR/error.log")"
	wait_quiet
	if ! start_proxy "$proxy" "$scenario"; then
		tail -n 20 "$WORK/$scenario.$proxy.log" >&2 || true
		STATUS[$key]="FAILED (did not start)"
		stop_proxy
		return
	fi
	local ok=0
	for ((i = 0; i < 50; i++)); do
		if request_ok "$scenario"; then
			ok=1
			break
		fi
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$ok" != 1 ]; then
		warn "$proxy does not serve the $scenario path; last answer: $(echo "$LAST_REQUEST" | tr '\n' ' ' | cut -c1-300)"
		tail -n 20 "$WORK/$scenario.$proxy.log" >&2 || true
		STATUS[$key]="FAILED (no route)"
		stop_proxy
		return
	fi
	if [ "$scenario" = handshake ]; then
		local resumed
		resumed=$(resumption_probe)
		[ "$resumed" = New ] || warn "$proxy resumed a TLS session ($resumed): the handshake numbers include resumptions"
		DETAIL[$key]="resumption probe: ${resumed:-?}"
	fi

	load "$scenario" "$WARMUP" "$out.warmup" || true
	rm -f "$out.warmup.requests"
	local cpu0 cpu1 sys0 sys1 bcpu0 bcpu1 core0 core1 pcore0 pcore1 opens0 opens1 t0 t1 profiler=""
	if [ -n "$PPROF_DIR" ] && [ "$proxy" = bridgehead ]; then
		start "$out.pprof.log" curl -sS --max-time $((DURATION + 10)) -o "$PPROF_DIR/$scenario.$round.pprof" \
			"http://127.0.0.1:$ADMIN_PORT/debug/pprof/profile?seconds=$((DURATION > 3 ? DURATION - 2 : 1))"
		profiler=$LAST_PID
	fi
	cpu0=$(proc_cpu "$PROXY_PID")
	sys0=$(proc_sys "$PROXY_PID")
	bcpu0=$(proc_cpu "$BACKEND_PID")
	read -r -a core0 < <(core_ticks "$LOAD_CORE")
	read -r -a pcore0 < <(core_ticks "$PROXY_CORE")
	opens0=$(tcp_active_opens)
	t0=$(date +%s.%N)
	# Halfway through, count the proxy's connections to the origin.
	rm -f "$out.bconns"
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
	start "$out.bconns" bash -c 'sleep "$1"; ss -Htn state established "( sport = :$2 )" | wc -l' _ \
		"$(awk -v d="$DURATION" 'BEGIN {print d / 2}')" "$(origin_port "$scenario")"
	local counter=$LAST_PID rc=0
	load "$scenario" "$DURATION" "$out" || rc=$?
	t1=$(date +%s.%N)
	stop_pid "$counter"
	forget_pid "$counter"
	if [ -n "$profiler" ]; then
		wait "$profiler" 2>/dev/null || warn "the CPU profile did not arrive: $(cat "$out.pprof.log")"
		forget_pid "$profiler"
	fi
	BCONNS[$key]=$(cat "$out.bconns" 2>/dev/null || echo -)
	kill -0 "$PROXY_PID" 2>/dev/null || {
		warn "$proxy died during the $scenario run"
		tail -n 20 "$WORK/$scenario.$proxy.log" >&2 || true
		STATUS[$key]="FAILED (proxy died)"
		forget_pid "$PROXY_PID"
		wait "$PROXY_PID" 2>/dev/null || true
		return
	}
	cpu1=$(proc_cpu "$PROXY_PID")
	sys1=$(proc_sys "$PROXY_PID")
	bcpu1=$(proc_cpu "$BACKEND_PID")
	read -r -a core1 < <(core_ticks "$LOAD_CORE")
	read -r -a pcore1 < <(core_ticks "$PROXY_CORE")
	opens1=$(tcp_active_opens)
	RSS[$key]=$(awk -v k="$(proc_hwm_kb "$PROXY_PID")" 'BEGIN {printf "%.1f", k / 1024}')
	read -r ANON[$key] FILE[$key] < <(proc_rss_split "$PROXY_PID")
	if [ "$rc" != 0 ]; then
		warn "the load generator exited with status $rc:"
		cat "$out" >&2
	fi

	local requests rps p99 errs detail
	read -r requests rps p99 errs detail < <(parse "$scenario" "$out")
	RPS[$key]=$rps
	P99[$key]=$p99
	ERRS[$key]=$errs
	DETAIL[$key]="${DETAIL[$key]:+${DETAIL[$key]}; }$detail"
	if [ "${requests:-0}" -gt 0 ]; then
		CPUREQ[$key]=$(awk -v c=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.1f", c / hz / n * 1e6}')
		SYSREQ[$key]=$(awk -v c=$((sys1 - sys0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.1f", c / hz / n * 1e6}')
		CONNREQ[$key]=$(awk -v o=$((opens1 - opens0)) -v n="$requests" 'BEGIN {printf "%.2f", o / n}')
		BCPUREQ[$key]=$(awk -v c=$((bcpu1 - bcpu0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.1f", c / hz / n * 1e6}')
	else
		CPUREQ[$key]="-"
		SYSREQ[$key]="-"
		CONNREQ[$key]="-"
		BCPUREQ[$key]="-"
	fi
	CPUPCT[$key]=$(awk -v c=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", c / hz / (b - a) * 100}')
	CORE1[$key]=$(busy_pct "${core0[@]}" "${core1[@]}")
	CORE0[$key]=$(busy_pct "${pcore0[@]}" "${pcore1[@]}")
	# What else ran on the proxy's core: kernel network work (a few %) and other processes.
	OTHER0[$key]=$(awk -v a="${CORE0[$key]}" -v b="${CPUPCT[$key]}" 'BEGIN {print a - b}')
	if [ "$rc" != 0 ] || [ "${requests:-0}" -eq 0 ]; then
		STATUS[$key]="FAILED (load generator)"
	elif [ "$errs" -gt 0 ]; then
		STATUS[$key]="ERRORS"
		warn "$proxy, $scenario: $errs errors ($detail); last lines of its log:"
		tail -n 10 "$WORK/$scenario.$proxy.log" >&2 || true
	else
		STATUS[$key]="ok"
	fi
	printf '    %s req/s, p99 %s ms, %s us CPU/request (%s%% of a core; core %s %s%% busy), peak RSS %s MiB, new connections/request %s, errors %s (%s)\n' \
		"$rps" "$p99" "${CPUREQ[$key]}" "${CPUPCT[$key]}" "$PROXY_CORE" "${CORE0[$key]}" "${RSS[$key]}" "${CONNREQ[$key]}" "$errs" "$detail" >&2
	stop_proxy
}

# median VALUES...: the median of the numeric values ("-" when there are none), with no
# more decimals than the values have.
median() {
	printf '%s\n' "$@" | awk '$1 != "-" && $1 != ""' | sort -g |
		awk '{v[NR] = $1; if (match($1, /\.[0-9]+$/) && RLENGTH - 1 > d) d = RLENGTH - 1}
			END {if (NR == 0) {print "-"; exit} m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.*f\n", d, m}'
}

# summarize SCENARIO PROXY: the rounds' median (peak RSS: the highest) under SCENARIO/PROXY.
summarize() {
	local key="$1/$2" r k field status="ok" errs=0 details=() loadbound=()
	local -A vals=()
	for ((r = 1; r <= ROUNDS; r++)); do
		k="$key/$r"
		case ${STATUS[$k]:-not run} in
		ok) ;;
		ERRORS) [ "$status" != ok ] || status=ERRORS ;;
		*) [[ "$status" =~ ^(ok|ERRORS)$ ]] && status="${STATUS[$k]:-not run} (round $r)" ;;
		esac
		errs=$((errs + ${ERRS[$k]:-0}))
		[ -z "${LOADBOUND[$k]:-}" ] || loadbound+=("${LOADBOUND[$k]}")
		[ -z "${DETAIL[$k]:-}" ] || details+=("round $r: ${DETAIL[$k]}")
		for field in RPS P99 CPUREQ SYSREQ CPUPCT CORE0 CORE1 BCPUREQ BCONNS CONNREQ RSS OTHER0; do
			local -n arr=$field
			vals[$field]+=" ${arr[$k]:--}"
		done
		ANON[$key]=${ANON[$k]:--} FILE[$key]=${FILE[$k]:--}
	done
	for field in RPS P99 CPUREQ SYSREQ CPUPCT CORE0 CORE1 BCPUREQ BCONNS CONNREQ OTHER0; do
		local -n arr=$field
		# shellcheck disable=SC2086 # the values are words
		arr[$key]=$(median ${vals[$field]})
	done
	# shellcheck disable=SC2086
	RSS[$key]=$(printf '%s\n' ${vals[RSS]} | awk '$1 != "-" {if ($1 > m) m = $1; n++} END {if (n) print m; else print "-"}')
	STATUS[$key]=$status
	LOADBOUND[$key]=""
	if [ "${#loadbound[@]}" -gt 0 ]; then
		LOADBOUND[$key]=" (load-bound: ${loadbound[*]} of its core in ${#loadbound[@]} of $ROUNDS rounds)"
	fi
	ERRS[$key]=$errs
	DETAIL[$key]=$(
		IFS='|'
		echo "${details[*]+"${details[*]}"}" | sed 's/|/; /g'
	)
}

# ---------------------------------------------------------------- run

read -r busy0 busy1 < <(sample_busy 1)
BUSY_BEFORE="core $PROXY_CORE $busy0%, core $LOAD_CORE $busy1% busy before the runs"

say "versions"
{
	echo "  date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "  go:        $(go version | awk '{print $3}') (bridgehead built with $(go version "$BRIDGEHEAD" | awk '{print $2}'))"
	echo "  haproxy:   $(haproxy -v | awk 'NR == 1')"
	echo "  nginx:     $(nginx -v 2>&1 | awk '{print $3}') (origin and peer)"
	echo "  wrk:       $({ wrk -v 2>&1 || true; } | awk 'NR == 1 {print $2}'), h2load: $(h2load --version | awk '{print $2}'), $(openssl version | awk '{print $1, $2}')"
	echo "  cpu:       $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores; proxy on core $PROXY_CORE, load generator + origin on core $LOAD_CORE"
	echo "  run:       $ROUNDS interleaved rounds of ${WARMUP}s warm-up + ${DURATION}s per scenario and proxy, $CONNS connections (h2: x$STREAMS streams), nice $NICE; $BUSY_BEFORE"
} | tee "$WORK/versions.txt"

for ((round = 1; round <= ROUNDS; round++)); do
	for scenario in $SCENARIOS; do
		for proxy in "${PROXIES[@]}"; do
			supports "$proxy" "$scenario" || continue
			run_one "$proxy" "$scenario" "$round"
		done
	done
done
for scenario in $SCENARIOS; do
	for proxy in "${PROXIES[@]}"; do
		supports "$proxy" "$scenario" || continue
		summarize "$scenario" "$proxy"
	done
done

kill -0 "$BACKEND_PID" 2>/dev/null || warn "the origin died during the run: $(tail -n 5 "$ORIGIN_DIR/error.log")"

# ---------------------------------------------------------------- report

v() { local x=${1:-}; echo "${x:--}"; }
# ratio A B: A / B to two decimals, "-" when either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a != "-" && a != "" && b != "-" && b > 0) printf "%.2f", a / b; else print "-"}'; }
usable() { [[ "${STATUS[$1]:-}" =~ ^(ok|ERRORS)$ ]]; }
{
	echo
	echo "Results (median of $ROUNDS rounds)"
	row() { printf '%-12s %-11s %9s %8s %8s %8s %6s %6s %6s %8s %7s %7s %8s %9s %6s  %s\n' "$@"; }
	row scenario proxy req/s p99_ms us/req sys_us proxy core0 core1 be_us/req be_conn conn/req peak_MiB anon/file errors status
	for scenario in $SCENARIOS; do
		for proxy in "${PROXIES[@]}"; do
			supports "$proxy" "$scenario" || continue
			k="$scenario/$proxy"
			if [ -n "${RPS[$k]:-}" ] && [ "${RPS[$k]}" != - ]; then
				row "$scenario" "$proxy" "$(v "${RPS[$k]:-}")" "$(v "${P99[$k]:-}")" "$(v "${CPUREQ[$k]:-}")" "$(v "${SYSREQ[$k]:-}")" \
					"$(v "${CPUPCT[$k]:-}")%" "$(v "${CORE0[$k]:-}")%" "$(v "${CORE1[$k]:-}")%" "$(v "${BCPUREQ[$k]:-}")" \
					"$(v "${BCONNS[$k]:-}")" "$(v "${CONNREQ[$k]:-}")" "$(v "${RSS[$k]:-}")" "$(v "${ANON[$k]:-}")/$(v "${FILE[$k]:-}")" "$(v "${ERRS[$k]:-}")" \
					"${STATUS[$k]}${LOADBOUND[$k]:-}$(noisy "$k")"
			else
				row "$scenario" "$proxy" - - - - - - - - - - - - - "${STATUS[$k]:-not run}"
			fi
		done
	done
	cat <<EOF
  ceiling    the origin (nginx) answering on the proxy's core itself, with no proxy: the most
             the load core can drive; a proxy close to it in req/s is limited by the load core
  us/req     the proxy's CPU time (user + system, all threads) per completed request, in microseconds;
             sys_us: the system part of it (system calls, loopback TCP, the kernel's copies), so
             us/req - sys_us is what the proxy's own code costs
  proxy      the proxy's CPU use during the run (100% = one core); core0/core1: how busy each core was
             (core $PROXY_CORE: the proxy plus kernel network work; core $LOAD_CORE: load generator + origin).
             Below ${MIN_PROXY_CPU}% in a throughput scenario Bridgehead's run is "not proxy-bound" and
             fails; a peer is "load-bound": the load core was full first, so its CPU per request
             compares and its req/s is a lower bound
  be_us/req  the origin's CPU per request; be_conn: proxy-to-origin connections halfway through
  conn/req   new TCP connections on the machine per request (1 = a new connection each request)
  peak_MiB   the proxy's VmHWM (peak resident memory) over the rounds, fresh process per scenario:
             every proxy is one process (bridgehead serve: proxy, folder watch, validation, status;
             nginx without a master process; gostdlib: the standard library alone, the floor
             under any Go gateway)
  anon/file  resident MiB at the end of the run: anonymous (heap, stacks) / file-backed (the
             mapped binary and shared libraries, clean pages shared with the page cache)
  noisy      more than 20% of core $PROXY_CORE went to something other than the proxy (normally a few %
             of kernel network work): another process competed, rerun on a quiet machine
EOF
	echo
	echo "Bridgehead against each peer: CPU per request (above 1: Bridgehead costlier), req/s (above 1: faster)"
	printf '%-12s %-8s %10s %8s %12s %8s\n' scenario peer cpu/req req/s peak_MiB proxy%
	for scenario in $SCENARIOS; do
		b="$scenario/bridgehead"
		for peer in haproxy nginx gostdlib ceiling; do
			p="$scenario/$peer"
			[[ " ${PROXIES[*]} " == *" $peer "* ]] && supports "$peer" "$scenario" || continue
			if usable "$b" && usable "$p"; then
				printf '%-12s %-8s %10s %8s %12s %8s\n' "$scenario" "$peer" \
					"$(ratio "${CPUREQ[$b]}" "${CPUREQ[$p]}")" "$(ratio "${RPS[$b]}" "${RPS[$p]}")" \
					"${RSS[$b]}/${RSS[$p]}" "${CPUPCT[$b]}/${CPUPCT[$p]}"
			else
				printf '%-12s %-8s %10s %8s %12s %8s\n' "$scenario" "$peer" n/a n/a - -
			fi
		done
	done
	echo
	echo "Details:"
	for scenario in $SCENARIOS; do
		for proxy in "${PROXIES[@]}"; do
			k="$scenario/$proxy"
			if [ -n "${DETAIL[$k]:-}" ]; then echo "  $k: ${DETAIL[$k]}"; fi
		done
	done
} | tee "$WORK/results.txt"

FAILED=0
for scenario in $SCENARIOS; do
	for proxy in "${PROXIES[@]}"; do
		supports "$proxy" "$scenario" || continue
		k="$scenario/$proxy"
		case ${STATUS[$k]:-not run} in
		ok) ;;
		ERRORS)
			warn "$k had errors (see above)"
			KEEP_WORK=1
			;;
		*)
			warn "$k: ${STATUS[$k]:-not run}"
			FAILED=1
			;;
		esac
	done
done
if [ "$FAILED" != 0 ]; then
	warn "some scenarios failed or did not measure the proxy: see the table"
	exit 1
fi
