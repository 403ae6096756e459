package chaosmesh

import (
	"context"
	"fmt"
	"net"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// The path every fault acts on: probe clients on every node (DaemonSet
// chaos-client) to one echo server (Deployment chaos-echo, pinned to the
// first worker, so the path crosses nodes from the others and stays on the
// node from its own), UDP and TCP on the same port.
const (
	echoApp     = "chaos-echo"
	clientApp   = "chaos-client"
	echoPort    = 7070
	pinnedSport = 40170
)

// Flow names, as they appear after the node name: "<node>/udp-pinned".
const (
	FlowUDPPinned = "udp-pinned"
	FlowUDPFresh  = "udp-fresh"
	FlowTCPNew    = "tcp-new"
	FlowTCPReused = "tcp-reused"
)

// flows are the four probe kinds to target (host:port): a UDP socket with a
// fixed source port, a new UDP socket per probe, a new TCP connection per
// probe and one kept TCP connection.
func flows(target string) []probe.Flow {
	return []probe.Flow{
		{Name: FlowUDPPinned, Mode: probe.UDPPinned, Target: target, LocalPort: pinnedSport},
		{Name: FlowUDPFresh, Mode: probe.UDPFresh, Target: target},
		{Name: FlowTCPNew, Mode: probe.TCPNew, Target: target},
		{Name: FlowTCPReused, Mode: probe.TCPReused, Target: target},
	}
}

// path is the deployed workload.
type path struct {
	echoNode  string
	echoPod   corev1.Pod
	clusterIP string
	clients   []string // nodes with a client
}

// deployEcho starts the echo server on node and a ClusterIP Service in front
// of it, and waits for both.
func deployEcho(ctx context.Context, r *experiments.Run, node string) (*path, error) {
	labels := r.Labels("echo")
	labels["app"] = echoApp
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: echoApp, Namespace: r.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": echoApp}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					NodeSelector:                  map[string]string{corev1.LabelHostname: node},
					Containers: []corev1.Container{r.Container("echo", "echo",
						"--udp", fmt.Sprintf(":%d", echoPort), "--tcp", fmt.Sprintf(":%d", echoPort))},
				},
			},
		},
	}
	if _, err := r.Kube.AppsV1().Deployments(r.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create echo server: %w", err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: echoApp, Namespace: r.Namespace, Labels: r.Labels("service")},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": echoApp},
			Ports: []corev1.ServicePort{
				{Name: "udp", Protocol: corev1.ProtocolUDP, Port: echoPort, TargetPort: intstr.FromInt32(echoPort)},
				{Name: "tcp", Protocol: corev1.ProtocolTCP, Port: echoPort, TargetPort: intstr.FromInt32(echoPort)},
			},
		},
	}
	if _, err := r.Kube.CoreV1().Services(r.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create echo service: %w", err)
	}
	pods, err := kube.ReadyPods(ctx, r.Kube, r.Namespace, "app="+echoApp, 1)
	if err != nil {
		return nil, err
	}
	s, err := kube.ServiceReady(ctx, r.Kube, r.Namespace, echoApp, false)
	if err != nil {
		return nil, err
	}
	return &path{echoNode: node, echoPod: pods[0], clusterIP: s.Spec.ClusterIP}, nil
}

// deployClients starts probe clients on nodes (all taints tolerated) sending
// the four flows to target, and declares the flows to the runner.
func deployClients(ctx context.Context, r *experiments.Run, p *path, nodes []string, target string) error {
	args, err := probe.Args(r.FlowOptions, flows(target)...)
	if err != nil {
		return err
	}
	ds := r.DaemonSet(clientApp, experiments.RoleClient, corev1.PodSpec{
		Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: nodes}}}}}}},
		Containers: []corev1.Container{r.Container("client", args...)},
	})
	if _, err := r.Kube.AppsV1().DaemonSets(r.Namespace).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create clients: %w", err)
	}
	if _, err := kube.ReadyPods(ctx, r.Kube, r.Namespace, "app="+clientApp, len(nodes)); err != nil {
		return err
	}
	p.clients = nodes
	r.WantFlows(len(flows(target)) * len(nodes))
	return nil
}

func hostPort(ip string) string { return net.JoinHostPort(ip, strconv.Itoa(echoPort)) }

// echoPods lists the echo server pods, for evidence: which pod answered
// before and after a kill, and since when it runs.
func echoPods(ctx context.Context, r *experiments.Run) experiments.Evidence {
	ev := experiments.Evidence{Name: "echo server pods"}
	l, err := r.Kube.CoreV1().Pods(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + echoApp})
	if err != nil {
		ev.Text = "error: " + err.Error()
		return ev
	}
	for _, p := range l.Items {
		started := "not started"
		if p.Status.StartTime != nil {
			started = "started " + p.Status.StartTime.UTC().Format("15:04:05")
		}
		ev.Text += fmt.Sprintf("%s %s on %s, %s, %s\n", p.Name, p.Status.PodIP, p.Spec.NodeName, p.Status.Phase, started)
	}
	if ev.Text == "" {
		ev.Text = "(none)"
	}
	return ev
}
