// Package controls proves the suite catches the failures it exists for. For
// each documented trigger it names a positive control — a lab profile of
// the kind lab in which the outage really happens, where the suite must say
// vulnerable and show the mechanism's evidence — and its fixed twin (the
// release that has the fix, or the known mitigation), where it must say
// resilient. The e2e spec labelled "controls" and `make controls` (which
// repeats them) run this one table.
//
// A lab profile is applied by a Switcher (tools/cluster/lab.sh on kind);
// the profile a run used is read back from the cluster into the report, so
// Check also verifies the run really was in it.
package controls

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/hostnetworkflip"
	"github.com/netchaos/netchaos/experiments/networkdrestart"
	"github.com/netchaos/netchaos/experiments/udplbrecreate"
	"github.com/netchaos/netchaos/reports"
)

// Switcher puts the cluster into a lab profile.
type Switcher func(ctx context.Context, profile string) error

// Control is one run the suite must judge a known way.
type Control struct {
	// Trigger groups a positive control with its fixed twin ("t1").
	Trigger string
	Name    string
	// Profile is the lab profile to run in ("default": the lab as built).
	Profile string
	// Experiment is what runs: a spec, so one value serves every run.
	Experiment experiments.Experiment
	Windows    experiments.Windows
	// Want is the verdict the experiment must come to.
	Want reports.Verdict
	// Signs are evidence the run must have captured: the mechanism at work
	// (or, for a fixed twin, the state that proves the trigger took hold).
	Signs []Sign
	// Clean lists when (an Evidence.When) no evidence may show a mechanism:
	// the fixed twin cleared the state.
	Clean []string
	// Mitigation names a marker after which every flow must be resilient:
	// the known fix, measured.
	Mitigation string
	// OwnSpec is set when an e2e spec of its own runs the control (T3's,
	// which also checks every node is left as it was found); the controls
	// spec leaves it out, `make controls` does not.
	OwnSpec bool
}

// Sign is evidence taken at When whose Shows contains Shows.
type Sign struct{ When, Shows string }

