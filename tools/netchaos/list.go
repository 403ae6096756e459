package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/experiments/catalog"
)

func listCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list [name or label ...]",
		Short: "list the experiments (offline): names, labels, whether they disrupt nodes",
		Long: `List the experiments netchaos runs, in the order a run runs them, with the
labels run --experiments selects them by and whether they change node state
(run needs --allow-node-disruption for those). Names or labels narrow the
list as run --experiments would. Needs no cluster.`,
		ValidArgsFunction: completeSelection,
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := catalog.Select(args)
			if err != nil {
				return usagef("%v", err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tLABELS\tNODE-DISRUPTIVE\tTITLE")
			for _, e := range entries {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", e.Name, strings.Join(e.Labels, ","), yesNo(e.NodeDisruptive), e.Info.Title)
			}
			return w.Flush()
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// completeSelection completes experiment names and labels.
func completeSelection(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	seen := map[string]bool{}
	var out []string
	for _, e := range catalog.All() {
		for _, s := range append([]string{e.Name}, e.Labels...) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
