// Package chaosmesh runs generic faults through Chaos Mesh
// (chaos-mesh.org/v1alpha1 NetworkChaos and PodChaos, built from the
// github.com/chaos-mesh/chaos-mesh/api types) with the same probes, timing
// and report as the other experiments: probe clients on every node send to
// one echo server while Chaos Mesh partitions, drops or delays that path, or
// kills a pod on it.
//
// Every fault object carries spec.duration, so Chaos Mesh lifts it on its own
// even if the runner dies; it lives in the run's namespace, so the janitor's
// deletion of the namespace also ends it. Where Chaos Mesh (or its
// chaos-daemon, or the kernel's netem, prio or sfq qdisc) is missing, Setup ends the
// experiment as not applicable and says which.
package chaosmesh

import (
	"context"
	"fmt"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"

	"github.com/netchaos/netchaos/experiments"
)

// Defaults of the options.
const (
	// DefaultDuration leaves room for Chaos Mesh's injection latency (up to
	// ~6 s per fault on a loaded 2-core kind cluster), which eats into the
	// duration since Chaos Mesh counts it from the object's creation; the
	// 45 s observation still covers the fault and a kept TCP connection's
	// retransmission backoff after it.
	DefaultDuration = 20 * time.Second
	DefaultLoss     = 100
	// DefaultLatency is beyond the probes' 500 ms timeout, so the delay
	// shows as an outage for as long as it lasts: proof it was applied.
	DefaultLatency = time.Second
)

type options struct {
	duration time.Duration
	loss     int
	latency  time.Duration
}

// Option tunes a fault.
type Option func(*options)

// WithDuration sets the fault's spec.duration (default 20 s).
func WithDuration(d time.Duration) Option { return func(o *options) { o.duration = d } }

// WithLoss sets the loss fault's percentage (default 100).
func WithLoss(percent int) Option { return func(o *options) { o.loss = percent } }

// WithLatency sets the delay fault's latency (default 1 s).
func WithLatency(d time.Duration) Option { return func(o *options) { o.latency = d } }

