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
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "new source port per packet: new conntrack entry"},
			{Flow: "*/service", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "kube-proxy deletes UDP conntrack entries of removed endpoints"},
		},
	}},
	ToHostPort: {{
		// portmap >= v0.9.0 deletes UDP conntrack entries for the host port
		// when it adds the mapping (containernetworking/plugins#553).
		Expect: []experiments.Expect{
			{Flow: "*/pinned", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "containernetworking/plugins#553 (v0.9.0)"},
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "new source port per packet"},
			{Flow: "*/service", Outcome: experiments.Recovers, Within: 30 * time.Second, Source: "kube-proxy deletes UDP conntrack entries of removed endpoints"},
		},
	}},
}
