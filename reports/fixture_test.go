package reports

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netchaos/netchaos/probe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is the fixture's trigger time.
var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// flowSpec describes a synthetic flow: probes every 10 ms from t0+from to
// t0+to, lost in [lostFrom, lostTo) (lostTo < 0: lost until the end,
// refused instead of timing out when refused is set), answered by who(at).
type flowSpec struct {
	name             string
	mode             probe.Mode
	from, to         time.Duration
	lostFrom, lostTo time.Duration
	refused          bool
	who              func(rel time.Duration) (probe.Identity, string)
}

func (fs flowSpec) samples() []probe.Sample {
	var out []probe.Sample
	for i, rel := 0, fs.from; rel < fs.to; i, rel = i+1, rel+10*time.Millisecond {
		s := probe.Sample{Flow: fs.name, Mode: fs.mode, Seq: uint64(i), Sent: t0.Add(rel), Result: probe.OK, RTT: 300 * time.Microsecond}
		s.Responder, s.SeenSource = fs.who(rel)
		if rel >= fs.lostFrom && (fs.lostTo < 0 || rel < fs.lostTo) {
			s.Result, s.Responder, s.SeenSource, s.RTT = probe.Timeout, probe.Identity{}, "", 0
			if fs.refused {
				s.Result = probe.Refused
			}
		}
		out = append(out, s)
	}
	return out
}

func (fs flowSpec) flow(markers []probe.Marker, desc string) Flow {
	s := fs.samples()
	st := probe.Analyze(s, markers, t0.Add(fs.to))
	return Flow{Name: fs.name, Description: desc, Stats: StatsOf(st), Timeline: Bucketize(s, st.WindowStart, st.WindowEnd, 10*time.Millisecond, markers)}
}

// control marks a flow as a control flow.
func control(f Flow) Flow { f.Control = true; return f }

func pod(name, ip, node string) func(time.Duration) (probe.Identity, string) {
	return func(time.Duration) (probe.Identity, string) {
		return probe.Identity{Pod: name, IP: ip, Node: node}, "10.244.1.12:48125"
	}
}

