package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/experiments"
)

func cleanupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "delete everything netchaos left in a cluster and undo its node changes (after an interrupted run)",
		Args:  noArgs,
	}
	fs := cmd.Flags()
	cf := addClusterFlags(fs)
	runID := fs.String("run", "", "only this run ID (default: every run)")
	dry := fs.Bool("dry-run", false, "list what would be deleted, delete nothing")
	image := fs.String("image", experiments.DefaultImage, "node agent image (runs the node restore scripts)")
	skipNodes := fs.Bool("skip-nodes", false, "do not run the node restore scripts (they need a privileged pod per node)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stdout := cmd.Context(), cmd.OutOrStdout()
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
		// Objects first: the pods that send through a node change stop
		// before the change is undone.
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
	return cmd
}
