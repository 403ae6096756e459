package networkdrestart

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

const (
	port = 9000
	// eksCandidates is how many victim pods of each kind are created on
	// EKS, where ipamd chooses the ENI: the first on a secondary ENI is
	// kept. On kind every address is on the stand-in's device 1.
	eksCandidates = 4
	// Roles beyond experiments.RoleClient.
	roleServer     = "eni-server" // the NodePort Service's backend and its candidates
	roleVPCService = "vpc-service"
	rolePeerEcho   = "peer-echo"
)

// flowSpec is one probe flow and the pod that sends it.
type flowSpec struct {
	pod  string // "eni-pod" (the victim), "ctl-client", "nodeport-client"
	flow probe.Flow
}

// flows are the run's probe flows: the victim's egress to a VPC address
// outside the pod network (the peer node's) and to a pod on the peer (both
// leave by the ENI, rule 1536), NodePort ingress from the peer to the victim
// server (its replies come back by rule 1024, the fwmark path), and the
// controls: the same targets from the affected node's host network, which
// no policy rule routes, so that drops they share are ambient.
func (t *trial) flows() []flowSpec {
	vpc := net.JoinHostPort(t.peer.IP, strconv.Itoa(port))
	echo := net.JoinHostPort(t.peerEcho, strconv.Itoa(port))
	nodePort := net.JoinHostPort(t.node.IP, strconv.Itoa(int(t.nodePort)))
	return []flowSpec{
		{"eni-pod", probe.Flow{Name: "egress-udp", Mode: probe.UDPPinned, Target: vpc}},
		{"eni-pod", probe.Flow{Name: "egress-tcp", Mode: probe.TCPNew, Target: vpc}},
		{"eni-pod", probe.Flow{Name: "p2p-tcp", Mode: probe.TCPNew, Target: echo}},
		{"nodeport-client", probe.Flow{Name: "nodeport-tcp", Mode: probe.TCPNew, Target: nodePort}},
		{"ctl-client", probe.Flow{Name: "ctl-egress-udp", Mode: probe.UDPPinned, Target: vpc}},
		{"ctl-client", probe.Flow{Name: "ctl-p2p-tcp", Mode: probe.TCPNew, Target: echo}},
	}
}

// probeArgs are the probe command of the pod that sends pod's flows.
func (t *trial) probeArgs(r *experiments.Run, pod string) ([]string, error) {
	var fs []probe.Flow
	for _, f := range t.flows() {
		if f.pod == pod {
			fs = append(fs, f.flow)
		}
	}
	return probe.Args(r.FlowOptions, fs...)
}

// pods creates the NodePort Service, the peer's echo servers, the victims
// on the VPC CNI and the clients, and waits until they are ready.
func (t *trial) pods(ctx context.Context, r *experiments.Run) error {
	ns := r.Namespace
	vpc := net.JoinHostPort(t.peer.IP, strconv.Itoa(port))
	peer := []*corev1.Pod{
		t.pod(r, roleVPCService, roleVPCService, t.peer.Name, true, "echo", "--udp", vpc, "--tcp", vpc, "--pod", roleVPCService),
		t.pod(r, rolePeerEcho, rolePeerEcho, t.peer.Name, false, "echo", "--udp", fmt.Sprint(":", port), "--tcp", fmt.Sprint(":", port), "--pod", rolePeerEcho),
	}
	if err := t.create(ctx, r, peer...); err != nil {
		return err
	}
	for _, role := range []string{roleVPCService, rolePeerEcho} {
		ready, err := kube.ReadyPods(ctx, r.Kube, ns, experiments.LabelRole+"="+role, 1)
		if err != nil {
			return err
		}
		if role == rolePeerEcho {
			t.peerEcho = ready[0].Status.PodIP
		}
	}
	if err := t.victims(ctx, r); err != nil {
		return err
	}
	// The NodePort Service selects the server kept among the candidates.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: roleServer, Namespace: ns, Labels: r.Labels(roleServer)},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{labelVictim: t.serverPod},
			Ports: []corev1.ServicePort{{Name: "tcp", Protocol: corev1.ProtocolTCP, Port: port, TargetPort: intstr.FromInt32(port)}}},
	}
	got, err := r.Kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create service %s: %w", svc.Name, err)
	}
	t.nodePort = got.Spec.Ports[0].NodePort
	var clients []*corev1.Pod
	for _, c := range []struct{ name, node string }{{"ctl-client", t.node.Name}, {"nodeport-client", t.peer.Name}} {
		args, err := t.probeArgs(r, c.name)
		if err != nil {
			return err
		}
		clients = append(clients, t.pod(r, c.name, experiments.RoleClient, c.node, true, args...))
	}
	if err := t.create(ctx, r, clients...); err != nil {
		return err
	}
	_, err = kube.ReadyPods(ctx, r.Kube, ns, experiments.LabelRole+"="+experiments.RoleClient, 3)
	return err
}

