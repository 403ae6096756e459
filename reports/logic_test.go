package reports

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

func TestAssess(t *testing.T) {
	open := Flow{Name: "open", Stats: probe.FlowStats{LongestGap: time.Minute, Outages: []probe.Outage{{Open: true, Start: t0, End: t0.Add(time.Minute)}}}}
	short := Flow{Name: "short", Stats: probe.FlowStats{LongestGap: 2 * time.Second, Outages: []probe.Outage{{Start: t0, End: t0.Add(2 * time.Second)}}}}
	clean := Flow{Name: "clean"}
	met := Expectation{Case: "a", Expected: "x", Observed: "x", Match: true}
	differs := Expectation{Case: "b", Expected: "x", Observed: "y"}
	noTable := Expectation{Case: "c", Observed: "y"}
	tests := []struct {
		name   string
		flows  []Flow
		exps   []Expectation
		budget time.Duration
		want   Verdict
		reason string
	}{
		{"nothing happened", []Flow{clean}, nil, 0, Pass, ""},
		{"open outage fails without a budget", []Flow{open}, []Expectation{met}, 0, Fail, "open never recovered"},
		{"open outage fails even when expected", []Flow{open}, []Expectation{{Case: "open after trigger", Expected: "never recovers", Observed: "never recovers", Match: true}}, time.Hour, Fail, "never recovered"},
		{"outage within budget passes", []Flow{short}, []Expectation{met}, 5 * time.Second, Pass, ""},
		{"outage over budget fails", []Flow{short}, nil, time.Second, Fail, "longest outage 2.000 s exceeds the budget of 1.000 s"},
		{"no budget: any finite outage is fine", []Flow{short}, nil, 0, Pass, ""},
		{"deviation within budget is a finding", []Flow{short}, []Expectation{met, differs}, 5 * time.Second, Finding, "1 observation differs from the expected table: b"},
		{"budget beats deviation", []Flow{short}, []Expectation{differs}, time.Second, Fail, "budget"},
		{"cell without expectation is no finding", nil, []Expectation{noTable}, 0, Pass, ""},
		{"many deviations are counted", nil, []Expectation{differs, differs, differs, differs, differs}, 0, Finding, "5 observations differ from the expected table: b; b; b; 2 more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, why := Assess(tc.flows, tc.exps, tc.budget)
			if v != tc.want || !strings.Contains(why, tc.reason) || (tc.reason == "" && why != "") {
				t.Errorf("Assess = %s (%q), want %s (%q)", v, why, tc.want, tc.reason)
			}
		})
	}
}

func TestJudgeKeepsNotApplicableAndError(t *testing.T) {
	open := Flow{Name: "f", Stats: probe.FlowStats{Outages: []probe.Outage{{Open: true}}}}
	for _, v := range []Verdict{NotApplicable, Errored} {
		e := Experiment{Verdict: v, Reason: "why", Flows: []Flow{open}}
		Judge(&e)
		if e.Verdict != v || e.Reason != "why" {
			t.Errorf("Judge changed %s to %s (%s)", v, e.Verdict, e.Reason)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		verdicts []Verdict
		want     int
	}{
		{nil, 0},
		{[]Verdict{Pass, Finding, NotApplicable}, 0},
		{[]Verdict{Pass, Fail}, 1},
		{[]Verdict{Errored, Pass}, 1},
	} {
		r := &Report{}
		for _, v := range tc.verdicts {
			r.Experiments = append(r.Experiments, Experiment{Verdict: v})
		}
		if got := r.ExitCode(); got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.verdicts, got, tc.want)
		}
	}
}

