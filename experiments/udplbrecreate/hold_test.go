package udplbrecreate

import (
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/reports"
)

// The one-way flow's entry as kube-proxy v1.34.2 leaves it once its backend
// 10.244.2.7 is deleted: still DNATed there, [UNREPLIED].
const (
	staleLine = "udp 17 29 src=10.244.1.12 dst=10.96.44.10 sport=40163 dport=162 [UNREPLIED] src=10.244.2.7 dst=10.244.1.12 sport=1162 dport=40163 mark=0 use=1"
	liveLine  = "udp 17 29 src=10.244.1.12 dst=10.96.44.10 sport=40162 dport=162 src=10.244.2.9 dst=10.244.1.12 sport=1162 dport=40162 [ASSURED] mark=0 use=1"
	plainLine = "udp 17 29 src=10.244.1.12 dst=10.96.44.10 sport=40162 dport=162 [UNREPLIED] src=10.96.44.10 dst=10.244.1.12 sport=162 dport=40162 mark=0 use=1"
)

func held() *trial {
	return &trial{v: ScaleToZeroHold, target: "10.96.44.10:162", deleted: map[string]bool{"10.244.2.7": true, "10.244.1.5": true}}
}

func TestStaleDNAT(t *testing.T) {
	x := held()
	if got := x.staleDNAT(experiments.ParseConntrack(staleLine + "\n" + liveLine + "\n" + plainLine)); got != "stale DNAT to a deleted backend: sport 40163 → 10.244.2.7:1162" {
		t.Errorf("staleDNAT = %q: want only the entry DNATed to a deleted backend", got)
	}
	if got := x.staleDNAT(experiments.ParseConntrack(plainLine)); got != "" {
		t.Errorf("an un-NATed entry (what a REJECT leaves) is no stale DNAT: %q", got)
	}
}

func heldEvidence(shows ...string) []experiments.Evidence {
	var ev []experiments.Evidence
	for i, s := range shows {
		node := []string{"control-plane", "worker", "worker2"}[i]
		ev = append(ev, experiments.Evidence{Name: "conntrack fixed sources :40162, :40163 on " + node, When: HeldWhen, Text: "...", Shows: s},
			experiments.Evidence{Name: "kube-proxy counters on " + node, When: HeldWhen, Text: "..."})
	}
	return append(ev, experiments.Evidence{Name: "conntrack fixed sources :40162, :40163 on worker", When: "after trigger", Shows: "un-NATed conntrack entry"})
}

func TestAssessHold(t *testing.T) {
	stale := "stale DNAT to a deleted backend: sport 40163 → 10.244.2.7:1162"
	v134 := experiments.Environment{KubeProxyMode: "iptables", KubeProxyVersion: "v1.34.2"}
	v131 := experiments.Environment{KubeProxyMode: "iptables", KubeProxyVersion: "v1.31.14"}
	for _, c := range []struct {
		name     string
		env      experiments.Environment
		ev       []experiments.Evidence
		verdict  string
		match    bool
		observed string
	}{
		{"v1.34 keeps them: the bug, as expected", v134, heldEvidence(stale, "", stale), string(reports.Vulnerable), true, "on 2 of 3 nodes (control-plane: sport 40163 → 10.244.2.7:1162; worker2:"},
		{"v1.31 clears them: as expected", v131, heldEvidence("", "", ""), "", true, "none DNATed to a deleted backend on any node"},
		{"v1.31 keeping them is a finding", v131, heldEvidence("", stale, ""), string(reports.Vulnerable), false, "on 1 of 3 nodes"},
		{"a v1.34 that cleared them: better than expected", v134, heldEvidence("", "", ""), "", false, "none"},
		{"v1.37 has the fix", experiments.Environment{KubeProxyMode: "nftables", KubeProxyVersion: "v1.37.2"}, heldEvidence("", ""), "", true, "none"},
		{"unknown kube-proxy: no expectation", experiments.Environment{KubeProxyMode: "iptables"}, heldEvidence(stale), string(reports.Vulnerable), true, "on 1 of 1 nodes"},
		{"a node not read", v134, append(heldEvidence("", ""), experiments.Evidence{Name: "conntrack fixed sources :40162 on worker2", When: HeldWhen, Text: "error: exec: timeout"}), "", false, "not read on worker2"},
	} {
		cells := held().Assess(c.env, c.ev)
		if len(cells) != 1 {
			t.Fatalf("%s: %d cells, want 1", c.name, len(cells))
		}
		got := cells[0]
		if got.Verdict != c.verdict || got.Match != c.match || !strings.Contains(got.Observed, c.observed) {
			t.Errorf("%s: verdict %q match %v observed %q; want %q %v %q", c.name, got.Verdict, got.Match, got.Observed, c.verdict, c.match, c.observed)
		}
	}
	if cells := held().Assess(v134, heldEvidence()); cells != nil {
		t.Errorf("no evidence from the hold (the inject failed before it): no cell, got %+v", cells)
	}
	if cells := (&trial{v: ClusterIP}).Assess(v134, heldEvidence(stale)); cells != nil {
		t.Errorf("only the hold variant assesses: %+v", cells)
	}
}
