// Command cluster starts and stops the real single-node Kubernetes the end-to-end tests
// use (test/node), for people: `make cluster-up`, `make cluster-down`.
//
//	cluster up      --bin-dir DIR --pause-image bin/pause-image.tar
//	cluster import  FILE...          load image archives into the node's containerd
//	cluster env                      print `export KUBECONFIG=...`
//	cluster down
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bridgehead/bridgehead/test/node"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	cfg := node.Config{}
	fs.StringVar(&cfg.StateDir, "state-dir", node.DefaultStateDir(), "where the node keeps its state ($BRIDGEHEAD_NODE_DIR)")
	fs.StringVar(&cfg.BinDir, "bin-dir", "", "directory holding the Kubernetes binaries (hack/envtest.sh prints it)")
	fs.StringVar(&cfg.PauseImageTar, "pause-image", "bin/pause-image.tar", "pause image archive (make image)")
	_ = fs.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1], cfg, fs.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, cfg node.Config, args []string) error {
	switch cmd {
	case "up":
		_, err := node.Up(ctx, cfg, os.Stderr)
		if err == nil {
			fmt.Printf("export KUBECONFIG=%s\n", cfg.Kubeconfig())
		}
		return err
	case "down":
		c, err := node.Attach(cfg, os.Stderr)
		if os.IsNotExist(err) {
			fmt.Fprintln(os.Stderr, "cluster: no node is running from", cfg.StateDir)
			return nil
		}
		if err != nil {
			return err
		}
		return c.Down(ctx)
	case "import":
		c, err := node.Attach(cfg, os.Stderr)
		if err != nil {
			return fmt.Errorf("no node is running from %s (make cluster-up): %w", cfg.StateDir, err)
		}
		for _, a := range args {
			if err := c.Import(ctx, a); err != nil {
				return err
			}
		}
		return nil
	case "env":
		fmt.Printf("export KUBECONFIG=%s\n", cfg.Kubeconfig())
		return nil
	}
	usage()
	return nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cluster up|down|import FILE...|env [--state-dir DIR] [--bin-dir DIR] [--pause-image FILE]")
	os.Exit(2)
}
