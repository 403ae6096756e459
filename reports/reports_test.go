package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// samples builds a flow at 10 ms from t0-2s: answered by `who` except in
// [lostFrom, lostTo) relative to t0 (lostTo < 0: never again).
func samples(flow string, n int, lostFrom, lostTo time.Duration, who func(i int) probe.Identity) []probe.Sample {
	var out []probe.Sample
	start := t0.Add(-2 * time.Second)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * 10 * time.Millisecond)
		rel := at.Sub(t0)
		s := probe.Sample{Flow: flow, Mode: probe.UDPPinned, Seq: uint64(i), Sent: at, Result: probe.OK, Responder: who(i), SeenSource: "10.244.1.12:48125"}
		if rel >= lostFrom && (lostTo < 0 || rel < lostTo) {
			s.Result, s.Responder, s.SeenSource = probe.Timeout, probe.Identity{}, ""
		}
		out = append(out, s)
	}
	return out
}

// fixture is a synthetic report with the shapes a real one has: a flow that
// never recovers, one with a 120 ms outage, a responder change, a matrix.
func fixture() *Report {
	agent := func(int) probe.Identity {
		return probe.Identity{Pod: "statsd-agent-x7", IP: "10.244.1.7", Node: "worker"}
	}
	flip := func(i int) probe.Identity {
		if i < 400 {
			return agent(i)
		}
		return probe.Identity{Pod: "statsd-agent-k2", IP: "172.18.0.4", Node: "worker"}
	}
	markers := []probe.Marker{{Name: "trigger", At: t0}, {Name: "conntrack -D", At: t0.Add(45 * time.Second)}}
	end := t0.Add(50 * time.Second)
	mk := func(name string, s []probe.Sample, checks []Check) Flow {
		st := probe.Analyze(s, markers, end)
		return Flow{Name: name, Stats: st, Checks: checks, Timeline: Bucketize(s, st.WindowStart, st.WindowEnd, 10*time.Millisecond)}
	}
	pinned := samples("pinned", 5200, 0, 45*time.Second, agent)
	fresh := samples("fresh", 5200, 1880*time.Millisecond, 2*time.Second, flip)
	e := Experiment{
		Name: "hostport-to-hostnetwork", Title: "T1 DaemonSet hostPort → hostNetwork flip", Trigger: "patch the agent DaemonSet",
		Sources: []string{"kubernetes/kubernetes#58336"}, Started: t0.Add(-5 * time.Second), Finished: end, Markers: markers,
		Flows: []Flow{
			mk("worker/pinned", pinned, []Check{{Marker: "trigger", Outcome: "never recovers", Observed: "never recovered within the 45.000 s window (down ≥ 45.000 s)", Expected: "never recovers", Match: true, Never: true}}),
			mk("worker/fresh", fresh, []Check{{Marker: "trigger", Outcome: "recovers", Observed: "recovered 2.000 s after the trigger (outage 120 ms)", Expected: "recovers within 30.000 s", Match: true}}),
		},
		Evidence: []Evidence{{Name: "conntrack worker", When: "after trigger", Text: "udp 17 29 src=10.244.1.12 dst=172.18.0.4 sport=48125 dport=8125 src=10.244.1.7 dst=10.244.1.12"}},
	}
	Judge(&e)
	m := Experiment{Name: "traffic-policy-matrix", Title: "T4 matrix", Trigger: "none", Started: end, Finished: end.Add(30 * time.Second),
		Cells: []Cell{{Case: "pod on node without endpoint → LB IP, policy Local", Expected: "reachable", Observed: "reachable (snat)", Match: false},
			{Case: "external host → LB IP, policy Local", Expected: "reachable (preserved)", Observed: "reachable (preserved)", Match: true}}}
	Judge(&m)
	na := Experiment{Name: "networkd-restart", Title: "T3", Verdict: NotApplicable, Reason: "node has no systemd-networkd"}
	return &Report{SchemaVersion: SchemaVersion, Run: Run{ID: "1122-1200-abcdef", Tool: "netchaos test", Context: "kind-netchaos", Started: t0.Add(-5 * time.Second), Finished: end.Add(30 * time.Second)},
		Environment: Environment{Provider: "kind", KubernetesVersion: "v1.34.2", KubeProxyMode: "iptables", CNI: "ptp+portmap", NodeOS: "Debian 12", Kernel: "6.18", Nodes: 3},
		Experiments: []Experiment{e, m, na}}
}

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
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test ./reports -update and review the diff)", name, path)
	}
}

func TestRenderersGolden(t *testing.T) {
	r := fixture()
	for name, render := range map[string]func(*bytes.Buffer, *Report) error{
		"report.md":   func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) },
		"report.html": func(b *bytes.Buffer, r *Report) error { return HTML(b, r) },
		"junit.xml":   func(b *bytes.Buffer, r *Report) error { return JUnit(b, r) },
	} {
		var b bytes.Buffer
		if err := render(&b, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden(t, name, b.Bytes())
	}
}

