// Package udplbrecreate is trigger T2: a UDP Service is deleted and
// re-created (or its backends scaled to zero and back) while a sender with a
// fixed source IP:port keeps sending, SNMP-trap style.
//
// While the Service is gone, packets still arrive and create conntrack
// entries with no NAT. When the Service returns, the existing entry matches
// first, NAT is never re-evaluated, and the fixed-source flow keeps going to
// the service address itself until something deletes the entry. Flows from
// other source ports are unaffected. Upstream: projectcalico/calico#9967
// (fixed in v3.30.0), kubernetes#127318 (kube-proxy conntrack reconciler,
// v1.32), #139628/#139629 (scaled to zero), #141371 (deleted UDP services).
package udplbrecreate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Ports: the service port (SNMP trap) and the backends' port.
const (
	ServicePort = 162
	backendPort = 1162
	pinnedSport = 40162
	onewaySport = 40163
)

// Variant is what gets deleted and re-created, and how clients reach it.
type Variant string

// Variants.
const (
	LoadBalancer Variant = "lb"            // delete + re-create, clients send to the LB IP
	NodePort     Variant = "nodeport"      // delete + re-create, clients send to <nodeIP>:<nodePort>
	ClusterIP    Variant = "clusterip"     // delete + re-create, clients send to the ClusterIP
	ScaleToZero  Variant = "scale-to-zero" // backends scaled to 0 and back, LB IP
	// backends scaled to 0 and held there for Hold, clients send to the
	// ClusterIP (kubernetes#139628)
	ScaleToZeroHold Variant = "scale-to-zero-hold"
)

// Gap is how long the Service stays away while the flows keep sending.
const Gap = 5 * time.Second

// Recreate is the experiment, for one variant.
type Recreate struct {
	v Variant
}

// trial is one run: what Setup deployed and what the run has read. It
// changes nothing outside the namespace, so it has no Recover.
type trial struct {
	v Variant
	// sports are the fixed source ports whose entries the run reads and
	// deletes: the senders' in their pods, and the one this host's own
	// fixed-source flow got (40162 unless another process holds it).
	sports []int
	svc    *corev1.Service // as first created, to re-create the same spec
	target string          // host:port the in-cluster clients send to
	// proxyBase is kube-proxy's counters per node at the run's first
	// evidence (before the trigger).
	proxyBase map[string][]float64
	// deleted are the backends' pod IPs the hold variant scaled away.
	deleted map[string]bool
}

var (
	_ experiments.Mitigator   = (*Recreate)(nil)
	_ experiments.Outage      = (*trial)(nil)
	_ experiments.Interpreter = (*trial)(nil)
	_ experiments.Assessor    = (*trial)(nil)
)

// New returns the experiment for one variant.
func New(v Variant) *Recreate { return &Recreate{v: v} }

// Name implements experiments.Experiment.
func (x *Recreate) Name() string { return "udp-recreate-" + string(x.v) }

// Info implements experiments.Experiment.
func (x *Recreate) Info() experiments.Info {
	trigger := fmt.Sprintf("delete the UDP %s Service and its fixed-source flows' conntrack entries (as Calico and kube-proxy with #141371 do), keep sending for %s, re-create it with the same spec", x.v.kind(), Gap)
	switch x.v {
	case ScaleToZero:
		trigger = fmt.Sprintf("scale the UDP LoadBalancer Service's backends to zero for %s, then back", Gap)
	case ScaleToZeroHold:
		return x.holdInfo()
	}
	return experiments.Info{
		Title:    "T2 UDP " + string(x.v) + " Service disruption with a fixed-source flow",
		Trigger:  trigger,
		Sources:  []string{"projectcalico/calico#9967", "kubernetes/kubernetes#127318", "kubernetes/kubernetes#139628", "kubernetes/kubernetes#141371"},
		Controls: []string{"*/fresh"},
		Inherent: Gap,
		// kube-proxy applies changes at most once per minSyncPeriod (1 s):
		// the rules that bring the fresh-port flows back and the cleanup
		// that brings the fixed-source flows back can land a sync apart.
		Tolerance: 2 * time.Second,
		Mechanism: mechanism,
		Plan: []string{
			"namespace netchaos-" + x.Name() + "-<run> with janitor and privileged node-agent DaemonSet",
			"Deployment snmp-backend (2 UDP echo pods); " + string(x.v.kind()) + " Service snmp (UDP 162)",
			"DaemonSet snmp-sender on every node: fixed-source (sport 40162; one-way like SNMP traps, sport 40163) and rotating-port flows, 100 probes/s each",
			"on kind: the fixed-source and rotating-port flows from this host to the Service address",
			"fault: " + trigger + " (inside the namespace)",
			"mitigation: conntrack -D for source ports 40162 and 40163 on every node",
		},
	}
}

