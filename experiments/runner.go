package experiments

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Windows are how long the runner watches after each step.
type Windows struct {
	// Observe is the window after the trigger. Longer than the 30 s UDP
	// conntrack timeout, so a stale entry that a steady flow keeps
	// refreshing shows as "never recovers" rather than as a slow recovery.
	Observe time.Duration
	// Mitigation is the window after each mitigation.
	Mitigation time.Duration
}

// DefaultWindows are the windows used unless told otherwise.
var DefaultWindows = Windows{Observe: 45 * time.Second, Mitigation: 10 * time.Second}

// Result is the outcome of one experiment run, ready for the report.
type Result struct {
	Name        string
	Info        Info
	Environment Environment
	// Applicable is false when the experiment could not run here; Reason says why.
	Applicable bool
	Reason     string
	// Err is set when the run itself broke (not when the cluster misbehaved).
	Err error
	// Budget is the outage budget the verdict is judged against (0:
	// reports.DefaultBudget).
	Budget time.Duration
	// Interval is the probe interval of the run's flows.
	Interval time.Duration
	Started  time.Time
	Finished time.Time
	Markers  []probe.Marker
	Flows    []FlowResult
	// Cells are expected-vs-observed rows that are not flows (a
	// reachability matrix); flows carry their own expectation.
	Cells     []Cell
	Evidence  []Evidence
	Actions   []Action
	Namespace string
}

// Cell is one expected-versus-observed row.
type Cell struct {
	Case     string `json:"case"`
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed"`
	Match    bool   `json:"match"`
	Source   string `json:"source,omitempty"`
	// Verdict is reports.Vulnerable when the cell loses traffic (or the
	// client's source IP) where a user would expect it not to, whatever the
	// expected table says; empty when the cell is fine.
	Verdict string `json:"verdict,omitempty"`
}

// FlowResult is one flow's measurements against its expectations.
type FlowResult struct {
	Name    string
	Samples []probe.Sample
	Stats   probe.FlowStats
	// Control is set for a control flow (Info.Controls).
	Control bool
	// Checks are what the flow did after each marker (trigger first), each
	// in the window up to the next marker, with the expectation if any.
	Checks []Check
}

// Check is one flow's observation after one marker.
type Check struct {
	Marker   string
	Observed Observed
	Expect   *Expect
	Match    bool
	// Conformance ranks a mismatch: better, worse or not triggered.
	Conformance string
}

// Interpreter is implemented by trials that read their flows for signs the
// generic analysis does not know (answers while a Service did not exist);
// what it finds is added to the run's evidence.
type Interpreter interface {
	Interpret(flows []FlowResult, markers []probe.Marker) []Evidence
}

// Assessor is implemented by trials whose verdict rests on captured state
// as well as on outages: a fault whose outage is inherent (a Service held
// at zero backends loses everything sent to it) can still leave the
// failure's mark (traffic DNATed to a deleted pod: kubernetes#139628).
// Its cells join the report's expected-versus-observed rows, and a cell
// with Verdict vulnerable makes the experiment vulnerable.
type Assessor interface {
	Assess(env Environment, ev []Evidence) []Cell
}

// matchAny reports whether name matches one of the path.Match patterns.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Execute runs one experiment from applicability to cleanup and returns its
// result. It reads top to bottom: applicability, namespace (with the
// janitor), node agent, setup, steady state, and on the trial Setup
// returned the outage (evidence, trigger, observation, mitigations,
// evidence, analysis) — a Survey has no node agent or steady state, and its
// cells measured instead of the outage — and cleanup, which always runs, on
// a context that the caller's cancellation (Ctrl-C) does not cut short.
func (e *Env) Execute(ctx context.Context, x Experiment, w Windows) (res Result) {
	res = Result{Name: x.Name(), Info: x.Info(), Environment: e.Cluster, Started: time.Now()}
	defer func() { res.Finished = time.Now() }()
	if ok, why := x.Applies(e.Cluster); !ok {
		res.Reason = why
		return res
	}
	res.Applicable = true
	_, survey := x.(Survey)
	r := e.newRun(x.Name())
	if !survey {
		res.Interval = r.FlowOptions.Interval
	}
	defer func() {
		res.Actions, res.Markers = r.actions, r.markers
		res.Evidence = append(res.Evidence, r.evidence...)
	}()

	ns, err := e.Namespace(ctx, x.Name())
	if err != nil {
		res.Err = err
		return res
	}
	r.Namespace, res.Namespace = ns, ns
	e.Log("[%s] namespace %s (janitor deletes it at the latest in %s)", x.Name(), ns, e.TTL)
	r.probeCtx, r.stopProbes = context.WithCancel(ctx)
	var trial Trial
	defer func() {
		r.stopProbes()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kube.Timeouts.Delete+time.Minute)
		defer cancel()
		// The step is the runner's: recorded once the node agent ran, as
		// reports always listed it, and whenever the trial can recover.
		rec, ok := trial.(Recoverer)
		if ok || r.Agent != nil {
			err := r.Do("recover node state", func() error {
				if !ok {
					return nil // nothing changed outside the namespace
				}
				return rec.Recover(cctx, r)
			})
			if err != nil && res.Err == nil {
				res.Err = fmt.Errorf("recover: %w", err)
			}
		}
		if err := r.Do("delete namespace "+ns, func() error { return e.releaseNamespace(cctx, ns) }); err != nil && res.Err == nil {
			res.Err = err
		}
	}()

	type step struct {
		what string
		do   func() error
	}
	agent := step{"deploy node agent", func() (err error) { r.Agent, err = e.DeployAgent(ctx, ns, x.Name()); return err }}
	setup := step{"set up workload and probes", func() (err error) { trial, err = x.Setup(ctx, r); return err }}
	steady := step{"wait for steady state", func() error {
		r.Collector.FollowPods(r.probeCtx, ns, LabelRole+"="+RoleClient)
		return r.Collector.Steady(ctx, r.wantFlows, 20)
	}}
	steps := []step{agent, setup, steady}
	if survey {
		steps = []step{setup}
	}
	for _, s := range steps {
		if err := r.Do(s.what, s.do); err != nil {
			if why, ok := notApplicableReason(err); ok {
				res.Applicable, res.Reason = false, why
				return res
			}
			res.Err = fmt.Errorf("%s: %w", s.what, err)
			return res
		}
	}
	m, measures := trial.(Measurer)
	t, injects := trial.(Outage)
	switch {
	case survey && measures:
		var cells []Cell
		if err := r.Do("measure", func() (err error) { cells, err = m.Measure(ctx, r); return err }); err != nil {
			res.Err = fmt.Errorf("measure: %w", err)
		}
		res.Cells = append(res.Cells, cells...)
	case !survey && injects:
		e.outage(ctx, r, x, t, w, &res)
	default:
		want := "Outage"
		if survey {
			want = "Measurer"
		}
		res.Err = fmt.Errorf("%s: Setup returned a %T, which is no experiments.%s", x.Name(), trial, want)
	}
	return res
}

