package chaosmesh

import (
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// Kind is one fault this package injects.
type Kind string

// Kinds.
const (
	Partition   Kind = "partition"
	Loss        Kind = "loss"
	Delay       Kind = "delay"
	PodKillEcho Kind = "pod-kill"       // the echo server's pod, behind its Service
	PodKillCNI  Kind = "cni-agent-kill" // the CNI agent pod on the echo server's node
)

// Sources of the expectations below.
const (
	srcLifted   = "Chaos Mesh lifts the fault at creation + duration (desiredphase controller; creation timestamp in whole seconds, injection latency comes off the duration); nothing else holds the path"
	srcRTO      = "RFC 6298: a kept TCP connection resumes at its next retransmission, whose backoff doubled during the fault"
	srcReplaced = "the Deployment replaces the pod; kube-proxy moves the Service and deletes UDP conntrack entries of the old endpoint (kubernetes/kubernetes#127318)"
	srcDataPath = "the CNI data path (routes, iptables or eBPF maps) is kernel state that outlives its agent pod"
)

// pathCut is what a fault that cuts the path for its duration should do:
// the flows come back once Chaos Mesh lifts it; a reused TCP connection at
// its next retransmission.
var pathCut = []experiments.Rule{{Expect: []experiments.Expect{
	{Flow: "*/" + FlowUDPPinned, Outcome: experiments.Recovers, Within: 2 * time.Second, Source: srcLifted},
	{Flow: "*/" + FlowUDPFresh, Outcome: experiments.Recovers, Within: 2 * time.Second, Source: srcLifted},
	{Flow: "*/" + FlowTCPNew, Outcome: experiments.Recovers, Within: 2 * time.Second, Source: srcLifted},
	{Flow: "*/" + FlowTCPReused, Outcome: experiments.Recovers, Within: 15 * time.Second, Source: srcRTO},
}}}

// expected outcomes per fault. For the NetworkChaos kinds, Within counts from
// the end of the fault (creation + duration), and Expectations adds the
// duration; for pod kills it counts from the kill. First matching rule wins.
var expected = map[Kind][]experiments.Rule{
	Partition: pathCut,
	// 100 % loss by netem: the same cut as a partition, by tc instead of iptables.
	Loss: pathCut,
	// A delay beyond the probe timeout reads as an outage while it lasts.
	Delay: pathCut,
	PodKillEcho: {{Expect: []experiments.Expect{
		{Flow: "*/" + FlowUDPPinned, Outcome: experiments.Recovers, Within: 30 * time.Second, Source: srcReplaced},
		{Flow: "*/" + FlowUDPFresh, Outcome: experiments.Recovers, Within: 30 * time.Second, Source: srcReplaced},
		{Flow: "*/" + FlowTCPNew, Outcome: experiments.Recovers, Within: 30 * time.Second, Source: srcReplaced},
		{Flow: "*/" + FlowTCPReused, Outcome: experiments.Recovers, Within: 30 * time.Second, Source: srcReplaced + "; the killed server's socket closes, the client reconnects"},
	}}},
	PodKillCNI: {{Expect: []experiments.Expect{
		{Flow: "*/*", Outcome: experiments.Recovers, Within: 2 * time.Second, Source: srcDataPath},
	}}},
}

// expectations for kind in env. A network fault's window is shifted by its
// duration, since flows can only recover once it is lifted, and it must
// show: each flow down for at least half the duration (injection takes up to
// a few seconds per pod, and Chaos Mesh counts the duration from the
// creation timestamp, truncated to the second).
func expectations(kind Kind, env experiments.Environment, faultDuration time.Duration) []experiments.Expect {
	rows := experiments.Lookup(expected[kind], env)
	out := make([]experiments.Expect, len(rows))
	for i, x := range rows {
		if kind == Partition || kind == Loss || kind == Delay {
			x.Within += faultDuration
			x.MinOutage = faultDuration / 2
		}
		out[i] = x
	}
	return out
}
