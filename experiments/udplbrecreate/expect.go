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
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 15 * time.Second, Source: "new source port per packet"},
		},
	},
	{
		// kube-proxy deletes UDP conntrack entries of service addresses that
		// regain endpoints; since v1.32 a reconciler does it (#127318).
		Expect: []experiments.Expect{
			{Flow: "*/pinned", Outcome: experiments.Recovers, Within: 15 * time.Second, Source: "kubernetes/kubernetes#127318, #139629, #141371"},
			{Flow: "*/fresh", Outcome: experiments.Recovers, Within: 15 * time.Second, Source: "new source port per packet"},
		},
	},
}