// kind is the type of the variant's Service.
func (v Variant) kind() corev1.ServiceType {
	switch v {
	case NodePort:
		return corev1.ServiceTypeNodePort
	case ClusterIP, ScaleToZeroHold:
		return corev1.ServiceTypeClusterIP
	}
	return corev1.ServiceTypeLoadBalancer
}

// Applies implements experiments.Experiment.
func (x *Recreate) Applies(env experiments.Environment) (bool, string) {
	if len(env.Workers()) == 0 {
		return false, "no worker nodes"
	}
	return true, ""
}

// Setup implements experiments.Experiment.
func (x *Recreate) Setup(ctx context.Context, r *experiments.Run) (experiments.Trial, error) {
	ns := r.Namespace
	t := &trial{v: x.v, sports: []int{pinnedSport, onewaySport}, proxyBase: map[string][]float64{}}
	if _, err := r.Kube.AppsV1().Deployments(ns).Create(ctx, x.backends(r), metav1.CreateOptions{}); err != nil {
		return t, fmt.Errorf("create backends: %w", err)
	}
	svc, err := r.Kube.CoreV1().Services(ns).Create(ctx, x.service(r), metav1.CreateOptions{})
	if err != nil {
		return t, fmt.Errorf("create service: %w", err)
	}
	if svc, err = t.waitAddress(ctx, r); err != nil {
		return t, err
	}
	t.svc = svc
	var external string
	switch t.v {
	case ClusterIP, ScaleToZeroHold:
		t.target = net.JoinHostPort(svc.Spec.ClusterIP, fmt.Sprint(ServicePort))
	case NodePort:
		// Every client sends to the first worker's NodePort: from the
		// other nodes that crosses the network, from the first it is local.
		t.target = net.JoinHostPort(r.Cluster.Workers()[0].IP, fmt.Sprint(svc.Spec.Ports[0].NodePort))
		external = t.target
	default:
		t.target = net.JoinHostPort(svc.Status.LoadBalancer.Ingress[0].IP, fmt.Sprint(ServicePort))
		external = t.target
	}
	clients, err := t.clients(r)
	if err != nil {
		return t, err
	}
	if _, err := r.Kube.AppsV1().DaemonSets(ns).Create(ctx, clients, metav1.CreateOptions{}); err != nil {
		return t, fmt.Errorf("create clients: %w", err)
	}
	if _, err := kube.ReadyPods(ctx, r.Kube, ns, "app=snmp-backend", 2); err != nil {
		return t, err
	}
	if _, err := kube.ReadyPods(ctx, r.Kube, ns, "app=snmp-sender", len(r.Cluster.Nodes)); err != nil {
		return t, err
	}
	r.WantFlows(3 * len(r.Cluster.Nodes))
	if external != "" && r.OutsideView() {
		// The runner's host is on the kind network: the view from outside.
		pctx := r.ProbeContext()
		port := freeUDPPort(pinnedSport)
		if port != pinnedSport {
			t.sports = append(t.sports, port)
			r.Log("[%s] UDP %d is taken on this host (another run?): the external fixed-source flow uses %d", r.Experiment, pinnedSport, port)
		}
		for _, f := range []probe.Flow{
			{Name: "pinned", Mode: probe.UDPPinned, Target: external, LocalPort: port},
			{Name: "fresh", Mode: probe.UDPFresh, Target: external},
		} {
			if err := r.Collector.RunLocal(pctx, f, r.FlowOptions); err != nil {
				return t, err
			}
			r.WantFlows(1)
		}
	}
	return t, nil
}

func (x *Recreate) backends(r *experiments.Run) *appsv1.Deployment {
	labels := r.Labels("backend")
	labels["app"] = "snmp-backend"
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "snmp-backend", Namespace: r.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "snmp-backend"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname",
						WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "snmp-backend"}}}},
					Containers: []corev1.Container{r.Container("echo", "echo", "--udp", fmt.Sprintf(":%d", backendPort))},
				},
			},
		},
	}
}

