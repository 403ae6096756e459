package trafficpolicy

import (
	"fmt"
	"slices"
	"strings"
)

// The walk turns a recorded proxier state into cells: it follows a
// connection's first packet from a client to its destination and the
// reply back, through what kube-proxy programmed on each node (addresses on
// kube-ipvs0, IPVS virtual and real servers, the nat and filter chains with
// their ipsets). The kernel behaviour it relies on, and nothing else:
//
//   - A locally generated packet to one of the node's own addresses takes
//     that address as its source (the local route's preferred source): a
//     hostNetwork client of a kube-ipvs0 address sends from that address.
//   - A packet arriving for a local address traverses nat PREROUTING, then
//     filter INPUT, then IPVS (LOCAL_IN, after filter). A locally generated
//     one traverses nat OUTPUT, then IPVS (LOCAL_OUT); without a virtual
//     server it loops back through filter INPUT.
//   - IPVS DNATs to a real server; with no real server it answers ICMP port
//     unreachable (ip_vs_leave): the client sees "refused", TCP or UDP. With
//     no virtual server the packet goes to the node's own sockets: a
//     listener on 0.0.0.0 answers, else TCP RST / ICMP port unreachable.
//   - nat POSTROUTING masquerades marked packets (KUBE-POSTROUTING) to the
//     address of the interface they leave by: the node's IP towards another
//     node, the pod gateway towards a local pod.
//   - The reply goes from the backend to the source it saw. If that is an
//     address of the backend's own node (its node IP, a pod there, or a
//     kube-ipvs0 address, which every IPVS node holds), or a host beyond the
//     node that DNATed, the reply never passes that node's conntrack and the
//     client, expecting an answer from the address it dialled, never gets
//     one: timeout.
//   - Forwarding between nodes and pod routes work (the kind cluster's CNI
//     routes pod ranges between nodes and does not masquerade pod to pod).
//   - Outside traffic to an LB IP reaches, as MetalLB L2 sends it, a node
//     with an endpoint under policy Local and any worker under Cluster
//     (IPVS with MetalLB needs strictARP, else every node answers ARP for
//     the LB IP on kube-ipvs0).

// modelClient is one client placement: kind pod, host (hostNetwork, the
// node itself) or external.
type modelClient struct {
	kind, node, ip string
}

// walkResult is one connection's outcome.
type walkResult struct {
	result string
	local  string // the client socket's own address
	seen   string // the source the responder saw
	// responder is "" for the Service's backend, responderNode or
	// responderLB otherwise.
	responder string
	steps     []string
}

type walkNode struct {
	ModelNode
	state       ProxierState
	nat, filter iptTable
	local       map[string]bool
	ipvs0       map[string]bool
}

type walker struct {
	sc    ModelScenario
	nodes map[string]*walkNode
	order []string
}

func newWalker(m *IPVSModel) (*walker, error) {
	w := &walker{sc: m.Scenario, nodes: map[string]*walkNode{}}
	for _, n := range m.Scenario.Nodes {
		st, ok := m.Nodes[n.Name]
		if !ok {
			return nil, fmt.Errorf("no recorded state for node %s", n.Name)
		}
		wn := &walkNode{ModelNode: n, state: st, local: map[string]bool{n.PodGateway: true, "127.0.0.1": true}, ipvs0: map[string]bool{}}
		for dev, addrs := range st.Addresses {
			for _, a := range addrs {
				wn.local[a] = true
				if dev == "kube-ipvs0" {
					wn.ipvs0[a] = true
				}
			}
		}
		var err error
		if wn.nat, err = parseIPTables(st.IPTables["nat"]); err != nil {
			return nil, fmt.Errorf("%s nat: %w", n.Name, err)
		}
		cni, err := parseIPTables(m.Scenario.NodeNATRules)
		if err != nil {
			return nil, fmt.Errorf("CNI nat rules: %w", err)
		}
		for chain, rules := range cni {
			wn.nat[chain] = append(wn.nat[chain], rules...)
		}
		if wn.filter, err = parseIPTables(st.IPTables["filter"]); err != nil {
			return nil, fmt.Errorf("%s filter: %w", n.Name, err)
		}
		w.nodes[n.Name] = wn
		w.order = append(w.order, n.Name)
	}
	return w, nil
}

// podNode is the node whose pod range holds ip ("" if none).
func (w *walker) podNode(ip string) string {
	for _, name := range w.order {
		if ok, _ := inPrefix(ip, w.nodes[name].PodCIDR); ok {
			return name
		}
	}
	return ""
}