// labelVictim names a victim pod, for the NodePort Service's selector.
const labelVictim = "netchaos.io/victim"

// victims creates the pods whose network the VPC CNI sets up — on kind
// while EKS's conflist is installed, on EKS candidates until one of each
// is on a secondary ENI — and reads the rules and routes the plugin and
// ipamd installed for them.
func (t *trial) victims(ctx context.Context, r *experiments.Run) (err error) {
	n := eksCandidates
	if t.kind {
		n = 1
		if err := r.Do("install "+conflist+" on "+t.node.Name, func() error {
			_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", cniOnScript())
			return err
		}); err != nil {
			return err
		}
		defer func() {
			if e := r.Do("remove "+conflist+" from "+t.node.Name, func() error {
				_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", cniOffScript())
				return err
			}); e != nil && err == nil {
				err = e
			}
		}()
	}
	args, err := t.probeArgs(r, "eni-pod")
	if err != nil {
		return err
	}
	// The candidates get their final roles: the spares are deleted before
	// Setup returns, so the runner never follows their probes.
	var pods []*corev1.Pod
	for i := range n {
		c, s := fmt.Sprintf("eni-pod-%d", i), fmt.Sprintf("eni-server-%d", i)
		client := t.pod(r, c, experiments.RoleClient, t.node.Name, false, args...)
		server := t.pod(r, s, roleServer, t.node.Name, false, "echo", "--udp", fmt.Sprint(":", port), "--tcp", fmt.Sprint(":", port), "--pod", s)
		for _, p := range []*corev1.Pod{client, server} {
			p.Labels[labelVictim] = p.Name
			// The victims stop sending before the node-side restore lifts
			// the stand-in VPC's drop.
			p.Spec.ActiveDeadlineSeconds = ptr.To(int64(Deadline.Seconds()))
			t.awsPods = append(t.awsPods, p.Name)
		}
		pods = append(pods, client, server)
	}
	if err := t.create(ctx, r, pods...); err != nil {
		return err
	}
	clients, err := kube.ReadyPods(ctx, r.Kube, r.Namespace, experiments.LabelRole+"="+experiments.RoleClient, n)
	if err != nil {
		return err
	}
	servers, err := kube.ReadyPods(ctx, r.Kube, r.Namespace, experiments.LabelRole+"="+roleServer, n)
	if err != nil {
		return err
	}
	rules, err := r.Agent.Run(ctx, t.node.Name, "ip", "rule", "show")
	if err != nil {
		return err
	}
	routes, err := r.Agent.Run(ctx, t.node.Name, "ip", "route", "show", "table", "all")
	if err != nil {
		return err
	}
	rs, rts := ParseRules(rules), ParseRoutes(routes)
	t.nodeRules = NodeRules(rs)
	t.captureSetUp(ctx, r)
	var keep []string
	for _, c := range []struct {
		pods []corev1.Pod
		into *PodRouting
	}{{clients, &t.client}, {servers, &t.server}} {
		p, ok := onSecondaryENI(c.pods, rs, rts)
		if !ok {
			ips := make([]string, len(c.pods))
			for i, p := range c.pods {
				ips[i] = p.Status.PodIP
			}
			if t.kind {
				return fmt.Errorf("aws-cni installed no rule %d for %v on %s (ip rule:\n%s)", prefFromPod, ips, t.node.Name, rules)
			}
			return experiments.NotApplicable("none of %v on %s is on a secondary ENI (no rule %d): networkd's flush would not change their routing", ips, t.node.Name, prefFromPod)
		}
		*c.into = PodRoutingOf(rs, rts, p.Status.PodIP)
		keep = append(keep, p.Name)
	}
	t.serverPod = keep[1]
	var spare []string
	for _, p := range pods {
		if p.Name != keep[0] && p.Name != keep[1] {
			spare = append(spare, p.Name)
		}
	}
	return t.deletePods(ctx, r, spare)
}

