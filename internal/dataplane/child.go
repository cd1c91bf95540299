package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy"
)

// defaultMemProfileRate is Go's default heap-profile sampling interval.
const defaultMemProfileRate = 512 << 10

// controlFD is the descriptor of the socket pair in the data-plane process (the first of
// exec.Cmd.ExtraFiles).
const controlFD = 3

// RunChild is the data-plane process (`bridgehead-dataplane`): it serves the snapshots the
// control process sends on descriptor 3 until SIGTERM, SIGINT, or the control process
// goes away.
func RunChild(args []string, stdout, stderr io.Writer) int {
	var f Flags
	fs := flag.NewFlagSet("bridgehead-dataplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.Register(fs)
	controlSocket := fs.String("control-socket", "", "unix socket of the control process, for the admin paths it serves and its readiness")
	forward := fs.String("forward-admin", "", "comma-separated admin patterns (as http.ServeMux takes them) served by the control process")
	advertised := fs.String("advertised-https-port", "", "the public port redirects to websecure name")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := f.Check(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log, _ := f.Logger(stderr)
	log = log.With("process", "dataplane") // its lines share serve's stderr
	control, err := net.FileConn(os.NewFile(controlFD, "control"))
	if err != nil {
		fmt.Fprintf(stderr, "bridgehead-dataplane runs under `bridgehead serve`, which passes it descriptor %d: %v\n", controlFD, err)
		return 2
	}
	out := &frameWriter{w: control}
	if err := runChild(&f, *controlSocket, *forward, *advertised, control, out, log, stdout); err != nil {
		log.Error("data plane stopped", "error", err.Error())
		return 1
	}
	return 0
}

func runChild(f *Flags, controlSocket, forward, advertised string, control net.Conn, out *frameWriter, log *slog.Logger, stdout io.Writer) error {
	cfg := f.Config(log, stdout, advertised)
	toControl := controlClient(controlSocket)
	if controlSocket != "" {
		cfg.Ready = func() error { return controlReady(toControl) }
	}
	store := &snapshot.Store{}
	srv, err := proxy.New(cfg, store)
	if err != nil {
		_ = out.write(frameFailed, []byte(err.Error()))
		return err
	}
	if controlSocket != "" {
		fwd := &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.Out.URL.Scheme, r.Out.URL.Host = "http", "control" },
			Transport: toControl.Transport,
		}
		for _, pattern := range strings.Split(forward, ",") {
			if pattern = strings.TrimSpace(pattern); pattern != "" {
				srv.HandleAdmin(pattern, fwd)
			}
		}
	}
	if f.Pprof {
		runtime.MemProfileRate = defaultMemProfileRate // bridgehead-dataplane starts with it off
		RegisterProfiler(srv)
	}
	if err := srv.Listen(); err != nil {
		_ = out.write(frameFailed, []byte(err.Error()))
		return err
	}
	addrs, _ := json.Marshal(srv.Addrs())
	if err := out.write(frameListening, addrs); err != nil {
		return fmt.Errorf("telling the control process: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		defer stop() // the control process is gone: shut down as on SIGTERM
		in := newFrameReader(control)
		for {
			kind, payload, err := in.read()
			if err != nil {
				if !errors.Is(err, io.EOF) && ctx.Err() == nil {
					log.Error("reading from the control process", "error", err.Error())
				}
				return
			}
			if kind != frameSnapshot {
				log.Error("unexpected frame from the control process", "kind", string(kind))
				continue
			}
			refusal := ""
			if snap, err := snapshot.UnmarshalWire(payload); err != nil {
				refusal = err.Error()
			} else if err := store.Swap(snap); err != nil {
				refusal = err.Error()
			}
			if err := out.write(frameApplied, []byte(refusal)); err != nil {
				return
			}
		}
	}()
	go reportObservations(ctx, srv, out)
	return srv.Serve(ctx)
}

// RegisterProfiler serves Go's profiler on an admin port (--pprof).
func RegisterProfiler(admin interface{ HandleAdmin(string, http.Handler) }) {
	admin.HandleAdmin("/debug/pprof/", http.HandlerFunc(pprof.Index))
	admin.HandleAdmin("/debug/pprof/cmdline", http.HandlerFunc(pprof.Cmdline))
	admin.HandleAdmin("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	admin.HandleAdmin("/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
	admin.HandleAdmin("/debug/pprof/trace", http.HandlerFunc(pprof.Trace))
}

// reportCoalesce gathers the changes of a burst (many endpoints failing at once) into one
// frame: far below the one second a condition may take, far above one request.
const reportCoalesce = 50 * time.Millisecond

// reportObservations pushes the upstream observations to the control process when they
// change (status conditions are written from them there), and sends nothing otherwise.
func reportObservations(ctx context.Context, srv *proxy.Server, out *frameWriter) {
	var last []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-srv.Observations().Changed():
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reportCoalesce):
		}
		data, err := json.Marshal(srv.Observations().Latest())
		if err != nil || string(data) == string(last) {
			continue
		}
		if out.write(frameObservations, data) != nil {
			return
		}
		last = data
	}
}

// controlClient is an HTTP client to the control process's unix socket.
func controlClient(socket string) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
			MaxIdleConns: 2,
		},
	}
}

// controlReady asks the control process whether it is ready (in a cluster: its caches
// have synced).
func controlReady(c *http.Client) error {
	resp, err := c.Get("http://control" + readyPath)
	if err != nil {
		return fmt.Errorf("control process: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("control process: %s", strings.TrimSpace(string(body)))
	}
	return nil
}

// readyPath is where the control process answers readiness on its unix socket.
const readyPath = "/control/ready"
