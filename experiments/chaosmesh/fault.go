package chaosmesh

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netchaos/netchaos/experiments"
)

// faultRun is what every Chaos Mesh experiment shares once its object is
// built: create it and wait until Chaos Mesh reports it injected, no
// mitigation (the fault's own end is the recovery), Chaos Mesh's record as
// evidence, expectations by kind, and deletion in Recover.
type faultRun struct {
	kind  Kind
	o     options
	fault *Fault
}

// inject creates obj and waits until Chaos Mesh applied it.
func (f *faultRun) inject(ctx context.Context, r *experiments.Run, obj runtime.Object) (err error) {
	if f.fault, err = Create(ctx, r, obj); err != nil {
		return err
	}
	return f.fault.WaitInjected(ctx)
}

// Mitigations implements experiments.Experiment: none; the fault's duration
// (or, for pod-kill, the owner replacing the pod) ends it.
func (f *faultRun) Mitigations() []experiments.Mitigation { return nil }

// Evidence implements experiments.Experiment: the echo pods (which one
// serves, since when) and Chaos Mesh's own record of when it applied and
// lifted the fault on each pod.
func (f *faultRun) Evidence(ctx context.Context, r *experiments.Run) []experiments.Evidence {
	ev := []experiments.Evidence{echoPods(ctx, r)}
	if f.fault != nil {
		ev = append(ev, f.fault.Evidence(ctx))
	}
	return ev
}

// Expectations implements experiments.Experiment.
func (f *faultRun) Expectations(env experiments.Environment) []experiments.Expect {
	return expectations(f.kind, env, f.o.duration)
}

// Recover implements experiments.Experiment: delete the Chaos Mesh object
// and wait for Chaos Mesh to take the fault out of the pods (its finalizer).
func (f *faultRun) Recover(ctx context.Context, r *experiments.Run) error {
	return deleteAll(ctx, r, []*Fault{f.fault})
}
