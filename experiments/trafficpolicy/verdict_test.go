package trafficpolicy

import "testing"

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		cell Cell
		want bool
	}{
		// The seed's cells.
		{Cell{Client: "pod on node with endpoint", Target: "LB IP closed port", Policy: "Cluster", Result: Refused}, true},
		{Cell{Client: "pod on node with endpoint", Target: "LB IP closed port", Policy: "Cluster", Result: Timeout}, false},
		{Cell{Client: "external host", Target: "LB IP closed port", Policy: "Cluster", Result: Refused}, false},
		{Cell{Client: "pod on node without endpoint", Target: TargetListener, Policy: "Local", Result: Reachable, SourceIP: "preserved", Responder: responderNode}, true},
		{Cell{Client: "external host", Target: TargetListener, Policy: "Local", Result: Reachable, Responder: responderNode}, true},
		{Cell{Client: "hostNetwork on node without endpoint", Target: "LB IP", Policy: "Local", Result: Timeout}, true},
		{Cell{Client: "pod on node without endpoint", Target: "LB IP", Policy: "Local", Result: Refused}, true},
		{Cell{Client: "pod on node without endpoint", Target: "LB IP", Policy: "Local", Result: Reachable, SourceIP: "preserved"}, false},
		{Cell{Client: "pod on node without endpoint", Target: "LB IP", Policy: "Local", Result: Reachable, SourceIP: "snat"}, true},
		// Local: a NodePort of a node without an endpoint is not served, by design.
		{Cell{Client: "external host", Target: "NodePort own node", Policy: "Local", Result: Timeout}, false},
		{Cell{Client: "external host", Target: "NodePort own node", Policy: "Local", Result: Reachable, SourceIP: "snat"}, true},
		{Cell{Client: "pod on node with endpoint", Target: "NodePort other node", Policy: "Local", Result: Timeout}, false},
		// Local with an endpoint: must answer, outside source kept.
		{Cell{Client: "external host", Target: "LB IP", Policy: "Local", Result: Reachable, SourceIP: "snat"}, true},
		{Cell{Client: "external host", Target: "NodePort other node", Policy: "Local", Result: Reachable, SourceIP: "preserved"}, false},
		{Cell{Client: "pod on node without endpoint", Target: "NodePort other node", Policy: "Local", Result: Reachable, SourceIP: "snat"}, false},
		{Cell{Client: "pod on node with endpoint", Target: "NodePort own node", Policy: "Local", Result: Partial}, true},
		// Cluster: everything answers; SNAT is the price.
		{Cell{Client: "external host", Target: "LB IP", Policy: "Cluster", Result: Reachable, SourceIP: "snat"}, false},
		{Cell{Client: "pod on node with endpoint", Target: "NodePort other node", Policy: "Cluster", Result: Timeout}, true},
		{Cell{Client: "hostNetwork on node with endpoint", Target: "ClusterIP", Policy: "Local", Result: Reachable, SourceIP: "snat"}, false},
		{Cell{Client: "hostNetwork on node with endpoint", Target: "ClusterIP", Policy: "Local", Result: Timeout}, true},
		// ipMode Proxy.
		{Cell{Client: "pod on node with endpoint", Target: TargetProxyLB, Policy: "Local", Result: Reachable, SourceIP: "snat"}, false},
		{Cell{Client: "pod on node with endpoint", Target: TargetProxyClosed, Policy: "Local", Result: Timeout}, true},
		{Cell{Client: "external host", Target: TargetProxyLB, Policy: "Local", Result: NA}, false},
	} {
		got, why := Judge(c.cell)
		if got != c.want {
			t.Errorf("%s = %s: vulnerable %v (%s), want %v", c.cell.Key(), c.cell.Outcome(), got, why, c.want)
		}
		if got && why == "" {
			t.Errorf("%s: vulnerable without a reason", c.cell.Key())
		}
	}
}
