package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// The smoke spec proves the cluster is real before any experiment trusts it:
// every path the experiments use carries probes, measured by the same probes.
var _ = Describe("cluster smoke", Ordered, Label("smoke"), func() {
	const echoPort, hostPort, svcPort = 8080, 18080, 80
	var (
		ns       string
		from, to experiments.Node
		echoIP   string
		svc      *corev1.Service
	)

	BeforeAll(func(ctx context.Context) {
		By("all nodes Ready")
		nodes, err := env.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, n := range nodes.Items {
			Expect(nodeReady(n)).To(BeTrue(), "node %s not Ready", n.Name)
		}
		w := env.Cluster.Workers()
		Expect(len(w)).To(BeNumerically(">=", 2), "the smoke spec needs two workers")
		from, to = w[0], w[1]

		ns, err = env.Namespace(ctx, "smoke")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx context.Context) { Expect(env.DeleteNamespace(ctx, ns)).To(Succeed()) })

		By("echo on every worker with a hostPort, behind a LoadBalancer Service")
		labels := env.Labels("smoke", "echo")
		labels["app"] = "echo"
		port := func(p corev1.Protocol) corev1.ContainerPort {
			return corev1.ContainerPort{Name: "e-" + strings.ToLower(string(p)), Protocol: p, ContainerPort: echoPort, HostPort: hostPort}
		}
		ds := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: ns, Labels: labels},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "echo"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{TerminationGracePeriodSeconds: ptr.To[int64](1), Containers: []corev1.Container{{
						Name: "echo", Image: env.Image, ImagePullPolicy: corev1.PullIfNotPresent, Env: experiments.DownwardEnv(),
						Args:  []string{"echo", "--udp", fmt.Sprintf(":%d", echoPort), "--tcp", fmt.Sprintf(":%d", echoPort)},
						Ports: []corev1.ContainerPort{port(corev1.ProtocolUDP), port(corev1.ProtocolTCP)},
					}}},
				},
			},
		}
		_, err = env.Kube.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: ns, Labels: env.Labels("smoke", "service")},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "echo"},
				Ports: []corev1.ServicePort{
					{Name: "tcp", Protocol: corev1.ProtocolTCP, Port: svcPort, TargetPort: intstr.FromInt32(echoPort)},
					{Name: "udp", Protocol: corev1.ProtocolUDP, Port: svcPort, TargetPort: intstr.FromInt32(echoPort)},
				}},
		}
		_, err = env.Kube.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		pods, err := kube.ReadyPods(ctx, env.Kube, ns, "app=echo", len(env.Cluster.Workers()))
		Expect(err).NotTo(HaveOccurred())
		for _, p := range pods {
			if p.Spec.NodeName == to.Name {
				echoIP = p.Status.PodIP
			}
		}
		Expect(echoIP).NotTo(BeEmpty())
		svc, err = kube.ServiceReady(ctx, env.Kube, ns, "echo", true)
		Expect(err).NotTo(HaveOccurred(), "LoadBalancer Service got no address")
	})

	It("carries probes on every path from a pod on one worker", func(ctx context.Context) {
		hp := func(h string, p int32) string { return net.JoinHostPort(h, fmt.Sprint(p)) }
		np := func(proto corev1.Protocol) int32 {
			for _, p := range svc.Spec.Ports {
				if p.Protocol == proto {
					return p.NodePort
				}
			}
			return 0
		}
		lb := svc.Status.LoadBalancer.Ingress[0].IP
		flows := []probe.Flow{
			{Name: "DNS name of the Service", Mode: probe.TCPNew, Target: hp("echo."+ns+".svc.cluster.local", svcPort)},
			{Name: "pod-to-pod udp across nodes", Mode: probe.UDPFresh, Target: hp(echoIP, echoPort)},
			{Name: "pod-to-pod tcp across nodes", Mode: probe.TCPNew, Target: hp(echoIP, echoPort)},
			{Name: "hostPort udp other node", Mode: probe.UDPPinned, Target: hp(to.IP, hostPort)},
			{Name: "hostPort tcp other node", Mode: probe.TCPNew, Target: hp(to.IP, hostPort)},
			{Name: "ClusterIP udp", Mode: probe.UDPFresh, Target: hp(svc.Spec.ClusterIP, svcPort)},
			{Name: "ClusterIP tcp", Mode: probe.TCPReused, Target: hp(svc.Spec.ClusterIP, svcPort)},
			{Name: "NodePort tcp other node", Mode: probe.TCPNew, Target: hp(to.IP, np(corev1.ProtocolTCP))},
			{Name: "NodePort udp other node", Mode: probe.UDPFresh, Target: hp(to.IP, np(corev1.ProtocolUDP))},
			{Name: "LoadBalancer tcp", Mode: probe.TCPNew, Target: hp(lb, svcPort)},
			{Name: "LoadBalancer udp", Mode: probe.UDPPinned, Target: hp(lb, svcPort)},
		}
		By(fmt.Sprintf("probing %d paths from a pod on %s for 3 s", len(flows), from.Name))
		samples, err := env.ProbeFrom(ctx, ns, "smoke", experiments.Placement{Node: from.Name}, flows, 3*time.Second,
			probe.Options{Interval: 20 * time.Millisecond, Timeout: time.Second})
		Expect(err).NotTo(HaveOccurred())
		_, byFlow := probe.ByFlow(samples)
		var broken []string
		for _, f := range flows {
			st := probe.Analyze(byFlow[f.Name], nil, time.Time{})
			AddReportEntry(f.Name, fmt.Sprintf("%d/%d answered, longest gap %v", st.Answered, st.Sent, st.LongestGap))
			if st.Sent < 100 || st.Answered != st.Sent {
				why := ""
				for _, x := range byFlow[f.Name] {
					if !x.Answered() {
						why = fmt.Sprintf(" (%s %s)", x.Result, x.Err)
						break
					}
				}
				broken = append(broken, fmt.Sprintf("%s -> %s: %d/%d answered%s", f.Name, f.Target, st.Answered, st.Sent, why))
			}
		}
		Expect(broken).To(BeEmpty(), "paths that did not carry every probe")
	})

	It("answers the runner's host on the LoadBalancer address", func(ctx context.Context) {
		if env.Cluster.Provider != "kind" {
			Skip("not applicable: the runner is not on the cluster's node network")
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var mu sync.Mutex
		var s []probe.Sample
		err := probe.Run(pctx, probe.Flow{Name: "lb", Mode: probe.TCPNew, Target: net.JoinHostPort(svc.Status.LoadBalancer.Ingress[0].IP, fmt.Sprint(svcPort))},
			probe.Options{Interval: 20 * time.Millisecond, Timeout: time.Second}, func(x probe.Sample) { mu.Lock(); s = append(s, x); mu.Unlock() })
		Expect(err).NotTo(HaveOccurred())
		st := probe.Analyze(s, nil, time.Time{})
		Expect(st.Sent).To(BeNumerically(">", 50))
		Expect(st.Answered).To(Equal(st.Sent))
	})
})

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