// nodeOf is the node whose own (eth0) address is ip.
func (w *walker) nodeOf(ip string) string {
	for _, name := range w.order {
		if w.nodes[name].IP == ip {
			return name
		}
	}
	return ""
}

func (w *walker) service(name string) *ModelService {
	for i := range w.sc.Services {
		if w.sc.Services[i].Name == name {
			return &w.sc.Services[i]
		}
	}
	return nil
}

func (w *walker) serviceWithIngress(ip string) *ModelService {
	for i, s := range w.sc.Services {
		for _, in := range s.Ingress {
			if in.IP == ip {
				return &w.sc.Services[i]
			}
		}
	}
	return nil
}

func (s *ModelService) port(proto string) ModelPort {
	for _, p := range s.Ports {
		if strings.EqualFold(p.Protocol, proto) {
			return p
		}
	}
	return ModelPort{}
}

func (n *walkNode) virtualServer(addr string, port int, proto string) *VirtualServer {
	for i, vs := range n.state.VirtualServers {
		if vs.Address == addr && vs.Port == port && strings.EqualFold(vs.Protocol, proto) {
			return &n.state.VirtualServers[i]
		}
	}
	return nil
}

func (n *walkNode) env() iptEnv { return iptEnv{sets: n.state.IPSets} }

// connect follows one connection from c to dst:dport.
func (w *walker) connect(c modelClient, dst string, dport int, proto string) (walkResult, error) {
	r := walkResult{local: c.ip}
	if c.kind == "external" {
		if n := w.nodeOf(dst); n != "" {
			return w.atNode(r, c.ip, n, "prerouting", dst, dport, proto)
		}
		if lb := w.testLB(dst); lb != nil {
			r.result = NA
			r.steps = append(r.steps, "the test load balancer is a pod; the runner's host has no route to the pod network")
			return r, nil
		}
		if svc := w.serviceWithIngress(dst); svc != nil {
			return w.announced(r, svc, dst, dport, proto)
		}
		r.result = Timeout
		r.steps = append(r.steps, fmt.Sprintf("no node holds %s", dst))
		return r, nil
	}
	n := w.nodes[c.node]
	hook := "prerouting"
	if c.kind == "host" {
		hook = "output"
	}
	if n.local[dst] {
		if c.kind == "host" {
			r.local = dst
			if n.ipvs0[dst] {
				r.steps = append(r.steps, fmt.Sprintf("%s holds %s on kube-ipvs0, so the node's own socket sends from %s", c.node, dst, dst))
			}
		}
		return w.atNode(r, r.local, c.node, hook, dst, dport, proto)
	}
	// The packet leaves the client's node: kube-proxy's chains and the
	// CNI's masquerade there decide the source it leaves with.
	p := &pkt{src: r.local, dst: dst, proto: strings.ToLower(proto), dport: dport, srcLocal: n.local[r.local]}
	var trace []string
	natChain := map[string]string{"prerouting": "PREROUTING", "output": "OUTPUT"}[hook]
	if _, err := n.nat.run(natChain, p, n.env(), &trace); err != nil {
		return r, fmt.Errorf("%s nat %s: %w", c.node, natChain, err)
	}
	if _, err := n.nat.run("POSTROUTING", p, n.env(), &trace); err != nil {
		return r, fmt.Errorf("%s nat POSTROUTING: %w", c.node, err)
	}
	src := r.local
	if p.masquerade && src != n.IP {
		src = n.IP
		r.steps = append(r.steps, fmt.Sprintf("%s masquerades it to %s on the way out (%s)", c.node, src, shortRule(trace)))
	}
	if to := w.nodeOf(dst); to != "" {
		return w.atNode(r, src, to, "prerouting", dst, dport, proto)
	}
	if lb := w.testLB(dst); lb != nil {
		return w.viaLB(r, src, c.node, lb, dport, proto)
	}
	r.result = Timeout
	r.steps = append(r.steps, fmt.Sprintf("%s is not local on %s and no node holds it: the packet leaves for an address nobody answers", dst, c.node))
	return r, nil
}

// ruleTo is the last rule of a trace that jumps to chain.
func ruleTo(trace []string, chain string) string {
	for i := len(trace) - 1; i >= 0; i-- {
		if strings.HasSuffix(trace[i], "-j "+chain) {
			return trace[i]
		}
	}
	return shortRule(trace)
}

// shortRule is the last rule of a trace, for notes.
func shortRule(trace []string) string {
	if len(trace) == 0 {
		return ""
	}
	return trace[len(trace)-1]
}

