package experiments

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/netchaos/netchaos/probe"
)

// Run is the handle an experiment's steps get for one run: the cluster's
// clients and fingerprint, the run's namespace, node agent and image, and
// the record of what the steps did. The runner builds it (Env.Execute) and
// keeps the rest to itself: creating and deleting namespaces, recovery,
// cleanup and reports are not an experiment's to call. The generic
// Kubernetes waits take r.Kube (package kube).
type Run struct {
	// Kube is the clientset of the cluster under test, Config the
	// configuration it was made from (for a dynamic client).
	Kube   kubernetes.Interface
	Config *rest.Config
	// Cluster is the detected environment: its nodes are the ones the run
	// uses (Workers, Placement).
	Cluster    Environment
	Experiment string // the experiment's name
	Namespace  string // the run's own namespace, deleted by the runner
	Image      string // the probe agent image (Container)
	// Agent runs commands on the nodes; nil in a Survey, which gets none.
	Agent     *Agent
	Collector *Collector
	// FlowOptions are the probe settings clients should use.
	FlowOptions probe.Options

	runID   string
	outside bool
	log     Logger

	probeCtx   context.Context
	stopProbes context.CancelFunc
	wantFlows  int
	mu         sync.Mutex // guards what steps on several nodes at once record
	actions    []Action
	markers    []probe.Marker
	evidence   []Evidence
}

// newRun is the handle for a run of experiment exp, before its namespace
// exists.
func (e *Env) newRun(exp string) *Run {
	return &Run{Kube: e.Kube, Config: e.Config, Cluster: e.Cluster, Experiment: exp, Image: e.Image,
		Collector:   NewCollector(e.Kube, e.Log),
		FlowOptions: probe.Options{Interval: 10 * time.Millisecond, Timeout: 500 * time.Millisecond},
		runID:       e.RunID, outside: e.OutsideView(), log: e.Log}
}

// ProbeContext is the context probes the runner or an experiment start
// should run under: it ends when the observation ends.
func (r *Run) ProbeContext() context.Context { return r.probeCtx }

// WantFlows declares n more flows the steady state must see answering.
func (r *Run) WantFlows(n int) { r.wantFlows += n }

// OutsideView reports whether the runner's host sits on the cluster's node
// network, outside every pod (Env.OutsideView): only then can the run probe
// as an external client (Collector.RunLocal).
func (r *Run) OutsideView() bool { return r.outside }

// Log writes a progress line to the runner's logger, if it has one.
func (r *Run) Log(format string, args ...any) { r.log.printf(format, args...) }

// Labels for an object of this experiment with a role.
func (r *Run) Labels(role string) map[string]string { return labelsFor(r.runID, r.Experiment, role) }

// Do runs one recorded step.
func (r *Run) Do(what string, f func() error) error {
	r.Log("[%s] %s", r.Experiment, what)
	err := f()
	a := Action{At: time.Now(), What: what}
	if err != nil {
		a.Err = err.Error()
		r.Log("[%s] %s: %v", r.Experiment, what, err)
	}
	r.mu.Lock()
	r.actions = append(r.actions, a)
	r.mu.Unlock()
	return err
}

// Mark records a named moment (trigger, mitigation) on the run's timeline.
func (r *Run) Mark(name string) time.Time {
	now := time.Now()
	r.mu.Lock()
	r.markers = append(r.markers, probe.Marker{Name: name, At: now})
	r.mu.Unlock()
	return now
}

// Event records a named moment inside a step (a Service deleted, then
// re-created) on the timeline; unlike Mark it opens no window of its own.
func (r *Run) Event(name string) time.Time {
	now := time.Now()
	r.mu.Lock()
	r.markers = append(r.markers, probe.Marker{Name: name, At: now, Event: true})
	r.mu.Unlock()
	return now
}

// Capture records evidence taken inside a step (the conntrack entry while a
// Service is absent), tagged with when it was taken.
func (r *Run) Capture(when string, ev ...Evidence) {
	r.mu.Lock()
	r.evidence = append(r.evidence, tag(ev, when)...)
	r.mu.Unlock()
}

// OnNodes runs f for every node at once (a mitigation applied on every
// node as close to the same instant as exec allows) and returns their
// errors, each naming its node.
func (r *Run) OnNodes(ctx context.Context, nodes []Node, f func(context.Context, Node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, n); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
