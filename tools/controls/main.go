// Command controls runs the positive controls and their fixed twins
// (experiments/controls) on the kind lab, each several times, and prints
// the verdict of every run and, per control, how many runs came to each
// verdict and the spread of the time the bitten flows lost: the
// repeatability measurement behind "the suite catches these failures".
//
//	go run ./tools/controls --kubeconfig _out/kubeconfig --context kind-netchaos -n 5
//
// It leaves the lab in its default profile, and writes every run's report
// to --report-dir/<control>/<run>/.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/controls"
	"github.com/netchaos/netchaos/reports"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the kind lab (required)")
	kctx := flag.String("context", "", "its context, kind-<cluster> (required)")
	lab := flag.String("lab", "tools/cluster/lab.sh", "the lab profile script")
	n := flag.Int("n", 5, "runs per control")
	only := flag.String("only", "", "run only controls whose name contains this")
	image := flag.String("image", experiments.DefaultImage, "probe agent image")
	dir := flag.String("report-dir", "_out/controls", "where each run's report goes")
	flag.Parse()
	if *kubeconfig == "" || !strings.HasPrefix(*kctx, "kind-") || *n < 1 {
		fmt.Fprintln(os.Stderr, "controls: --kubeconfig and --context kind-<cluster> name the kind lab; -n is at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *kubeconfig, *kctx, *lab, *image, *dir, *only, *n); err != nil {
		fmt.Fprintln(os.Stderr, "controls:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, kctx, lab, image, dir, only string, n int) error {
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
	}
	env, err := experiments.NewEnv(experiments.Options{Kubeconfig: kubeconfig, Context: kctx, Image: image, Log: logf})
	if err != nil {
		return err
	}
	sw := controls.Script(lab, strings.TrimPrefix(kctx, "kind-"), kubeconfig, os.Stderr)
	defer sw(context.WithoutCancel(ctx), "default")
	defer env.WaitNamespaces(context.WithoutCancel(ctx))
	failed := false
	last := map[string][]experiments.Result{} // per trigger, the last run of each control
	for _, c := range controls.InSwitchOrder() {
		if !strings.Contains(c.Name, only) {
			continue
		}
		counts := map[reports.Verdict]int{}
		var lost []time.Duration
		never := 0
		for i := 1; i <= n && ctx.Err() == nil; i++ {
			res, x, err := c.Run(ctx, env, sw)
			if err != nil {
				if x.Name != "" { // keep what the failed run saw
					env.Report([]experiments.Result{res}, time.Now()).WriteDir(filepath.Join(dir, slug(c.Name), fmt.Sprint(i)))
				}
				return fmt.Errorf("%s, run %d: %w", c.Name, i, err)
			}
			if i == n {
				last[c.Trigger] = append(last[c.Trigger], res)
			}
			counts[x.Verdict]++
			for _, f := range x.Flows {
				if !f.Control && len(f.Windows) > 0 {
					if f.Windows[0].Recovered {
						lost = append(lost, f.Windows[0].Lost)
					} else {
						never++
					}
				}
			}
			problems := c.Check(x)
			failed = failed || len(problems) > 0
			fmt.Printf("%s | run %d | %s | %s\n", c.Name, i, controls.Summary(c, x), orOK(problems))
			rep := env.Report(nil, time.Now())
			rep.Experiments = []reports.Experiment{x}
			rep.Run.Started = x.Started
			if err := rep.WriteDir(filepath.Join(dir, slug(c.Name), fmt.Sprint(i))); err != nil {
				return err
			}
		}
		fmt.Printf("%s | %d runs | verdicts %s | bitten flows: %s\n\n", c.Name, n, verdicts(counts), spread(lost, never))
	}
	// One report per trigger with its positive control beside its fixed twin.
	for trigger, results := range last {
		if err := env.Report(results, time.Now()).WriteDir(filepath.Join(dir, trigger)); err != nil {
			return err
		}
		fmt.Printf("report of %s's controls side by side: %s\n", trigger, filepath.Join(dir, trigger))
	}
	if failed {
		return fmt.Errorf("at least one control did not come out as it must")
	}
	return ctx.Err()
}

func orOK(problems []string) string {
	if len(problems) == 0 {
		return "holds"
	}
	return "DOES NOT HOLD: " + strings.Join(problems, "; ")
}

func verdicts(c map[reports.Verdict]int) string {
	var s []string
	for _, v := range []reports.Verdict{reports.Vulnerable, reports.Degraded, reports.Resilient} {
		if c[v] > 0 {
			s = append(s, fmt.Sprintf("%d %s", c[v], v))
		}
	}
	return strings.Join(s, ", ")
}

// spread is the min / median / max time lost by the bitten flows that
// recovered, and how many never did.
func spread(d []time.Duration, never int) string {
	s := fmt.Sprintf("%d never recovered", never)
	if len(d) == 0 {
		return s
	}
	slices.Sort(d)
	return fmt.Sprintf("%s; %d recovered, lost min %s / median %s / max %s", s, len(d), reports.Dur(d[0]), reports.Dur(d[len(d)/2]), reports.Dur(d[len(d)-1]))
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
