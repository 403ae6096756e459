// Package trafficpolicy is T4: which in-cluster and external clients reach a
// LoadBalancer Service, through which address, under externalTrafficPolicy
// Cluster and Local, over TCP and UDP, and whether the server sees the
// client's real source IP. The matrix is the pre-upgrade gate's core:
// kube-proxy changed these cells across versions (kubernetes#97081 in IPVS
// mode, v1.24; iptables since v1.15, #77523; #108460 in IPVS, v1.26;
// #93456, #121909 -> #121919). IPVS rows are measured on an IPVS cluster and
// modelled from kube-proxy's own proxier everywhere (ipvsmodel.go).
package trafficpolicy

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Name of the experiment.
const Name = "traffic-policy-matrix"

const (
	port         = 80
	closedPort   = 81 // on the LB IP, with no Service port behind it
	listenerPort = 82 // on the LB IP; a hostNetwork process listens on 0.0.0.0:82 on every worker
	backend      = 8080
)

// Reachability of one cell.
const (
	Reachable = "reachable"
	Refused   = "refused"
	Timeout   = "timeout"
	Partial   = "partial"
	NA        = "not applicable"
)

// Who answered, when not the Service's backend.
const (
	responderNode = "node-local listener"
	responderLB   = "load balancer"
)

// Cell is one observed (or expected) matrix entry.
type Cell struct {
	Client   string `json:"client"`
	Target   string `json:"target"`
	Policy   string `json:"policy"`
	Protocol string `json:"protocol,omitempty"` // TCP (default) or UDP
	Result   string `json:"result"`
	// SourceIP is "preserved", "snat" or "" (not answered).
	SourceIP string `json:"source_ip,omitempty"`
	// Responder is "" when the Service's backend answered, else who did
	// (responderNode, responderLB).
	Responder string `json:"responder,omitempty"`
	Answered  int    `json:"answered"`
	Sent      int    `json:"sent"`
	Note      string `json:"note,omitempty"`
}

// Key names the cell's coordinates. TCP cells keep the names of earlier
// reports (no protocol), so diffs across versions line up.
func (c Cell) Key() string {
	k := c.Client + " → " + c.Target + ", policy " + c.Policy
	if c.Protocol == "UDP" {
		k += ", UDP"
	}
	return k
}

// Outcome is the cell's result with its source-IP verdict and, when not
// the backend, who answered.
func (c Cell) Outcome() string {
	o := c.Result
	if c.SourceIP != "" && c.Result == Reachable {
		o += " (" + c.SourceIP + ")"
	}
	if c.Responder != "" && (c.Result == Reachable || c.Result == Partial) {
		o += " from the " + c.Responder
	}
	return o
}

// Targets of the matrix, in report order.
const (
	TargetListener    = "LB IP node-listener port"
	TargetProxyLB     = "ipMode Proxy LB IP"
	TargetProxyClosed = "ipMode Proxy LB IP closed port"
)

// Policies, protocols and targets of the matrix, in report order.
var (
	Policies  = []string{"Cluster", "Local"}
	Protocols = []string{"TCP", "UDP"}
	Targets   = []string{"ClusterIP", "NodePort own node", "NodePort other node", "LB IP", "LB IP closed port", TargetListener, TargetProxyLB, TargetProxyClosed}
)

func isProxyTarget(t string) bool { return t == TargetProxyLB || t == TargetProxyClosed }

// client is one placement of the matrix.
type client struct {
	name      string
	node      experiments.Node
	host      bool // hostNetwork: the node's own network namespace
	external  bool // the runner's host, outside the cluster
	otherNode experiments.Node
}

// services are the deployed Services by policy, VIP (MetalLB) and ipMode
// Proxy (the test load balancer).
type services struct {
	vip, proxy map[string]*corev1.Service
}

func (s services) forTarget(t, policy string) *corev1.Service {
	if isProxyTarget(t) {
		return s.proxy[policy]
	}
	return s.vip[policy]
}