func TestOpenOutageNeverPrintedAsFinite(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.Contains(md, "never recovered (≥ ") || !strings.Contains(md, "never recovered within the 45.000 s window") {
		t.Fatalf("open outage not reported as open:\n%s", md)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	for _, bad := range []string{"<script", "http://", "https://", "<link"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML contains %q: it must be self-contained", bad)
		}
	}
	if strings.Count(h, "<svg") != 2 {
		t.Errorf("want one SVG timeline per flow (2), got %d", strings.Count(h, "<svg"))
	}
}

func TestJudge(t *testing.T) {
	never := Flow{Name: "f", Checks: []Check{{Marker: "trigger", Never: true, Expected: "never recovers", Match: true}},
		Stats: probe.FlowStats{Recoveries: []probe.Recovery{{Marker: "trigger", Never: true, Outage: time.Minute}}}}
	short := Flow{Name: "g", Checks: []Check{{Marker: "trigger", Expected: "recovers", Match: true}},
		Stats: probe.FlowStats{Recoveries: []probe.Recovery{{Marker: "trigger", Outage: 2 * time.Second}}}}
	mismatch := Flow{Name: "h", Checks: []Check{{Marker: "trigger", Expected: "never recovers", Match: false}}}
	tests := []struct {
		name string
		e    Experiment
		want Verdict
	}{
		{"expected blackhole, no budget", Experiment{Flows: []Flow{never}}, Pass},
		{"blackhole over budget", Experiment{Flows: []Flow{never}, Budget: 10 * time.Second}, Fail},
		{"short outage within budget", Experiment{Flows: []Flow{short}, Budget: 5 * time.Second}, Pass},
		{"short outage over budget", Experiment{Flows: []Flow{short}, Budget: time.Second}, Fail},
		{"deviation is a finding", Experiment{Flows: []Flow{mismatch}}, Finding},
		{"matrix cell deviation", Experiment{Cells: []Cell{{Match: false}}}, Finding},
		{"not applicable stays", Experiment{Verdict: NotApplicable, Flows: []Flow{mismatch}}, NotApplicable},
		{"error stays", Experiment{Verdict: Errored}, Errored},
	}
	for _, tc := range tests {
		Judge(&tc.e)
		if tc.e.Verdict != tc.want {
			t.Errorf("%s: verdict %s (%s), want %s", tc.name, tc.e.Verdict, tc.e.Reason, tc.want)
		}
	}
	r := &Report{Experiments: []Experiment{{Verdict: Finding}, {Verdict: NotApplicable}}}
	if r.ExitCode() != 0 {
		t.Error("findings and not-applicable must not fail a gate")
	}
	r.Experiments = append(r.Experiments, Experiment{Verdict: Fail})
	if r.ExitCode() != 1 {
		t.Error("a failed budget must fail the gate")
	}
}

func TestBucketize(t *testing.T) {
	s := samples("f", 60000, 10*time.Second, 20*time.Second, func(int) probe.Identity { return probe.Identity{Pod: "a"} })
	tl := Bucketize(s, s[0].Sent, s[len(s)-1].Sent, 10*time.Millisecond)
	if len(tl.Answered) > MaxBuckets {
		t.Fatalf("%d buckets, want <= %d", len(tl.Answered), MaxBuckets)
	}
	sent, lost := 0, 0
	for i := range tl.Answered {
		sent += tl.Answered[i] + tl.Lost[i]
		lost += tl.Lost[i]
	}
	if sent != 60000 || lost != 1000 {
		t.Fatalf("buckets hold %d samples (%d lost), want 60000 (1000)", sent, lost)
	}
}

func TestWriteDirAndLoad(t *testing.T) {
	dir := t.TempDir()
	if err := fixture().WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	r, err := Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Experiments) != 3 || r.Experiments[0].Flows[0].Stats.Sent != 5200 {
		t.Fatalf("round trip lost data: %+v", r.Experiments)
	}
	os.WriteFile(filepath.Join(dir, "old.json"), []byte(`{"schema_version":"netchaos.report/v0"}`), 0o644)
	if _, err := Load(filepath.Join(dir, "old.json")); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("want a schema error, got %v", err)
	}
}

func TestDiff(t *testing.T) {
	a, b := fixture(), fixture()
	b.Environment.KubernetesVersion = "v1.23.17"
	b.Experiments[1].Cells[0].Observed = "timeout"
	b.Experiments[0].Flows[0].Checks[0].Outcome = "recovers"
	d := Diff(a, b)
	if len(d.Changes) != 2 {
		t.Fatalf("changes = %+v", d.Changes)
	}
	var buf bytes.Buffer
	if err := DiffMarkdown(&buf, d); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.md", buf.Bytes())
	if !strings.Contains(buf.String(), "| better |") {
		t.Errorf("never recovers -> recovers should rank better:\n%s", buf.String())
	}
}
