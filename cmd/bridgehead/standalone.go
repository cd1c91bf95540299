package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"sync"
	"time"

	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/lastgood"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/statuspage"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/internal/verdict"
)

// standalone holds what the admin port shows in standalone mode.
type standalone struct {
	mu       sync.Mutex
	statuses translate.Statuses // from translate
	runtime  verdict.Conditions // from real handshakes
	problems []manifests.Problem
	origin   origins
	table    tablePrinter
	dir      string // the folder served, absolute: `bridgehead status` checks it asks the right gateway
	// listenerPorts and addrs give the Gateways their addresses (gatewayAddresses).
	listenerPorts map[int32]translate.ListenerEntryPoint
	addrs         func() map[string]string
}

// runStandalone serves a folder of manifests: every change goes through the same
// translate -> validate -> swap path as in a cluster, and a broken edit keeps the last
// good snapshot serving.
func runStandalone(ctx context.Context, f *serveFlags, store *snapshot.Store, log *slog.Logger, stdout, stderr io.Writer) error {
	dir, err := filepath.Abs(f.configDir)
	if err != nil {
		return err
	}
	st := &standalone{dir: dir, table: tablePrinter{out: stdout,
		every: "bridgehead status --config-dir " + f.configDir + ", or GET /status on the admin address"}}
	srv, err := f.newProxy(store, nil, log, stdout)
	if err != nil {
		return err
	}
	srv.HandleAdmin("GET /status", st)
	srv.HandleAdmin("GET /{$}", statuspage.Handler(func() statuspage.Input {
		return statuspage.Input{Mode: "folder " + f.configDir, Snapshot: store.Load(), Statuses: st.translated(),
			Observations: srv.Observations().Latest(), Now: time.Now(), ExpiryWarning: f.expiryWarning}
	}))
	srv.HandleAdmin("GET /snapshot/hash", snapshotHash(store))
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("bridgehead serving", "mode", "standalone", "configDir", f.configDir, "addresses", srv.Addrs())
	opts := f.translateOptions()
	st.listenerPorts, st.addrs = opts.ListenerPorts, srv.Addrs
	// The watcher also stops when serving ends on its own (a data plane that died).
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	watchErr := make(chan error, 1)
	go func() {
		var prev *manifests.Result
		var keeper lastgood.Keeper
		watchErr <- manifests.Watch(watchCtx, f.configDir, func(res *manifests.Result) {
			// A broken edit keeps the object's last good version serving, as a refused
			// kubectl apply would.
			if kept := res.KeepLastGood(prev); len(kept) > 0 {
				log.Warn("keeping the last good version of objects whose edit was refused", "objects", fmt.Sprint(kept))
			}
			prev = res
			opts.Now = time.Now()
			in := res.Inputs
			snap, statuses := keeper.Translate(in, opts)
			if err := store.Swap(snap); err != nil {
				log.Error("refusing an inconsistent snapshot; the previous one keeps serving", "error", err.Error())
				return
			}
			st.set(statuses, res)
		})
	}()
	go verdict.Watch(watchCtx, store, srv.Observations(), time.Now, f.expiryWarning, st.setRuntime)
	serveErr := srv.Serve(ctx)
	stopWatching()
	if err := <-watchErr; err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}

// set records a new build and prints the table, as the controller would write statuses.
func (s *standalone) set(statuses translate.Statuses, res *manifests.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addrs != nil {
		gatewayAddresses(statuses, res.Inputs.Gateways, s.listenerPorts, s.addrs())
	}
	s.statuses, s.problems, s.origin = statuses, res.Problems, originsOf(res)
	s.table.print(verdict.Merge(s.statuses, s.runtime), problemStrings(s.problems), s.origin)
}

// translated returns translate's statuses of the last build.
func (s *standalone) translated() translate.Statuses {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses
}

// setRuntime records new runtime verdicts, printing the table again only when they change.
func (s *standalone) setRuntime(c verdict.Conditions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reflect.DeepEqual(s.runtime, c) || s.statuses == nil {
		s.runtime = c
		return
	}
	s.runtime = c
	s.table.print(verdict.Merge(s.statuses, s.runtime), problemStrings(s.problems), s.origin)
}

// ServeHTTP serves the statuses as JSON, as the controller would write them.
func (s *standalone) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type object struct {
		Object string `json:"object"`
		Origin string `json:"origin,omitempty"`
		*translate.ObjectStatus
	}
	out := struct {
		ConfigDir string   `json:"configDir"`
		Objects   []object `json:"objects"`
		Problems  []string `json:"problems"`
	}{ConfigDir: s.dir, Objects: []object{}, Problems: []string{}}
	merged := verdict.Merge(s.statuses, s.runtime)
	for _, k := range merged.Keys() {
		out.Objects = append(out.Objects, object{Object: k.String(), Origin: s.origin.of.Of(k), ObjectStatus: merged[k]})
	}
	for _, p := range s.problems {
		out.Problems = append(out.Problems, p.String())
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// gatewayAddresses gives each Gateway served from the folder its addresses. Folder mode
// has no Service to publish (--publish-service): the addresses are the IPs this process
// listens on for the entry points the Gateway's listeners are served on (a listener's
// port -> entry point, as translate mapped it -> that entry point's bound address). A
// wildcard bind is published as such (0.0.0.0 or ::: every address of the machine). The
// ports are in the Gateway's listeners, not in addresses.
func gatewayAddresses(statuses translate.Statuses, gateways []*gwv1.Gateway, ports map[int32]translate.ListenerEntryPoint, bound map[string]string) {
	for _, gw := range gateways {
		st := statuses[translate.Key{Kind: translate.KindGateway, Namespace: gw.Namespace, Name: gw.Name}]
		if st == nil || st.GatewayAPI == nil || st.GatewayAPI.Gateway == nil {
			continue
		}
		var addrs []gwv1.GatewayStatusAddress
		seen := map[string]bool{}
		for _, l := range gw.Spec.Listeners {
			ep, ok := ports[l.Port]
			if !ok {
				continue
			}
			host, _, err := net.SplitHostPort(bound[ep.Name])
			if err != nil {
				continue
			}
			if host == "" { // ":8000": every address, as Go binds it
				host = "::"
			}
			if seen[host] {
				continue
			}
			seen[host] = true
			addrs = append(addrs, gwv1.GatewayStatusAddress{Type: ptr.To(gwv1.IPAddressType), Value: host})
		}
		st.GatewayAPI.Gateway.Addresses = addrs
	}
}