// cells measures the matrix from every placement at once: the four
// in-cluster clients and, when the runner is on the node network, its own
// host. It returns the cells (sorted by key) and the rows it could not
// measure here.
func (t *trial) cells(ctx context.Context, r *experiments.Run) ([]Cell, []NotApplicable, error) {
	w := t.workers
	var na []NotApplicable
	clients := []client{
		{name: "pod on node with endpoint", node: w[0], otherNode: w[1]},
		{name: "pod on node without endpoint", node: w[1], otherNode: w[0]},
		{name: "hostNetwork on node with endpoint", node: w[0], otherNode: w[1], host: true},
		{name: "hostNetwork on node without endpoint", node: w[1], otherNode: w[0], host: true},
	}
	if r.OutsideView() {
		clients = append(clients, client{name: "external host", node: w[1], otherNode: w[0], external: true})
	} else {
		na = append(na, NotApplicable{"external host cells", "the runner is not on the cluster's node network"})
	}
	if r.Cluster.KubeProxyMode != "ipvs" {
		why := "kube-proxy does not run in IPVS mode; the IPVS rows are modelled from kube-proxy's own proxier (tools/ipvsmodel)"
		if r.Cluster.Provider == "kind" {
			// kind nodes run on the runner's kernel.
			if ok, detail := kernelIPVS(); !ok {
				why += "; kernel lacks IPVS (" + detail + ")"
			}
		}
		na = append(na, NotApplicable{"IPVS / kube-ipvs0 cells (measured)", why})
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []string
	var all []Cell
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cells, err := measure(ctx, r, c, t.svcs, t.listeners)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", c.name, err))
			}
			all = append(all, cells...)
		}()
	}
	wg.Wait()
	sort.SliceStable(all, func(i, j int) bool { return all[i].Key() < all[j].Key() })
	if len(errs) > 0 {
		return all, na, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return all, na, nil
}

func servicePorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: "tcp", Protocol: corev1.ProtocolTCP, Port: port, TargetPort: intstr.FromInt32(backend)},
		{Name: "udp", Protocol: corev1.ProtocolUDP, Port: port, TargetPort: intstr.FromInt32(backend)},
	}
}

// deploy creates the backend on node and one LoadBalancer Service per
// policy, and returns them ready, keyed by policy.
func deploy(ctx context.Context, r *experiments.Run, node string) (services, error) {
	ns := r.Namespace
	out := services{vip: map[string]*corev1.Service{}}
	labels := r.Labels("backend")
	labels["app"] = "web"
	be := fmt.Sprintf(":%d", backend)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:                  map[string]string{"kubernetes.io/hostname": node},
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					Containers:                    []corev1.Container{r.Container("echo", "echo", "--tcp", be, "--udp", be)},
				},
			},
		},
	}
	if _, err := r.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return out, fmt.Errorf("create backend: %w", err)
	}
	for _, p := range Policies {
		name := "web-" + strings.ToLower(p)
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: r.Labels("service")},
			Spec: corev1.ServiceSpec{
				Type:                  corev1.ServiceTypeLoadBalancer,
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicy(p),
				Selector:              map[string]string{"app": "web"},
				Ports:                 servicePorts(),
			},
		}
		if _, err := r.Kube.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return out, fmt.Errorf("create service %s: %w", name, err)
		}
	}
	for _, p := range Policies {
		s, err := kube.ServiceReady(ctx, r.Kube, ns, "web-"+strings.ToLower(p), true)
		if err != nil {
			return out, err
		}
		out.vip[p] = s
	}
	return out, nil
}

// deployListeners runs the seed's node-local process: a hostNetwork echo on
// 0.0.0.0:listenerPort (TCP and UDP) on every worker, named so that its
// answers say it was the node, not the Service, that answered.
func deployListeners(ctx context.Context, r *experiments.Run, workers []experiments.Node) (map[string]bool, error) {
	ns := r.Namespace
	labels := r.Labels("node-listener")
	lp := fmt.Sprintf(":%d", listenerPort)
	for i, n := range workers[:2] {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", nodeListenerPrefix, i), Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{
				NodeName: n.Name, HostNetwork: true, TerminationGracePeriodSeconds: ptr.To[int64](1),
				Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
				Containers:  []corev1.Container{r.Container("echo", "echo", "--tcp", lp, "--udp", lp)},
			},
		}
		if _, err := r.Kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create %s: %w", pod.Name, err)
		}
	}
	if _, err := kube.ReadyPods(ctx, r.Kube, ns, metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: labels}), 2); err != nil {
		return nil, err
	}
	return map[string]bool{workers[0].Name: true, workers[1].Name: true}, nil
}

// nodeListenerPrefix names the node-local listener pods (and so their
// answers).
const nodeListenerPrefix = "node-listener"