// fixture is a synthetic report with the shapes a real one has: a pinned
// UDP flow that never recovers, a fresh flow with a 120 ms outage, a TCP
// flow whose responder changes, a flow within budget that deviates from the
// table, a reachability matrix and a not-applicable experiment.
func fixture() *Report {
	m1 := []probe.Marker{{Name: "trigger", At: t0}}
	agentOld := pod("statsd-agent-x7k2p", "10.244.1.7", "worker")
	agentNew := func(time.Duration) (probe.Identity, string) {
		return probe.Identity{Pod: "statsd-agent-q9d4m", IP: "172.18.0.4", Node: "worker"}, "10.244.1.12:40001"
	}
	flip := func(at time.Duration) func(time.Duration) (probe.Identity, string) {
		return func(rel time.Duration) (probe.Identity, string) {
			if rel < at {
				return agentOld(rel)
			}
			return agentNew(rel)
		}
	}
	t1 := Experiment{
		Name: "hostport-to-hostnetwork", Title: "T1 · DaemonSet hostPort → hostNetwork flip",
		Trigger: "patch DaemonSet statsd-agent: hostPort 8125 → hostNetwork", Sources: []string{"kubernetes/kubernetes#58336", "containernetworking/plugins#123"},
		Budget: 5 * time.Second, Interval: 10 * time.Millisecond, Started: t0.Add(-10 * time.Second), Finished: t0.Add(60 * time.Second), Markers: MarkersOf(m1),
		Mechanism: &Mechanism{Name: "stale conntrack entry still DNATed to the old agent pod", Source: "kubernetes/kubernetes#58336", Mitigation: "conntrack -D for the agent port"},
		Flows: []Flow{
			flowSpec{"worker/udp-pinned", probe.UDPPinned, -5 * time.Second, 60 * time.Second, 0, -1, false, agentOld}.flow(m1, "one socket to status.hostIP:8125, like a statsd client"),
			control(flowSpec{"worker/udp-fresh", probe.UDPFresh, -5 * time.Second, 60 * time.Second, 1200 * time.Millisecond, 1320 * time.Millisecond, false, flip(1320 * time.Millisecond)}.flow(m1, "new socket per probe")),
			flowSpec{"worker/tcp-reused", probe.TCPReused, -5 * time.Second, 60 * time.Second, 1100 * time.Millisecond, 1450 * time.Millisecond, true, flip(1450 * time.Millisecond)}.flow(m1, ""),
		},
		Expectations: []Expectation{
			{Case: "worker/udp-pinned after trigger", Expected: "never recovers", Observed: "never recovered within the 60 s window", Match: true, Source: "kubernetes/kubernetes#58336"},
			{Case: "worker/tcp-reused after trigger", Expected: "no outage", Observed: "recovered after 1.450 s", Match: false, Conformance: "worse"},
			{Case: "worker/udp-fresh after trigger", Expected: "recovers within 5 s", Observed: "recovered after 1.320 s", Match: true},
		},
		Evidence: []Evidence{
			{Name: "conntrack on worker", When: Before, Text: "udp 17 29 src=10.244.1.12 dst=172.18.0.3 sport=48125 dport=8125 src=10.244.1.7 dst=10.244.1.12 sport=8125 dport=48125 [ASSURED] mark=0 use=1"},
			{Name: "conntrack on worker", When: After, Shows: "stale conntrack entry", Text: "udp 17 29 src=10.244.1.12 dst=172.18.0.3 sport=48125 dport=8125 src=10.244.1.7 dst=10.244.1.12 sport=8125 dport=48125 [ASSURED] mark=0 use=1\n(1 entry: still NATed to the deleted pod 10.244.1.7)"},
		},
	}
	Judge(&t1)
	m2 := []probe.Marker{{Name: "trigger", At: t0}, {Name: "service re-created", At: t0.Add(1500 * time.Millisecond), Event: true}, {Name: "calico conntrack remove", At: t0.Add(15 * time.Second)}}
	t2 := Experiment{
		Name: "udp-lb-recreate", Title: "T2 · UDP LoadBalancer Service deleted and re-created",
		Trigger: "delete and re-create Service snmp-trap (type LoadBalancer, UDP 162)", Sources: []string{"projectcalico/calico#9967"},
		Budget: 15 * time.Second, Interval: 10 * time.Millisecond, Started: t0.Add(-5 * time.Second), Finished: t0.Add(30 * time.Second), Markers: MarkersOf(m2),
		Flows: []Flow{
			flowSpec{"external/udp-pinned", probe.UDPPinned, -3 * time.Second, 30 * time.Second, 0, 10410 * time.Millisecond, false, pod("snmp-trap-5c9d", "10.244.2.9", "worker2")}.flow(m2, "fixed source 172.18.0.100:40162 to the LB IP"),
		},
		Expectations: []Expectation{{Case: "external/udp-pinned after trigger", Expected: "recovers within 10.010 s", Observed: "recovered after 10.410 s", Match: false, Conformance: "worse", Source: "projectcalico/calico#10049"}},
	}
	Judge(&t2)
	t4 := Experiment{Name: "traffic-policy-matrix", Title: "T4 · LoadBalancer IP from inside the cluster", Trigger: "none (reachability matrix)",
		Started: t0.Add(70 * time.Second), Finished: t0.Add(100 * time.Second),
		Expectations: []Expectation{
			{Case: "pod on node without endpoint → LB IP, policy Local", Expected: "reachable, source IP lost", Observed: "reachable, source IP lost", Match: true, Source: "kubernetes/kubernetes#97081"},
			{Case: "hostNetwork pod on node without endpoint → LB IP, policy Local", Expected: "reachable", Observed: "timeout", Match: false, Conformance: "worse", Source: "kubernetes/kubernetes#93456", Verdict: string(Vulnerable)},
			{Case: "pod → LB IP :443 (no listener)", Expected: "refused", Observed: "refused", Match: true},
		}}
	Judge(&t4)
	t3 := Experiment{Name: "networkd-restart", Title: "T3 · systemd-networkd restart flushes the CNI's ip rules", Verdict: NotApplicable,
		Reason: "no node runs systemd-networkd", Started: t0.Add(100 * time.Second), Finished: t0.Add(101 * time.Second)}
	Judge(&t3)
	return &Report{SchemaVersion: SchemaVersion,
		Run:         RunMeta{ID: "20261122-1159-7f3a", Tool: "netchaos v0.1.0", Context: "kind-netchaos", Started: t0.Add(-10 * time.Second), Finished: t0.Add(101 * time.Second)},
		Environment: Env{Provider: "kind", KubernetesVersion: "v1.34.2", KubeProxyMode: "iptables", CNI: "ptp+portmap", NodeOS: "Debian GNU/Linux 12", Kernel: "6.12.0", Nodes: 3, Notes: []string{"MetalLB L2 assigns LoadBalancer IPs"}},
		Experiments: []Experiment{t1, t2, t4, t3}}
}

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s (run go test ./reports -update and review the diff)", name, path)
	}
}
