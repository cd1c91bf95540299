package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/bridgehead/bridgehead/proxy"
	"github.com/bridgehead/bridgehead/proxy/pathnorm"
	"github.com/bridgehead/bridgehead/proxy/udpsession"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// proxyFlags are the settings of the proxy `bridgehead serve` runs: listeners, timeouts,
// limits, logs.
type proxyFlags struct {
	Web, Websecure, Admin string
	// EntryPoints are the user's entry points besides web and websecure (--entrypoint).
	EntryPoints          entryPointFlag
	UDPTimeout           time.Duration
	UDPMaxSessions       int
	Redirect             bool
	LogLevel             string
	AccessLog            bool
	ErrorHeader          bool
	ShutdownDelay, Grace time.Duration
	TrustedProxies       string
	Pprof                bool
	TCPIdleTimeout       time.Duration
	RSASigner            string
	TCPCopy              string
	HTTP1Server          string
	HTTP2Server          string
	// What request paths may hold that some backends read as structure (proxy/pathnorm).
	AllowEncodedSlash, AllowBackslash, AllowPathParameters bool

	// Limits on what one client can make the gateway hold (README, Security defaults).
	ForwardedTrustedIPs    string
	RequestBodyIdleTimeout time.Duration
	MaxHeaderBytes         int
	MaxHeaderFields        int
	BackendHeaderTimeout   time.Duration
	BackendMaxConns        int
	BackendHandshakeRate   int

	trusted, forwardedTrusted []netip.Prefix
}

