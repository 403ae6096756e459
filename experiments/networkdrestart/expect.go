package networkdrestart

import (
	"slices"
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// Why each flow fares as it does, the sources of the expectations below.
const (
	srcFlush    = "aws/amazon-vpc-cni-k8s#3309: networkd removed rule 1536; egress leaves by the primary ENI, which the VPC drops; the CNI re-adds a pod's rules only on CNI ADD"
	srcBothGone = "rules 1024 and 1536 both gone: the NodePort reply takes the main table, the way the request came in"
	srcControl  = "host network: the main table, no policy rule involved"
	srcReAdd    = "CNI ADD's rules 512 and 1536 back: the ENI's table routes again (within the time an exec on the node takes)"
	srcFwmark   = "the fwmark path: the pod's rule 1536 is back, ipamd's 1024 is not, so the reply leaves by the secondary ENI with the node's address, which the VPC drops (amazon-vpc-cni-k8s pkg/networkutils: SetupHostNetwork adds 1024 only when ipamd starts)"
	srcIpamd    = "ipamd's start re-adds rule 1024 (nodeInit: SetupHostNetwork)"
	srcBySrc    = "ipamd's start sets the ENI up again (SetupENINetwork: its address deleted and re-added, so the kernel drops the table's routes until they are replaced) and rewrites the 1536 rules that exist (UpdateRuleListBySrc): a blip at most, once the restarted ipamd starts (within 10 s of the marker)"
	srcDropIn   = "ManageForeignRoutingPolicyRules=no (kops#17438, amazon-eks-ami#1539): networkd leaves the rules alone"
	srcUnmanage = "networkd drops every foreign rule whenever it configures a link it manages (systemd src/network/networkd-link.c: link_drop_foreign_config calls manager_drop_foreign_routing_policy_rules), so leaving the CNI's links unmanaged does not spare the rules while another link is managed"
)

// expected is what each flow does after the trigger and after each
// mitigation, as the sources say; the same on kind and on EKS.
var expected = []experiments.Rule{{Expect: []experiments.Expect{
	{Flow: "*/egress-*", Outcome: experiments.Never, Source: srcFlush},
	{Flow: "*/p2p-*", Outcome: experiments.Never, Source: srcFlush},
	{Flow: "*/nodeport-*", Outcome: experiments.NoOutage, Source: srcBothGone},
	{Flow: "*/ctl-*", Outcome: experiments.NoOutage, Source: srcControl},

	{Marker: mReAdd, Flow: "*/egress-*", Outcome: experiments.Recovers, Within: 3 * time.Second, Source: srcReAdd},
	{Marker: mReAdd, Flow: "*/p2p-*", Outcome: experiments.Recovers, Within: 3 * time.Second, Source: srcReAdd},
	{Marker: mReAdd, Flow: "*/nodeport-*", Outcome: experiments.Never, Source: srcFwmark},
	{Marker: mReAdd, Flow: "*/ctl-*", Outcome: experiments.NoOutage, Source: srcControl},

	{Marker: mIpamd, Flow: "*/nodeport-*", Outcome: experiments.Recovers, Source: srcIpamd},
	{Marker: mIpamd, Flow: "*/egress-*", Outcome: experiments.Recovers, Within: 10 * time.Second, Source: srcBySrc},
	{Marker: mIpamd, Flow: "*/p2p-*", Outcome: experiments.Recovers, Within: 10 * time.Second, Source: srcBySrc},
	{Marker: mIpamd, Flow: "*/ctl-*", Outcome: experiments.NoOutage, Source: srcControl},

	{Marker: mDropIn, Flow: "*/*", Outcome: experiments.NoOutage, Source: srcDropIn},

	{Marker: mUnmanaged, Flow: "*/egress-*", Outcome: experiments.Never, Source: srcUnmanage},
	{Marker: mUnmanaged, Flow: "*/p2p-*", Outcome: experiments.Never, Source: srcUnmanage},
	{Marker: mUnmanaged, Flow: "*/nodeport-*", Outcome: experiments.NoOutage, Source: srcBothGone},
	{Marker: mUnmanaged, Flow: "*/ctl-*", Outcome: experiments.NoOutage, Source: srcControl},
}}}

// expectedNewLink is the new-link trigger's: the same flush, so the same
// outcomes after it, re-adding the rules and restarting ipamd; with the
// drop-in a second new link costs nothing.
var expectedNewLink = []experiments.Rule{{Expect: append(markers(expected[0].Expect, "", mReAdd, mIpamd),
	experiments.Expect{Marker: mDropInLink, Flow: "*/*", Outcome: experiments.NoOutage, Source: srcDropIn})}}

// markers are the expectations of exps after the named markers ("": the trigger).
func markers(exps []experiments.Expect, names ...string) []experiments.Expect {
	var out []experiments.Expect
	for _, x := range exps {
		if slices.Contains(names, x.Marker) {
			out = append(out, x)
		}
	}
	return out
}
