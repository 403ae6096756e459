// Package hostnetworkflip is trigger T1: an agent DaemonSet (think statsd or
// Datadog) flips from hostPort to hostNetwork while client pods keep sending
// UDP to <nodeIP>:8125 from one long-lived socket.
//
// With hostPort, the portmap CNI plugin DNATs nodeIP:8125 to the agent pod,
// and conntrack remembers that for the client's 5-tuple. A hostNetwork pod
// never runs CNI ADD, so nothing deletes the entry; each packet refreshes its
// 30 s timeout, and the client blackholes until the entry is deleted or the
// client opens a new socket. Upstream: kubernetes#58336, #59033,
// aws/amazon-vpc-cni-k8s#2958, containernetworking/plugins#123 (fixed for the
// reverse direction by PR #553: portmap deletes stale UDP entries on ADD).
package hostnetworkflip

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Port is the agent's UDP port (statsd).
const Port = 8125

// Fixed source ports of the pinned client sockets, so their conntrack
// entries can be found and deleted.
const (
	pinnedSport  = 48125
	serviceSport = 48126
	onewaySport  = 48127
)

// Direction of the flip.
type Direction string

// The two directions.
const (
	ToHostNetwork Direction = "hostport-to-hostnetwork"
	ToHostPort    Direction = "hostnetwork-to-hostport"
)

// Flip is the experiment, for one direction.
type Flip struct {
	dir Direction
}

// trial is one run: the workers its clients send from. It changes nothing
// outside the namespace (conntrack entries age out 30 s after the clients
// are gone), so it has no Recover.
type trial struct {
	dir     Direction
	workers []string
}

var (
	_ experiments.Mitigator = (*Flip)(nil)
	_ experiments.Outage    = (*trial)(nil)
)

// New returns the flip experiment in one direction.
func New(dir Direction) *Flip { return &Flip{dir: dir} }

// Name implements experiments.Experiment.
func (f *Flip) Name() string { return string(f.dir) }

// Info implements experiments.Experiment.
func (f *Flip) Info() experiments.Info {
	from, to := "hostPort", "hostNetwork"
	if f.dir == ToHostPort {
		from, to = to, from
	}
	return experiments.Info{
		Title:     fmt.Sprintf("T1 DaemonSet %s → %s flip with long-lived UDP clients", from, to),
		Trigger:   fmt.Sprintf("patch the agent DaemonSet from %s to %s (rolling update)", from, to),
		Sources:   []string{"kubernetes/kubernetes#58336", "aws/amazon-vpc-cni-k8s#2958", "containernetworking/plugins#123", "containernetworking/plugins#553"},
		Controls:  []string{"*/fresh", "*/service"},
		Mechanism: mechanism[f.dir],
		Plan: []string{
			"namespace netchaos-" + string(f.dir) + "-<run> with janitor (deletes it at TTL) and privileged node-agent DaemonSet",
			"DaemonSet statsd-agent (UDP 8125 " + from + ") on every worker; ClusterIP Service statsd (internalTrafficPolicy Local)",
			"DaemonSet statsd-client on every worker: 4 flows x 100 probes/s to <nodeIP>:8125 (pinned, one-way like statsd, fresh port per probe) and to the Service",
			"fault: DaemonSet patched to " + to + " (inside the namespace; reverted by deleting it)",
			"mitigations: conntrack -D of the agent port's entries on every worker; then the client pod restarted on the last worker",
		},
	}
}

// Applies implements experiments.Experiment: it needs worker nodes and a CNI
// that implements hostPort (portmap or an equivalent).
func (f *Flip) Applies(env experiments.Environment) (bool, string) {
	if len(env.Workers()) == 0 {
		return false, "no worker nodes"
	}
	return true, ""
}

// hostNetwork is whether the agent is in the host network before the flip
// (after false) or after it.
func (d Direction) hostNetwork(after bool) bool {
	return (d == ToHostNetwork) == after
}

