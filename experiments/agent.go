package experiments

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments/kube"
)

// Agent is a privileged pod in the host network and PID namespaces of every
// node, through which the runner reads conntrack, NAT rules and ip rules and
// applies node-level triggers and mitigations. It lives in the experiment's
// namespace, so it goes when the namespace goes.
type Agent struct {
	kube   kubernetes.Interface
	config *rest.Config
	ns     string
	pods   map[string]string // node -> pod
}

// DeployAgent starts the node agent DaemonSet in ns and waits for a pod on
// every node.
func (e *Env) DeployAgent(ctx context.Context, ns, exp string) (*Agent, error) {
	labels := e.Labels(exp, "node-agent")
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "netchaos-node-agent", Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelRole: "node-agent", LabelRun: e.RunID}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork: true, HostPID: true, Affinity: e.Cluster.Placement(),
					Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					Containers: []corev1.Container{{
						Name: "agent", Image: e.Image, ImagePullPolicy: corev1.PullIfNotPresent,
						Args:            []string{"agent"},
						SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
					}},
				},
			},
		},
	}
	if _, err := e.Kube.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create node agent: %w", err)
	}
	pods, err := kube.ReadyPods(ctx, e.Kube, ns, LabelRole+"=node-agent", len(e.Cluster.Nodes))
	if err != nil {
		return nil, fmt.Errorf("node agent: %w", err)
	}
	a := &Agent{kube: e.Kube, config: e.Config, ns: ns, pods: map[string]string{}}
	for _, p := range pods {
		a.pods[p.Spec.NodeName] = p.Name
	}
	return a, nil
}

// Run runs a command in the node's network namespace (the agent is
// hostNetwork) and returns its output.
func (a *Agent) Run(ctx context.Context, node string, cmd ...string) (string, error) {
	pod, ok := a.pods[node]
	if !ok {
		return "", fmt.Errorf("no node agent on %s", node)
	}
	return kube.Exec(ctx, a.kube, a.config, a.ns, pod, "agent", cmd...)
}

// Host runs a command in all of the node's namespaces (through PID 1), for
// what only the host can do, such as restarting a systemd unit.
func (a *Agent) Host(ctx context.Context, node string, cmd ...string) (string, error) {
	return a.Run(ctx, node, append([]string{"nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--"}, cmd...)...)
}
