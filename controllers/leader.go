package controllers

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LeaderElection configures who writes status. Every replica builds and serves the same
// snapshot from its own cache; only the holder of the Lease writes status and Events.
//
// controller-runtime's own leader election stops the whole manager when the lease is
// lost, which would stop the caches and with them the traffic. This one only stops the
// status writers, then campaigns again.
type LeaderElection struct {
	// Namespace and Name of the Lease.
	Namespace, Name string
	// Identity must be unique per replica (the pod name, plus a random suffix).
	Identity string
	// LeaseDuration is how long a lease of a crashed leader blocks the others;
	// RenewDeadline how long the leader keeps trying to renew before it gives up writing;
	// RetryPeriod how often candidates try (and the leader renews). Defaults: 30s, 15s,
	// 7.5s, as ingress-nginx's: only status writing waits on a new leader (every replica
	// serves traffic, and a leader that stops releases the Lease at once), while renewing
	// every 2s was most of the gateway's CPU while nothing changes.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

func (le *LeaderElection) defaults() error {
	if le.Namespace == "" || le.Name == "" || le.Identity == "" {
		return errors.New("controllers: LeaderElection needs a Lease namespace, name and an identity")
	}
	if le.LeaseDuration == 0 {
		le.LeaseDuration = 30 * time.Second
	}
	if le.RenewDeadline == 0 {
		le.RenewDeadline = 15 * time.Second
	}
	if le.RetryPeriod == 0 {
		le.RetryPeriod = 7500 * time.Millisecond
	}
	if le.RenewDeadline >= le.LeaseDuration {
		return errors.New("controllers: the lease renew deadline must be shorter than the lease duration")
	}
	return nil
}

// elector campaigns for the Lease in a loop and runs lead while it holds it. It must
// run on every replica, so it does not itself need leader election.
type elector struct {
	cfg     LeaderElection
	restCfg *rest.Config
	log     logr.Logger
	lead    func(ctx context.Context)
	leading *atomic.Bool
}

func (e *elector) NeedLeaderElection() bool { return false }

func (e *elector) Start(ctx context.Context) error {
	// Lease calls get their own short timeout, so a slow API server makes the leader
	// give up in time instead of hanging past the lease.
	cfg := rest.CopyConfig(e.restCfg)
	cfg.Timeout = e.cfg.RenewDeadline / 2
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.cfg.Identity},
	}
	for ctx.Err() == nil {
		// The callback runs in a goroutine of its own; started decides, once, whether
		// this term's writers ran, so the loop can wait for them to stop before it
		// campaigns again: two terms never write at once within one process.
		var started atomic.Bool
		finished := make(chan struct{})
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:          lock,
			LeaseDuration: e.cfg.LeaseDuration,
			RenewDeadline: e.cfg.RenewDeadline,
			RetryPeriod:   e.cfg.RetryPeriod,
			// On shutdown the lease is handed back at once, so another replica takes
			// over writing without waiting for it to expire.
			ReleaseOnCancel: true,
			Name:            e.cfg.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					if !started.CompareAndSwap(false, true) {
						return // the term is already over
					}
					defer close(finished)
					e.leading.Store(true)
					e.log.Info("holding the lease: this replica writes status", "lease", e.cfg.Namespace+"/"+e.cfg.Name, "identity", e.cfg.Identity)
					e.lead(ctx)
					e.leading.Store(false)
					e.log.Info("stopped holding the lease: status writes stop, traffic is not affected", "identity", e.cfg.Identity)
				},
				OnStoppedLeading: func() {},
				OnNewLeader: func(id string) {
					if id != e.cfg.Identity {
						e.log.Info("another replica writes status", "leader", id)
					}
				},
			},
		})
		if err != nil {
			return err
		}
		le.Run(ctx)
		if started.CompareAndSwap(false, true) {
			close(finished) // the writers never started in this term
		}
		<-finished
	}
	return nil
}

// countingClient counts successful status writes, so an operator (and the tests) can see
// which replica writes.
type countingClient struct {
	client.Client
	n *atomic.Int64
}

func (c countingClient) Status() client.SubResourceWriter {
	return countingStatus{SubResourceWriter: c.Client.Status(), n: c.n}
}

type countingStatus struct {
	client.SubResourceWriter
	n *atomic.Int64
}

func (s countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	err := s.SubResourceWriter.Update(ctx, obj, opts...)
	if err == nil {
		s.n.Add(1)
	}
	return err
}

func (s countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	err := s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
	if err == nil {
		s.n.Add(1)
	}
	return err
}
