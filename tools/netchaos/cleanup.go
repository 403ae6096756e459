package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/netchaos/netchaos/experiments"
)

func init() {
	register("cleanup", "delete everything netchaos left in a cluster and undo its node changes (after an interrupted run)", runCleanup)
}

// clusterFlags are the flags that name the target cluster: a kubeconfig
// context, or --in-cluster from a pod of the cluster itself. One of the two,
// always explicit.
type clusterFlags struct {
	fs                  *flag.FlagSet
	kubeconfig, context *string
	inCluster           *bool
}

func addClusterFlags(fs *flag.FlagSet) clusterFlags {
	return clusterFlags{
		fs:         fs,
		kubeconfig: fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file (default $KUBECONFIG)"),
		context:    fs.String("context", "", "kubeconfig context of the target cluster (required: netchaos never picks one)"),
		inCluster:  fs.Bool("in-cluster", false, "target the cluster this pod runs in, with its service account (instead of --kubeconfig and --context)"),
	}
}

// name is how the target cluster is named in messages.
func (c clusterFlags) name() string {
	if *c.inCluster {
		return experiments.InClusterContext
	}
	return *c.context
}

func (c clusterFlags) env(o experiments.Options) (*experiments.Env, error) {
	if *c.inCluster {
		explicit := false
		c.fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "kubeconfig" || f.Name == "context" })
		if explicit {
			return nil, usagef("--in-cluster excludes --kubeconfig and --context: name the cluster one way")
		}
		o.InCluster = true
	} else {
		if *c.kubeconfig == "" {
			return nil, usagef("no kubeconfig: give --kubeconfig or set KUBECONFIG (or --in-cluster in a pod)")
		}
		if *c.context == "" {
			return nil, usagef("no --context: name the target cluster explicitly")
		}
		o.Kubeconfig, o.Context = *c.kubeconfig, *c.context
	}
	e, err := experiments.NewEnv(o)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return e, nil
}

func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cleanup", stderr)
	cf := addClusterFlags(fs)
	runID := fs.String("run", "", "only this run ID (default: every run)")
	dry := fs.Bool("dry-run", false, "list what would be deleted, delete nothing")
	image := fs.String("image", experiments.DefaultImage, "node agent image (runs the node restore scripts)")
	skipNodes := fs.Bool("skip-nodes", false, "do not run the node restore scripts (they need a privileged pod per node)")
	if err := parse(fs, args); err != nil {
		return err
	}
	e, err := cf.env(experiments.Options{Image: *image})
	if err != nil {
		return err
	}
	if *dry {
		left, err := e.Leftovers(ctx, *runID)
		if err != nil {
			return err
		}
		for _, l := range left {
			fmt.Fprintln(stdout, "would delete", l)
		}
		fmt.Fprintf(stdout, "%d objects carry netchaos labels\n", len(left))
		if !*skipNodes {
			fmt.Fprintf(stdout, "would run every restore script in %s on every node\n", experiments.NodeRestoreDir)
		}
		return nil
	}
	deleted, err := e.Cleanup(ctx, *runID)
	for _, d := range deleted {
		fmt.Fprintln(stdout, "deleted", d)
	}
	if err != nil && len(deleted) > 0 {
		return fmt.Errorf("cluster %s: %w (after removing %d objects)", cf.name(), err, len(deleted))
	}
	if err != nil {
		return fmt.Errorf("cluster %s: %w", cf.name(), err)
	}
	fmt.Fprintf(stdout, "cleanup: %d objects removed\n", len(deleted))
	if *skipNodes {
		return nil
	}
	// Objects first: the pods that send through a node change stop before
	// the change is undone.
	if e.Cluster, err = e.Detect(ctx); err != nil {
		return fmt.Errorf("cluster %s unreachable: %w", cf.name(), err)
	}
	ran, err := e.RestoreNodes(ctx)
	for _, r := range ran {
		fmt.Fprintln(stdout, "restored", r)
	}
	fmt.Fprintf(stdout, "cleanup: %d node changes undone\n", len(ran))
	return err
}