// Table is every control, positive controls beside their fixed twins.
var Table = []Control{
	{
		Trigger: "t1", Name: "T1 hostPort → hostNetwork, vpc-like (positive control)", Profile: "vpc-like",
		Experiment: hostnetworkflip.New(hostnetworkflip.ToHostNetwork),
		Windows:    experiments.DefaultWindows, Want: reports.Vulnerable,
		Signs:      []Sign{{"after trigger", "stale conntrack entry"}},
		Mitigation: "conntrack -D",
	},
	{
		Trigger: "t1", Name: "T1 hostNetwork → hostPort, portmap v0.8.7 (positive control)", Profile: "portmap-v0.8.7",
		Experiment: hostnetworkflip.New(hostnetworkflip.ToHostPort),
		Windows:    experiments.DefaultWindows, Want: reports.Vulnerable,
		Signs:      []Sign{{"after trigger", "stale conntrack entry"}},
		Mitigation: "conntrack -D",
	},
	{
		Trigger: "t1", Name: "T1 hostNetwork → hostPort, portmap 1.1.1 with #553 (fixed twin)", Profile: "default",
		Experiment: hostnetworkflip.New(hostnetworkflip.ToHostPort),
		Windows:    experiments.DefaultWindows, Want: reports.Resilient,
		Clean: []string{"after trigger"},
	},
	// T2 on the ClusterIP variant: its address exists from creation. The
	// fixed twin is the mitigation, measured in the same run: after
	// `conntrack -D` on every node every flow must be back. kube-proxy as
	// released is no twin: it clears the entry only in a sync where some
	// UDP Service's endpoints changed, and on kind v1.34.2 9 of 29 runs
	// (2026-12-02) kept one node's fixed-source entries for good: that
	// node's reconcile ran before its kube-proxy had the re-created Service
	// and deleted nothing (README). e2e/t2_test.go runs it as an
	// experiment whose verdict is reported, not asserted.
	{
		Trigger: "t2", Name: "T2 ClusterIP re-created, kube-proxy without conntrack cleanup (positive control)", Profile: "kube-proxy-no-ct-cleanup",
		Experiment: udplbrecreate.New(udplbrecreate.ClusterIP),
		Windows:    experiments.DefaultWindows, Want: reports.Vulnerable,
		Signs:      []Sign{{"service absent", "un-NATed conntrack entry"}, {"after trigger", "un-NATed conntrack entry"}},
		Clean:      []string{"after conntrack -D"},
		Mitigation: "conntrack -D",
	},
	// T2 held at zero backends (kubernetes#139628): kube-proxy as released
	// (v1.32+: its reconciler skips a Service without endpoints) keeps the
	// fixed-source entries DNATed to the deleted pods for as long as they
	// send; v1.31, the release before the reconciler, clears them per
	// deleted endpoint. Nothing answers during the hold on either: the
	// verdict rests on the entries read during it (udplbrecreate.Assess).
	{
		Trigger: "t2", Name: "T2 ClusterIP held at zero backends, kube-proxy as released (positive control)", Profile: "default",
		Experiment: udplbrecreate.New(udplbrecreate.ScaleToZeroHold),
		Windows:    holdWindows, Want: reports.Vulnerable,
		Signs: []Sign{{udplbrecreate.HeldWhen, "stale DNAT to a deleted backend"}},
	},
	{
		Trigger: "t2", Name: "T2 ClusterIP held at zero backends, kube-proxy v1.31 (fixed twin)", Profile: "kube-proxy-v1.31",
		Experiment: udplbrecreate.New(udplbrecreate.ScaleToZeroHold),
		Windows:    holdWindows, Want: reports.Resilient,
		Clean: []string{udplbrecreate.HeldWhen},
	},
	// T3 needs no profile: every networkd restart flushes the rules. The
	// fixed twin is the drop-in, measured in the same run: the same restart
	// after it must cost nothing, and leave the rules in place.
	{
		Trigger: "t3", Name: "T3 networkd restart, drop-in as the fixed twin", Profile: "default",
		Experiment: networkdrestart.New(),
		Windows:    experiments.Windows{Observe: 20 * time.Second, Mitigation: 10 * time.Second},
		Want:       reports.Vulnerable,
		Signs:      []Sign{{"after trigger", "per-pod ip rules gone"}},
		Clean:      []string{"before trigger", "after drop-in + restart networkd"},
		Mitigation: "drop-in + restart networkd",
		OwnSpec:    true,
	},
	// The same flush by its second trigger, a new link networkd manages
	// (ENI hot-attach); its fixed twin is the drop-in and a second new link.
	{
		Trigger: "t3", Name: "T3 new networkd-managed link, drop-in as the fixed twin", Profile: "default",
		Experiment: networkdrestart.NewLink(),
		Windows:    experiments.Windows{Observe: 20 * time.Second, Mitigation: 10 * time.Second},
		Want:       reports.Vulnerable,
		Signs:      []Sign{{"after trigger", "per-pod ip rules gone"}},
		Clean:      []string{"before trigger", "after drop-in + new link"},
		Mitigation: "drop-in + new link",
		OwnSpec:    true,
	},
}

// holdWindows observe the hold variant for 20 s after its hold (the
// runner adds Info.Hold): the backends are back within a few seconds.
var holdWindows = experiments.Windows{Observe: 20 * time.Second, Mitigation: 10 * time.Second}

// InSwitchOrder is Table in the order that switches the lab least: the
// controls in the default profile first, then the CNI profiles (pods
// created afterwards use them), then the kube-proxy ones (each a rollout);
// Table's order otherwise. Run leaves the lab in a control's profile, so
// a caller that runs them in this order switches back once, at the end.
func InSwitchOrder() []Control {
	rank := func(c Control) int {
		switch {
		case c.Profile == "default":
			return 0
		case strings.HasPrefix(c.Profile, "kube-proxy-"):
			return 2
		}
		return 1
	}
	out := slices.Clone(Table)
	slices.SortStableFunc(out, func(a, b Control) int { return rank(a) - rank(b) })
	return out
}

// Find is the control named name.
func Find(name string) (Control, bool) {
	for _, c := range Table {
		if c.Name == name {
			return c, true
		}
	}
	return Control{}, false
}