// Setup implements experiments.Experiment.
func (f *Flip) Setup(ctx context.Context, r *experiments.Run) (experiments.Trial, error) {
	t := &trial{dir: f.dir}
	ns := r.Namespace
	apps := r.Kube.AppsV1().DaemonSets(ns)
	if _, err := apps.Create(ctx, f.agent(r), metav1.CreateOptions{}); err != nil {
		return t, fmt.Errorf("create agent: %w", err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "statsd", Namespace: ns, Labels: r.Labels("agent")},
		Spec: corev1.ServiceSpec{
			Selector:              map[string]string{"app": "statsd-agent"},
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyLocal),
			Ports:                 []corev1.ServicePort{{Name: "statsd", Protocol: corev1.ProtocolUDP, Port: Port, TargetPort: intstr.FromInt32(Port)}},
		},
	}
	svc, err := r.Kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return t, fmt.Errorf("create service: %w", err)
	}
	client, err := f.client(r, svc.Spec.ClusterIP)
	if err != nil {
		return t, err
	}
	if _, err := apps.Create(ctx, client, metav1.CreateOptions{}); err != nil {
		return t, fmt.Errorf("create clients: %w", err)
	}
	for _, n := range r.Cluster.Workers() {
		t.workers = append(t.workers, n.Name)
	}
	if _, err := kube.ReadyPods(ctx, r.Kube, ns, "app=statsd-agent", len(t.workers)); err != nil {
		return t, err
	}
	if _, err := kube.ReadyPods(ctx, r.Kube, ns, "app=statsd-client", len(t.workers)); err != nil {
		return t, err
	}
	r.WantFlows(4 * len(t.workers))
	return t, nil
}

func (f *Flip) agent(r *experiments.Run) *appsv1.DaemonSet {
	hn := f.dir.hostNetwork(false)
	c := r.Container("agent", "echo", "--udp", fmt.Sprintf(":%d", Port))
	c.Ports = []corev1.ContainerPort{{Name: "statsd", Protocol: corev1.ProtocolUDP, ContainerPort: Port, HostPort: Port}}
	return r.DaemonSet("statsd-agent", "agent", corev1.PodSpec{HostNetwork: hn, DNSPolicy: dnsPolicy(hn), Containers: []corev1.Container{c}})
}

func dnsPolicy(hostNetwork bool) corev1.DNSPolicy {
	if hostNetwork {
		return corev1.DNSClusterFirstWithHostNet
	}
	return corev1.DNSClusterFirst
}

// client sends to the node's agent from a pinned socket, from a fresh
// socket per packet, and through the Service.
func (f *Flip) client(r *experiments.Run, clusterIP string) (*appsv1.DaemonSet, error) {
	node := fmt.Sprintf("$(HOST_IP):%d", Port)
	args, err := probe.Args(r.FlowOptions,
		probe.Flow{Name: "pinned", Mode: probe.UDPPinned, Target: node, LocalPort: pinnedSport},
		probe.Flow{Name: "oneway", Mode: probe.UDPOneWay, Target: node, LocalPort: onewaySport},
		probe.Flow{Name: "fresh", Mode: probe.UDPFresh, Target: node},
		probe.Flow{Name: "service", Mode: probe.UDPPinned, Target: fmt.Sprintf("%s:%d", clusterIP, Port), LocalPort: serviceSport})
	if err != nil {
		return nil, err
	}
	return r.DaemonSet("statsd-client", experiments.RoleClient, corev1.PodSpec{Containers: []corev1.Container{r.Container("client", args...)}}), nil
}