// programmed waits until kube-proxy serves both Services from the runner's
// host: the policy-Cluster NodePort on every node, and the policy-Local
// NodePort on the endpoint's node and both LB IPs. A Service with endpoints
// and an LB address can still be unprogrammed on some node for a few
// hundred milliseconds (v1.30 rejected Local traffic on the endpoint's node
// for a while); measuring then would record the race, not the policy.
func programmed(ctx context.Context, r *experiments.Run, svcs map[string]*corev1.Service, endpointNode experiments.Node) error {
	var targets []string
	for _, n := range r.Cluster.Nodes {
		targets = append(targets, net.JoinHostPort(n.IP, fmt.Sprint(svcs["Cluster"].Spec.Ports[0].NodePort)))
	}
	targets = append(targets, net.JoinHostPort(endpointNode.IP, fmt.Sprint(svcs["Local"].Spec.Ports[0].NodePort)))
	for _, p := range Policies {
		targets = append(targets, net.JoinHostPort(svcs[p].Status.LoadBalancer.Ingress[0].IP, fmt.Sprint(port)))
	}
	for _, target := range targets {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			c, err := (&net.Dialer{Timeout: 500 * time.Millisecond}).DialContext(ctx, "tcp", target)
			if err != nil {
				return false, nil
			}
			c.Close()
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("kube-proxy never served %s from the runner's host: %w", target, err)
		}
	}
	return nil
}

// addr is where a client sends for one target, policy and protocol ("" when
// the Service is missing).
func addr(c client, target, proto string, s *corev1.Service) string {
	if s == nil || len(s.Status.LoadBalancer.Ingress) == 0 {
		return ""
	}
	var sp corev1.ServicePort
	for _, p := range s.Spec.Ports {
		if string(p.Protocol) == proto {
			sp = p
		}
	}
	np := fmt.Sprint(sp.NodePort)
	lb := s.Status.LoadBalancer.Ingress[0].IP
	switch target {
	case "ClusterIP":
		return net.JoinHostPort(s.Spec.ClusterIP, fmt.Sprint(port))
	case "NodePort own node":
		return net.JoinHostPort(c.node.IP, np)
	case "NodePort other node":
		return net.JoinHostPort(c.otherNode.IP, np)
	case "LB IP", TargetProxyLB:
		return net.JoinHostPort(lb, fmt.Sprint(port))
	case TargetListener:
		return net.JoinHostPort(lb, fmt.Sprint(listenerPort))
	default: // the closed ports
		return net.JoinHostPort(lb, fmt.Sprint(closedPort))
	}
}

// probeOptions: 10 new connections (TCP) or fresh sockets (UDP) per second
// for 2 s per cell; a probe not answered within 2 s is a timeout. A client
// probes its 32 cells at once (320 probes/s), the four in-cluster clients
// and the runner's host in parallel.
var probeOptions = probe.Options{Interval: 100 * time.Millisecond, Timeout: 2 * time.Second}

const probeFor = 2 * time.Second

func measure(ctx context.Context, r *experiments.Run, c client, svcs services, listeners map[string]bool) ([]Cell, error) {
	var flows []probe.Flow
	var cells []Cell
	na := func(p, proto, t, why string) {
		cells = append(cells, Cell{Client: c.name, Target: t, Policy: p, Protocol: proto, Result: NA, Note: why})
	}
	for _, p := range Policies {
		for _, proto := range Protocols {
			for _, t := range Targets {
				a := addr(c, t, proto, svcs.forTarget(t, p))
				switch {
				case c.external && t == "ClusterIP":
					na(p, proto, t, "ClusterIP is not routable from outside")
					continue
				case c.external && isProxyTarget(t):
					na(p, proto, t, "the test load balancer is a pod; the runner's host has no route to the pod network")
					continue
				case a == "":
					continue // recorded in NotApplicable
				case t == TargetListener && len(listeners) == 0:
					continue
				}
				mode := probe.TCPNew
				if proto == "UDP" {
					mode = probe.UDPFresh
				}
				flows = append(flows, probe.Flow{Name: p + "|" + proto + "|" + t, Mode: mode, Target: a})
			}
		}
	}
	if err := probe.UniqueNames(flows...); err != nil {
		return nil, err
	}
	probeAll := func(flows []probe.Flow) (map[string][]probe.Sample, error) {
		var samples []probe.Sample
		var err error
		if c.external {
			samples = runLocal(ctx, flows)
		} else {
			samples, err = r.ProbeFrom(ctx, experiments.Placement{Node: c.node.Name, HostNetwork: c.host}, flows, probeFor, probeOptions)
			if err != nil && len(samples) == 0 {
				return nil, err
			}
		}
		_, byFlow := probe.ByFlow(samples)
		return byFlow, err
	}
	byFlow, err := probeAll(flows)
	if byFlow == nil {
		return nil, err
	}
	// A cell's outcome is a mechanism: all or nothing. A partial one is
	// measured once more, so that a starved node (a busy CI machine) does
	// not pass for a lossy path; if it is partial again, it stays so.
	var again []probe.Flow
	for _, f := range flows {
		if classify(byFlow[f.Name]).Result == Partial {
			again = append(again, f)
		}
	}
	first := map[string]Cell{}
	if len(again) > 0 {
		for _, f := range again {
			first[f.Name] = classify(byFlow[f.Name])
		}
		if second, err2 := probeAll(again); second != nil {
			for _, f := range again {
				byFlow[f.Name] = second[f.Name]
			}
		} else if err == nil {
			err = err2
		}
	}
	for _, f := range flows {
		parts := strings.SplitN(f.Name, "|", 3)
		cell := classify(byFlow[f.Name])
		cell.Client, cell.Policy, cell.Protocol, cell.Target = c.name, parts[0], parts[1], parts[2]
		if p, ok := first[f.Name]; ok {
			cell.Note = strings.TrimPrefix(cell.Note+fmt.Sprintf("; re-measured after a first round of %d of %d answered", p.Answered, p.Sent), "; ")
		}
		cells = append(cells, cell)
	}
	return cells, err
}