func TestBucketize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		span     time.Duration
		interval time.Duration
	}{
		{"10 minutes at 100/s", 10 * time.Minute, 10 * time.Millisecond},
		{"1 minute at 100/s", time.Minute, 10 * time.Millisecond},
		{"1 hour at 100/s", time.Hour, 10 * time.Millisecond},
		{"2 seconds at 1/s", 2 * time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flowSpec{name: "f", mode: probe.UDPPinned, to: tc.span, lostFrom: tc.span / 3, lostTo: tc.span / 2, who: pod("p", "10.0.0.1", "n")}
			fs.from = 0
			s := fs.samples()
			tl := Bucketize(s, s[0].Sent, s[len(s)-1].Sent, tc.interval)
			if n := len(tl.Answered); n == 0 || n > MaxBuckets || len(tl.Lost) != n {
				t.Fatalf("%d/%d buckets, want 1..%d", n, len(tl.Lost), MaxBuckets)
			}
			sent, lost := 0, 0
			for i := range tl.Answered {
				sent += tl.Answered[i] + tl.Lost[i]
				lost += tl.Lost[i]
			}
			wantLost := 0
			for _, x := range s {
				if !x.Answered() {
					wantLost++
				}
			}
			if sent != len(s) || lost != wantLost {
				t.Fatalf("buckets hold %d samples (%d lost), want %d (%d)", sent, lost, len(s), wantLost)
			}
		})
	}
	if tl := Bucketize(nil, t0, t0, 0); len(tl.Answered) != 0 {
		t.Error("no samples must give no buckets")
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Dur(12 * time.Millisecond), "12 ms"},
		{Dur(1234567 * time.Microsecond), "1.235 s"},
		{Dur(999999 * time.Microsecond), "999 ms"},
		{Dur(0), "0 ms"},
		{Secs(60 * time.Second), "60 s"},
		{Secs(1500 * time.Millisecond), "1.500 s"},
		{Rel(t0.Add(41200*time.Millisecond), t0), "+41.200 s"},
		{Rel(t0.Add(-2*time.Second), t0), "−2.000 s"},
		{Rel(t0, t0), "0"},
		{tickLabel(-2, 1), "−2 s"},
		{tickLabel(0.5, 0.5), "+0.5 s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWriteLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := fixture().Write(path); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := Markdown(&a, fixture()); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("a report renders differently after a JSON round trip")
	}
	if fi, _ := os.Stat(path); fi.Size() > 400_000 {
		t.Errorf("report.json is %d bytes: timelines are not compact", fi.Size())
	}
}