// Inject implements experiments.Outage: flip the DaemonSet and wait for the
// rolling update to finish on every node.
func (t *trial) Inject(ctx context.Context, r *experiments.Run) error {
	hn := t.dir.hostNetwork(true)
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"hostNetwork":%t,"dnsPolicy":%q}}}}`, hn, dnsPolicy(hn))
	ds, err := r.Kube.AppsV1().DaemonSets(r.Namespace).Patch(ctx, "statsd-agent", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("patch agent: %w", err)
	}
	return kube.RolledOut(ctx, r.Kube, ds)
}

// Mitigations implements experiments.Mitigator: delete the conntrack
// entries to the agent port of every worker's own address (the node IP the
// clients send to), then restart the client on the last worker (a new pod:
// new sockets, new source ports).
func (f *Flip) Mitigations() []experiments.Mitigation {
	return []experiments.Mitigation{
		experiments.Mitigate("conntrack -D", (*trial).deleteConntrack),
		experiments.Mitigate("restart client", (*trial).restartClient),
	}
}

func (t *trial) deleteConntrack(ctx context.Context, r *experiments.Run) error {
	return r.OnNodes(ctx, r.Cluster.Workers(), func(ctx context.Context, n experiments.Node) error {
		out, err := r.DeleteConntrack(ctx, n.Name, fmt.Sprintf("-p udp --orig-dst %s --dport %d", n.IP, Port),
			func(ctx context.Context) (string, error) { return staleOn(ctx, r, n) })
		r.Event("conntrack -D done on " + n.Name)
		r.Capture("conntrack -D", experiments.Evidence{Name: "conntrack -D on " + n.Name, Text: orErr(out, nil)})
		return err
	})
}

func (t *trial) restartClient(ctx context.Context, r *experiments.Run) error {
	node := t.workers[len(t.workers)-1]
	return r.Kube.CoreV1().Pods(r.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{},
		metav1.ListOptions{LabelSelector: "app=statsd-client", FieldSelector: "spec.nodeName=" + node})
}

// Evidence implements experiments.Outage: per worker, the conntrack
// entries of the pinned flows (where they deliver to, and whether that is
// where the agent listens now) and the hostPort DNAT rules.
func (t *trial) Evidence(ctx context.Context, r *experiments.Run) []experiments.Evidence {
	pods, err := runPods(ctx, r)
	var ev []experiments.Evidence
	for _, n := range r.Cluster.Workers() {
		ct, cerr := r.Agent.Run(ctx, n.Name, "sh", "-c", pinnedEntries+
			fmt.Sprintf("; echo \"($(conntrack -L -p udp --dport %[1]d 2>/dev/null | wc -l) entries to port %[1]d in all)\"", Port))
		e := experiments.Evidence{Name: "conntrack of the pinned flows on " + n.Name, Text: orErr(ct, cerr)}
		if cerr == nil && err == nil {
			e.Shows = stale(pods.ofRun(experiments.ParseConntrack(ct)), pods.agent[n.Name])
		}
		ev = append(ev, e)
		nat, err := r.Agent.Run(ctx, n.Name, "sh", "-c", fmt.Sprintf("iptables-save -t nat | grep -E 'HOSTPORT|dport %d' || true", Port))
		ev = append(ev, experiments.Evidence{Name: "hostPort DNAT rules " + n.Name, Text: orErr(nat, err)})
	}
	return ev
}

// pinnedEntries lists the conntrack entries of the pinned flows.
var pinnedEntries = fmt.Sprintf("for p in %[2]d %[3]d %[4]d; do conntrack -L -p udp --dport %[1]d --sport $p 2>/dev/null; done",
	Port, pinnedSport, onewaySport, serviceSport)

// staleOn names the stale entries the conntrack -D mitigation must remove on
// node: this run's clients' entries to the node's own address ("" when
// none).
func staleOn(ctx context.Context, r *experiments.Run, n experiments.Node) (string, error) {
	pods, err := runPods(ctx, r)
	if err != nil {
		return "", err
	}
	ct, err := r.Agent.Run(ctx, n.Name, "sh", "-c", pinnedEntries)
	if err != nil {
		return "", err
	}
	var toNode []experiments.CTEntry
	for _, e := range pods.ofRun(experiments.ParseConntrack(ct)) {
		if e.Orig.Dst == n.IP {
			toNode = append(toNode, e)
		}
	}
	return stale(toNode, pods.agent[n.Name]), nil
}

// stale names the entries that deliver somewhere other than where the agent
// of their node listens now ("" when every entry is current): the mechanism
// of T1 in either direction.
func stale(entries []experiments.CTEntry, agent string) string {
	var bad []string
	for _, e := range entries {
		if e.Reply.Src != agent {
			where := "DNATed to " + e.ReplyFrom()
			if !e.DNATed() {
				where = "not NATed: delivered to the node's own port " + fmt.Sprint(e.Orig.Dport)
			}
			bad = append(bad, fmt.Sprintf("sport %d %s, while the agent listens on %s", e.Orig.Sport, where, agent))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "stale conntrack entry: " + strings.Join(bad, "; ")
}

// pods is where this run's agents listen and its clients send from.
type pods struct {
	// agent maps each node to the address its running agent listens on:
	// the node's IP for a hostNetwork agent, else the agent pod's IP.
	agent map[string]string
	// clients are the addresses of the run's client pods: entries left by
	// other runs' clients (120 s after their last packet) are not this
	// run's evidence, and no mitigation of this run removes them.
	clients map[string]bool
}

func runPods(ctx context.Context, r *experiments.Run) (pods, error) {
	out := pods{agent: map[string]string{}, clients: map[string]bool{}}
	l, err := r.Kube.CoreV1().Pods(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app in (statsd-agent, statsd-client)"})
	if err != nil {
		return out, err
	}
	for _, p := range l.Items {
		switch {
		case p.Status.PodIP == "":
		case p.Labels["app"] == "statsd-client":
			out.clients[p.Status.PodIP] = true
		case p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning:
			out.agent[p.Spec.NodeName] = p.Status.PodIP
		}
	}
	return out, nil
}

// ofRun keeps the entries whose client is one of the run's.
func (p pods) ofRun(entries []experiments.CTEntry) []experiments.CTEntry {
	var out []experiments.CTEntry
	for _, e := range entries {
		if p.clients[e.Orig.Src] {
			out = append(out, e)
		}
	}
	return out
}

func orErr(s string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}

// Expectations implements experiments.Experiment.
func (f *Flip) Expectations(env experiments.Environment) []experiments.Expect {
	return experiments.Lookup(expected[f.dir], env)
}
