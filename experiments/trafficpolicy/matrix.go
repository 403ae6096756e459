// Package trafficpolicy is T4: which in-cluster and external clients reach a
// LoadBalancer Service, through which address, under externalTrafficPolicy
// Cluster and Local, and whether the server sees the client's real source
// IP. The matrix is the pre-upgrade gate's core: kube-proxy changed these
// cells across versions (kubernetes#97081 in IPVS mode, v1.21; iptables
// since v1.15, #77523; #93456, #121909 -> #121919).
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
	"github.com/netchaos/netchaos/experiments/probe"
)

// Name of the experiment.
const Name = "traffic-policy-matrix"

const (
	port       = 80
	closedPort = 81 // on the LB IP, with no listener behind it
	backend    = 8080
)

// Reachability of one cell.
const (
	Reachable = "reachable"
	Refused   = "refused"
	Timeout   = "timeout"
	Partial   = "partial"
	NA        = "not applicable"
)

// Cell is one observed (or expected) matrix entry.
type Cell struct {
	Client string `json:"client"`
	Target string `json:"target"`
	Policy string `json:"policy"`
	Result string `json:"result"`
	// SourceIP is "preserved", "snat" or "" (not answered).
	SourceIP string `json:"source_ip,omitempty"`
	Answered int    `json:"answered"`
	Sent     int    `json:"sent"`
	Note     string `json:"note,omitempty"`
}

// Key names the cell's coordinates.
func (c Cell) Key() string { return c.Client + " → " + c.Target + ", policy " + c.Policy }

// Outcome is the cell's result with its source-IP verdict.
func (c Cell) Outcome() string {
	if c.SourceIP != "" && c.Result == Reachable {
		return c.Result + " (" + c.SourceIP + ")"
	}
	return c.Result
}

// Policies and targets of the matrix, in report order.
var (
	Policies = []string{"Cluster", "Local"}
	Targets  = []string{"ClusterIP", "NodePort own node", "NodePort other node", "LB IP", "LB IP closed port"}
)

// client is one placement of the matrix.
type client struct {
	name      string
	node      experiments.Node
	host      bool // hostNetwork
	external  bool // the runner's host, outside the cluster
	otherNode experiments.Node
}

// Matrix runs the experiment and returns every cell.
type Matrix struct {
	Cells []Cell
	// NotApplicable are rows that could not be measured here, with why;
	// the row names and reasons stay the same across versions and modes so
	// that diffs of two runs compare them.
	NotApplicable []NotApplicable
}

// Run measures the matrix on the cluster: one backend on the first worker,
// a LoadBalancer Service per policy, and probes from every placement.
func Run(ctx context.Context, e *experiments.Env) (m Matrix, err error) {
	w := e.Cluster.Workers()
	if len(w) < 2 {
		return m, fmt.Errorf("needs two worker nodes (one with the endpoint, one without), found %d", len(w))
	}
	ns, err := e.Namespace(ctx, "traffic-policy")
	if err != nil {
		return m, err
	}
	defer e.DeleteNamespace(context.WithoutCancel(ctx), ns)
	svcs, err := deploy(ctx, e, ns, w[0].Name)
	if err != nil {
		return m, err
	}
	if e.Cluster.Provider == "kind" {
		if err := programmed(ctx, e, svcs, w[0]); err != nil {
			return m, err
		}
	}
	clients := []client{
		{name: "pod on node with endpoint", node: w[0], otherNode: w[1]},
		{name: "pod on node without endpoint", node: w[1], otherNode: w[0]},
		{name: "hostNetwork on node with endpoint", node: w[0], otherNode: w[1], host: true},
		{name: "hostNetwork on node without endpoint", node: w[1], otherNode: w[0], host: true},
	}
	if e.OutsideView() {
		clients = append(clients, client{name: "external host", node: w[1], otherNode: w[0], external: true})
	} else {
		m.NotApplicable = append(m.NotApplicable, NotApplicable{"external host cells", "the runner is not on the cluster's node network"})
	}
	if e.Cluster.KubeProxyMode != "ipvs" {
		why := "kube-proxy does not run in IPVS mode"
		if e.Cluster.Provider == "kind" {
			// kind nodes run on the runner's kernel.
			if ok, detail := kernelIPVS(); !ok {
				why += "; kernel lacks IPVS (" + detail + ")"
			}
		}
		m.NotApplicable = append(m.NotApplicable, NotApplicable{"IPVS / kube-ipvs0 cells", why})
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []string
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cells, err := measure(ctx, e, ns, c, svcs)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", c.name, err))
			}
			m.Cells = append(m.Cells, cells...)
		}()
	}
	wg.Wait()
	sort.SliceStable(m.Cells, func(i, j int) bool { return m.Cells[i].Key() < m.Cells[j].Key() })
	if len(errs) > 0 {
		return m, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return m, nil
}

// deploy creates the backend on node and one LoadBalancer Service per
// policy, and returns them ready, keyed by policy.
func deploy(ctx context.Context, e *experiments.Env, ns, node string) (map[string]*corev1.Service, error) {
	labels := e.Labels(Name, "backend")
	labels["app"] = "web"
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
					Containers:                    []corev1.Container{e.Container("echo", "echo", "--tcp", fmt.Sprintf(":%d", backend))},
				},
			},
		},
	}
	if _, err := e.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create backend: %w", err)
	}
	out := map[string]*corev1.Service{}
	for _, p := range Policies {
		name := "web-" + strings.ToLower(p)
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: e.Labels(Name, "service")},
			Spec: corev1.ServiceSpec{
				Type:                  corev1.ServiceTypeLoadBalancer,
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicy(p),
				Selector:              map[string]string{"app": "web"},
				Ports:                 []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: port, TargetPort: intstr.FromInt32(backend)}},
			},
		}
		if _, err := e.Kube.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create service %s: %w", name, err)
		}
	}
	for _, p := range Policies {
		s, err := e.ServiceReady(ctx, ns, "web-"+strings.ToLower(p), true)
		if err != nil {
			return nil, err
		}
		out[p] = s
	}
	return out, nil
}

