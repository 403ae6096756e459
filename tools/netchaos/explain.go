package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/catalog"
)

// sampleEnvironments are the environments explain shows expected outcomes
// for: the kube-proxy modes and releases the expectation tables tell apart.
type sampleEnv struct {
	name string
	env  experiments.Environment
}

var sampleEnvironments = []sampleEnv{
	{"kube-proxy iptables v1.34", experiments.Environment{KubeProxyMode: "iptables", Minor: 34, KubeProxyVersion: "v1.34.2"}},
	{"kube-proxy iptables v1.14", experiments.Environment{KubeProxyMode: "iptables", Minor: 14, KubeProxyVersion: "v1.14.10"}},
	{"kube-proxy nftables v1.34", experiments.Environment{KubeProxyMode: "nftables", Minor: 34, KubeProxyVersion: "v1.34.2"}},
	{"kube-proxy ipvs v1.34", experiments.Environment{KubeProxyMode: "ipvs", Minor: 34, KubeProxyVersion: "v1.34.2"}},
	{"kube-proxy ipvs v1.24", experiments.Environment{KubeProxyMode: "ipvs", Minor: 24, KubeProxyVersion: "v1.24.17"}},
	{"kube-proxy ipvs v1.23", experiments.Environment{KubeProxyMode: "ipvs", Minor: 23, KubeProxyVersion: "v1.23.17"}},
	{"Calico eBPF, no kube-proxy, v1.34", experiments.Environment{KubeProxyMode: "none", CNI: "calico", Minor: 34}},
}

func explainCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain <experiment>",
		Short: "describe an experiment (offline): what it does and changes, its sources, mechanism and expected outcomes",
		Long: `Describe one experiment without touching a cluster: its trigger, what it creates
and changes (the plan run --dry-run prints), the upstream issues it comes from,
the documented mechanism and mitigation, and its expected outcomes. Expected
outcomes depend on the environment: explain prints them for sample kube-proxy
modes and releases, or for the one named with --proxy-mode, --minor and --cni.`,
		Args:              exactlyOne("experiment (netchaos list shows them)"),
		ValidArgsFunction: completeNames,
	}
	var env experiments.Environment
	cmd.Flags().StringVar(&env.KubeProxyMode, "proxy-mode", "", "expected outcomes for this kube-proxy mode only (iptables, nftables, ipvs, none)")
	cmd.Flags().IntVar(&env.Minor, "minor", 0, "with --proxy-mode: the Kubernetes minor version (34 for v1.34)")
	cmd.Flags().StringVar(&env.CNI, "cni", "", "with --proxy-mode: the CNI (calico, cilium, kindnet, ...)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		e, err := catalog.Find(args[0])
		if err != nil {
			return usagef("%v", err)
		}
		envs := sampleEnvironments
		if env.KubeProxyMode != "" {
			if env.Minor < 0 {
				return usagef("--minor %d: want a Kubernetes minor version such as 34", env.Minor)
			}
			name := fmt.Sprintf("kube-proxy %s v1.%d", env.KubeProxyMode, env.Minor)
			if env.CNI != "" {
				name += ", CNI " + env.CNI
			}
			env.KubeProxyVersion = fmt.Sprintf("v1.%d.0", env.Minor)
			envs = []sampleEnv{{name, env}}
		} else if cmd.Flags().Changed("minor") || cmd.Flags().Changed("cni") {
			return usagef("--minor and --cni go with --proxy-mode")
		}
		explain(cmd.OutOrStdout(), e)
		fmt.Fprintln(cmd.OutOrStdout(), "\nExpected outcomes (after the trigger, before any mitigation)")
		groups := groupByTable(e, envs)
		for i, g := range groups {
			fmt.Fprintf(cmd.OutOrStdout(), "\n  %s:\n", strings.Join(g.envs, "; "))
			rows, like := g.rows, -1
			// After the first table, only what differs from the closest
			// one above.
			for j := range groups[:i] {
				if d := changed(groups[j].rows, g.rows); len(groups[j].rows) > 0 && len(d) < len(rows) {
					rows, like = d, j
				}
			}
			if like >= 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "    as for %s but for %d of its %d cases:\n", groups[like].envs[0], len(rows), len(g.rows))
			}
			printTable(cmd.OutOrStdout(), rows)
		}
		return nil
	}
	return cmd
}

// explain writes what the catalog says of an experiment, but its
// expected outcomes.
func explain(w io.Writer, e catalog.Entry) {
	in := e.Info
	fmt.Fprintf(w, "%s: %s\n", e.Name, in.Title)
	fmt.Fprintf(w, "labels: %s; node-disruptive: %s\n", strings.Join(e.Labels, ", "), yesNo(e.NodeDisruptive))
	fmt.Fprintf(w, "\nWhat it does\n  %s\n", in.Trigger)
	if in.Hold > 0 {
		fmt.Fprintf(w, "  The fault is held for %s before it is undone.\n", in.Hold)
	}
	fmt.Fprintln(w, "\nWhat it creates and changes")
	for _, p := range in.Plan {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	fmt.Fprintln(w, "\nMechanism")
	fmt.Fprintf(w, "  %s\n  documented in: %s\n  mitigation: %s\n", in.Mechanism.Name, in.Mechanism.Source, in.Mechanism.Mitigation)
	if m, ok := e.Experiment.(experiments.Mitigator); ok && len(m.Mitigations()) > 0 {
		fmt.Fprintln(w, "\nMitigations a run applies, in order, each observed in turn")
		for i, m := range m.Mitigations() {
			fmt.Fprintf(w, "  %d. %s\n", i+1, m.Name)
		}
	}
	if len(in.Controls) > 0 {
		fmt.Fprintf(w, "\nControl flows (the failure does not bite them): %s\n", strings.Join(in.Controls, ", "))
	}
	if in.Inherent > 0 {
		fmt.Fprintf(w, "Inherent outage (the trigger's own, not held against a budget): %s\n", in.Inherent)
	}
	fmt.Fprintln(w, "\nSources")
	for _, s := range in.Sources {
		fmt.Fprintf(w, "  - %s\n", s)
	}
}

// tableGroup is the environments that share one expected-outcome table.
type tableGroup struct {
	envs []string
	rows []catalog.Expected
}

// groupByTable is e's expected outcomes per environment, environments
// with the same table together, in the order of envs.
func groupByTable(e catalog.Entry, envs []sampleEnv) []tableGroup {
	var groups []tableGroup
next:
	for _, s := range envs {
		rows := e.Expected(s.env)
		for i := range groups {
			if reflect.DeepEqual(groups[i].rows, rows) {
				groups[i].envs = append(groups[i].envs, s.name)
				continue next
			}
		}
		groups = append(groups, tableGroup{envs: []string{s.name}, rows: rows})
	}
	return groups
}

// changed are the rows of table that base lacks or expects otherwise.
func changed(base, table []catalog.Expected) []catalog.Expected {
	was := map[string]catalog.Expected{}
	for _, r := range base {
		was[r.Case] = r
	}
	var out []catalog.Expected
	for _, r := range table {
		if b, ok := was[r.Case]; !ok || b.Want != r.Want {
			out = append(out, r)
		}
	}
	return out
}

func printTable(w io.Writer, rows []catalog.Expected) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "    no expectation: recorded only")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    CASE\tEXPECTED\tSOURCE")
	for _, r := range rows {
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", r.Case, r.Want, r.Source)
	}
	tw.Flush()
}

// completeNames completes experiment names.
func completeNames(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, e := range catalog.All() {
		out = append(out, e.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