// Register adds the flags to fs.
func (f *proxyFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Web, "web-address", ":8000", "address of the plain HTTP entry point \"web\"")
	fs.StringVar(&f.Websecure, "websecure-address", ":8443", "address of the TLS entry point \"websecure\"")
	fs.Var(&f.EntryPoints, "entrypoint", "another entry point, NAME=[HOST]:PORT[/tcp|/udp|/tls] as Traefik's --entryPoints.NAME.address (repeatable): a tcp one is plain (HTTP routes, IngressRouteTCP HostSNI(`*`) without tls), a udp one serves IngressRouteUDPs, a tls one terminates TLS as websecure does (routes with tls, passthrough by SNI, Gateway API HTTPS and TLS listeners on its port); routes name it in spec.entryPoints")
	fs.DurationVar(&f.UDPTimeout, "udp-timeout", udpsession.DefaultTimeout, "end a UDP session (one per client address) after this long without a datagram either way, as Traefik's entryPoints.NAME.udp.timeout")
	fs.IntVar(&f.UDPMaxSessions, "udp-max-sessions", udpsession.DefaultMaxSessions, "most UDP sessions per UDP entry point; datagrams of new clients beyond it are dropped (bridgehead_udp_dropped_total{reason=\"SessionLimit\"})")
	fs.StringVar(&f.Admin, "admin-address", ":9000", "address of the admin port (/healthz, /readyz, /metrics); empty turns it off")
	fs.BoolVar(&f.Redirect, "redirect-to-https", false, "redirect every request on web to websecure, except ACME http-01 challenges")
	fs.StringVar(&f.LogLevel, "log-level", "info", "log level: debug (logs every TLS handshake), info, warn, error")
	fs.BoolVar(&f.AccessLog, "access-log", false, "write a JSON access log line per request to stdout")
	fs.BoolVar(&f.ErrorHeader, "error-header", true, "send the short failure reason in a Bridgehead-Error response header")
	fs.DurationVar(&f.ShutdownDelay, "shutdown-delay", 0, "on SIGTERM, fail readiness for this long before closing listeners")
	fs.DurationVar(&f.Grace, "grace", 30*time.Second, "on SIGTERM, how long in-flight requests may finish")
	fs.DurationVar(&f.TCPIdleTimeout, "tcp-idle-timeout", 0, "close a TCP route's connection when neither side sent anything for this long (0: never)")
	fs.StringVar(&f.TCPCopy, "tcp-copy", "event-loop", "how passthrough and plain TCP routes copy bytes: event-loop (epoll loops shared by all connections; Linux only, elsewhere goroutines) or goroutines (two per connection)")
	fs.StringVar(&f.HTTP1Server, "http1-server", "bridgehead", "who serves HTTP/1.1: bridgehead (GETs and HEADs without a body in the connection's goroutine, about 10% cheaper; at any other request the connection goes to net/http) or net/http (everything)")
	fs.StringVar(&f.HTTP2Server, "http2-server", "bridgehead", "who serves HTTP/2 on TLS entry points: bridgehead (proxy/h2server: handlers write their own frames, about 40% cheaper per request) or net/http")
	fs.StringVar(&f.RSASigner, "rsa-signer", "openssl", "who signs TLS handshakes for RSA certificates: openssl (about 3.5x cheaper; used when the binary was built with cgo and libcrypto, else go) or go")
	fs.BoolVar(&f.Pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ on the admin port (and turn heap profiling on, which is off otherwise)")
	fs.BoolVar(&f.AllowEncodedSlash, "allow-encoded-slash", false, "forward request paths holding %2F (kept encoded, so not a separator) instead of answering 400 EncodedSlashInPath; only for backends that do not decode %2F into /")
	fs.BoolVar(&f.AllowBackslash, "allow-backslash", false, "forward request paths holding \\ or %5C (as %5C) instead of answering 400 BackslashInPath; only for backends that do not read \\ as /")
	fs.BoolVar(&f.AllowPathParameters, "allow-path-parameters", false, "forward request paths holding ; or %3B (matched as part of their segment) instead of answering 400 ParametersInPath; a parameter on an empty or dot segment (/..;/) is refused still")
	fs.StringVar(&f.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of load balancers that send a PROXY protocol header (v1 or v2); their connections must start with one")
	fs.StringVar(&f.ForwardedTrustedIPs, "forwarded-headers-trusted-ips", "", "comma-separated CIDRs of clients (proxies in front of the gateway) whose X-Forwarded-*, X-Real-Ip and Forwarded headers are kept; everyone else's are removed")
	fs.DurationVar(&f.RequestBodyIdleTimeout, "request-body-idle-timeout", proxy.DefaultRequestBodyIdleTimeout, "answer 408 when a client sends nothing of its request body for this long (0: never)")
	fs.IntVar(&f.MaxHeaderBytes, "max-request-header-bytes", proxy.DefaultMaxHeaderBytes, "largest request header (request line and fields; the HTTP/2 header list) accepted; larger ones get 431")
	fs.IntVar(&f.MaxHeaderFields, "max-request-header-fields", proxy.DefaultMaxHeaderFields, "most request header fields accepted; more get 431")
	fs.DurationVar(&f.BackendHeaderTimeout, "backend-response-header-timeout", upstream.DefaultResponseHeaderTimeout, "answer 504 when a backend sends no response header this long after getting the request, where its ServersTransport sets no forwardingTimeouts.responseHeaderTimeout (0: wait forever)")
	fs.IntVar(&f.BackendMaxConns, "backend-max-conns-per-host", upstream.DefaultMaxConnsPerHost, "most connections to one backend endpoint per ServersTransport; requests beyond wait (0: no limit)")
	fs.IntVar(&f.BackendHandshakeRate, "backend-tls-handshakes-per-second", upstream.DefaultHandshakesPerSecond, "most new TLS connections per second to one backend endpoint per ServersTransport, with a burst of as many or of --backend-max-conns-per-host if that is more (0: no limit)")
}

// Check validates the values Register parsed.
func (f *proxyFlags) Check() error {
	if f.TCPCopy != "event-loop" && f.TCPCopy != "goroutines" {
		return fmt.Errorf("--tcp-copy: %q is neither event-loop nor goroutines", f.TCPCopy)
	}
	if f.HTTP1Server != "bridgehead" && f.HTTP1Server != "net/http" {
		return fmt.Errorf("--http1-server: %q is neither bridgehead nor net/http", f.HTTP1Server)
	}
	if f.HTTP2Server != "bridgehead" && f.HTTP2Server != "net/http" {
		return fmt.Errorf("--http2-server: %q is neither bridgehead nor net/http", f.HTTP2Server)
	}
	if f.RSASigner != "openssl" && f.RSASigner != "go" {
		return fmt.Errorf("--rsa-signer: %q is neither openssl nor go", f.RSASigner)
	}
	if _, err := f.Logger(io.Discard); err != nil {
		return err
	}
	switch {
	case f.MaxHeaderBytes <= 0:
		return fmt.Errorf("--max-request-header-bytes: %d; give a positive number", f.MaxHeaderBytes)
	case f.MaxHeaderFields <= 0:
		return fmt.Errorf("--max-request-header-fields: %d; give a positive number", f.MaxHeaderFields)
	case f.BackendMaxConns < 0:
		return fmt.Errorf("--backend-max-conns-per-host: %d; give a positive number, or 0 for no limit", f.BackendMaxConns)
	case f.UDPTimeout <= 0:
		return fmt.Errorf("--udp-timeout: %v; give a positive duration", f.UDPTimeout)
	case f.UDPMaxSessions <= 0:
		return fmt.Errorf("--udp-max-sessions: %d; give a positive number", f.UDPMaxSessions)
	case f.BackendHandshakeRate < 0:
		return fmt.Errorf("--backend-tls-handshakes-per-second: %d; give a positive number, or 0 for no limit", f.BackendHandshakeRate)
	case f.RequestBodyIdleTimeout < 0:
		return fmt.Errorf("--request-body-idle-timeout: %v; give a positive duration, or 0 for none", f.RequestBodyIdleTimeout)
	case f.BackendHeaderTimeout < 0:
		return fmt.Errorf("--backend-response-header-timeout: %v; give a positive duration, or 0 for none", f.BackendHeaderTimeout)
	}
	var err error
	if f.trusted, err = cidrs("--trusted-proxies", f.TrustedProxies); err != nil {
		return err
	}
	f.forwardedTrusted, err = cidrs("--forwarded-headers-trusted-ips", f.ForwardedTrustedIPs)
	return err
}

// cidrs parses a comma-separated list of CIDRs given to flag name.
func cidrs(name, list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, cidr := range strings.Split(list, ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a CIDR such as 10.0.0.0/8", name, cidr)
		}
		out = append(out, prefix)
	}
	return out, nil
}