func newOptions(opts []Option) options {
	o := options{duration: DefaultDuration, loss: DefaultLoss, latency: DefaultLatency}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Network is a NetworkChaos on the path from the probe clients to the echo
// server.
type Network struct {
	faultSpec
}

// networkTrial is one run of a Network.
type networkTrial struct {
	faultTrial
	x *Network
}

var (
	_ experiments.Outage    = (*networkTrial)(nil)
	_ experiments.Recoverer = (*networkTrial)(nil)
)

// NewPartition cuts the path in both directions (iptables/ipset in the pods'
// network namespaces, by chaos-daemon).
func NewPartition(opts ...Option) *Network {
	return &Network{faultSpec{kind: Partition, o: newOptions(opts)}}
}

// NewLoss drops a percentage of the path's packets (tc netem).
func NewLoss(opts ...Option) *Network {
	return &Network{faultSpec{kind: Loss, o: newOptions(opts)}}
}

// NewDelay delays the path's packets (tc netem).
func NewDelay(opts ...Option) *Network {
	return &Network{faultSpec{kind: Delay, o: newOptions(opts)}}
}

// Name implements experiments.Experiment.
func (x *Network) Name() string { return "chaosmesh-" + string(x.kind) }

func (x *Network) action() v1alpha1.NetworkChaosAction {
	return map[Kind]v1alpha1.NetworkChaosAction{Partition: v1alpha1.PartitionAction, Loss: v1alpha1.LossAction, Delay: v1alpha1.DelayAction}[x.kind]
}

func (x *Network) what() string {
	switch x.kind {
	case Loss:
		return fmt.Sprintf("%d %% packet loss (tc netem)", x.o.loss)
	case Delay:
		return fmt.Sprintf("%s delay (tc netem)", x.o.latency)
	}
	return "partition (iptables drop)"
}

// Info implements experiments.Experiment.
func (x *Network) Info() experiments.Info {
	trigger := fmt.Sprintf("Chaos Mesh NetworkChaos %s between the probe clients and the echo server, both directions, duration %s", x.what(), x.o.duration)
	return experiments.Info{
		Title:   "Chaos Mesh NetworkChaos " + string(x.kind) + " on a pod-to-pod path",
		Trigger: trigger,
		Sources: []string{"https://chaos-mesh.org/docs/simulate-network-chaos-on-kubernetes/"},
		// New sockets see the path as it is; kept ones carry state.
		Controls: []string{"*/" + FlowUDPFresh, "*/" + FlowTCPNew},
		// The fault cuts the path for its duration, and Chaos Mesh lifts it
		// up to a second or two late (srcLifted).
		Inherent: x.o.duration + 2*time.Second,
		Plan: []string{
			"needs Chaos Mesh (networkchaos.chaos-mesh.org CRD, controller-manager, chaos-daemon on the nodes used)" + x.netemNote(),
			"namespace netchaos-" + x.Name() + "-<run> with janitor and privileged node-agent DaemonSet",
			"Deployment chaos-echo (1 UDP+TCP echo pod on the first worker with a chaos-daemon)",
			"DaemonSet chaos-client on every node with a chaos-daemon: udp-pinned, udp-fresh, tcp-new, tcp-reused flows to the echo pod IP, 100 probes/s each",
			"fault: NetworkChaos " + x.Name() + " in the run's namespace: " + trigger,
		},
	}
}

func (x *Network) netemNote() string {
	if x.kind == Partition {
		return ""
	}
	return "; the kernel's netem, prio and sfq qdiscs, tried through the node agent in a throw-away network namespace"
}

// Applies implements experiments.Experiment; whether Chaos Mesh is there is
// known only from the cluster, in Setup.
func (x *Network) Applies(env experiments.Environment) (bool, string) {
	if len(env.Workers()) == 0 {
		return false, "no worker nodes"
	}
	return true, ""
}

// Setup implements experiments.Experiment.
func (x *Network) Setup(ctx context.Context, r *experiments.Run) (experiments.Trial, error) {
	t := &networkTrial{x: x}
	daemons, err := installed(ctx, r, NetworkChaosResource.Resource, true)
	if err != nil {
		return t, err
	}
	var nodes []string
	echo := ""
	for _, n := range r.Cluster.Nodes {
		if daemons[n.Name] {
			nodes = append(nodes, n.Name)
			if echo == "" && !n.ControlPlane {
				echo = n.Name
			}
		}
	}
	if echo == "" {
		return t, experiments.NotApplicable("chaos-daemon runs on no worker node (only on %v)", nodes)
	}
	if x.kind != Partition {
		missing, err := qdiscsMissing(ctx, r, nodes)
		if err != nil {
			return t, err
		}
		if why := lacksReason(missing); why != "" {
			return t, experiments.NotApplicable("%s: chaos-daemon builds NetworkChaos %s from tc prio, sfq and netem qdiscs", why, x.kind)
		}
	}
	p, err := deployEcho(ctx, r, echo)
	if err != nil {
		return t, err
	}
	return t, deployClients(ctx, r, p, nodes, hostPort(p.echoPod.Status.PodIP))
}

// Object is the NetworkChaos this experiment creates in namespace ns.
func (x *Network) Object(ns string, labels map[string]string) (*v1alpha1.NetworkChaos, error) {
	return NetworkChaos(Meta{Name: x.Name(), Namespace: ns, Labels: labels}, NetworkFault{
		Action: x.action(), Duration: x.o.duration, Loss: x.o.loss, Latency: x.o.latency,
		Source: Selection{Namespace: ns, Labels: map[string]string{"app": clientApp}},
		Target: Selection{Namespace: ns, Labels: map[string]string{"app": echoApp}},
	})
}

// Inject implements experiments.Outage: create the NetworkChaos and wait
// until Chaos Mesh reports it applied to every selected pod.
func (t *networkTrial) Inject(ctx context.Context, r *experiments.Run) error {
	obj, err := t.x.Object(r.Namespace, r.Labels("fault"))
	if err != nil {
		return err
	}
	return t.inject(ctx, r, obj)
}
