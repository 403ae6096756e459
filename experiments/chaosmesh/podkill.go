package chaosmesh

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netchaos/netchaos/experiments"
)

// cniAgents are the agent pods of the CNIs experiments.Detect recognises,
// by its name for them. A CNI not listed runs no agent pod (the static
// ptp CNI of the offline kind cluster) or is not known to.
var cniAgents = map[string]Selection{
	"calico":      {Namespace: "kube-system", Labels: map[string]string{"k8s-app": "calico-node"}},
	"cilium":      {Namespace: "kube-system", Labels: map[string]string{"k8s-app": "cilium"}},
	"aws-vpc-cni": {Namespace: "kube-system", Labels: map[string]string{"k8s-app": "aws-node"}},
	"kindnet":     {Namespace: "kube-system", Labels: map[string]string{"app": "kindnet"}},
	"flannel":     {Namespace: "kube-system", Labels: map[string]string{"app": "flannel"}},
	"terway":      {Namespace: "kube-system", Labels: map[string]string{"app": "terway-eniip"}},
}

// PodKillExp is a PodChaos pod-kill while the probe clients send to the echo
// server through its ClusterIP Service: of the echo server's own pod, or of
// the CNI agent pod on the echo server's node.
type PodKillExp struct {
	faultSpec
}

// podKillTrial is one run of a PodKillExp: the pods it kills.
type podKillTrial struct {
	faultTrial
	x      *PodKillExp
	target Selection
}

var (
	_ experiments.Outage    = (*podKillTrial)(nil)
	_ experiments.Recoverer = (*podKillTrial)(nil)
)

// NewPodKill kills the echo server's pod; its Deployment replaces it.
func NewPodKill(opts ...Option) *PodKillExp {
	return &PodKillExp{faultSpec{kind: PodKillEcho, o: newOptions(opts)}}
}

// NewCNIAgentKill kills the CNI agent pod on the echo server's node.
func NewCNIAgentKill(opts ...Option) *PodKillExp {
	return &PodKillExp{faultSpec{kind: PodKillCNI, o: newOptions(opts)}}
}

// Name implements experiments.Experiment.
func (x *PodKillExp) Name() string { return "chaosmesh-" + string(x.kind) }

func (x *PodKillExp) victim() string {
	if x.kind == PodKillCNI {
		return "the CNI agent pod on the echo server's node"
	}
	return "the echo server's pod"
}

// Info implements experiments.Experiment.
func (x *PodKillExp) Info() experiments.Info {
	// pod-kill is one-shot in Chaos Mesh: the duration does not end anything.
	trigger := fmt.Sprintf("Chaos Mesh PodChaos pod-kill (no grace period, one-shot; duration %s) of %s", x.o.duration, x.victim())
	return experiments.Info{
		Title:    "Chaos Mesh PodChaos kill of " + x.victim(),
		Trigger:  trigger,
		Sources:  []string{"https://chaos-mesh.org/docs/simulate-pod-chaos-on-kubernetes/"},
		Controls: []string{"*/" + FlowUDPFresh, "*/" + FlowTCPNew},
		Plan: []string{
			"needs Chaos Mesh (podchaos.chaos-mesh.org CRD, controller-manager)" + x.cniNote(),
			"namespace netchaos-" + x.Name() + "-<run> with janitor and privileged node-agent DaemonSet",
			"Deployment chaos-echo (1 UDP+TCP echo pod on the first worker) behind ClusterIP Service chaos-echo",
			"DaemonSet chaos-client on every node: udp-pinned, udp-fresh, tcp-new, tcp-reused flows to the ClusterIP, 100 probes/s each",
			"fault: PodChaos " + x.Name() + " in the run's namespace: " + trigger,
		},
	}
}

func (x *PodKillExp) cniNote() string {
	if x.kind == PodKillCNI {
		return "; a CNI with an agent pod (" + strings.Join(knownCNIs(), ", ") + ")"
	}
	return ""
}

func knownCNIs() []string {
	var names []string
	for n := range cniAgents {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Applies implements experiments.Experiment.
func (x *PodKillExp) Applies(env experiments.Environment) (bool, string) {
	if len(env.Workers()) == 0 {
		return false, "no worker nodes"
	}
	if _, ok := cniAgents[env.CNI]; x.kind == PodKillCNI && !ok {
		return false, fmt.Sprintf("the CNI (%s) runs no agent pod this experiment knows (%s)", env.CNI, strings.Join(knownCNIs(), ", "))
	}
	return true, ""
}

// Setup implements experiments.Experiment.
func (x *PodKillExp) Setup(ctx context.Context, r *experiments.Run) (experiments.Trial, error) {
	t := &podKillTrial{x: x}
	// pod-kill is done by the controller alone (it deletes the pod).
	if _, err := installed(ctx, r, PodChaosResource.Resource, false); err != nil {
		return t, err
	}
	p, err := deployEcho(ctx, r, r.Cluster.Workers()[0].Name)
	if err != nil {
		return t, err
	}
	t.target = Selection{Namespace: r.Namespace, Labels: map[string]string{"app": echoApp}}
	if x.kind == PodKillCNI {
		cni := cniAgents[r.Cluster.CNI]
		cni.Nodes = []string{p.echoNode}
		l, err := r.Kube.CoreV1().Pods(cni.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(cni.Labels).String(),
			FieldSelector: "spec.nodeName=" + p.echoNode})
		if err != nil {
			return t, fmt.Errorf("find CNI agent pod: %w", err)
		}
		if len(l.Items) == 0 {
			return t, experiments.NotApplicable("no %s agent pod (%v in %s) on %s", r.Cluster.CNI, cni.Labels, cni.Namespace, p.echoNode)
		}
		t.target = cni
	}
	nodes := make([]string, 0, len(r.Cluster.Nodes))
	for _, n := range r.Cluster.Nodes {
		nodes = append(nodes, n.Name)
	}
	return t, deployClients(ctx, r, p, nodes, hostPort(p.clusterIP))
}

// Object is the PodChaos this experiment creates in namespace ns to kill
// target.
func (x *PodKillExp) Object(ns string, labels map[string]string, target Selection) (*v1alpha1.PodChaos, error) {
	return PodKill(Meta{Name: x.Name(), Namespace: ns, Labels: labels}, PodFault{Duration: x.o.duration, Target: target})
}

// Inject implements experiments.Outage: create the PodChaos and wait until
// Chaos Mesh reports the pod killed.
func (t *podKillTrial) Inject(ctx context.Context, r *experiments.Run) error {
	obj, err := t.x.Object(r.Namespace, r.Labels("fault"), t.target)
	if err != nil {
		return err
	}
	return t.inject(ctx, r, obj)
}
