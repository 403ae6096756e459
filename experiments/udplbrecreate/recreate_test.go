package udplbrecreate

import (
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/probe"
)

func TestUnNATed(t *testing.T) {
	seed := "udp 17 28 src=10.244.1.12 dst=172.18.255.200 sport=40162 dport=162 [UNREPLIED] src=172.18.255.200 dst=10.244.1.12 sport=162 dport=40162 mark=0 use=1"
	natted := "udp 17 118 src=10.244.1.12 dst=172.18.255.200 sport=40163 dport=162 src=10.244.2.7 dst=10.244.1.12 sport=1162 dport=40163 [ASSURED] mark=0 use=1"
	if got := unNATed(experiments.ParseConntrack(seed + "\n" + natted)); !strings.Contains(got, "sport 40162 → 172.18.255.200:162") || strings.Contains(got, "40163") {
		t.Errorf("unNATed = %q, want only the un-NATed sport 40162 entry", got)
	}
	if got := unNATed(experiments.ParseConntrack(natted)); got != "" {
		t.Errorf("a DNATed entry is not the seed's state: %q", got)
	}
	transit := "udp 17 29 src=10.244.1.12 dst=10.244.2.101 sport=40162 dport=1162 [UNREPLIED] src=10.244.2.101 dst=10.244.1.12 sport=1162 dport=40162 mark=0 use=1"
	x := &trial{v: LoadBalancer, target: "172.18.255.200:162"}
	if got := x.toService(experiments.Node{Name: "w", IP: "172.18.0.3"}, experiments.ParseConntrack(transit+"\n"+seed)); len(got) != 1 || got[0].Orig.Sport != 40162 || got[0].Orig.Dst != "172.18.255.200" {
		t.Errorf("toService = %+v: want only the entry addressed to the LB IP (another node's DNATed flow arriving at its backend is transit)", got)
	}
}

// A NodePort is DNATed only on the node whose address the flow targets:
// another node's entry for it is un-NATed by design (the failure CI hit:
// the mitigation "failed" to delete entries that every packet re-made).
func TestToServiceNodePort(t *testing.T) {
	onSource := "udp 17 29 src=172.18.0.4 dst=172.18.0.3 sport=40162 dport=31284 [UNREPLIED] src=172.18.0.3 dst=172.18.0.4 sport=31284 dport=40162 mark=0 use=1"
	x := &trial{v: NodePort, target: "172.18.0.3:31284"}
	if got := x.toService(experiments.Node{Name: "control-plane", IP: "172.18.0.4"}, experiments.ParseConntrack(onSource)); len(got) != 0 {
		t.Errorf("on the sending node the NodePort flow is transit, got %+v", got)
	}
	if got := x.toService(experiments.Node{Name: "worker", IP: "172.18.0.3"}, experiments.ParseConntrack(onSource)); len(got) != 1 {
		t.Errorf("on the NodePort's own node an un-NATed entry is the seed's state, got %+v", got)
	}
}

func TestInterpretMisdelivery(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	markers := []probe.Marker{{Name: "trigger", At: t0}, {Name: "service deleted", At: t0.Add(time.Second), Event: true}, {Name: "service re-created", At: t0.Add(6 * time.Second), Event: true}}
	var s []probe.Sample
	for i := range 100 {
		s = append(s, probe.Sample{Seq: uint64(i), Sent: t0.Add(time.Duration(i) * 100 * time.Millisecond), Result: probe.OK})
	}
	ev := (&trial{v: LoadBalancer}).Interpret([]experiments.FlowResult{{Name: "w/pinned", Samples: s}}, markers)
	if len(ev) != 1 || !strings.Contains(ev[0].Text, "w/pinned: 50 answers while the Service did not exist") || !strings.Contains(ev[0].Shows, "misdelivery") {
		t.Fatalf("Interpret = %+v, want 50 misdelivered answers", ev)
	}
	lost := append([]probe.Sample(nil), s...)
	for i := range lost {
		lost[i].Result = probe.Timeout
	}
	if ev := (&trial{v: LoadBalancer}).Interpret([]experiments.FlowResult{{Name: "w/pinned", Samples: lost}}, markers); len(ev) != 0 {
		t.Errorf("no answers, no misdelivery: %+v", ev)
	}
}
