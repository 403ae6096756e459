package hostnetworkflip

import (
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// expected outcomes per direction and environment, first matching rule wins.
var expected = map[Direction][]experiments.Rule{
	ToHostNetwork: {{
		// Any kube-proxy and any portmap-based CNI: nothing deletes the
		// pinned flow's DNAT entry when the agent leaves the pod network.
		Expect: []experiments.Expect{
			{Flow: "*/pinned", Outcome: experiments.Never, Source: "kubernetes/kubernetes#58336, aws/amazon-vpc-cni-k8s#2958"},
			{Flow: "*/oneway", Outcome: experiments.Never, Source: "kubernetes/kubernetes#58336 (statsd never reads replies)"},
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "new source port per packet: new conntrack entry"},
			{Flow: "*/service", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "kube-proxy deletes UDP conntrack entries of removed endpoints"},
		},
	}},
	ToHostPort: {{
		// portmap >= v0.9.0 deletes UDP conntrack entries for the host port
		// when it adds the mapping (containernetworking/plugins#553).
		Expect: []experiments.Expect{
			{Flow: "*/pinned", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "containernetworking/plugins#553 (v0.9.0)"},
			{Flow: "*/oneway", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "containernetworking/plugins#553 (v0.9.0)"},
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "new source port per packet"},
			{Flow: "*/service", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "kube-proxy deletes UDP conntrack entries of removed endpoints"},
		},
	}},
}

// mechanism is the documented failure per direction.
var mechanism = map[Direction]experiments.Mechanism{
	ToHostNetwork: {
		Name:       "stale conntrack entry: the long-lived socket's entry still DNATs to the old agent pod after the hostPort mapping is gone, and each packet refreshes it",
		Source:     "kubernetes/kubernetes#58336, aws/amazon-vpc-cni-k8s#2958",
		Mitigation: "conntrack -D -p udp --orig-dst <nodeIP> --dport 8125 on every node after the flip, or restart the clients (new source port)",
	},
	ToHostPort: {
		Name:       "stale un-NATed conntrack entry: the long-lived socket's entry keeps delivering to the node's own port after the hostPort DNAT is added",
		Source:     "containernetworking/plugins#123, fixed on ADD by #553 (v0.9.0)",
		Mitigation: "portmap v0.9.0 or later (deletes the host port's UDP entries when it adds the mapping), or conntrack -D",
	},
}