// announced is outside traffic to an LB IP: MetalLB L2 sends it to a node
// with an endpoint (policy Local) or to any worker (Cluster).
func (w *walker) announced(r walkResult, svc *ModelService, dst string, dport int, proto string) (walkResult, error) {
	var nodes []string
	for _, name := range w.order {
		n := w.nodes[name]
		if !n.Worker {
			continue
		}
		if svc.ExternalTrafficPolicy == "Local" && !w.hasEndpoint(name) {
			continue
		}
		nodes = append(nodes, name)
	}
	var outs []walkResult
	for _, name := range nodes {
		o, err := w.atNode(walkResult{local: r.local, steps: append(slices.Clone(r.steps), "MetalLB L2 delivers "+dst+" to "+name)}, r.local, name, "prerouting", dst, dport, proto)
		if err != nil {
			return o, err
		}
		outs = append(outs, o)
	}
	return combine(r, outs, "the answer depends on the node MetalLB announces "+dst+" from"), nil
}

func (w *walker) hasEndpoint(node string) bool {
	for _, e := range w.sc.Endpoints {
		if e.Node == node {
			return true
		}
	}
	return false
}

// atNode processes the first packet on node en: hook "prerouting" for a
// packet arriving at it, "output" for one its own sockets send.
func (w *walker) atNode(r walkResult, src, en, hook, dst string, dport int, proto string) (walkResult, error) {
	n := w.nodes[en]
	p := &pkt{src: src, dst: dst, proto: strings.ToLower(proto), dport: dport, srcLocal: n.local[src], dstLocal: n.local[dst]}
	var trace []string
	natChain := "PREROUTING"
	if hook == "output" {
		natChain = "OUTPUT"
	}
	v, err := n.nat.run(natChain, p, n.env(), &trace)
	if err != nil {
		return r, fmt.Errorf("%s nat %s: %w", en, natChain, err)
	}
	if p.mark != 0 {
		r.steps = append(r.steps, fmt.Sprintf("%s nat %s marks it for masquerade: %s", en, natChain, ruleTo(trace, "KUBE-MARK-MASQ")))
	}
	if v == "DROP" {
		return drop(r, en, "nat "+natChain, trace), nil
	}
	vs := n.virtualServer(dst, dport, proto)
	// filter INPUT sees arriving packets before IPVS (LOCAL_IN), and
	// locally generated ones only when no virtual server took them at
	// LOCAL_OUT (they loop back through lo).
	if hook == "output" {
		if v, err = n.filter.run("OUTPUT", p, n.env(), &trace); err != nil {
			return r, fmt.Errorf("%s filter OUTPUT: %w", en, err)
		}
		if v == "DROP" || v == "REJECT" {
			return reject(r, en, "filter OUTPUT", v, trace), nil
		}
	}
	if hook == "prerouting" || vs == nil {
		if v, err = n.filter.run("INPUT", p, n.env(), &trace); err != nil {
			return r, fmt.Errorf("%s filter INPUT: %w", en, err)
		}
		if v == "DROP" || v == "REJECT" {
			return reject(r, en, "filter INPUT", v, trace), nil
		}
	}
	if vs == nil {
		if n.Worker && dport == w.sc.ListenerPort {
			r.result, r.responder, r.seen = Reachable, responderNode, src
			r.steps = append(r.steps, fmt.Sprintf("%s has no virtual server for %s:%d/%s; %s is local there, so the node's own listener on 0.0.0.0:%d answers", en, dst, dport, proto, dst, dport))
			return r, nil
		}
		r.result = Refused
		r.steps = append(r.steps, fmt.Sprintf("%s has no virtual server for %s:%d/%s and %s is local there: no socket, the node answers TCP RST / ICMP port unreachable", en, dst, dport, proto, dst))
		return r, nil
	}
	if len(vs.RealServers) == 0 {
		r.result = Refused
		r.steps = append(r.steps, fmt.Sprintf("%s: IPVS %s:%d/%s has no real server, ip_vs_leave answers ICMP port unreachable", en, dst, dport, proto))
		return r, nil
	}
	var outs []walkResult
	for _, rs := range vs.RealServers {
		o, err := w.toRealServer(r, n, vs, rs, p)
		if err != nil {
			return o, err
		}
		outs = append(outs, o)
	}
	return combine(r, outs, "the answer depends on the real server IPVS picks"), nil
}