func runLocal(ctx context.Context, flows []probe.Flow) []probe.Sample {
	var mu sync.Mutex
	var out []probe.Sample
	var wg sync.WaitGroup
	pctx, cancel := context.WithTimeout(ctx, probeFor)
	defer cancel()
	for _, f := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probe.Run(pctx, f, probeOptions, func(s probe.Sample) { mu.Lock(); out = append(out, s); mu.Unlock() })
		}()
	}
	wg.Wait()
	return out
}

// classify turns a cell's samples into its result: reachable when every
// probe was answered, refused or timeout when none was (by the majority
// failure), partial otherwise; source IP preserved when the server saw the
// client's own address; the responder when it was the node-local listener
// or the test load balancer rather than the backend.
func classify(s []probe.Sample) Cell {
	c := Cell{Sent: len(s)}
	var refused, timeout, preserved, snat int
	who := map[string]int{}
	firstErr := ""
	for _, x := range s {
		if !x.Answered() && firstErr == "" {
			firstErr = string(x.Result)
			if x.Err != "" {
				firstErr += ": " + x.Err
			}
		}
		switch {
		case x.Answered():
			c.Answered++
			who[responderClass(x.Responder.Pod)]++
			if probe.HostOf(x.SeenSource) == probe.HostOf(x.Local) {
				preserved++
			} else {
				snat++
			}
		case x.Result == probe.Refused:
			refused++
		default:
			timeout++
		}
	}
	switch {
	case c.Sent == 0:
		c.Result, c.Note = NA, "no samples"
	case c.Answered == c.Sent:
		c.Result = Reachable
	case c.Answered > 0:
		c.Result, c.Note = Partial, fmt.Sprintf("%d of %d answered; first failure %s", c.Answered, c.Sent, firstErr)
	case refused >= timeout:
		c.Result = Refused
	default:
		c.Result = Timeout
	}
	switch {
	case preserved > 0 && snat == 0:
		c.SourceIP = "preserved"
	case snat > 0 && preserved == 0:
		c.SourceIP = "snat"
	case snat > 0:
		c.SourceIP = "mixed"
	}
	best := 0
	for _, r := range sortedKeys(who) {
		if who[r] > best {
			c.Responder, best = r, who[r]
		}
	}
	if len(who) > 1 {
		c.Note = strings.TrimPrefix(c.Note+"; answered by more than one kind of responder", "; ")
	}
	return c
}

// responderClass maps an answering pod's name to who it stands for.
func responderClass(pod string) string {
	switch {
	case strings.HasPrefix(pod, nodeListenerPrefix):
		return responderNode
	case strings.HasPrefix(pod, testLBPrefix):
		return responderLB
	}
	return ""
}

// judgeCells turns matrix cells into report cells: compared with the
// expected table (conformance) and judged (vulnerable or not).
func judgeCells(cells []Cell, want map[string]want) []experiments.Cell {
	var out []experiments.Cell
	for _, c := range cells {
		row := experiments.Cell{Case: c.Key(), Observed: c.Outcome()}
		if c.Note != "" {
			row.Observed += " — " + c.Note
		}
		if w, ok := want[c.Key()]; ok {
			row.Expected, row.Source, row.Match = w.outcome, w.source, w.matches(c)
		} else {
			row.Match = true // recorded, no expectation
		}
		if vuln, why := Judge(c); vuln {
			row.Verdict = "vulnerable"
			row.Observed += " — vulnerable: " + why
		}
		out = append(out, row)
	}
	return out
}