// Run switches the lab to c's profile, runs c's experiment and judges it.
// The lab is left in the profile: the caller switches back.
func (c Control) Run(ctx context.Context, env *experiments.Env, lab Switcher) (experiments.Result, reports.Experiment, error) {
	if err := lab(ctx, c.Profile); err != nil {
		return experiments.Result{}, reports.Experiment{}, fmt.Errorf("lab profile %s: %w", c.Profile, err)
	}
	var err error
	if env.Cluster, err = env.Detect(ctx); err != nil {
		return experiments.Result{}, reports.Experiment{}, err
	}
	res := env.Execute(ctx, c.Experiment, c.Windows)
	return res, env.Report([]experiments.Result{res}, time.Now()).Experiments[0], res.Err
}

// Check lists how the judged experiment departs from the control: an empty
// list means the suite caught (or cleared) the failure as it must.
func (c Control) Check(x reports.Experiment) []string {
	var bad []string
	if x.Verdict != c.Want {
		bad = append(bad, fmt.Sprintf("verdict %s, want %s (%s)", x.Verdict, c.Want, x.Reason))
	}
	if c.Profile != "default" && !strings.HasPrefix(x.Lab, c.Profile+":") {
		bad = append(bad, fmt.Sprintf("the run's lab profile is %q, want %s", x.Lab, c.Profile))
	}
	for _, s := range c.Signs {
		if !shows(x.Evidence, s.When, s.Shows) {
			bad = append(bad, fmt.Sprintf("no evidence taken %s shows %q", s.When, s.Shows))
		}
	}
	for _, when := range c.Clean {
		for _, ev := range x.Evidence {
			if ev.When == when && ev.Shows != "" {
				bad = append(bad, fmt.Sprintf("%s (%s) shows %q", ev.Name, when, ev.Shows))
			}
		}
	}
	if c.Mitigation != "" {
		for _, f := range x.Flows {
			w, ok := window(f, c.Mitigation)
			if !ok {
				bad = append(bad, fmt.Sprintf("%s has no window after %q", f.Name, c.Mitigation))
			} else if w.Verdict != reports.Resilient {
				bad = append(bad, fmt.Sprintf("%s after %q: %s", f.Name, c.Mitigation, w.Verdict))
			}
		}
	}
	return bad
}

func shows(ev []reports.Evidence, when, what string) bool {
	for _, e := range ev {
		if e.When == when && strings.Contains(e.Shows, what) {
			return true
		}
	}
	return false
}

func window(f reports.Flow, marker string) (reports.Window, bool) {
	for _, w := range f.Windows {
		if w.Marker == marker {
			return w, true
		}
	}
	return reports.Window{}, false
}

// Summary is the run's numbers for the repeatability table: the verdict,
// and for the flows the failure bites (not the controls) the time each lost
// after the trigger ("never" when it did not recover) and, with a
// mitigation, how long after it each was back.
func Summary(c Control, x reports.Experiment) string {
	var lost, fixed []string
	for _, f := range x.Flows {
		if f.Control || len(f.Windows) == 0 {
			continue
		}
		w := f.Windows[0]
		switch {
		case !w.Recovered:
			lost = append(lost, "never")
		case w.DownAtEnd:
			lost = append(lost, reports.Dur(w.Lost)+" (down at the end)")
		default:
			lost = append(lost, reports.Dur(w.Lost))
		}
		if m, ok := window(f, c.Mitigation); ok && c.Mitigation != "" {
			fixed = append(fixed, reports.Dur(m.StableAfter))
		}
	}
	s := fmt.Sprintf("%s; lost after the trigger: %s", x.Verdict, strings.Join(lost, ", "))
	if len(fixed) > 0 {
		s += fmt.Sprintf("; back after %q: %s", c.Mitigation, strings.Join(fixed, ", "))
	}
	return s
}

// Script is a Switcher that runs a lab script (tools/cluster/lab.sh) as
// `script <cluster> <kubeconfig> <profile>`, its output to log.
func Script(script, cluster, kubeconfig string, log io.Writer) Switcher {
	return func(ctx context.Context, profile string) error {
		cmd := exec.CommandContext(ctx, script, cluster, kubeconfig, profile)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w", script, profile, err)
		}
		return nil
	}
}