// programmed waits until kube-proxy serves both Services from the runner's
// host: the policy-Cluster NodePort on every node, and the policy-Local
// NodePort on the endpoint's node and both LB IPs. A Service with endpoints
// and an LB address can still be unprogrammed on some node for a few
// hundred milliseconds (v1.30 rejected Local traffic on the endpoint's node
// for a while); measuring then would record the race, not the policy.
func programmed(ctx context.Context, e *experiments.Env, svcs map[string]*corev1.Service, endpointNode experiments.Node) error {
	var targets []string
	for _, n := range e.Cluster.Nodes {
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

// addr is where a client sends for one target and policy.
func addr(c client, target string, s *corev1.Service) string {
	np := fmt.Sprint(s.Spec.Ports[0].NodePort)
	switch target {
	case "ClusterIP":
		return net.JoinHostPort(s.Spec.ClusterIP, fmt.Sprint(port))
	case "NodePort own node":
		return net.JoinHostPort(c.node.IP, np)
	case "NodePort other node":
		return net.JoinHostPort(c.otherNode.IP, np)
	case "LB IP":
		return net.JoinHostPort(s.Status.LoadBalancer.Ingress[0].IP, fmt.Sprint(port))
	default:
		return net.JoinHostPort(s.Status.LoadBalancer.Ingress[0].IP, fmt.Sprint(closedPort))
	}
}

// probeOptions: 20 new TCP connections per second for 2 s per cell; a
// connection not answered within 1 s is a timeout.
var probeOptions = probe.Options{Interval: 50 * time.Millisecond, Timeout: time.Second}

const probeFor = 2 * time.Second

func measure(ctx context.Context, e *experiments.Env, ns string, c client, svcs map[string]*corev1.Service) ([]Cell, error) {
	var flows []probe.Flow
	for _, p := range Policies {
		for _, t := range Targets {
			if c.external && t == "ClusterIP" {
				continue // a ClusterIP is not routable from outside the cluster
			}
			flows = append(flows, probe.Flow{Name: p + "|" + t, Mode: probe.TCPNew, Target: addr(c, t, svcs[p])})
		}
	}
	var samples []probe.Sample
	var err error
	if c.external {
		samples = runLocal(ctx, flows)
	} else {
		samples, err = e.ProbeFrom(ctx, ns, Name, experiments.Placement{Node: c.node.Name, HostNetwork: c.host}, flows, probeFor, probeOptions)
		if err != nil && len(samples) == 0 {
			return nil, err
		}
	}
	_, byFlow := probe.ByFlow(samples)
	var cells []Cell
	for _, f := range flows {
		p, t, _ := strings.Cut(f.Name, "|")
		cell := classify(byFlow[f.Name])
		cell.Client, cell.Target, cell.Policy = c.name, t, p
		cells = append(cells, cell)
	}
	if c.external {
		for _, p := range Policies {
			cells = append(cells, Cell{Client: c.name, Target: "ClusterIP", Policy: p, Result: NA, Note: "ClusterIP is not routable from outside"})
		}
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
// client's own address.
func classify(s []probe.Sample) Cell {
	c := Cell{Sent: len(s)}
	var refused, timeout, preserved, snat int
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
	return c
}

// Experiment runs the matrix as a suite result: every cell compared with the
// expected matrix for the detected kube-proxy mode and version.
func Experiment(ctx context.Context, e *experiments.Env) experiments.Result {
	res := experiments.Result{Name: Name, Environment: e.Cluster, Started: time.Now(), Applicable: true,
		Info: experiments.Info{
			Title:   "T4 externalTrafficPolicy and in-cluster access to the LB IP: reachability matrix",
			Trigger: "none: the matrix is measured as the cluster is (compare runs across versions with `netchaos diff`)",
			Sources: []string{"kubernetes/kubernetes#97081", "kubernetes/kubernetes#77523", "kubernetes/kubernetes#93456", "kubernetes/kubernetes#121919"},
		}}
	defer func() { res.Finished = time.Now() }()
	if len(e.Cluster.Workers()) < 2 {
		res.Applicable, res.Reason = false, "needs two worker nodes (one with the endpoint, one without)"
		return res
	}
	m, err := Run(ctx, e)
	res.Err = err
	want := Expected(e.Cluster)
	for _, c := range m.Cells {
		row := experiments.Cell{Case: c.Key(), Observed: c.Outcome()}
		if c.Note != "" {
			row.Observed += " — " + c.Note
		}
		if w, ok := want[c.Key()]; ok {
			row.Expected, row.Source, row.Match = w.outcome, w.source, w.matches(c)
		} else {
			row.Match = true // recorded, no expectation
		}
		res.Cells = append(res.Cells, row)
	}
	for _, n := range m.NotApplicable {
		res.Cells = append(res.Cells, experiments.Cell{Case: n.Rows, Observed: NA + ": " + n.Why, Match: true})
	}
	return res
}

// Plan lists, for --dry-run, what the experiment creates.
var Plan = []string{
	"namespace netchaos-traffic-policy-<run> with janitor",
	"Deployment web (1 TCP echo pod) on the first worker; LoadBalancer Services web-cluster and web-local (externalTrafficPolicy Cluster / Local)",
	"one-shot probe pods (pod and hostNetwork) on both workers, 20 new TCP connections/s for 2 s per cell; on kind also probes from this host",
	"no fault: the matrix is the cluster's behaviour as it is",
}
