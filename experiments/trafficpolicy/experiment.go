package trafficpolicy

import (
	"context"
	"slices"

	"github.com/netchaos/netchaos/experiments"
)

// Matrix is T4 as an experiment: a survey with no trigger, the matrix
// measured as the cluster is, its cells compared with the expected matrix
// for the detected kube-proxy mode and version and judged for what a user
// would lose in them.
type Matrix struct{}

// trial is one measurement: the workers it uses, what Setup deployed, and
// the rows Setup could not deploy for. It changes nothing outside the
// namespace.
type trial struct {
	workers   []experiments.Node
	svcs      services
	listeners map[string]bool
	// na are rows that could not be measured here, with why; the row names
	// and reasons stay the same across versions and modes so that diffs of
	// two runs compare them.
	na []NotApplicable
}

var (
	_ experiments.Survey   = (*Matrix)(nil)
	_ experiments.Measurer = (*trial)(nil)
)

// New returns T4.
func New() *Matrix { return &Matrix{} }

// Name implements experiments.Experiment.
func (*Matrix) Name() string { return Name }

// Info implements experiments.Experiment.
func (*Matrix) Info() experiments.Info {
	return experiments.Info{
		Title:   "T4 externalTrafficPolicy and in-cluster access to the LB IP: reachability matrix",
		Trigger: "none: the matrix is measured as the cluster is (compare runs across versions with `netchaos diff`)",
		Sources: []string{"kubernetes/kubernetes#97081", "kubernetes/kubernetes#77523", "kubernetes/kubernetes#93456",
			"kubernetes/kubernetes#108460", "kubernetes/kubernetes#121919", "KEP-1860 (ipMode: Proxy)"},
		Mechanism: experiments.Mechanism{
			Name:       "in-cluster traffic to a LoadBalancer IP short-circuited by kube-proxy (IPVS binds the LB IP to kube-ipvs0 on every node)",
			Source:     "kubernetes/kubernetes#97081, #93456; the ACK article (seed 003)",
			Mitigation: "status.loadBalancer.ingress[].ipMode: Proxy (KEP-1860; ACK's loadbalancer-hostname annotation) sends in-cluster clients to the load balancer",
		},
		Plan: Plan,
	}
}

// Plan lists, for --dry-run, what the experiment creates.
var Plan = []string{
	"namespace netchaos-" + Name + "-<run> with janitor",
	"Deployment web (1 echo pod, TCP and UDP :8080) on the first worker; LoadBalancer Services web-cluster and web-local (externalTrafficPolicy Cluster / Local, ports 80/TCP and 80/UDP) from the cluster's load balancer",
	"a hostNetwork echo on 0.0.0.0:82 (TCP, UDP) on both workers: the node-local listener the LB IP may reach",
	"test load balancer (ipMode: Proxy, KEP-1860): Services web-cluster-proxy and web-local-proxy with loadBalancerClass " + testLBClass + " (the cluster's load balancer leaves them alone), two relay pods, and a status write giving each Service its relay pod's address with ipMode Proxy",
	"one-shot probe pods (pod and hostNetwork) on both workers, 10 new TCP connections or fresh UDP sockets/s for 2 s per cell (a partial cell is probed once more); on kind also probes from this host",
	"no fault: the matrix is the cluster's behaviour as it is",
}

// Applies implements experiments.Experiment.
func (*Matrix) Applies(env experiments.Environment) (bool, string) {
	if len(env.Workers()) < 2 {
		return false, "needs two worker nodes (one with the endpoint, one without)"
	}
	return true, ""
}

// Expectations implements experiments.Experiment: the matrix has no flows;
// its expectations are cells (ExpectedCells).
func (*Matrix) Expectations(experiments.Environment) []experiments.Expect { return nil }

// Setup implements experiments.Experiment: one backend on the first worker,
// LoadBalancer Services per policy (from the cluster's load balancer, and
// ipMode Proxy ones from the test load balancer) and a node-local listener
// on both workers. Without the listener or the test load balancer, their
// rows are not applicable rather than the run failed.
func (*Matrix) Setup(ctx context.Context, r *experiments.Run) (experiments.Trial, error) {
	w := r.Cluster.Workers()
	t := &trial{workers: w}
	var err error
	if t.svcs, err = deploy(ctx, r, w[0].Name); err != nil {
		return t, err
	}
	if t.listeners, err = deployListeners(ctx, r, w); err != nil {
		t.na = append(t.na, NotApplicable{TargetListener + " cells", "no node-local listener: " + err.Error()})
	}
	if t.svcs.proxy, err = deployTestLB(ctx, r, w); err != nil {
		t.na = append(t.na, NotApplicable{"ipMode Proxy cells", "test load balancer: " + err.Error()})
		t.svcs.proxy = nil
	}
	if r.Cluster.Provider == "kind" {
		if err := programmed(ctx, r, t.svcs.vip, w[0]); err != nil {
			return t, err
		}
	}
	return t, nil
}

// ExpectedCells implements experiments.Survey: Expected(env) as cells
// (Case, Expected, Source), in order of their case.
func (*Matrix) ExpectedCells(env experiments.Environment) []experiments.Cell {
	want := Expected(env)
	cells := make([]experiments.Cell, 0, len(want))
	for _, k := range sortedKeys(want) {
		cells = append(cells, experiments.Cell{Case: k, Expected: want[k].outcome, Source: want[k].source})
	}
	return cells
}

// Measure implements experiments.Measurer: every cell from every placement,
// compared with the expected matrix and judged, then the rows not
// applicable here.
func (t *trial) Measure(ctx context.Context, r *experiments.Run) ([]experiments.Cell, error) {
	cells, na, err := t.cells(ctx, r)
	out := judgeCells(cells, Expected(r.Cluster))
	for _, n := range slices.Concat(t.na, na) {
		out = append(out, experiments.Cell{Case: n.Rows, Observed: NA + ": " + n.Why, Match: true})
	}
	return out, err
}
