package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/controllers"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy"
)

// runCluster serves from the Kubernetes API: the controller builds snapshots from its
// cache on every replica; the leader alone writes status.
func runCluster(ctx context.Context, f *serveFlags, store *snapshot.Store, log *slog.Logger, stdout io.Writer) error {
	restCfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := bhv1.AddToScheme(scheme); err != nil {
		return err
	}
	opts := ctrl.Options{
		Scheme:                  scheme,
		Logger:                  logr.FromSlogHandler(log.Handler()),
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "bridgehead-status-writer",
		LeaderElectionNamespace: f.namespace,
		// Losing the lease must only stop status writes, never traffic.
		LeaderElectionReleaseOnCancel: true,
	}
	if f.watchNamespaces != "" {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(f.watchNamespaces, ",") {
			opts.Cache.DefaultNamespaces[strings.TrimSpace(ns)] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(restCfg, opts)
	if err != nil {
		return fmt.Errorf("creating the controller manager: %w", err)
	}
	gw, err := controllers.Setup(ctx, mgr, controllers.Config{Options: f.translateOptions(), Store: store})
	if err != nil {
		return err
	}
	cfg := f.proxyConfig(log, stdout)
	cfg.Ready = func() error { return gw.ReadyCheck(nil) }
	srv, err := proxy.New(cfg, store)
	if err != nil {
		return err
	}
	srv.HandleAdmin("GET /snapshot/hash", snapshotHash(store))
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("bridgehead serving", "mode", "cluster", "addresses", srv.Addrs())
	errs := make(chan error, 2)
	go func() { errs <- mgr.Start(ctx) }()
	go func() { errs <- srv.Serve(ctx) }()
	err = <-errs
	if err == nil {
		err = <-errs
	}
	return err
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return ctrl.GetConfig()
}

// snapshotHash serves the hash of the snapshot being served: replicas reading the same
// objects expose the same hash.
func snapshotHash(store *snapshot.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := store.Load()
		if s == nil {
			http.Error(w, "no snapshot yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, s.Hash()+"\n")
	})
}