// toRealServer follows the DNATed packet to rs and the reply back.
func (w *walker) toRealServer(r walkResult, n *walkNode, vs *VirtualServer, rs RealServer, p *pkt) (walkResult, error) {
	r.steps = slices.Clone(r.steps)
	rsNode := w.podNode(rs.Address)
	q := *p
	q.dst, q.dport, q.dstLocal = rs.Address, rs.Port, n.local[rs.Address]
	var trace []string
	if _, err := n.nat.run("POSTROUTING", &q, n.env(), &trace); err != nil {
		return r, fmt.Errorf("%s nat POSTROUTING: %w", n.Name, err)
	}
	seen := q.src
	if q.masquerade {
		seen = n.IP
		if rsNode == n.Name {
			seen = n.PodGateway
		}
	}
	r.seen = seen
	masq := "no masquerade"
	if q.masquerade {
		masq = "masqueraded to " + seen
	}
	r.steps = append(r.steps, fmt.Sprintf("%s: IPVS %s:%d/%s -> %s:%d on %s, %s", n.Name, vs.Address, vs.Port, vs.Protocol, rs.Address, rs.Port, rsNode, masq))
	if rsNode != n.Name && rsNode != "" {
		rn := w.nodes[rsNode]
		f := &pkt{src: seen, dst: rs.Address, proto: p.proto, dport: rs.Port, srcLocal: rn.local[seen]}
		v, err := rn.filter.run("FORWARD", f, rn.env(), &trace)
		if err != nil {
			return r, fmt.Errorf("%s filter FORWARD: %w", rsNode, err)
		}
		if v == "DROP" || v == "REJECT" {
			return reject(r, rsNode, "filter FORWARD", v, trace), nil
		}
	}
	switch {
	case q.masquerade:
		r.result = Reachable
		r.steps = append(r.steps, "the reply returns to "+n.Name+", which reverses both NATs")
	case rsNode == n.Name:
		r.result = Reachable
		r.steps = append(r.steps, "the backend is local: its reply passes "+n.Name+"'s conntrack")
	case w.nodes[rsNode].local[seen] || w.podNode(seen) == rsNode:
		r.result = Timeout
		where := "a pod there"
		if w.nodes[rsNode].ipvs0[seen] {
			where = "on its kube-ipvs0 too"
		} else if w.nodes[rsNode].local[seen] {
			where = "its own address"
		}
		r.steps = append(r.steps, fmt.Sprintf("the reply to %s stays on %s (%s), never un-DNATed by %s", seen, rsNode, where, n.Name))
	case w.podNode(seen) == n.Name || seen == n.IP:
		r.result = Reachable
		r.steps = append(r.steps, fmt.Sprintf("the reply to %s is routed back through %s, whose conntrack reverses the DNAT", seen, n.Name))
	default:
		r.result = Timeout
		r.steps = append(r.steps, fmt.Sprintf("the reply goes from %s straight to %s, which expects it from %s:%d: dropped", rs.Address, seen, p.dst, p.dport))
	}
	return r, nil
}

// viaLB is a client of a test load balancer (an ipMode: Proxy ingress):
// kube-proxy does not capture the address, so the packet left the client's
// node (from src) for the load balancer.
func (w *walker) viaLB(r walkResult, src, from string, lb *ModelTestLB, dport int, proto string) (walkResult, error) {
	r.steps = append(r.steps, fmt.Sprintf("%s is not on kube-ipvs0 and has no virtual server (ipMode Proxy): the packet leaves %s for the load balancer", lb.Address, from))
	svc := w.service(lb.Service)
	switch {
	case dport == svc.port(proto).Port:
		relay := w.nodes[lb.RelayNode]
		np := svc.port(proto).NodePort
		o, err := w.connect(modelClient{kind: "pod", node: lb.Node, ip: lb.Address}, relay.IP, np, proto)
		if err != nil {
			return o, err
		}
		o.local = r.local
		o.steps = append(append(r.steps, fmt.Sprintf("the load balancer relays it to %s:%d (NodePort on %s)", relay.IP, np, lb.RelayNode)), o.steps...)
		return o, nil
	case dport == lb.ExtraPort:
		r.result, r.responder, r.seen = Reachable, responderLB, src
		r.steps = append(r.steps, fmt.Sprintf("the load balancer's own listener on :%d answers", dport))
	default:
		r.result = Refused
		r.steps = append(r.steps, fmt.Sprintf("the load balancer has no listener on :%d", dport))
	}
	return r, nil
}

func (w *walker) testLB(addr string) *ModelTestLB {
	for i, lb := range w.sc.LoadBalancers {
		if lb.Address == addr {
			return &w.sc.LoadBalancers[i]
		}
	}
	return nil
}

func reject(r walkResult, node, where, verdict string, trace []string) walkResult {
	r.result = Refused
	if verdict == "DROP" {
		r.result = Timeout
	}
	rule := ""
	if len(trace) > 0 {
		rule = ": " + trace[len(trace)-1]
	}
	r.steps = append(r.steps, fmt.Sprintf("%s %s %s it%s", node, where, strings.ToLower(verdict)+"s", rule))
	return r
}