func (x *Recreate) service(r *experiments.Run) *corev1.Service {
	labels := r.Labels("service")
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "snmp", Namespace: r.Namespace, Labels: labels},
		Spec: corev1.ServiceSpec{
			Type:     x.v.kind(),
			Selector: map[string]string{"app": "snmp-backend"},
			Ports:    []corev1.ServicePort{{Name: "trap", Protocol: corev1.ProtocolUDP, Port: ServicePort, TargetPort: intstr.FromInt32(backendPort)}},
		},
	}
}

// again is the Service as first created, to re-create with the same
// addresses: ClusterIP, NodePort and LB IP where the implementation allows.
func (t *trial) again() *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: t.svc.Name, Namespace: t.svc.Namespace, Labels: t.svc.Labels,
		Annotations: map[string]string{}}, Spec: *t.svc.Spec.DeepCopy()}
	s.Spec.ClusterIPs = nil
	if t.v == LoadBalancer && len(t.svc.Status.LoadBalancer.Ingress) > 0 {
		// MetalLB honours this annotation; other implementations may hand
		// out a new address, which the report then shows as never reached.
		s.Annotations["metallb.universe.tf/loadBalancerIPs"] = t.svc.Status.LoadBalancer.Ingress[0].IP
	}
	return s
}

func (t *trial) waitAddress(ctx context.Context, r *experiments.Run) (*corev1.Service, error) {
	return kube.ServiceReady(ctx, r.Kube, r.Namespace, "snmp", t.v.kind() == corev1.ServiceTypeLoadBalancer)
}

// clients send from every node (control plane included) on a fixed source
// port and on a rotating one.
func (t *trial) clients(r *experiments.Run) (*appsv1.DaemonSet, error) {
	args, err := probe.Args(r.FlowOptions,
		probe.Flow{Name: "pinned", Mode: probe.UDPPinned, Target: t.target, LocalPort: pinnedSport},
		probe.Flow{Name: "oneway", Mode: probe.UDPOneWay, Target: t.target, LocalPort: onewaySport},
		probe.Flow{Name: "fresh", Mode: probe.UDPFresh, Target: t.target})
	if err != nil {
		return nil, err
	}
	return r.DaemonSet("snmp-sender", experiments.RoleClient, corev1.PodSpec{
		Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		Containers:  []corev1.Container{r.Container("sender", args...)},
	}), nil
}

