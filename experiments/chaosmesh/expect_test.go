package chaosmesh

import (
	"testing"
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// Every fault has an expectation after the trigger for each of the four
// flows, and a network fault's recovery window starts when Chaos Mesh lifts
// it, not when it is created.
func TestExpectations(t *testing.T) {
	env := experiments.Environment{Provider: "kind", KubeProxyMode: "iptables", Minor: 34}
	const d = 10 * time.Second
	for _, tc := range []struct {
		kind      Kind
		flow      string
		want      time.Duration // Within
		minOutage time.Duration
	}{
		{Partition, "w1/" + FlowUDPPinned, d + 2*time.Second, d / 2},
		{Partition, "w1/" + FlowUDPFresh, d + 2*time.Second, d / 2},
		{Partition, "w1/" + FlowTCPNew, d + 2*time.Second, d / 2},
		{Partition, "w1/" + FlowTCPReused, d + 15*time.Second, d / 2},
		{Loss, "cp/" + FlowUDPPinned, d + 2*time.Second, d / 2},
		{Loss, "cp/" + FlowTCPReused, d + 15*time.Second, d / 2},
		{Delay, "w2/" + FlowUDPFresh, d + 2*time.Second, d / 2},
		{Delay, "w2/" + FlowTCPReused, d + 15*time.Second, d / 2},
		{PodKillEcho, "w1/" + FlowUDPPinned, 30 * time.Second, 0},
		{PodKillEcho, "w1/" + FlowTCPReused, 30 * time.Second, 0},
		{PodKillCNI, "w1/" + FlowTCPNew, 2 * time.Second, 0},
		{PodKillCNI, "w2/" + FlowUDPPinned, 2 * time.Second, 0},
	} {
		x, ok := experiments.For(expectations(tc.kind, env, d), "trigger", tc.flow)
		if !ok {
			t.Errorf("%s: no expectation for %s", tc.kind, tc.flow)
			continue
		}
		if x.Outcome != experiments.Recovers || x.Within != tc.want || x.Source == "" || x.MinOutage != tc.minOutage {
			t.Errorf("%s %s: %s (source %q), want down ≥ %s, recovers within %s, with a source", tc.kind, tc.flow, x.Want(), x.Source, tc.minOutage, tc.want)
		}
	}
}

// The table must not be changed by computing a run's expectations.
func TestExpectationsLeaveTableAlone(t *testing.T) {
	env := experiments.Environment{}
	expectations(Partition, env, time.Minute)
	if got := expected[Partition][0].Expect[0].Within; got != 2*time.Second {
		t.Fatalf("table row changed to %s", got)
	}
}

// What the runner would observe, judged against the partition's table: the
// flows must be down for the fault and back just after it.
func TestPartitionVerdicts(t *testing.T) {
	const d = 10 * time.Second
	exps := expectations(Partition, experiments.Environment{}, d)
	for _, tc := range []struct {
		flow  string
		obs   experiments.Observed
		match bool
	}{
		{"w1/" + FlowUDPPinned, experiments.Observed{Outcome: experiments.Recovers, After: 11 * time.Second, Outage: 10500 * time.Millisecond, Longest: 10500 * time.Millisecond, LongestAfter: 11 * time.Second}, true},
		{"w1/" + FlowUDPPinned, experiments.Observed{Outcome: experiments.Recovers, After: 14 * time.Second, Outage: 13 * time.Second, Longest: 13 * time.Second, LongestAfter: 14 * time.Second}, false},
		{"w1/" + FlowUDPPinned, experiments.Observed{Outcome: experiments.Never, Outage: 40 * time.Second, Longest: 40 * time.Second, LongestAfter: 45 * time.Second, LongestOpen: true}, false},
		// the partition never reached the flow, or barely
		{"w1/" + FlowUDPPinned, experiments.Observed{Outcome: experiments.NoOutage}, false},
		{"w1/" + FlowUDPFresh, experiments.Observed{Outcome: experiments.Recovers, After: 10 * time.Second, Outage: 300 * time.Millisecond, Longest: 300 * time.Millisecond, LongestAfter: 10 * time.Second}, false},
		// seen at load 24: a blip just before the trigger, then the partition
		{"w1/" + FlowUDPFresh, experiments.Observed{Outcome: experiments.Recovers, After: 2 * time.Millisecond, Outage: 49 * time.Millisecond, Longest: 9 * time.Second, LongestAfter: 10 * time.Second}, true},
		{"w1/" + FlowTCPReused, experiments.Observed{Outcome: experiments.Recovers, After: 22 * time.Second, Outage: 21 * time.Second, Longest: 21 * time.Second, LongestAfter: 22 * time.Second}, true},
		{"w1/" + FlowTCPReused, experiments.Observed{Outcome: experiments.Recovers, After: 30 * time.Second, Outage: 29 * time.Second, Longest: 29 * time.Second, LongestAfter: 30 * time.Second}, false},
	} {
		x, ok := experiments.For(exps, "trigger", tc.flow)
		if !ok {
			t.Fatalf("no expectation for %s", tc.flow)
		}
		if got := x.Matches(tc.obs); got != tc.match {
			t.Errorf("%s observed %s: match %v, want %v (expect %s)", tc.flow, tc.obs, got, tc.match, x.Want())
		}
	}
}
