package trafficpolicy

import "strings"

// Judge says whether a cell (measured or modelled) is vulnerable — it loses
// traffic, or the client's source IP, where a user would reasonably expect
// neither — and why, in words. It is not conformance: a cell can match the
// expected table for its kube-proxy and still be vulnerable (the table
// records what kube-proxy does, Judge what that costs the user).
//
// What a user may expect, per target:
//   - ClusterIP: every in-cluster client reaches it, whatever the policy.
//   - NodePort and LB IP under policy Cluster: every client reaches them
//     (SNAT is the documented price).
//   - Under policy Local: a node with an endpoint answers and outside
//     clients keep their source IP; a NodePort of a node without an
//     endpoint is not served (documented: the load balancer's health check
//     avoids that node), but if it does answer it must not have lost the
//     outside client's address; in-cluster clients of the LB IP are sent to
//     the endpoints wherever they are (iptables since v1.15, IPVS since
//     v1.24) and a pod keeps its address.
//   - Ports of the LB IP no Service port claims (closed, or where a host
//     process listens): an in-cluster client should get what the load
//     balancer gives; a refusal or a host process from its own node is the
//     seed's failure. A timeout means the packet left for the load
//     balancer (on kind nothing listens there).
//   - ipMode Proxy: in-cluster clients reach the load balancer, its Service
//     port and its own other listeners (the source is the load balancer's,
//     as with any proxying load balancer).
func Judge(c Cell) (vulnerable bool, why string) {
	if c.Result == NA || c.Result == "" {
		return false, ""
	}
	kind := clientKind(c.Client)
	lost := c.Result != Reachable
	got := c.Outcome()
	switch c.Target {
	case "ClusterIP":
		if lost {
			return true, "the ClusterIP, which every in-cluster client reaches whatever the policy, gives " + got
		}
	case "NodePort own node", "NodePort other node", "LB IP":
		hasEP := receivingHasEndpoint(c)
		if c.Policy != "Local" {
			if lost {
				return true, "policy Cluster: every node forwards to every endpoint, yet this client gets " + got
			}
			return false, ""
		}
		if c.Target == "LB IP" && kind != "external" && !hasEP {
			if lost {
				why := "in-cluster clients of a Local LB IP on a node without an endpoint are meant to be sent to the endpoints (iptables since v1.15, IPVS since v1.24: kubernetes#97081), yet this one gets " + got
				if kind == "host" {
					why += " (hostNetwork clients: kubernetes#93456, still open)"
				}
				return true, why
			}
			if kind == "pod" && c.SourceIP == "snat" {
				return true, "policy Local: the pod reached the LB IP but the backend saw a SNAT address, not the pod's"
			}
			return false, ""
		}
		if !hasEP {
			// A NodePort of a node without an endpoint: not served, by design.
			if !lost && kind == "external" && c.SourceIP == "snat" {
				return true, "policy Local: a node without an endpoint forwarded outside traffic and the backend lost the client's IP (SNAT)"
			}
			return false, ""
		}
		if lost {
			return true, "policy Local: the node that receives this holds an endpoint and should answer, yet this client gets " + got
		}
		if c.SourceIP == "snat" && (kind == "external" || kind == "pod" && c.Target == "LB IP") {
			return true, "policy Local promises the client's source IP; the backend saw a SNAT address"
		}
	case "LB IP closed port", TargetListener:
		if c.Responder == responderNode {
			if kind == "external" {
				return true, "a process on the node answers outside clients through the LB IP"
			}
			return true, "the LB IP is local on the client's node: a node-local process answers instead of the load balancer (the seed)"
		}
		if kind != "external" && c.Result == Refused {
			return true, "the client's own node refuses the LB IP's other ports: the load balancer's other listeners are unreachable from inside the cluster (the seed's :443)"
		}
	case TargetProxyLB:
		if lost {
			return true, "ipMode Proxy sends in-cluster clients to the load balancer, yet this one gets " + got
		}
	case TargetProxyClosed:
		if lost {
			return true, "ipMode Proxy: the load balancer's own listener on this port should answer in-cluster clients, yet this one gets " + got
		}
	}
	return false, ""
}

// clientKind is pod, host (hostNetwork) or external.
func clientKind(name string) string {
	switch {
	case strings.HasPrefix(name, "pod "):
		return "pod"
	case strings.HasPrefix(name, "hostNetwork "):
		return "host"
	case strings.HasPrefix(name, "external"):
		return "external"
	}
	return ""
}

// receivingHasEndpoint says whether the node that first handles the cell's
// traffic holds the endpoint: the NodePort's node, or for the LB IP the
// client's own node (in-cluster traffic is captured there) or, from
// outside, a node the load balancer picks (one with an endpoint under
// Local). The external host's "own node" is the one without the endpoint.
func receivingHasEndpoint(c Cell) bool {
	onEP := strings.Contains(c.Client, "with endpoint")
	if clientKind(c.Client) == "external" {
		return c.Target != "NodePort own node"
	}
	switch c.Target {
	case "NodePort other node":
		return !onEP
	default:
		return onEP
	}
}