// Inject implements experiments.Outage. Deleting a Service leaves the
// fixed-source flow's entry DNATed to the old backend on kube-proxy up to
// 1.34 (answers keep coming while the Service does not exist: misdelivery,
// kubernetes#141371); Calico's dataplane and kube-proxy with #141371 delete
// it, and the next packets create the seed's entry: no NAT, to the Service
// address itself. The trigger deletes those entries as they would, so the
// state the seed describes is reached on every dataplane; the evidence
// taken during the gap shows it.
func (t *trial) Inject(ctx context.Context, r *experiments.Run) error {
	if t.v == ScaleToZeroHold {
		return t.hold(ctx, r)
	}
	if t.v == ScaleToZero {
		if err := kube.Scale(ctx, r.Kube, r.Namespace, "snmp-backend", 0); err != nil {
			return err
		}
		r.Event("backends scaled to zero")
		time.Sleep(Gap)
		err := kube.Scale(ctx, r.Kube, r.Namespace, "snmp-backend", 2)
		r.Event("backends scaled back")
		return err
	}
	svcs := r.Kube.CoreV1().Services(r.Namespace)
	if err := svcs.Delete(ctx, "snmp", metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("delete service: %w", err)
	}
	if err := kube.Gone(ctx, func(ctx context.Context) error {
		_, err := svcs.Get(ctx, "snmp", metav1.GetOptions{})
		return err
	}); err != nil {
		return err
	}
	gone := r.Event("service deleted")
	// What the flush must remove: the entries still DNATed to a backend.
	if err := t.flush(ctx, r, "delete the fixed-source entries", dnated); err != nil {
		return err
	}
	time.Sleep(time.Until(gone.Add(Gap / 2)))
	r.Capture("service absent", t.Evidence(ctx, r)...)
	time.Sleep(time.Until(gone.Add(Gap)))
	if _, err := svcs.Create(ctx, t.again(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("re-create service: %w", err)
	}
	r.Event("service re-created")
	t.order(ctx, r)
	svc, err := t.waitAddress(ctx, r)
	if err != nil {
		return err
	}
	if t.v == LoadBalancer && svc.Status.LoadBalancer.Ingress[0].IP != t.svc.Status.LoadBalancer.Ingress[0].IP {
		r.Log("[%s] LB IP changed on re-create: %s -> %s", r.Experiment, t.svc.Status.LoadBalancer.Ingress[0].IP, svc.Status.LoadBalancer.Ingress[0].IP)
	}
	return nil
}

// order records, as events, when the re-created Service's endpoints became
// ready and (LoadBalancer) when its LB IP was assigned, as the API server
// shows them to a watcher polling every 50 ms. kube-proxy clears a UDP
// Service's stale entries only in a sync where its endpoints changed
// (pkg/proxy/endpointschangetracker.go, v1.34.2), for the addresses the
// Service has then: an LB IP that lands after the endpoints is not among
// them.
func (t *trial) order(ctx context.Context, r *experiments.Run) {
	var eps, lb bool
	deadline := time.Now().Add(kube.Timeouts.LoadBalancer)
	for !(eps && (lb || t.v != LoadBalancer)) && time.Now().Before(deadline) && ctx.Err() == nil {
		if !eps {
			sl, err := r.Kube.DiscoveryV1().EndpointSlices(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=snmp"})
			if err == nil && ready(sl.Items) {
				eps = true
				r.Event("endpoints ready")
			}
		}
		if t.v == LoadBalancer && !lb {
			svc, err := r.Kube.CoreV1().Services(r.Namespace).Get(ctx, "snmp", metav1.GetOptions{})
			if err == nil && len(svc.Status.LoadBalancer.Ingress) > 0 && svc.Status.LoadBalancer.Ingress[0].IP != "" {
				lb = true
				r.Event("LB IP assigned")
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(slices []discoveryv1.EndpointSlice) bool {
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				return true
			}
		}
	}
	return false
}

// flush deletes the fixed-source flows' conntrack entries on every node
// until left finds none among the node's entries to the Service (toService),
// recording what conntrack said.
func (t *trial) flush(ctx context.Context, r *experiments.Run, why string, left func([]experiments.CTEntry) string) error {
	return r.OnNodes(ctx, r.Cluster.Nodes, func(ctx context.Context, n experiments.Node) error {
		var outs []string
		var errs []error
		for _, port := range t.sports {
			out, err := r.DeleteConntrack(ctx, n.Name, fmt.Sprintf("-p udp --sport %d", port), func(ctx context.Context) (string, error) {
				ct, err := r.Agent.Run(ctx, n.Name, "sh", "-c", fmt.Sprintf("conntrack -L -p udp --sport %d 2>/dev/null", port))
				return left(t.toService(n, experiments.ParseConntrack(ct))), err
			})
			outs = append(outs, out)
			errs = append(errs, err)
		}
		r.Capture(why, experiments.Evidence{Name: "conntrack -D fixed source ports on " + n.Name, Text: strings.Join(outs, "\n")})
		return errors.Join(errs...)
	})
}

// freeUDPPort is port when this host can bind it, else a free port from the
// 40200s: two runs on one host (against two clusters) must not share a
// fixed source port.
func freeUDPPort(port int) int {
	for p := port; p < 40300; p = max(p+1, 40200) {
		if c, err := net.ListenUDP("udp", &net.UDPAddr{Port: p}); err == nil {
			c.Close()
			return p
		}
	}
	return port
}

// dnated names the entries DNATed to a backend ("" when none).
func dnated(entries []experiments.CTEntry) string {
	var s []string
	for _, e := range entries {
		if e.DNATed() {
			s = append(s, fmt.Sprintf("sport %d → %s", e.Orig.Sport, e.ReplyFrom()))
		}
	}
	return strings.Join(s, "; ")
}

// Mitigations implements experiments.Mitigator: delete the fixed 5-tuples'
// conntrack entries on every node (what calico-node's "bpf conntrack
// remove" or kube-proxy's reconciler does).
func (x *Recreate) Mitigations() []experiments.Mitigation {
	return []experiments.Mitigation{experiments.Mitigate("conntrack -D", (*trial).deleteConntrack)}
}

func (t *trial) deleteConntrack(ctx context.Context, r *experiments.Run) error {
	return t.flush(ctx, r, "conntrack -D", unNATed)
}

// Evidence implements experiments.Outage: the fixed 5-tuples' entries on
// every node, and whether one goes to the Service address without NAT (the
// seed's state).
func (t *trial) Evidence(ctx context.Context, r *experiments.Run) []experiments.Evidence {
	return t.conntrackEvidence(ctx, r, unNATed)
}

// ctEvidence begins the name of the evidence conntrackEvidence takes.
const ctEvidence = "conntrack fixed sources "

// conntrackEvidence is the fixed 5-tuples' entries on every node, with what
// sign finds among those addressed to the Service, and kube-proxy's
// counters.
func (t *trial) conntrackEvidence(ctx context.Context, r *experiments.Run, sign func([]experiments.CTEntry) string) []experiments.Evidence {
	var ev []experiments.Evidence
	for _, n := range r.Cluster.Nodes {
		var list, ports []string
		for _, p := range t.sports {
			list = append(list, fmt.Sprintf("conntrack -L -p udp --sport %d 2>/dev/null", p))
			ports = append(ports, fmt.Sprintf(":%d", p))
		}
		out, err := r.Agent.Run(ctx, n.Name, "sh", "-c", strings.Join(list, "; "))
		e := experiments.Evidence{Name: fmt.Sprintf("%s%s on %s", ctEvidence, strings.Join(ports, ", "), n.Name), Text: out}
		switch {
		case err != nil:
			e.Text = "error: " + err.Error()
		case strings.TrimSpace(out) == "":
			e.Text = "(none)"
		default:
			e.Shows = sign(t.toService(n, experiments.ParseConntrack(out)))
		}
		ev = append(ev, e, t.proxyEvidence(ctx, r, n))
	}
	return ev
}

// toService keeps the entries on node n addressed to the Service's
// frontend (the address the clients send to): on a backend's node, another
// node's already-DNATed flow arrives addressed to the pod itself, which is
// transit, not the seed's state. A NodePort is DNATed only on the node whose
// address it is (kube-proxy's KUBE-NODEPORTS matches --dst-type LOCAL):
// elsewhere the flow leaves un-NATed by design, so only the target node's
// entries count.
func (t *trial) toService(n experiments.Node, entries []experiments.CTEntry) []experiments.CTEntry {
	host, port, _ := net.SplitHostPort(t.target)
	if t.v == NodePort && n.IP != host {
		return nil
	}
	var out []experiments.CTEntry
	for _, e := range entries {
		if e.Orig.Dst == host && fmt.Sprint(e.Orig.Dport) == port {
			out = append(out, e)
		}
	}
	return out
}

// unNATed names the entries that go to the Service's address itself, with
// no DNAT to a backend: the seed's state ("" when there is none).
func unNATed(entries []experiments.CTEntry) string {
	var bad []string
	for _, e := range entries {
		if !e.DNATed() {
			bad = append(bad, fmt.Sprintf("sport %d → %s:%d", e.Orig.Sport, e.Orig.Dst, e.Orig.Dport))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "un-NATed conntrack entry (no DNAT to a backend): " + strings.Join(bad, "; ")
}

// Interpret implements experiments.Interpreter: answers that came while the
// Service did not exist were delivered by a stale DNAT entry to a backend
// the Service no longer had (kubernetes#141371): misdelivery, not health.
func (t *trial) Interpret(flows []experiments.FlowResult, markers []probe.Marker) []experiments.Evidence {
	var from, to time.Time
	for _, m := range markers {
		switch m.Name {
		case "service deleted":
			from = m.At
		case "service re-created":
			to = m.At
		}
	}
	if from.IsZero() || to.IsZero() {
		return nil
	}
	var lines []string
	for _, f := range flows {
		n := 0
		for _, s := range f.Samples {
			if s.Answered() && !s.Sent.Before(from) && s.Sent.Before(to) {
				n++
			}
		}
		if n > 0 {
			lines = append(lines, fmt.Sprintf("%s: %d answers while the Service did not exist", f.Name, n))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return []experiments.Evidence{{Name: "answers while the Service was deleted", When: "service absent", Text: strings.Join(lines, "\n"),
		Shows: "misdelivery: a stale DNAT entry delivered to a backend of a Service that did not exist (kubernetes#141371)"}}
}

// Expectations implements experiments.Experiment.
func (x *Recreate) Expectations(env experiments.Environment) []experiments.Expect {
	exps := experiments.Lookup(expected, env)
	if x.v != ScaleToZeroHold {
		return exps
	}
	// The hold's flows come back only once the backends do.
	held := append([]experiments.Expect(nil), exps...)
	for i := range held {
		if held[i].Outcome == experiments.Recovers {
			held[i].Within += Hold
		}
	}
	return held
}