// onSecondaryENI is the first of pods whose address has a rule 1536.
func onSecondaryENI(pods []corev1.Pod, rules []Rule, routes []Route) (corev1.Pod, bool) {
	for _, p := range pods {
		if PodRoutingOf(rules, routes, p.Status.PodIP).OnSecondaryENI() {
			return p, true
		}
	}
	return corev1.Pod{}, false
}

// pod is a probe agent pod named name with role on node, in the host
// network or not, running args.
func (t *trial) pod(r *experiments.Run, name, role, node string, hostNetwork bool, args ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.Namespace, Labels: r.Labels(role)},
		Spec: corev1.PodSpec{NodeName: node, HostNetwork: hostNetwork, TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{r.Container("agent", args...)}},
	}
	if hostNetwork {
		p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	}
	return p
}

func (t *trial) create(ctx context.Context, r *experiments.Run, pods ...*corev1.Pod) error {
	for _, p := range pods {
		if _, err := r.Kube.CoreV1().Pods(r.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create pod %s: %w", p.Name, err)
		}
	}
	return nil
}

// deletePods deletes pods at once and waits until they are gone.
func (t *trial) deletePods(ctx context.Context, r *experiments.Run, names []string) error {
	pods := r.Kube.CoreV1().Pods(r.Namespace)
	var errs []error
	for _, n := range names {
		if err := pods.Delete(ctx, n, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); kube.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("delete pod %s: %w", n, err))
		}
	}
	for _, n := range names {
		errs = append(errs, kube.Gone(ctx, func(ctx context.Context) error { _, err := pods.Get(ctx, n, metav1.GetOptions{}); return err }))
	}
	return errors.Join(errs...)
}

// captureSetUp records, once, what the VPC CNI set up beyond the rules and
// routes every Evidence call reads: ipamd's iptables rules and, on kind, the
// plugin's and the stand-in ipamd's logs.
func (t *trial) captureSetUp(ctx context.Context, r *experiments.Run) {
	cmds := []struct{ name, cmd string }{{"ipamd's iptables rules", "iptables-save 2>/dev/null | grep AWS"}}
	if t.kind {
		cmds = append(cmds,
			struct{ name, cmd string }{"aws-cni plugin log (last 30 lines)", "tail -n 30 " + state + "/plugin.log"},
			struct{ name, cmd string }{"stand-in ipamd log", "journalctl _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value " + ipamdUnit + ") -o cat --no-pager | grep -v '\"level\":\"debug\"' | tail -n 30"})
	}
	ev := []experiments.Evidence{{Name: "real and stood in", Text: realAndStoodIn(t.kind)}}
	for _, c := range cmds {
		out, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", c.cmd)
		if err != nil {
			out += "error: " + err.Error()
		}
		ev = append(ev, experiments.Evidence{Name: c.name + " " + t.node.Name, Text: out})
	}
	r.Capture("after setup", ev...)
}

// realAndStoodIn says, for the report, which parts of the run are the VPC
// CNI's own and which stand in for what a kind node lacks.
func realAndStoodIn(kind bool) string {
	if !kind {
		return "real: all of it, the cluster's own AWS VPC CNI (aws-node: the plugin, ipamd), its ENIs and the VPC; stood in: nothing"
	}
	return `real:
  aws-cni and egress-cni, amazon-vpc-cni-k8s v1.20.0, run by containerd from EKS's 10-aws.conflist: the victims' veths, /32 addresses, host routes, rules 512 and 1536
  ipamd's node set-up, amazon-vpc-cni-k8s pkg/networkutils run by the stand-in: rule 1024 (fwmark 0x80), iptables SNAT/CONNMARK on eth0, the ENI's address, route table ` + eniTable + ` and rule 32765; on its restart UpdateRuleListBySrc
  systemd-networkd and its flush; kube-proxy's NodePort
stood in:
  ipamd's gRPC service and address pool: tools/vpccni ipamd-standin (/32s of ` + eniSubnet + ` on device ` + deviceNumber + `)
  the secondary ENI: macvlan ` + eniLink + ` on eth0 (` + eniIP + `)
  the VPC's side of the ENI: ` + eniGateway + ` and ` + eniSubnet + ` via ` + eniIP + ` on the peer node
  the VPC's source/destination check: nftables table ` + guardTable + ` (postrouting, after NAT)
  aws-vpc-cni-init's rp_filter=2 on eth0
  a link networkd manages (veth ` + managedLink + `) and udev (its database entry, a writable sysfs for networkd)`
}