// offIfZero maps a flag's 0 ("none") to the proxy's "off" (negative); the proxy reads 0
// as "the default".
func offIfZero[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// Logger is the JSON logger at --log-level.
func (f *proxyFlags) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w (use debug, info, warn or error)", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// Config is the proxy configuration of the flags. advertisedPort is the public port
// redirects to websecure name ("" for its own).
func (f *proxyFlags) Config(log *slog.Logger, stdout io.Writer, advertisedPort string) proxy.Config {
	cfg := proxy.Config{
		EntryPoints: []proxy.EntryPoint{
			{Name: "web", Address: f.Web},
			{Name: "websecure", Address: f.Websecure, TLS: true},
		},
		AdminAddress:     f.Admin,
		UDPTimeout:       f.UDPTimeout,
		UDPMaxSessions:   f.UDPMaxSessions,
		ErrorHeader:      f.ErrorHeader,
		Log:              log,
		ShutdownDelay:    f.ShutdownDelay,
		TCPIdleTimeout:   f.TCPIdleTimeout,
		Grace:            f.Grace,
		GoRSA:            f.RSASigner == "go",
		GoroutineTCPCopy: f.TCPCopy == "goroutines",
		NetHTTP1:         f.HTTP1Server == "net/http",
		NetHTTP2:         f.HTTP2Server == "net/http",
		Path:             pathnorm.Options{AllowEncodedSlash: f.AllowEncodedSlash, AllowBackslash: f.AllowBackslash, AllowParameters: f.AllowPathParameters},

		RequestBodyIdleTimeout: offIfZero(f.RequestBodyIdleTimeout),
		MaxHeaderBytes:         f.MaxHeaderBytes,
		MaxHeaderFields:        f.MaxHeaderFields,
		Upstream: upstream.Limits{
			MaxConnsPerHost:       offIfZero(f.BackendMaxConns),
			HandshakesPerSecond:   float64(offIfZero(f.BackendHandshakeRate)),
			ResponseHeaderTimeout: offIfZero(f.BackendHeaderTimeout),
		},
	}
	if f.Redirect {
		cfg.EntryPoints[0].RedirectTo = "websecure"
		cfg.EntryPoints[1].AdvertisedPort = advertisedPort
	}
	cfg.EntryPoints = append(cfg.EntryPoints, f.EntryPoints.proxyEntryPoints()...)
	for i := range cfg.EntryPoints {
		if cfg.EntryPoints[i].UDP {
			continue // no PROXY protocol or forwarded headers in datagrams
		}
		cfg.EntryPoints[i].TrustedProxies = f.trusted
		cfg.EntryPoints[i].ForwardedTrustedIPs = f.forwardedTrusted
	}
	if f.AccessLog {
		cfg.AccessLog = stdout
	}
	return cfg
}
