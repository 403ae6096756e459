package udplbrecreate

import (
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// expected outcomes by environment; the first matching rule wins.
var expected = []experiments.Rule{
	{
		// Calico's eBPF dataplane replaces kube-proxy; before v3.30 nothing
		// deletes the un-NATed entry (calico#9967). Version detection of the
		// CNI is not done yet, so this row states the old behaviour.
		CNI: "calico", ProxyMode: "none",
		Expect: []experiments.Expect{
			{Flow: "*/pinned", Outcome: experiments.Never, Source: "projectcalico/calico#9967 (< v3.30; >= v3.30 recovers within 10 s)"},
			{Flow: "*/oneway", Outcome: experiments.Never, Source: "projectcalico/calico#9967 (SNMP traps)"},
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 15 * time.Second, Source: "new source port per packet"},
		},
	},
	{
		// kube-proxy deletes UDP conntrack entries of service addresses that
		// regain endpoints; since v1.32 a reconciler does it (#127318).
		Expect: []experiments.Expect{
			{Flow: "*/pinned", Outcome: experiments.Recovers, Within: 15 * time.Second, Source: "kubernetes/kubernetes#127318, #139629, #141371"},
			{Flow: "*/oneway", Outcome: experiments.Recovers, Within: 15 * time.Second, Source: "kubernetes/kubernetes#127318 (the reconciler clears un-NATed entries)"},
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 15 * time.Second, Source: "new source port per packet"},
		},
	},
}

// mechanism is the documented failure.
var mechanism = experiments.Mechanism{
	Name:       "un-NATed conntrack entry: packets that arrived while the Service was gone made an entry without DNAT, which matches before the re-created Service's rules, so the fixed-source flow never reaches a backend",
	Source:     "projectcalico/calico#9967; kubernetes/kubernetes#127318 (kube-proxy's reconciler clears it, but only in a sync where the Service's endpoints changed, for the addresses the Services it knows then have: endpoints applied in a sync before the Service, or an LB IP assigned after them, keep their entries)",
	Mitigation: "Calico ≥ v3.30 / kube-proxy's conntrack reconciler; by hand: conntrack -D -p udp --sport <the sender's port> on the node that receives the flow",
}
