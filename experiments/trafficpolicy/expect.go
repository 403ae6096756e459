package trafficpolicy

import (
	"sync"

	"github.com/netchaos/netchaos/experiments"
)

// Expected results per cell for kube-proxy in iptables or nftables mode, as
// documented upstream; keys are Cell.Key(). Cells not listed are recorded
// without an expectation. The IPVS rows are modelled (ipvsmodel.go).
var iptablesCells = map[string]want{
	// ClusterIP ignores externalTrafficPolicy; pods are not masqueraded.
	"pod on node with endpoint → ClusterIP, policy Cluster":    {Reachable + " (preserved)", "ClusterIP is unaffected by externalTrafficPolicy"},
	"pod on node without endpoint → ClusterIP, policy Cluster": {Reachable + " (preserved)", "ClusterIP is unaffected by externalTrafficPolicy"},
	"pod on node with endpoint → ClusterIP, policy Local":      {Reachable + " (preserved)", "ClusterIP is unaffected by externalTrafficPolicy"},
	"pod on node without endpoint → ClusterIP, policy Local":   {Reachable + " (preserved)", "ClusterIP is unaffected by externalTrafficPolicy"},
	// Cluster: every node forwards to every endpoint; the source is lost.
	"external host → NodePort own node, policy Cluster":   {Reachable + " (snat)", "externalTrafficPolicy=Cluster: SNAT, any node forwards"},
	"external host → NodePort other node, policy Cluster": {Reachable + " (snat)", "externalTrafficPolicy=Cluster: SNAT, any node forwards"},
	"external host → LB IP, policy Cluster":               {Reachable + " (snat)", "externalTrafficPolicy=Cluster: SNAT"},
	// Local: only nodes with an endpoint answer outside traffic, source kept.
	"external host → LB IP, policy Local":               {Reachable + " (preserved)", "externalTrafficPolicy=Local preserves the client IP"},
	"external host → NodePort other node, policy Local": {Reachable + " (preserved)", "the other node of this client holds the endpoint"},
	"external host → NodePort own node, policy Local":   {Timeout, "externalTrafficPolicy=Local: a node without endpoints drops outside traffic"},
	// In-cluster clients on a node without an endpoint are sent to the
	// cluster-wide endpoints (iptables since v1.15, kubernetes#77523).
	"pod on node without endpoint → LB IP, policy Local":         {Reachable, "kubernetes#77523: in-cluster traffic to the LB IP short-circuits to all endpoints"},
	"hostNetwork on node without endpoint → LB IP, policy Local": {Reachable, "kubernetes#77523; uablrek in #93456 reports hostNetwork clients still broken in IPVS mode"},
	"pod on node with endpoint → LB IP, policy Local":            {Reachable, "local endpoint"},
	// A port of the LB IP nothing listens on is not captured by kube-proxy:
	// the packet leaves for the LB address (IPVS answers it with a refusal).
	"pod on node with endpoint → LB IP closed port, policy Cluster":    {Timeout, "iptables/nftables do not own the LB IP (IPVS: connection refused, the ACK article)"},
	"pod on node without endpoint → LB IP closed port, policy Cluster": {Timeout, "iptables/nftables do not own the LB IP (IPVS: connection refused, the ACK article)"},
}

// inCluster are the in-cluster client placements.
var inCluster = []string{"pod on node with endpoint", "pod on node without endpoint", "hostNetwork on node with endpoint", "hostNetwork on node without endpoint"}

func init() {
	// UDP goes through the same kube-proxy rules as TCP: every TCP row holds
	// for UDP (all 80 UDP cells measured equal to their TCP twins on kind
	// v1.34.2, iptables and nftables).
	var tcp []string
	for k := range iptablesCells {
		tcp = append(tcp, k)
	}
	for _, k := range tcp {
		iptablesCells[k+", UDP"] = iptablesCells[k]
	}
	for _, cl := range inCluster {
		for _, p := range Policies {
			for _, proto := range Protocols {
				key := func(t string) string { return Cell{Client: cl, Target: t, Policy: p, Protocol: proto}.Key() }
				iptablesCells[key(TargetListener)] = want{Timeout, "iptables/nftables do not own the LB IP: the packet leaves the node, its own listener is never reached (on kind nothing answers at the MetalLB address)"}
				iptablesCells[key(TargetProxyLB)] = want{Reachable + " (snat)", "KEP-1860: kube-proxy captures no ipMode Proxy address; the load balancer relays to a NodePort, so the backend sees the load balancer's address"}
				iptablesCells[key(TargetProxyClosed)] = want{Reachable + " (preserved) from the " + responderLB, "KEP-1860: in-cluster clients reach the load balancer itself, and its other listeners"}
			}
		}
	}
}

// want is an expected cell: "reachable" alone says nothing about the
// source IP; "reachable (snat)" or "reachable (preserved)" also checks it.
type want struct{ outcome, source string }

func (w want) matches(c Cell) bool {
	if w.outcome == c.Result {
		return true
	}
	return w.outcome == c.Outcome()
}

// Before kubernetes#77523 (v1.15) the iptables KUBE-XLB chain of a node
// without local endpoints marked in-cluster traffic to a Local LB IP for drop.
var iptablesBefore77523 = map[string]want{
	"pod on node without endpoint → LB IP, policy Local":         {Timeout, "before kubernetes#77523 (v1.15): KUBE-XLB with no local endpoint drops"},
	"hostNetwork on node without endpoint → LB IP, policy Local": {Timeout, "before kubernetes#77523 (v1.15): KUBE-XLB with no local endpoint drops"},
}

// expected is the table of expected matrices by environment: the first
// matching rule wins. The iptables >= 1.15 and nftables rows are verified on
// this project's kind clusters (v1.30, v1.34); the IPVS rows are derived
// from kube-proxy's own IPVS proxier (IPVSVariants, ipvsmodel.go), never
// written by hand.
var expected = []struct {
	rule  experiments.Rule
	cells func() map[string]want
}{
	{experiments.Rule{ProxyMode: "iptables", MinMinor: 15}, func() map[string]want { return iptablesCells }},
	{experiments.Rule{ProxyMode: "iptables", MaxMinor: 14}, func() map[string]want { return overlay(iptablesCells, iptablesBefore77523) }},
	{experiments.Rule{ProxyMode: "nftables"}, func() map[string]want { return iptablesCells }},
}

func init() {
	for _, v := range IPVSVariants {
		expected = append(expected, struct {
			rule  experiments.Rule
			cells func() map[string]want
		}{v.Rule, ipvsTable(v.File)})
	}
}

// ipvsTable derives a model's expected table once.
func ipvsTable(file string) func() map[string]want {
	var once sync.Once
	var cells map[string]want
	return func() map[string]want {
		once.Do(func() {
			var err error
			if cells, err = ipvsExpected(file); err != nil {
				// The recorded models are tested (TestIPVSModelsLoad); a
				// broken one leaves the rows without expectation.
				cells = nil
			}
		})
		return cells
	}
}

// overlay is base with the cells of over replaced or added and the open
// rows removed (recorded without an expectation).
func overlay(base, over map[string]want, open ...string) map[string]want {
	out := make(map[string]want, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	for _, k := range open {
		delete(out, k)
	}
	return out
}

// Expected returns the expected cells for env (nil when there is no table).
func Expected(env experiments.Environment) map[string]want {
	for _, e := range expected {
		if e.rule.Matches(env) {
			return e.cells()
		}
	}
	return nil
}