// outage is the trigger and what follows it: evidence before the trigger,
// the trigger, the observation window, each mitigation with its window,
// evidence after each, and the analysis of the flows.
func (e *Env) outage(ctx context.Context, r *Run, x Experiment, t Outage, w Windows, res *Result) {
	res.Evidence = append(res.Evidence, tag(t.Evidence(ctx, r), "before trigger")...)
	trigger := r.Mark("trigger")
	if err := r.Do("inject: "+res.Info.Trigger, func() error { return t.Inject(ctx, r) }); err != nil {
		res.Err = fmt.Errorf("inject: %w", err)
	}
	if res.Err == nil && Sleep(ctx, time.Until(trigger.Add(res.Info.Hold+w.Observe))) {
		res.Evidence = append(res.Evidence, tag(t.Evidence(ctx, r), "after trigger")...)
		var ms []Mitigation
		if m, ok := x.(Mitigator); ok {
			ms = m.Mitigations()
		}
		for _, m := range ms {
			r.Mark(m.Name)
			if err := r.Do("mitigate: "+m.Name, func() error { return m.Apply(ctx, r, t) }); err != nil {
				res.Err = fmt.Errorf("mitigation %s: %w", m.Name, err)
				break
			}
			if !Sleep(ctx, w.Mitigation) {
				break
			}
			res.Evidence = append(res.Evidence, tag(t.Evidence(ctx, r), "after "+m.Name)...)
		}
	}
	if ctx.Err() != nil && res.Err == nil {
		res.Err = fmt.Errorf("interrupted: %w", ctx.Err())
	}
	end := time.Now()
	r.stopProbes()
	r.Collector.Wait()
	res.Flows = analyze(r.Collector, r.markers, end, x.Expectations(e.Cluster), res.Info.Controls)
	if in, ok := t.(Interpreter); ok {
		r.evidence = append(r.evidence, in.Interpret(res.Flows, r.markers)...)
	}
	if a, ok := t.(Assessor); ok && res.Err == nil {
		res.Cells = append(res.Cells, a.Assess(e.Cluster, append(append([]Evidence{}, res.Evidence...), r.evidence...))...)
	}
}

// analyze measures every flow after every marker, each in the window up to
// the next marker, and compares it with its expectation.
func analyze(c *Collector, all []probe.Marker, end time.Time, exps []Expect, controls []string) []FlowResult {
	var markers []probe.Marker // events annotate; they open no window
	for _, m := range all {
		if !m.Event {
			markers = append(markers, m)
		}
	}
	var out []FlowResult
	for _, name := range c.Flows() {
		s := c.Samples(name)
		f := FlowResult{Name: name, Samples: s, Stats: probe.Analyze(s, markers, end), Control: matchAny(controls, name)}
		for i, m := range markers {
			until := end
			if i+1 < len(markers) {
				until = markers[i+1].At
			}
			ch := Check{Marker: m.Name, Observed: Observe(s, m.At, until)}
			ch.Observed.Since = m.Name
			if x, ok := For(exps, m.Name, name); ok {
				ch.Expect, ch.Match = &x, x.Matches(ch.Observed)
				ch.Conformance = x.Conformance(ch.Observed)
			}
			f.Checks = append(f.Checks, ch)
		}
		out = append(out, f)
	}
	return out
}

// notApplicableReason reports whether err is, or wraps, a
// *NotApplicableError, and returns its reason: the report and the CLI
// already say "not applicable".
func notApplicableReason(err error) (reason string, ok bool) {
	var na *NotApplicableError
	if errors.As(err, &na) {
		return na.Reason, true
	}
	return "", false
}

func tag(ev []Evidence, when string) []Evidence {
	for i := range ev {
		ev[i].When = when
	}
	return ev
}

// Sleep waits d unless ctx ends first; it reports whether it waited it all.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
