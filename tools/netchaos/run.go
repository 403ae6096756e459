package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/catalog"
)

func runCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run experiments against a cluster and write the resilience report",
		Args:  noArgs,
	}
	fs := cmd.Flags()
	cf := addClusterFlags(fs)
	var sel listFlag
	fs.Var(&sel, "experiments", "experiment names or labels (t1 t2 t3 t4 conntrack ...; default all; netchaos list shows them)")
	reportDir := fs.String("report-dir", "netchaos-report", "directory for report.json, report.md, report.html, junit.xml")
	image := fs.String("image", experiments.DefaultImage, "probe agent image")
	ttl := fs.Duration("ttl", 30*time.Minute, "time limit of everything the run creates; an in-cluster janitor enforces it")
	observe := fs.Duration("observe", experiments.DefaultWindows.Observe, "observation window after each trigger")
	nodeOK := fs.Bool("allow-node-disruption", false, "allow experiments that change node state (T3 restarts systemd-networkd)")
	dry := fs.Bool("dry-run", false, "print the plan (objects, faults, nodes touched) and change nothing")
	budgetFile := fs.String("budgets", "", "outage budgets file (YAML: experiment name -> duration)")
	gate := fs.Bool("gate", false, "exit 1 when an experiment is vulnerable (a flow never recovered, or lost more than its budget) or errors")
	nodes := fs.Int("nodes", experiments.DefaultSample, "how many worker nodes the run uses, spread over zones (0: all)")
	nodeSel := fs.String("node-selector", "", "use only worker nodes with these labels (e.g. pool=general)")
	reportNS := fs.String("report-namespace", "", "also keep the report in the cluster, in ConfigMap "+experiments.ReportPrefix+"<run ID> of this namespace")
	keep := fs.Int("keep-reports", 0, "with --report-namespace: delete the oldest report ConfigMaps beyond this many (0: keep all)")
	cmd.RegisterFlagCompletionFunc("experiments", completeSelection)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
		if *keep < 0 || (*keep > 0 && *reportNS == "") {
			return usagef("--keep-reports needs --report-namespace and is at least 0")
		}
		chosen, err := catalog.Select(sel)
		if err != nil {
			return usagef("%v", err)
		}
		budgets, err := loadBudgets(*budgetFile, chosen)
		if err != nil {
			return usagef("%v", err)
		}
		if *ttl < 5*time.Minute || *observe <= 0 {
			return usagef("--ttl must be at least 5m and --observe positive")
		}
		nodeLabels, err := labels.Parse(*nodeSel)
		if err != nil || *nodes < 0 {
			return usagef("--node-selector %q or --nodes %d: want a label selector and a count of at least 0", *nodeSel, *nodes)
		}
		e, err := cf.env(experiments.Options{Image: *image, TTL: *ttl, Log: func(format string, a ...any) {
			fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
		}})
		if err != nil {
			return err
		}
		if e.Cluster, err = e.Detect(ctx); err != nil {
			return fmt.Errorf("cluster %s unreachable: %w", cf.name(), err)
		}
		if e.Cluster, err = e.Cluster.Sample(*nodes, nodeLabels); err != nil {
			return usagef("%v", err)
		}
		c := e.Cluster
		fmt.Fprintf(stderr, "cluster %s: %s, kube-proxy %s, CNI %s, %d nodes, %s\n", cf.name(), c.KubernetesVersion, c.KubeProxyMode, c.CNI, len(c.Nodes), c.Provider)
		var skipped []string
		var run []catalog.Entry
		for _, x := range chosen {
			if x.NodeDisruptive && !*nodeOK {
				skipped = append(skipped, x.Name)
				continue
			}
			run = append(run, x)
		}
		if len(skipped) > 0 {
			fmt.Fprintf(stderr, "refusing node-disruptive experiments without --allow-node-disruption: %s\n", strings.Join(skipped, ", "))
		}
		if len(run) == 0 {
			return usagef("nothing to run: every chosen experiment is node-disruptive (add --allow-node-disruption)")
		}
		if *dry {
			printPlan(stdout, e, run)
			return nil
		}
		w := experiments.Windows{Observe: *observe, Mitigation: experiments.DefaultWindows.Mitigation}
		var results []experiments.Result
		for i, x := range run {
			fmt.Fprintf(stderr, "[%d/%d] %s\n", i+1, len(run), x.Name)
			res := x.Run(ctx, e, w)
			res.Budget = budgets[x.Name]
			results = append(results, res)
			fmt.Fprintf(stderr, "[%d/%d] %s: %s\n", i+1, len(run), x.Name, summary(e, res))
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "interrupted: cleaned up what this run created; writing the partial report")
				break
			}
		}
		// The runner left each namespace to finish terminating; nothing of
		// the run is left once they are gone.
		waitErr := e.WaitNamespaces(context.WithoutCancel(ctx))
		rep := e.Report(results, time.Now())
		if err := rep.WriteDir(*reportDir); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", *reportDir)
		if *reportNS != "" {
			// Kept even when interrupted: a partial report is still evidence.
			name, pruned, err := e.SaveReport(context.WithoutCancel(ctx), *reportNS, rep, *keep)
			for _, p := range pruned {
				fmt.Fprintf(stderr, "pruned report configmap %s/%s\n", *reportNS, p)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "report: configmap %s/%s\n", *reportNS, name)
		}
		if waitErr != nil {
			return fmt.Errorf("cleanup: %w", waitErr)
		}
		if ctx.Err() != nil {
			return exitCode(130)
		}
		if code := rep.ExitCode(); *gate && code != 0 {
			fmt.Fprintln(stderr, "gate: at least one experiment is vulnerable (a flow never recovered or lost more than its budget) or errored")
			return exitCode(exitGate)
		}
		return nil

	}
	return cmd
}

// summary is one experiment's verdict in one line, for the progress log.
func summary(e *experiments.Env, r experiments.Result) string {
	x := e.Report([]experiments.Result{r}, r.Finished).Experiments[0]
	s := string(x.Verdict)
	if x.Reason != "" {
		s += ": " + x.Reason
	}
	return fmt.Sprintf("%s (%d flows, %d cells)", s, len(r.Flows), len(r.Cells))
}

func printPlan(w io.Writer, e *experiments.Env, run []catalog.Entry) {
	fmt.Fprintf(w, "dry run: nothing is created. Run ID would be %[1]s; everything labelled %[2]s=%[3]s and %[4]s=%[1]s, deleted by an in-cluster janitor after %[5]s.\n",
		e.RunID, experiments.LabelManagedBy, experiments.ManagedBy, experiments.LabelRun, e.TTL)
	fmt.Fprintf(w, "nodes: ")
	for i, n := range e.Cluster.Nodes {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s (%s)", n.Name, n.IP)
	}
	fmt.Fprintln(w)
	for _, x := range run {
		fmt.Fprintf(w, "\n%s\n", x.Name)
		for _, p := range x.Info.Plan {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
}