func TestDecodeSchema(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"schema_version":"netchaos.report/v0"}`, `schema_version "netchaos.report/v0", this netchaos reads "netchaos.report/v1"`},
		{`{"run":{}}`, "no schema_version field"},
		{`[1,2]`, "not a netchaos report"},
		{`{"schema_version":"netchaos.report/v1","experiments":[{"name":"x","verdict":"maybe"}]}`, `verdict "maybe" is not one of`},
		{`{"schema_version":"netchaos.report/v1","experiments":[{"verdict":"pass"}]}`, "has no name"},
	} {
		_, err := Decode([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.json, err, tc.want)
		}
	}
	if _, err := Decode([]byte(`{"schema_version":"v9"}`)); !errors.Is(err, ErrSchema) {
		t.Errorf("want ErrSchema, got %v", err)
	}
	if err := (&Report{}).Write(filepath.Join(t.TempDir(), "r.json")); !errors.Is(err, ErrSchema) {
		t.Errorf("Write of a report without schema_version: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestDiff(t *testing.T) {
	a, b := fixture(), fixture()
	b.Environment.KubernetesVersion = "v1.35.0"
	// T1: the pinned flow recovers after the upgrade (conntrack reconciler).
	fs := flowSpec{"worker/udp-pinned", probe.UDPPinned, -5 * time.Second, 60 * time.Second, 0, 1100 * time.Millisecond, false, pod("statsd-agent-q9d4m", "172.18.0.4", "worker")}
	b.Experiments[0].Flows[0] = fs.flow(b.Experiments[0].Markers, "")
	b.Experiments[0].Expectations[0].Observed, b.Experiments[0].Expectations[0].Match = "recovered after 1.100 s", false
	Judge(&b.Experiments[0])
	// T4: the hostNetwork cell now matches; a new cell appears.
	b.Experiments[2].Expectations[1].Observed, b.Experiments[2].Expectations[1].Match = "reachable", true
	b.Experiments[2].Expectations = append(b.Experiments[2].Expectations, Expectation{Case: "node → NodePort on other node", Expected: "reachable", Observed: "reachable", Match: true})
	Judge(&b.Experiments[2])
	// T3 not run after.
	b.Experiments = b.Experiments[:3]
	before := a.Experiments[0].Flows[0].Stats.Sent
	d := Diff(a, b)
	if a.Experiments[0].Flows[0].Stats.Sent != before || len(a.Experiments) != 4 {
		t.Fatal("Diff changed its input")
	}
	dirs := map[string]string{}
	for _, c := range d.Changes {
		dirs[c.Experiment+"/"+c.What] = c.Direction
	}
	for k, want := range map[string]string{
		"hostport-to-hostnetwork/verdict":                                                      Better,
		"hostport-to-hostnetwork/worker/udp-pinned after trigger":                              "",
		"hostport-to-hostnetwork/longest outage of worker/udp-pinned":                          Better,
		"traffic-policy-matrix/verdict":                                                        Better,
		"traffic-policy-matrix/hostNetwork pod on node without endpoint → LB IP, policy Local": "",
		"traffic-policy-matrix/node → NodePort on other node":                                  "",
		"networkd-restart/experiment":                                                          "",
	} {
		got, ok := dirs[k]
		if !ok || got != want {
			t.Errorf("%s: direction %q (present %v), want %q", k, got, ok, want)
		}
	}
	if len(d.Changes) != 7 {
		t.Errorf("%d changes, want 7: %+v", len(d.Changes), d.Changes)
	}
	var buf bytes.Buffer
	if err := DiffMarkdown(&buf, d); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.md", buf.Bytes())
	if Diff(a, a).String() != "0 changed, 14 unchanged" {
		t.Errorf("self diff: %s", Diff(a, a))
	}
}

func TestDiffIgnoresJitter(t *testing.T) {
	mk := func(gap time.Duration) *Report {
		return &Report{Experiments: []Experiment{{Name: "x", Flows: []Flow{{Name: "f", Stats: probe.FlowStats{LongestGap: gap}}}}}}
	}
	for _, tc := range []struct {
		a, b time.Duration
		want string
	}{
		{120 * time.Millisecond, 140 * time.Millisecond, ""},
		{10 * time.Second, 10500 * time.Millisecond, ""},
		{120 * time.Millisecond, 400 * time.Millisecond, Worse},
		{10 * time.Second, 2 * time.Second, Better},
	} {
		d := Diff(mk(tc.a), mk(tc.b))
		got := ""
		if len(d.Changes) > 0 {
			got = d.Changes[0].Direction
		}
		if got != tc.want || (tc.want == "" && len(d.Changes) != 0) {
			t.Errorf("%v → %v: %+v, want %q", tc.a, tc.b, d.Changes, tc.want)
		}
	}
}

func TestResponderText(t *testing.T) {
	a := probe.Identity{Pod: "a", IP: "10.0.0.1", Node: "n1"}
	b := probe.Identity{Pod: "b", IP: "10.0.0.2", Node: "n2"}
	span := func(id probe.Identity, from, to time.Duration, seen string) probe.ResponderSpan {
		return probe.ResponderSpan{Responder: id, SeenSource: seen, First: t0.Add(from), Last: t0.Add(to), Answers: 1}
	}
	var alternating []probe.ResponderSpan
	for i := 0; i < 20; i++ {
		alternating = append(alternating, span([]probe.Identity{a, b}[i%2], time.Duration(i)*time.Second, time.Duration(i)*time.Second, "10.0.0.9"))
	}
	e := Experiment{Markers: []probe.Marker{{Name: "trigger", At: t0}}}
	for _, tc := range []struct {
		spans []probe.ResponderSpan
		want  string
	}{
		{nil, "no answers at all"},
		{[]probe.ResponderSpan{span(a, -time.Second, time.Minute, "10.0.0.9")}, "all 1 answers came from a (10.0.0.1) on n1 (client seen as 10.0.0.9)"},
		{[]probe.ResponderSpan{span(a, -time.Second, 41200*time.Millisecond, "10.0.0.9"), span(b, 43*time.Second, time.Minute, "172.18.0.2")},
			"answers came from a (10.0.0.1) on n1 (client seen as 10.0.0.9) until +41.200 s, then from b (10.0.0.2) on n2 (client seen as 172.18.0.2) from +43.000 s"},
		{alternating, "answers alternated between 2 responders (19 changes): a (10.0.0.1) on n1 (10), b (10.0.0.2) on n2 (10); client seen as 10.0.0.9"},
	} {
		if got := responderText(e, Flow{Stats: probe.FlowStats{Responders: tc.spans}}); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
