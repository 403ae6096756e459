package experiments

import (
	"context"
	"fmt"
	"time"
)

// Experiment is one documented failure, as a stateless spec: what a
// package's New returns and the catalog lists, safe to run any number of
// times. It measures nothing itself: Setup starts one run and returns the
// run's state, a Trial, which the runner keeps and calls the later steps
// on; the runner runs the probes around it.
type Experiment interface {
	// Name is short and label-safe, e.g. "hostnetwork-flip".
	Name() string
	// Info describes the experiment for the report.
	Info() Info
	// Applies says whether the experiment can run in env, and why not.
	Applies(env Environment) (ok bool, reason string)
	// Expectations are the expected outcomes per flow for env, as data.
	Expectations(env Environment) []Expect
	// Setup deploys the workload and the probe clients (pods labelled
	// RoleClient, whose logs the runner collects) into r.Namespace, reports
	// how many flows to expect with r.WantFlows, and returns the run's
	// state. It returns that state even when it fails partway, so that
	// Recover can undo what it did.
	Setup(ctx context.Context, r *Run) (Trial, error)
}

// Trial is one run of an experiment: the state its Setup built. The runner
// calls on it the steps it implements: Inject and Evidence (an Outage), or
// Measure (a Measurer, the trial of a Survey); Recover, Interpret and
// Assess where it has them.
type Trial any

// Outage is the trial of an experiment with a trigger: the runner waits for
// the steady state, injects, observes, applies the experiment's mitigations
// and reads the evidence before and after each.
type Outage interface {
	// Inject fires the trigger.
	Inject(ctx context.Context, r *Run) error
	// Evidence reads the state that explains the outcome (conntrack entries,
	// NAT rules, ip rules); called before the trigger, after it and after
	// each mitigation.
	Evidence(ctx context.Context, r *Run) []Evidence
}

// Mitigator is implemented by experiments with known fixes: applied in
// order after the trigger's observation window, each observed in turn.
type Mitigator interface {
	Mitigations() []Mitigation
}

// Recoverer is implemented by trials that change state outside the run's
// namespace (node state, a Chaos Mesh fault): Recover undoes it. It must be
// idempotent and tolerate partial setup; the namespace itself is deleted by
// the runner.
type Recoverer interface {
	Recover(ctx context.Context, r *Run) error
}

// Survey is implemented by an experiment without a trigger, which measures
// the cluster as it is into cells instead of flows (T4's reachability
// matrix). The runner deploys no node agent for it and waits for no probe
// clients: after Setup it calls Measure on the trial, a Measurer.
type Survey interface {
	// ExpectedCells are the expected cells for env (Case, Expected,
	// Source), as data: the table the catalog shows.
	ExpectedCells(env Environment) []Cell
}

// Measurer is the trial of a Survey.
type Measurer interface {
	// Measure measures every cell, compared with its expectation and
	// judged; the cells measured before an error come with it.
	Measure(ctx context.Context, r *Run) ([]Cell, error)
}

// Info describes an experiment.
type Info struct {
	Title   string
	Trigger string
	Sources []string
	// Plan lists, for --dry-run, what the experiment creates and changes.
	Plan []string
	// Controls are path.Match patterns of the flows the failure does not
	// bite (a fresh source port per probe): an outage the other flows share
	// with them at the same instants is the trigger's own cost or ambient
	// noise, not the mechanism.
	Controls []string
	// Mechanism is the documented failure the experiment reproduces, named
	// in the verdict when a flow is vulnerable or degraded.
	Mechanism Mechanism
	// Inherent is the outage the trigger causes by design (the Service is
	// absent for a gap, a partition lasts its duration): time lost up to
	// this much is not held against the outage budget.
	Inherent time.Duration
	// Tolerance is how much later than the control flows a flow may come
	// back and still count as recovering with them, when the component
	// that brings both back works in steps (0: reports.Noise).
	Tolerance time.Duration
	// Hold is how long the trigger keeps its fault in place before undoing
	// it (backends held at zero): the runner observes for the run's
	// Observe window on top of it.
	Hold time.Duration
}

// Mechanism is a known failure: what breaks, where it is documented, and
// the mitigation that is known to work.
type Mechanism struct {
	Name       string
	Source     string
	Mitigation string
}

// Mitigation is a known fix.
type Mitigation struct {
	Name string
	// Apply applies the fix to the run whose state is t (what Setup
	// returned).
	Apply func(ctx context.Context, r *Run, t Trial) error
}

// Mitigate is the Mitigation name applied by apply, a method of the
// experiment's trial type T given as a method expression:
// Mitigate("restart client", (*trial).restartClient).
func Mitigate[T Trial](name string, apply func(T, context.Context, *Run) error) Mitigation {
	return Mitigation{Name: name, Apply: func(ctx context.Context, r *Run, t Trial) error {
		typed, ok := t.(T)
		if !ok {
			return fmt.Errorf("mitigation %s applies to a %T, not to a %T", name, typed, t)
		}
		return apply(typed, ctx, r)
	}}
}

// Evidence is one captured piece of state.
type Evidence struct {
	Name string `json:"name"`
	When string `json:"when"`
	Text string `json:"text"`
	// Shows names the mechanism this evidence is a sign of (a stale
	// conntrack tuple, a flushed rule), found by the experiment in the
	// captured state; empty for plain state.
	Shows string `json:"shows,omitempty"`
}

// Action is one thing the runner or an experiment did, as recorded.
type Action struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
	Err  string    `json:"err,omitempty"`
}

// NotApplicableError, returned (or wrapped) by Setup, ends an experiment as
// not applicable rather than as failed; Reason is what the report says.
type NotApplicableError struct {
	Reason string
}

func (e *NotApplicableError) Error() string { return "not applicable: " + e.Reason }

// NotApplicable returns a *NotApplicableError whose reason is formatted
// from format and args.
func NotApplicable(format string, args ...any) error {
	return &NotApplicableError{Reason: fmt.Sprintf(format, args...)}
}

// Role of probe client pods.
const RoleClient = "client"
