package chaosmesh

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netchaos/netchaos/experiments"
)

// faultSpec is what every Chaos Mesh experiment shares: the fault's kind
// and options, and the expectations by kind. None has a mitigation: the
// fault's duration (or, for pod-kill, the owner replacing the pod) ends it.
type faultSpec struct {
	kind Kind
	o    options
}

// Expectations implements experiments.Experiment.
func (f faultSpec) Expectations(env experiments.Environment) []experiments.Expect {
	return expectations(f.kind, env, f.o.duration)
}

// faultTrial is what every Chaos Mesh run shares once its object is built:
// create it and wait until Chaos Mesh reports it injected, Chaos Mesh's
// record as evidence, and deletion in Recover.
type faultTrial struct {
	fault *Fault
}

// inject creates obj and waits until Chaos Mesh applied it.
func (f *faultTrial) inject(ctx context.Context, r *experiments.Run, obj runtime.Object) (err error) {
	if f.fault, err = Create(ctx, r, obj); err != nil {
		return err
	}
	return f.fault.WaitInjected(ctx)
}

// Evidence implements experiments.Outage: the echo pods (which one serves,
// since when) and Chaos Mesh's own record of when it applied and lifted the
// fault on each pod.
func (f *faultTrial) Evidence(ctx context.Context, r *experiments.Run) []experiments.Evidence {
	ev := []experiments.Evidence{echoPods(ctx, r)}
	if f.fault != nil {
		ev = append(ev, f.fault.Evidence(ctx))
	}
	return ev
}

// Recover implements experiments.Recoverer: delete the Chaos Mesh object
// and wait for Chaos Mesh to take the fault out of the pods (its finalizer).
func (f *faultTrial) Recover(ctx context.Context, r *experiments.Run) error {
	return deleteAll(ctx, r, []*Fault{f.fault})
}