func drop(r walkResult, node, where string, trace []string) walkResult {
	return reject(r, node, where, "DROP", trace)
}

// combine merges the outcomes of alternatives the client cannot choose
// (which node, which real server): one outcome if they agree, else partial.
// Each alternative's steps already start with r's.
func combine(r walkResult, outs []walkResult, why string) walkResult {
	if len(outs) == 0 {
		r.result = Timeout
		r.steps = append(r.steps, "no node receives it")
		return r
	}
	first := outs[0]
	for _, o := range outs[1:] {
		if o.result != first.result || o.responder != first.responder || sourceOf(o) != sourceOf(first) {
			r.result = Partial
			r.steps = []string{why}
			for _, x := range outs {
				r.steps = append(r.steps, x.result+": "+strings.Join(x.steps, "; "))
			}
			return r
		}
	}
	return first
}

func sourceOf(o walkResult) string {
	switch {
	case o.result != Reachable:
		return ""
	case o.seen == o.local:
		return "preserved"
	default:
		return "snat"
	}
}

// Cells walks every client, target, policy and protocol of the matrix.
func (m *IPVSModel) Cells() ([]Cell, error) {
	w, err := newWalker(m)
	if err != nil {
		return nil, err
	}
	sc := m.Scenario
	var workers []ModelNode
	for _, n := range sc.Nodes {
		if n.Worker {
			workers = append(workers, n)
		}
	}
	if len(workers) < 2 || !w.hasEndpoint(workers[0].Name) || w.hasEndpoint(workers[1].Name) {
		return nil, fmt.Errorf("the scenario needs two workers, the endpoint on the first only")
	}
	withEP, withoutEP := workers[0], workers[1]
	clients := []struct {
		name       string
		c          modelClient
		own, other ModelNode
	}{
		{"pod on node with endpoint", modelClient{"pod", withEP.Name, sc.ClientPods[withEP.Name]}, withEP, withoutEP},
		{"pod on node without endpoint", modelClient{"pod", withoutEP.Name, sc.ClientPods[withoutEP.Name]}, withoutEP, withEP},
		{"hostNetwork on node with endpoint", modelClient{"host", withEP.Name, withEP.IP}, withEP, withoutEP},
		{"hostNetwork on node without endpoint", modelClient{"host", withoutEP.Name, withoutEP.IP}, withoutEP, withEP},
		{"external host", modelClient{"external", "", sc.ExternalHost}, withoutEP, withEP},
	}
	svcFor := func(policy string, proxy bool) *ModelService {
		for i, s := range sc.Services {
			isProxy := len(s.Ingress) > 0 && s.Ingress[0].IPMode == "Proxy"
			if s.ExternalTrafficPolicy == policy && isProxy == proxy {
				return &sc.Services[i]
			}
		}
		return nil
	}
	var cells []Cell
	for _, cl := range clients {
		for _, policy := range Policies {
			for _, proto := range Protocols {
				for _, t := range Targets {
					svc := svcFor(policy, isProxyTarget(t))
					if svc == nil {
						return nil, fmt.Errorf("no %s service for %s", policy, t)
					}
					sp := svc.port(proto)
					cell := Cell{Client: cl.name, Target: t, Policy: policy, Protocol: proto}
					if cl.c.kind == "external" && t == "ClusterIP" {
						cell.Result, cell.Note = NA, "ClusterIP is not routable from outside"
						cells = append(cells, cell)
						continue
					}
					var dst string
					dport := sp.Port
					switch t {
					case "ClusterIP":
						dst = svc.ClusterIP
					case "NodePort own node":
						dst, dport = cl.own.IP, sp.NodePort
					case "NodePort other node":
						dst, dport = cl.other.IP, sp.NodePort
					case "LB IP", TargetProxyLB:
						dst = svc.Ingress[0].IP
					case "LB IP closed port", TargetProxyClosed:
						dst, dport = svc.Ingress[0].IP, sc.ClosedPort
					case TargetListener:
						dst, dport = svc.Ingress[0].IP, sc.ListenerPort
					default:
						return nil, fmt.Errorf("target %q not modelled", t)
					}
					res, err := w.connect(cl.c, dst, dport, proto)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", cell.Key(), err)
					}
					cell.Result, cell.Responder = res.result, res.responder
					if res.result == Reachable {
						cell.SourceIP = sourceOf(res)
					}
					cell.Note = strings.Join(res.steps, "; ")
					cells = append(cells, cell)
				}
			}
		}
	}
	return cells, nil
}
